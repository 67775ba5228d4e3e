"""The PHP-style form encoder and parser agree with PHP on the documented examples."""

from __future__ import annotations

from bitrix_dialog._wire._formencode import build_query, parse_query


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


def test_parse_follows_php_8_variable_names() -> None:
    # php_register_variable_ex: leading spaces dropped, an empty name skipped, the
    # name ends at a NUL, an index of one whitespace character appends.
    assert parse_query("%20%20a=1&%20=2&=3") == {"a": "1"}
    assert parse_query("a%00b=1&c[x%00y]=2") == {"a": "1", "c_x": "2"}
    assert parse_query("a[%20]=x&a[%09]=y&a[%20%20]=z") == {"a": {"0": "x", "1": "y", "  ": "z"}}
    # An unclosed bracket is not nesting: the rest of the name keeps '_' for ' ', '.', '['.
    assert parse_query("a[b%20c[d.e=1") == {"a_b_c_d_e": "1"}
    assert parse_query("a[b][c=1") == {"a": {"b": "1"}}
    # Only canonical decimals are integer keys, so only they move the next index.
    assert parse_query("a[01]=x&a[]=y") == {"a": {"01": "x", "0": "y"}}
    assert parse_query("a[7]=x&a[]=y&a[-0]=z&a[]=w") == {
        "a": {"7": "x", "8": "y", "-0": "z", "9": "w"}
    }
    # Past PHP_INT_MAX there is no next index: PHP drops the value.
    assert parse_query("a[9223372036854775807]=x&a[9223372036854775808]=y&a[]=z") == {
        "a": {"9223372036854775807": "x", "9223372036854775808": "y"}
    }
