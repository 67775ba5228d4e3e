"""Properties of the decoders: any answer in, a value or a typed ``BitrixError`` out.

``tests/test_dialog_decode.py`` fuzzes ``decode_dialog`` on decoded JSON. These go one
level up, where users meet the decoders: raw answer bytes and statuses through the
envelope (``decode_response``), the typed methods (``client.im.dialog.get`` ...) and
``client.batch``. Whatever the portal (or a proxy in front of it) answers, the call
returns a value or raises a ``BitrixError`` that keeps the status and the raw body;
a batch gives every command exactly one outcome.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitrix_dialog import (
    BitrixError,
    Client,
    Dialog,
    ModelDecodeError,
    PortalMovedError,
    ResponseDecodeError,
    RestResponse,
    RetryPolicy,
    Time,
)
from bitrix_dialog._wire._envelope import decode_response
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import MemoryTransport

from .test_dialog_decode import json_objects, json_values

WEBHOOK = "https://example.bitrix24.com/rest/1/fuzzcode/"
_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The end-to-end properties run a client per example: fewer examples keep them quick.
_FUZZ_CLIENT = settings(_FUZZ, max_examples=50)

_STATUSES = st.sampled_from([200, 200, 200, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503])
_TIME_VALUES = (
    json_values
    | st.floats()
    | st.sampled_from(
        ["1772030091.16", "nan", "-inf", " 12 ", "1e400", "2026-02-25T17:34:51+01:00"]
    )
)
_TIMES = st.dictionaries(
    st.sampled_from(
        [
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "date_finish",
            "operating",
            "operating_reset_at",
            "other",
        ]
    ),
    _TIME_VALUES,
    max_size=9,
)
_ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "result": json_objects | json_values,
        "error": json_values | st.sampled_from(["", "QUERY_LIMIT_EXCEEDED", "expired_token"]),
        "error_description": json_values,
        "time": _TIMES | json_values,
        "next": json_values,
        "total": json_values,
    },
)
_BODIES = (
    _ENVELOPES.map(lambda envelope: json.dumps(envelope).encode())
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=30)
    | st.sampled_from([b"", b"<html>502 Bad Gateway</html>", b"\xef\xbb\xbf{}", b'{"result":'])
)


_TIME_FIELDS = {
    "start",
    "finish",
    "duration",
    "processing",
    "date_start",
    "date_finish",
    "operating",
    "operating_reset_at",
}


def _number(value: object) -> float | None:
    """The documented reading of a numeric ``time`` field: lenient, never an error."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return left == right


def _check_time(time: Time | None, block: object) -> None:
    if not isinstance(block, Mapping):
        assert time is None
        return
    assert time is not None
    for name in ("start", "finish", "duration", "processing", "operating", "operating_reset_at"):
        assert _same(getattr(time, name), _number(block.get(name))), name
    assert time.date_start == _date(block.get("date_start"))
    assert time.date_finish == _date(block.get("date_finish"))
    assert dict(time.extra) == {k: v for k, v in block.items() if k not in _TIME_FIELDS}
    # the decoder's value is the very value the public constructor makes
    rebuilt = Time(**attrs.asdict(time, recurse=False))
    assert rebuilt == time or _has_nan(time)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        time.start = 0.0  # type: ignore[misc]


def _has_nan(time: Time) -> bool:
    return any(isinstance(v, float) and math.isnan(v) for v in attrs.astuple(time))


def _decoded(response: HttpResponse) -> RestResponse | BitrixError:
    try:
        return decode_response(response, "im.dialog.get")
    except BitrixError as error:  # any other exception fails the property
        return error


