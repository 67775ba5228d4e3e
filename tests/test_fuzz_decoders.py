"""Properties of the decoders: any answer in, a value or a typed ``BitrixError`` out.

``tests/test_dialog_decode.py`` fuzzes ``decode_dialog`` on decoded JSON. These go one
level up, where users meet the decoders: raw answer bytes and statuses through the
envelope (``client.call``, checked against ``envelope_oracle``, written from the
docs), the typed methods (``client.im.dialog.get`` ...) and
``client.batch``. Whatever the portal (or a proxy in front of it) answers, the call
returns a value or raises a ``BitrixError`` that keeps the status and the raw body;
a batch gives every command exactly one outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
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
    ResponseDecodeError,
    RestResponse,
    RetryPolicy,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import MemoryTransport

from . import envelope_oracle
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


@_FUZZ_CLIENT
@given(body=_BODIES, status=_STATUSES, moved=st.booleans())
def test_any_answer_is_what_the_docs_say_or_an_error_keeping_the_body(
    body: bytes, status: int, moved: bool
) -> None:
    headers = {"Location": "https://new.bitrix24.com/rest/1/fuzzcode/x"} if moved else {}
    answer = HttpResponse(status=status, headers=headers, body=body)

    async def scenario() -> RestResponse | BitrixError:
        transport = _answering([answer])
        async with Client(WEBHOOK, transport=transport, retry=RetryPolicy.never()) as client:
            try:
                return await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
            except BitrixError as error:  # any other exception fails the property
                return error

    outcome = asyncio.run(scenario())
    want = envelope_oracle.expected(status, body)
    if isinstance(outcome, BitrixError):
        assert isinstance(outcome, want.kind), (want, outcome)
        assert (outcome.body, outcome.status, outcome.method) == (body, status, "im.dialog.get")
        assert "fuzzcode" not in str(outcome)  # the webhook code never shows
        if want.code is not None:
            assert outcome.code == want.code
        if want.description is not None:
            assert outcome.description == want.description
        return
    assert want.kind is RestResponse, (want, outcome)
    assert want.payload is not None
    assert (outcome.status, outcome.body, outcome.method) == (status, body, "im.dialog.get")
    envelope_oracle.check_success(outcome, want.payload)
    if outcome.time is not None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            outcome.time.start = 0.0  # type: ignore[misc]


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
