"""The SDK's PHP form encoding and parsing agree with PHP on the documented examples.

Both are reached through public paths (``tests/form_kit.py``): what a batch command
sends, and what ``parse_event`` reads from a raw event post.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest

from bitrix_dialog.testing import http_build_query

from .form_kit import read_data, sent_query


async def test_nested_fields_as_in_the_docs() -> None:
    data = {
        "fields": {"TITLE": "ИП Титов", "PHONE": [{"VALUE": "555888", "VALUE_TYPE": "WORK"}]},
        "select": ["ID", "NAME"],
    }
    query, read = await sent_query(data)
    assert query.startswith("fields%5BTITLE%5D=%D0%98%D0%9F%20")
    assert "fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=555888" in query
    assert "select%5B1%5D=NAME" in query
    expected = {
        "fields": {"TITLE": "ИП Титов", "PHONE": {"0": {"VALUE": "555888", "VALUE_TYPE": "WORK"}}},
        "select": {"0": "ID", "1": "NAME"},
    }
    assert read == expected
    assert read_data(http_build_query({"data": data})) == expected


async def test_booleans_none_and_special_characters() -> None:
    query, read = await sent_query({"halt": False, "skip": None, "q": "a&b=c[d]#e%f?g", "n": 1.5})
    assert query == "halt=0&q=a%26b%3Dc%5Bd%5D%23e%25f%3Fg&n=1.5"
    assert read == {"halt": "0", "q": "a&b=c[d]#e%f?g", "n": "1.5"}


def test_parse_follows_php_rules() -> None:
    assert read_data("data[a][]=x&data[a][]=y") == {"a": {"0": "x", "1": "y"}}
    assert read_data("data[a]=1&data[a]=2") == {"a": "2"}
    assert read_data("data[k]=1&data.x=2&data[b]c=3") == {"k": "1", "b": "3"}  # data_x is not data


def test_parse_follows_php_8_variable_names() -> None:
    # php_register_variable_ex: leading spaces dropped, the name ends at a NUL, an
    # index of one whitespace character appends.
    # (data[x%00y] is data[x, an unclosed bracket: the top-level name data_x.)
    assert read_data("%20%20data[a]=1&data[x%00y]=2") == {"a": "1"}
    assert read_data("data[a][%20]=x&data[a][%09]=y&data[a][%20%20]=z") == {
        "a": {"0": "x", "1": "y", "  ": "z"}
    }
    # An unclosed bracket deeper than the first index ends the name there.
    assert read_data("data[b][c=1") == {"b": "1"}
    # Only canonical decimals are integer keys, so only they move the next index.
    assert read_data("data[a][01]=x&data[a][]=y") == {"a": {"01": "x", "0": "y"}}
    assert read_data("data[a][7]=x&data[a][]=y&data[a][-0]=z&data[a][]=w") == {
        "a": {"7": "x", "8": "y", "-0": "z", "9": "w"}
    }
    # Past PHP_INT_MAX there is no next index: PHP drops the value.
    assert read_data("data[9223372036854775807]=x&data[9223372036854775808]=y&data[]=z") == {
        "9223372036854775807": "x",
        "9223372036854775808": "y",
    }


def _lines_run(query: str) -> int:
    """How many lines of the SDK run to read ``query``: a deterministic measure of its
    work (no clock involved)."""
    package = sys.modules["bitrix_dialog"].__file__
    assert package is not None
    root = package.rsplit("/", 1)[0]
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(root):
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        read_data(query)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize(
    "pair",
    ["data[a][]=x", "data[a][b][]=x", "data[a][]&data[a][9]=y"],
)
def test_parse_work_grows_linearly_with_the_number_of_keys(pair: str) -> None:
    # Each a[] used to scan every key of its dict for the next index: 4x the keys, 16x the work.
    small, large = (_lines_run("&".join([pair] * n)) for n in (120, 480))
    assert large / small < 4.5


def test_as_php_at_most_1000_variables_and_64_levels_by_default() -> None:
    assert len(read_data("&".join(f"data[k{i}]=v" for i in range(999)))) == 999  # + event
    with pytest.raises(ValueError, match="1001 variables, more than 1000"):
        read_data("&".join(f"data[k{i}]=v" for i in range(1000)))
    # Empty pairs are not variables (PHP skips them too).
    assert read_data("&" * 5000 + "data[a]=1") == {"a": "1"}
    node: Any = read_data("data" + "[x]" * 64 + "=1")
    for _ in range(64):
        node = node["x"]
    assert node == "1"
    with pytest.raises(ValueError, match="nested deeper than 64"):
        read_data("data" + "[x]" * 65 + "=1")


def test_an_index_of_any_length_is_a_key_not_a_crash() -> None:
    # int() refuses strings of more than 4300 digits: such an index is a string key to PHP.
    huge = "1" * 5000
    assert read_data(f"data[a][{huge}]=x&data[a][]=y") == {"a": {huge: "x", "0": "y"}}
