"""Properties of the SDK's PHP form encoding and parsing, through public paths.

``tests/test_batch_encoding.py`` already sends arbitrary nested parameters through a
batch ``cmd`` and checks the fake portal reads what the SDK meant. These properties
cover what that path does not: the wire form itself, numbers, forms written by other
encoders (the portal posts events with ``+`` for spaces), and that the event parser
takes any text without failing. ``tests/form_kit.py`` holds the two paths.
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitrix_dialog import Client
from bitrix_dialog.aiohttp import RawEvent, parse_event
from bitrix_dialog.testing import FakePortal, http_build_query, parse_str

from .form_kit import AUTH, read_data, sent_query

_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=10)
# Secret-named parameters (the docs' auth and token names) are masked wherever the portal
# echoes their values back (#14), so they cannot be read back as sent: not data here.
_SECRET_NAMES = frozenset(
    {"auth", "access_token", "refresh_token", "client_secret", "application_token"}
    | {"bottoken", "bot_token", "code", "ap", "auth_id", "refresh_id"}
)
_NAME = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="[]. \x00"),
    min_size=1,
    max_size=8,
).filter(lambda key: key.lower() not in _SECRET_NAMES)
# A nested key of one whitespace character would read back as "append" ('k[ ]' is
# 'k[]' to PHP): the SDK refuses it (tests/test_batch_encoding.py), so it is not data.
_NESTED_NAME = _NAME.filter(lambda key: key not in frozenset(" \t\n\v\f\r"))
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
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(_NESTED_NAME, inner, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=4,
)
# What http_build_query may put on the wire: RFC 3986 unreserved characters and %XX.
_PAIR = re.compile(r"[A-Za-z0-9\-._~%]+=[A-Za-z0-9\-._~%]*")
_PHP_NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?")


@_FUZZ
@given(data=_DATA)
def test_the_wire_form_is_one_safe_pair_per_value_and_php_reads_it_back(
    data: dict[str, Any],
) -> None:
    query, read = asyncio.run(sent_query(data))
    pairs = query.split("&") if query else []
    assert all(_PAIR.fullmatch(pair) for pair in pairs), query
    # '&', '=', '%', '+', '#', brackets in names or values never split or merge pairs:
    # PHP's own parser reads exactly the pairs that were written.
    decoded = [tuple(unquote(part) for part in pair.split("=")) for pair in pairs]
    assert len(decoded) == len({name for name, _ in decoded})
    assert parse_str(query) == read


@_FUZZ
@given(number=st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_reads_back_as_the_same_number(number: float) -> None:
    _, read = asyncio.run(sent_query({"n": number}))
    sent = read["n"]
    if isinstance(number, int):
        assert sent == str(number)
    else:
        assert float(sent) == number
        assert _PHP_NUMERIC.fullmatch(sent), sent  # what PHP's is_numeric() accepts


async def _batch(params: dict[str, Any]) -> None:
    portal = FakePortal()
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        await client.batch({"c": ("im.dialog.get", params)})
    assert portal.calls == []  # refused before anything was sent


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
async def test_a_number_php_cannot_hold_is_refused_naming_the_parameter(number: float) -> None:
    with pytest.raises(ValueError, match=r"batch command 'c': parameter filter\[x\] is .*inf|nan"):
        await _batch({"filter": {"x": number}})


@pytest.mark.parametrize("value", [b"raw", {1, 2}, 1j, object()])
async def test_a_value_form_encoding_has_no_form_for_is_refused_naming_it(value: object) -> None:
    with pytest.raises(TypeError, match=r"batch command 'c': parameter select\[0\] is a"):
        await _batch({"select": [value]})


@_FUZZ
@given(pairs=st.lists(st.tuples(_NESTED_NAME, _TEXT), max_size=6))
def test_forms_from_other_encoders_read_as_php_reads_them(pairs: list[tuple[str, str]]) -> None:
    # urlencode writes spaces as '+', as PHP's http_build_query does for event posts.
    form = [(f"data[{name}]", value) for name, value in pairs]
    assert read_data(urlencode(form)) == dict(pairs)


def _leaves(tree: Any) -> bool:
    if isinstance(tree, str):
        return True
    return isinstance(tree, dict) and all(
        isinstance(key, str) and _leaves(value) for key, value in tree.items()
    )


@_FUZZ
@given(
    query=st.text(max_size=60)
    | st.lists(
        st.sampled_from(
            ["a", "b", "[", "]", "[]", "=", "&", "%", "%5B", "%00", "+", " ", ".", "0", "-1", "é"]
        )
    ).map(lambda parts: "event=ONTEST&data" + "".join(parts))
)
def test_any_text_parses_into_string_maps_the_way_php_reads_it(query: str) -> None:
    try:
        event = parse_event(query, AUTH)
    except ValueError:
        return  # refused as not an event, named; never another exception
    assert isinstance(event, RawEvent)
    assert _leaves(dict(event.data) if event.data is not None else {})
    php = parse_str(query).get("data")
    assert (dict(event.data) if event.data else None) == (
        php if isinstance(php, dict) and php else None
    )
    if event.data:  # what PHP's http_build_query writes, the SDK reads back the same
        assert read_data(http_build_query({"data": dict(event.data)})) == event.data
