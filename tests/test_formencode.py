"""The PHP-style form encoder and parser agree with PHP on the documented examples."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest

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


def _lines_run(query: str) -> int:
    """How many lines of ``parse_query``'s module run for ``query``: a deterministic
    measure of its work (no clock involved)."""
    module = parse_query.__code__.co_filename
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if frame.f_code.co_filename != module:
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        parse_query(query)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize(
    "pair",
    ["a[]=x", "a[b][]=x", "a[]&a[9]=y"],  # appends, appends one level down, mixed with indexes
)
def test_parse_work_grows_linearly_with_the_number_of_keys(pair: str) -> None:
    # Each a[] used to scan every key of its dict for the next index: 4x the keys, 16x the work.
    small, large = (_lines_run("&".join([pair] * n)) for n in (125, 500))
    assert large / small < 4.5


def test_as_php_at_most_1000_variables_and_64_levels_by_default() -> None:
    assert len(parse_query("&".join(f"k{i}=v" for i in range(1000)))) == 1000
    with pytest.raises(ValueError, match="1001 variables, more than 1000"):
        parse_query("&".join(f"k{i}=v" for i in range(1001)))
    # Empty pairs are not variables (PHP skips them too).
    assert parse_query("&" * 5000 + "a=1") == {"a": "1"}
    assert len(parse_query("&".join(["a[]=x"] * 1001), max_vars=2000)["a"]) == 1001
    assert len(parse_query("&".join(["a[]=x"] * 5000), max_vars=None)["a"]) == 5000

    deep = "a" + "[x]" * 64 + "=1"
    node: Any = parse_query(deep)
    for _ in range(65):
        node = node["a"] if "a" in node else node["x"]
    assert node == "1"
    with pytest.raises(ValueError, match="nested deeper than 64"):
        parse_query("a" + "[x]" * 65 + "=1")
    with pytest.raises(ValueError, match="nested deeper than 2"):
        parse_query("a[x][y][z]=1", max_depth=2)
    assert parse_query("a" + "[]" * 200 + "=1", max_depth=None)["a"]["0"]["0"]


def test_an_index_of_any_length_is_a_key_not_a_crash() -> None:
    # int() refuses strings of more than 4300 digits: such an index is a string key to PHP.
    huge = "1" * 5000
    assert parse_query(f"a[{huge}]=x&a[]=y") == {"a": {huge: "x", "0": "y"}}
