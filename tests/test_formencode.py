"""The PHP-style form encoder and parser agree with PHP on the documented examples."""

from __future__ import annotations

from bitrix_dialog import build_query, parse_query


def test_nested_fields_as_in_the_docs() -> None:
    data = {
        "fields": {"TITLE": "ИП Титов", "PHONE": [{"VALUE": "555888", "VALUE_TYPE": "WORK"}]},
        "select": ["ID", "NAME"],
    }
    query = build_query(data)
    assert query.startswith("fields%5BTITLE%5D=%D0%98%D0%9F%20")
    assert "fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=555888" in query
    assert "select%5B1%5D=NAME" in query
    assert parse_query(query) == {
        "fields": {"TITLE": "ИП Титов", "PHONE": {"0": {"VALUE": "555888", "VALUE_TYPE": "WORK"}}},
        "select": {"0": "ID", "1": "NAME"},
    }


def test_booleans_none_and_special_characters() -> None:
    query = build_query({"halt": False, "skip": None, "q": "a&b=c[d]#e%f?g", "n": 1.5})
    assert query == "halt=0&q=a%26b%3Dc%5Bd%5D%23e%25f%3Fg&n=1.5"
    assert parse_query(query) == {"halt": "0", "q": "a&b=c[d]#e%f?g", "n": "1.5"}


def test_parse_follows_php_rules() -> None:
    assert parse_query("a[]=x&a[]=y") == {"a": {"0": "x", "1": "y"}}
    assert parse_query("a.b=1&c d=2") == {"a_b": "1", "c_d": "2"}
    assert parse_query("a[b=1") == {"a_b": "1"}
    assert parse_query("a=1&a=2") == {"a": "2"}
    assert parse_query("") == {}
