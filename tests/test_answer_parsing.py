"""Answer bytes parse to the same values with and without the ``speedups`` extra (orjson).

Every test here runs twice: in this process, where ``orjson`` is used when installed
(``nox -s tests`` installs it), and again in a subprocess where importing ``orjson`` is
made to fail, as on a machine without the extra. The oracle is :func:`json.loads`: what
the SDK gave before ``orjson`` existed in it, including the forms ``orjson`` refuses
(``NaN``, ``Infinity``, a BOM, lone surrogates) or reads differently (integers beyond
64 bits).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitrix_dialog import Client, ResponseDecodeError, RetryPolicy
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import MemoryTransport

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK = "https://example.bitrix24.com/rest/1/parsecode/"
BIG = 2**64  # one past orjson's largest integer
SMALL = -(2**63) - 1  # one below its smallest


def _answer(body: bytes) -> Any:
    """``client.call``'s ``result`` when the portal answers ``body``, or the error raised."""

    async def scenario() -> Any:
        async def handler(request: HttpRequest) -> HttpResponse:
            return HttpResponse(status=200, body=body)

        async with Client(
            WEBHOOK, transport=MemoryTransport(handler), retry=RetryPolicy.never()
        ) as client:
            try:
                return (await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})).result
            except ResponseDecodeError as error:
                return error

    return asyncio.run(scenario())


def _dialog_id(body: bytes) -> int:
    async def scenario() -> int:
        async def handler(request: HttpRequest) -> HttpResponse:
            return HttpResponse(status=200, body=body)

        async with Client(WEBHOOK, transport=MemoryTransport(handler)) as client:
            return (await client.im.dialog.get("chat1")).id

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"result": [NaN, Infinity, -Infinity]}', "[nan, inf, -inf]"),
        (b'{"result": [1e400, -1e400, 1e-400]}', "[inf, -inf, 0.0]"),
        (f'{{"result": [{BIG}, {SMALL}, {BIG * BIG}]}}'.encode(), repr([BIG, SMALL, BIG * BIG])),
        (b'{"result": [18446744073709551615, -9223372036854775808]}', repr([BIG - 1, -(2**63)])),
        (b'{"result": "\\ud800"}', repr("\ud800")),  # a lone surrogate escape
        (b'{"result": 0.00027132034301757812}', repr(2.713203430175781e-4)),  # a long fraction
        (b'{"result": 12345678901234567890.5}', repr(1.2345678901234567e19)),
        (b'{"result": "id 12345678901234567890123"}', "'id 12345678901234567890123'"),
        (b'\xef\xbb\xbf{"result": 1}', "1"),  # a UTF-8 byte order mark
        ('{"result": "\u00e9t\u00e9"}'.encode("utf-16"), repr("\u00e9t\u00e9")),
        (b'{"result": 1, "result": 2}', "2"),  # the last duplicate key wins
        (b'{"result": [0.1, -0.0, 1E2, 5e-324]}', repr([0.1, -0.0, 1e2, 5e-324])),
    ],
)  # fmt: skip
def test_forms_orjson_refuses_or_reads_differently_parse_as_json_does(
    body: bytes, expected: str
) -> None:
    result = _answer(body)
    assert repr(result) == expected
    assert repr(result) == repr(json.loads(body)["result"])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"result": ',
        b'{"result": nan}',
        b'{"result": 1}\x00',
        b'{"result": "\xff"}',
        b"\xff",
        # deeper than either parser goes on every supported Python (3.13's json reads 5,000)
        b'{"result": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_bodies_neither_parser_accepts_raise_the_same_typed_error(body: bytes) -> None:
    error = _answer(body)
    assert isinstance(error, ResponseDecodeError)
    assert error.body == body
    assert error.status == 200
    assert error.method == "im.dialog.get"


def test_an_id_beyond_64_bits_stays_an_exact_int_in_the_dialog() -> None:
    huge = BIG + 1  # as a float it would read as BIG
    assert _dialog_id(f'{{"result": {{"id": {huge}}}}}'.encode()) == huge


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**66)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_values, ascii_only=st.booleans())
def test_any_json_text_parses_as_json_loads_does(value: Any, ascii_only: bool) -> None:
    body = json.dumps({"result": value}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = repr(json.loads(body)["result"])
    except ValueError:  # a lone surrogate written raw is not UTF-8: both must refuse it
        assert isinstance(_answer(body), ResponseDecodeError)
        return
    result = _answer(body)
    assert repr(result) == expected
    if isinstance(result, float) and math.isnan(result):
        assert math.isnan(json.loads(body)["result"])


@pytest.mark.skipif(
    os.environ.get("BITRIX_DIALOG_TEST_STDLIB_JSON") == "1", reason="already the stdlib run"
)
def test_the_same_tests_pass_without_orjson() -> None:
    # ``sys.modules["orjson"] = None`` makes ``import orjson`` raise ImportError, exactly
    # as on a machine without the extra, before bitrix_dialog is imported.
    code = (
        "import sys; sys.modules['orjson'] = None; import pytest; "
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {__file__!r}]))"
    )
    env = {
        **os.environ,
        "BITRIX_DIALOG_TEST_STDLIB_JSON": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout


@pytest.mark.skipif(
    os.environ.get("BITRIX_DIALOG_TEST_STDLIB_JSON") != "1", reason="only in the stdlib run"
)
def test_the_stdlib_run_really_has_no_orjson() -> None:
    with pytest.raises(ImportError):
        import orjson  # noqa: F401
