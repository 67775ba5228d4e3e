"""The fake portal's own PHP form handling, checked against what PHP itself gives.

The expected values are PHP's documented output (the ``parse_str`` and
``http_build_query`` manual pages) and PHP 8's rules for variable names, so the
fake portal reads the SDK's forms as the real portal would, not as the SDK meant them.
"""

from __future__ import annotations

from typing import Any

import pytest

from bitrix_dialog.testing import http_build_query, parse_str


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # php.net parse_str example #1
        (
            "first=value&arr[]=foo+bar&arr[]=baz",
            {"first": "value", "arr": {"0": "foo bar", "1": "baz"}},
        ),
        # php.net parse_str example #2: spaces and dots in names become underscores
        ("My Value=Something", {"My_Value": "Something"}),
        ("a.b=1&c d=2", {"a_b": "1", "c_d": "2"}),
        # Bitrix24's batch documentation: a command's query with nested keys
        (
            "filter[>DATE_CREATE]=2019-01-01&select[0]=ID&select[1]=TITLE",
            {"filter": {">DATE_CREATE": "2019-01-01"}, "select": {"0": "ID", "1": "TITLE"}},
        ),
        # percent-encoded brackets nest just as literal ones do
        (
            "cmd%5Bc0%5D=im.dialog.get%3FDIALOG_ID%3Dchat1",
            {"cmd": {"c0": "im.dialog.get?DIALOG_ID=chat1"}},
        ),
        # later duplicates win; a pair without "=" is an empty string; empty pairs skipped
        ("a=1&a=2&&b", {"a": "2", "b": ""}),
        # an unclosed "[" is not nesting: in the first index it joins the name ...
        ("arr[1=sid", {"arr_1": "sid"}),
        ("a[b.c d[e=1", {"a_b_c_d_e": "1"}),
        # ... deeper, the unclosed part is ignored
        ("arr[4][2=fred", {"arr": {"4": "fred"}}),
        # text after a closing "]" that is not another "[" is ignored
        ("a[b]c=1", {"a": {"b": "1"}}),
        # "[ ]" (one whitespace) appends like "[]"; a longer index keeps its whitespace
        ("k[ ]=1&k[]=2&k[ x]=3", {"k": {"0": "1", "1": "2", " x": "3"}}),
        # leading spaces of a name are dropped; a NUL ends it; an empty name is skipped
        ("  a=1&b%00c=2&=3&%20=4", {"a": "1", "b": "2"}),
        # only canonical in-range decimals are integer keys; appends follow the largest
        (
            "a[07]=x&a[5]=y&a[]=z&a[-3]=w",
            {"a": {"07": "x", "5": "y", "6": "z", "-3": "w"}},
        ),
        ("a[9223372036854775807]=x&a[]=y", {"a": {"9223372036854775807": "x"}}),
        # appending arrays, and an array replacing a string
        (
            "a[][x]=1&a[][x]=2&s=1&s[t]=2",
            {"a": {"0": {"x": "1"}, "1": {"x": "2"}}, "s": {"t": "2"}},
        ),
        # malformed escapes stay as they are; "+" is a space in names and values
        ("x=%zz%4&y+z=a+b", {"x": "%zz%4", "y_z": "a b"}),
        ("t=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82", {"t": "привет"}),
    ],
)
def test_parse_str_reads_forms_as_php_does(query: str, expected: dict[str, Any]) -> None:
    assert parse_str(query) == expected
    assert parse_str(query.encode()) == expected


def test_parse_str_drops_a_name_nested_past_the_limit_with_its_top_level_name() -> None:
    assert parse_str("a[x]=1&a" + "[y]" * 65 + "=2&b=3") == {"b": "3"}
    deepest: Any = parse_str("a" + "[y]" * 64 + "=2")["a"]
    for _ in range(63):
        deepest = deepest["y"]
    assert deepest == {"y": "2"}


def test_parse_str_stops_after_max_input_vars() -> None:
    parsed = parse_str("&".join(f"v{n}=1" for n in range(1005)))
    assert len(parsed) == 1000
    assert "v999" in parsed
    assert "v1000" not in parsed


def test_parse_str_drops_names_mangled_into_cookie_prefixes() -> None:
    assert parse_str("._Host-x=1&_ Secure-y=2&__Host-z=3&__Host.w=4") == {
        "__Host-z": "3",
        "__Host_w": "4",
    }


def test_http_build_query_matches_the_manual() -> None:
    # php.net http_build_query example #1
    simple = {
        "foo": "bar",
        "baz": "boom",
        "cow": "milk",
        "null": None,
        "php": "hypertext processor",
    }
    assert http_build_query(simple) == "foo=bar&baz=boom&cow=milk&php=hypertext+processor"
    # php.net http_build_query example #3 (without a numeric prefix)
    nested = {
        "user": {"name": "Bob Smith", "age": 47, "sex": "M", "dob": "5/12/1956"},
        "pastimes": ["golf", "opera", "poker", "rap"],
        "children": {"bobby": {"age": 12, "sex": "M"}, "sally": {"age": 8, "sex": "F"}},
        "0": "CEO",
    }
    assert http_build_query(nested) == (
        "user%5Bname%5D=Bob+Smith&user%5Bage%5D=47&user%5Bsex%5D=M&user%5Bdob%5D=5%2F12%2F1956"
        "&pastimes%5B0%5D=golf&pastimes%5B1%5D=opera&pastimes%5B2%5D=poker&pastimes%5B3%5D=rap"
        "&children%5Bbobby%5D%5Bage%5D=12&children%5Bbobby%5D%5Bsex%5D=M"
        "&children%5Bsally%5D%5Bage%5D=8&children%5Bsally%5D%5Bsex%5D=F&0=CEO"
    )


def test_http_build_query_writes_php_scalars() -> None:
    form = {"t": True, "f": False, "i": -3, "x": 1.0, "y": 0.5, "e": [], "s": "a~b&c=d"}
    assert http_build_query(form) == "t=1&f=0&i=-3&x=1&y=0.5&s=a%7Eb%26c%3Dd"


def test_what_http_build_query_writes_parse_str_reads_back() -> None:
    form = {"data": {"PARAMS": {"MESSAGE": "1 + 1 = 2 & [ok]", "N": 5}}, "ts": "1"}
    assert parse_str(http_build_query(form)) == {
        "data": {"PARAMS": {"MESSAGE": "1 + 1 = 2 & [ok]", "N": "5"}},
        "ts": "1",
    }