@_FUZZ
@given(body=_BODIES, status=_STATUSES, moved=st.booleans())
def test_any_answer_is_a_rest_response_or_an_error_keeping_the_body(
    body: bytes, status: int, moved: bool
) -> None:
    headers = {"Location": "https://new.bitrix24.com/rest/1/fuzzcode/x"} if moved else {}
    response = HttpResponse(status=status, headers=headers, body=body)
    decoded = _decoded(response)
    if isinstance(decoded, BitrixError):
        assert decoded.body == body
        assert decoded.status == status
        assert decoded.method == "im.dialog.get"
        assert "fuzzcode" not in str(decoded)
        if status in (301, 302):
            assert isinstance(decoded, PortalMovedError)
        return
    assert status not in (301, 302)
    payload = json.loads(body)
    assert isinstance(payload, dict)
    assert "error" not in payload
    assert decoded.result == payload["result"]
    assert (decoded.status, decoded.body, decoded.method) == (status, body, "im.dialog.get")
    _check_time(decoded.time, payload.get("time"))
    nan = decoded.time is not None and _has_nan(decoded.time)  # NaN is never equal
    assert nan or decoded == RestResponse(  # the same value its public constructor makes
        method=decoded.method,
        result=decoded.result,
        time=decoded.time,
        next=decoded.next,
        total=decoded.total,
        status=decoded.status,
        body=decoded.body,
    )
    for name in ("next", "total"):
        sent = _number(payload.get(name))
        expected = int(sent) if sent is not None and sent.is_integer() else None
        assert getattr(decoded, name) == expected


def _answering(responses: list[HttpResponse]) -> MemoryTransport:
    async def handler(request: HttpRequest) -> HttpResponse:
        return responses.pop(0)

    return MemoryTransport(handler)


@_FUZZ_CLIENT
@given(
    result=json_objects | json_values,
    status=_STATUSES,
    method=st.sampled_from(["im", "imbot", "imopenlines", "v2"]),
)
def test_a_typed_method_returns_a_dialog_or_raises_a_bitrix_error(
    result: Any, status: int, method: str
) -> None:
    body = json.dumps({"result": result}).encode()

    async def scenario() -> Dialog | BitrixError:
        transport = _answering([HttpResponse(status=status, body=body)])
        async with Client(WEBHOOK, transport=transport, retry=RetryPolicy.never()) as client:
            try:
                if method == "im":
                    return await client.im.dialog.get("chat5")
                if method == "imbot":
                    return await client.imbot.dialog.get("chat5")
                if method == "imopenlines":
                    return await client.imopenlines.dialog.get(chat_id=5)
                return await client.imbot.v2.chat.get("chat5", bot_id=7, bot_token="bot-secret")
            except BitrixError as error:
                return error

    outcome = asyncio.run(scenario())
    if isinstance(outcome, Dialog):
        assert isinstance(outcome.id, int)
    else:
        assert outcome.body == body
        if isinstance(outcome, ModelDecodeError):
            assert outcome.payload == result
            assert outcome.status is None or outcome.status == status
        assert "bot-secret" not in str(outcome) + repr(outcome)


_COMMAND_NAMES = ["a", "b", "c"]
_SECTION = st.dictionaries(st.sampled_from([*_COMMAND_NAMES, "x", "0"]), json_values, max_size=4)
_CONTAINERS = (
    st.fixed_dictionaries(
        {},
        optional={
            "result": _SECTION | json_values,
            "result_error": st.dictionaries(
                st.sampled_from(_COMMAND_NAMES),
                st.fixed_dictionaries({"error": json_values, "error_description": json_values})
                | json_values,
                max_size=3,
            )
            | json_values,
            "result_total": _SECTION | json_values,
            "result_next": _SECTION | json_values,
            "result_time": st.dictionaries(st.sampled_from(_COMMAND_NAMES), _TIMES, max_size=3)
            | json_values,
        },
    )
    | json_values
)


@_FUZZ_CLIENT
@given(container=_CONTAINERS, status=_STATUSES, halt=st.booleans())
def test_every_batch_command_gets_exactly_one_outcome(
    container: Any, status: int, halt: bool
) -> None:
    body = json.dumps({"result": container}).encode()

    async def scenario() -> Mapping[str, Any]:
        transport = _answering([HttpResponse(status=status, body=body)])
        async with Client(WEBHOOK, transport=transport, retry=RetryPolicy.never()) as client:
            return await client.batch(
                {
                    name: ("im.dialog.get", {"DIALOG_ID": f"chat{n}"})
                    for n, name in enumerate(_COMMAND_NAMES, 1)
                },
                halt=halt,
            )

    result = asyncio.run(scenario())
    assert list(result) == _COMMAND_NAMES
    for name, outcome in result.items():
        assert isinstance(outcome, RestResponse | BitrixError), name
        if isinstance(outcome, RestResponse):
            assert outcome.method == "im.dialog.get"
            assert isinstance(container, dict)
        elif isinstance(outcome, ResponseDecodeError):
            assert outcome.body  # the part of the answer it was decoded from is kept
