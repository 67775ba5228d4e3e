"""Properties of the PHP form encoder and parser (``build_query`` / ``parse_query``).

``tests/test_batch_encoding.py`` already sends arbitrary nested parameters through a
batch ``cmd`` and checks the fake portal reads what the SDK meant. These properties
cover what that path does not: the wire form itself, numbers, forms written by other
encoders (the portal posts events with ``+`` for spaces), PHP's renaming of names, and
that the parser takes any text without failing.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitrix_dialog._wire._formencode import build_query, flatten, parse_query

_FUZZ = settings(max_examples=100, deadline=None)

_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=10)
_NAME = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="[]. \x00"),
    min_size=1,
    max_size=8,
)
_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_DATA = st.dictionaries(
    _NAME,
    st.recursive(
        _SCALAR,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAME, inner, max_size=3),
        max_leaves=10,
    ),
    max_size=4,
)
# What http_build_query may put on the wire: RFC 3986 unreserved characters and %XX.
_PAIR = re.compile(r"[A-Za-z0-9\-._~%]+=[A-Za-z0-9\-._~%]*")
_PHP_NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?")


@_FUZZ
@given(data=_DATA)
def test_the_wire_form_is_one_safe_pair_per_value(data: dict[str, Any]) -> None:
    query = build_query(data)
    pairs = query.split("&") if query else []
    assert all(_PAIR.fullmatch(pair) for pair in pairs), query
    # '&', '=', '%', '+', '#', brackets in names or values can never split or merge pairs.
    decoded = [tuple(unquote(part) for part in pair.split("=")) for pair in pairs]
    assert decoded == list(flatten(data))


@_FUZZ
@given(number=st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_reads_back_as_the_same_number(number: float) -> None:
    sent = parse_query(build_query({"n": number}))["n"]
    if isinstance(number, int):
        assert sent == str(number)
    else:
        assert float(sent) == number
        assert _PHP_NUMERIC.fullmatch(sent), sent  # what PHP's is_numeric() accepts


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_a_number_php_cannot_hold_is_refused_naming_the_parameter(number: float) -> None:
    with pytest.raises(ValueError, match=r"form-encode filter\[x\]="):
        build_query({"filter": {"x": number}})


@pytest.mark.parametrize("value", [b"raw", {1, 2}, 1j, object()])
def test_a_value_form_encoding_has_no_form_for_is_refused_naming_it(value: object) -> None:
    with pytest.raises(TypeError, match=r"form-encode select\[0\]: a value of type"):
        build_query({"select": [value]})


@_FUZZ
@given(pairs=st.lists(st.tuples(_NAME, _TEXT), max_size=6))
def test_forms_from_other_encoders_read_as_php_reads_them(pairs: list[tuple[str, str]]) -> None:
    # urlencode writes spaces as '+', as PHP's http_build_query does for event posts.
    assert parse_query(urlencode(pairs)) == dict(pairs)


@_FUZZ
@given(name=st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="[]\x00")))
def test_top_level_names_are_renamed_as_php_renames_them(name: str) -> None:
    stripped = name.lstrip(" ")
    expected = {stripped.replace(" ", "_").replace(".", "_"): "v"} if stripped else {}
    assert parse_query(build_query({name: "v"})) == expected


def _leaves(tree: Any) -> bool:
    if isinstance(tree, str):
        return True
    return isinstance(tree, dict) and all(
        isinstance(key, str) and _leaves(value) for key, value in tree.items()
    )


def _has_empty_map(tree: Any) -> bool:
    return isinstance(tree, dict) and (not tree or any(map(_has_empty_map, tree.values())))


@_FUZZ
@given(
    query=st.text(max_size=60)
    | st.lists(
        st.sampled_from(
            ["a", "b", "[", "]", "[]", "=", "&", "%", "%5B", "%00", "+", " ", ".", "0", "-1", "é"]
        )
    ).map("".join)
)
def test_any_text_parses_into_string_maps_that_re_encode_to_themselves(query: str) -> None:
    parsed = parse_query(query)
    assert _leaves(parsed)
    if not _has_empty_map(parsed):  # http_build_query leaves out empty arrays
        assert parse_query(build_query(parsed)) == parsed
