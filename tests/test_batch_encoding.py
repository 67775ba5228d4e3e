"""A ``cmd`` string reads back on the portal as the SDK meant it; bad input fails early."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bitrix_dialog import BatchCall, Client, RestResponse
from bitrix_dialog.testing import CallContext, FakePortal


async def echo(context: CallContext) -> Any:
    return dict(context.params)


@pytest.fixture
def portal() -> FakePortal:
    portal = FakePortal()
    portal.register_method("test.echo", echo)
    return portal


@pytest.fixture
async def client(portal: FakePortal) -> AsyncIterator[Client]:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield client


def php_reads(value: Any) -> Any:
    """What ``parse_str`` gives back for a value sent with ``http_build_query``.

    Scalars come back as strings (booleans as ``1``/``0``), ``None`` and empty
    arrays are not sent at all, and lists come back keyed ``"0"``, ``"1"``, ...
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    pairs = value.items() if isinstance(value, Mapping) else enumerate(value)
    items = {str(k): php_reads(v) for k, v in pairs}
    return {k: v for k, v in items.items() if v is not None} or None


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
# Top-level names: PHP's parse_str renames '.' and ' ' to '_' and reads '[' / ']' as
# nesting, so the SDK refuses those (tested below); NUL ends a PHP name. Nested names
# may hold '.' and ' ' but not brackets, and must not be empty or one whitespace
# character ('k[]' and 'k[ ]' append).
_TOP_KEY = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="[]. \x00"),
    min_size=1,
    max_size=8,
)
_NESTED_KEY = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="[]\x00"),
    min_size=1,
    max_size=8,
).filter(lambda key: key not in frozenset(" \t\n\v\f\r"))  # 'k[ ]' appends, like 'k[]'
_SCALAR = st.none() | st.booleans() | st.integers() | _TEXT
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NESTED_KEY, inner, max_size=3),
    max_leaves=8,
)
_PARAMS = st.dictionaries(_TOP_KEY, _VALUE, max_size=4)
# "$result[...]" and friends are the batch reference syntax the portal substitutes on
# purpose (tested elsewhere); plain text must not look like one.
_REFERENCE = re.compile(r"\$(result|next|total|time|error)", re.IGNORECASE)


def _mentions_reference(value: Any) -> bool:
    return _REFERENCE.search(json.dumps(value, ensure_ascii=False)) is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PARAMS, min_size=1, max_size=5))
def test_the_portal_reads_each_command_as_the_sdk_meant(commands: list[dict[str, Any]]) -> None:
    assume(not _mentions_reference(commands))

    async def scenario() -> list[Any]:
        portal = FakePortal()
        portal.register_method("test.echo", echo)
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            result = await client.batch([("test.echo", params) for params in commands])
        outcomes = list(result.values())
        assert all(isinstance(o, RestResponse) for o in outcomes), outcomes
        return [o.result for o in outcomes if isinstance(o, RestResponse)]

    echoed = asyncio.run(scenario())
    assert echoed == [php_reads(params) or {} for params in commands]


async def test_known_encodings(client: Client) -> None:
    result = await client.batch(
        {
            "a": (
                "test.echo",
                {
                    "flag": True,
                    "off": False,
                    "gone": None,
                    "none": [],
                    "n": 7,
                    "f": 2.5,
                    "select": ["ID", "NAME"],
                    "fields": {"TITLE": "a&b=c?d#e%f+g [x]", "PHONE": [{"VALUE": "555"}]},
                    "dotted": {"a.b c": "kept"},
                },
            )
        }
    )
    outcome = result["a"]
    assert isinstance(outcome, RestResponse)
    assert outcome.result == {
        "flag": "1",
        "off": "0",
        "n": "7",
        "f": "2.5",
        "select": {"0": "ID", "1": "NAME"},
        "fields": {"TITLE": "a&b=c?d#e%f+g [x]", "PHONE": {"0": {"VALUE": "555"}}},
        "dotted": {"a.b c": "kept"},
    }


@pytest.mark.parametrize(
    ("calls", "error", "message"),
    [
        ({}, ValueError, "must not be empty"),
        ([], ValueError, "must not be empty"),
        ("im.dialog.get", TypeError, "not a string"),
        (42, TypeError, "not int"),
        ({"12": ("test.echo", {})}, ValueError, "purely numeric.*'c12'"),
        ({"-3": ("test.echo", {})}, ValueError, "purely numeric"),
        ({"a b": ("test.echo", {})}, ValueError, "letters, digits"),
        ({"a[0]": ("test.echo", {})}, ValueError, "letters, digits"),
        ({"": ("test.echo", {})}, ValueError, "letters, digits"),
        ({1: ("test.echo", {})}, TypeError, "names must be str"),
        ({"a": "test.echo"}, TypeError, "'a' must be a BatchCall or a \\(method, params\\) tuple"),
        ({"a": ("test.echo", {}, 1)}, TypeError, "must be a BatchCall"),
        ({"a": ("im dialog", {})}, ValueError, "'a': method 'im dialog' is not"),
        ({"a": (None, {})}, TypeError, "'a': method must be a str"),
        ({"a": ("test.echo", ["x"])}, TypeError, "'a': params for test.echo must be a mapping"),
        ({"a": ("test.echo", {1: "x"})}, TypeError, "must have str keys"),
        ({"a": ("test.echo", {"a.b": 1})}, ValueError, "'a.b' is empty or contains '.'"),
        ({"a": ("test.echo", {"a b": 1})}, ValueError, "would turn into '_'"),
        ({"a": ("test.echo", {"": 1})}, ValueError, "is empty"),
        ({"a": ("test.echo", {"x[y]": 1})}, ValueError, "contains '\\[', '\\]'"),
        ({"a": ("test.echo", {"x": {"y]": 1}})}, ValueError, "contains '\\['"),
        ({"a": ("test.echo", {"x": {"": 1}})}, ValueError, "empty nested key"),
        ({"a": ("test.echo", {"x": {" ": 1}})}, ValueError, "nested key ' ' would read back"),
        ({"a": ("test.echo", {"x": {"\t": 1}})}, ValueError, "reads 'k\\[ \\]' as"),
        ({"a": ("test.echo", {"x": {True: 1}})}, TypeError, "keys must be str or int"),
        ({"a": ("test.echo", {"x": object()})}, TypeError, "parameter x is a object"),
        ({"a": ("test.echo", {"x": [b"raw"]})}, TypeError, r"parameter x\[0\] is a bytes"),
        ({"a": ("test.echo", {"x": {"y": math.nan}})}, ValueError, r"x\[y\] is nan"),
        ({"a": ("test.echo", {"x": math.inf})}, ValueError, "inf"),
        ({"a": BatchCall(method="test.echo", params={"x": {1, 2}})}, TypeError, "is a set"),
    ],
)
async def test_bad_input_fails_before_anything_is_sent(
    portal: FakePortal, client: Client, calls: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await client.batch(calls)
    assert portal.calls == []


async def test_halt_must_be_a_bool(portal: FakePortal, client: Client) -> None:
    with pytest.raises(TypeError, match="halt must be a bool, not str"):
        await client.batch({"a": ("test.echo", {})}, halt="false")  # type: ignore[arg-type]
    assert portal.calls == []


async def test_a_closed_client_refuses_a_batch(portal: FakePortal) -> None:
    client = Client(portal.webhook_url(), transport=portal.transport())
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.batch({"a": ("test.echo", {})})
    assert portal.calls == []


async def test_positional_calls_accept_any_iterable_and_names_allow_word_characters(
    portal: FakePortal, client: Client
) -> None:
    result = await client.batch(("test.echo", {"n": n}) for n in range(3))
    assert list(result) == ["c0", "c1", "c2"]
    named = await client.batch({"chat-12:a.b_C": ("test.echo", None), "007x": ("test.echo", {})})
    assert named.ok
    assert list(named) == ["chat-12:a.b_C", "007x"]
