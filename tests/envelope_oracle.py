"""What an answer means, written from Bitrix24's documentation, not from the SDK's code.

Sources (see /work/shared/reference/bitrix-api.md §6): the success envelope is
``{"result": ..., "time": {...}}``, list methods add top-level ``next`` (the offset
of the next page) and ``total`` (both integers); ``time`` holds ``start``,
``finish``, ``duration``, ``processing`` and ``operating`` (seconds, int or float),
``operating_reset_at`` (Unix time) and ``date_start``/``date_finish`` (PHP
``date('c')``), a set that "may vary depending on the method and environment". The
error envelope is ``{"error": "<code>", "error_description": "<text>"}``, where the
code may be ``""``. The SDK's README adds: a redirect is ``PortalMovedError``, an
answer that is no envelope ``ResponseDecodeError``.

The oracle states only what those sources pin down and says nothing where they are
silent (a ``time`` field that is a string, ``next`` as a float), so it never encodes
one implementation's choices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard

import attrs

from bitrix_dialog import BitrixError, PortalMovedError, ResponseDecodeError, RestResponse

REDIRECTS = frozenset({301, 302, 303, 307, 308})

SECONDS = ("start", "finish", "duration", "processing", "operating", "operating_reset_at")
"""``time`` fields the docs give as Unix seconds or durations: a JSON int or float."""
DATES = ("date_start", "date_finish")
"""``time`` fields the docs give as PHP ``date('c')`` strings."""

_DATE_C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


@attrs.frozen
class Expected:
    """What the docs say a call answered with ``status`` and ``body`` comes to."""

    kind: type[BitrixError] | type[RestResponse]
    code: str | None = None
    """For an error envelope with a string ``error``: that code, exactly."""
    description: str | None = None
    """For an error envelope with a string ``error_description``: that text."""
    payload: Mapping[str, Any] | None = None
    """For a success envelope: the decoded JSON object."""


def expected(status: int, body: bytes) -> Expected:
    if status in REDIRECTS:
        return Expected(PortalMovedError)
    try:
        payload = json.loads(body)
    except ValueError:  # not JSON at all (also bytes that are not UTF-8)
        return Expected(ResponseDecodeError)
    if not isinstance(payload, dict):
        return Expected(ResponseDecodeError)
    if "error" in payload:
        code = payload["error"]
        text = payload.get("error_description")
        return Expected(
            BitrixError,
            code=code if isinstance(code, str) else None,
            description=text if isinstance(text, str) and isinstance(code, str) else None,
        )
    if "result" in payload:
        return Expected(RestResponse, payload=payload)
    return Expected(ResponseDecodeError)


def check_success(response: RestResponse, payload: Mapping[str, Any]) -> None:
    """A success envelope's fields, where the docs fix their meaning."""
    assert response.result == payload["result"]
    for name in ("next", "total"):
        value = payload.get(name)
        if _is_int(value):
            assert getattr(response, name) == value, name
        elif value is None:
            assert getattr(response, name) is None, name
    block = payload.get("time")
    if not isinstance(block, Mapping):
        return
    time = response.time
    assert time is not None
    for name in SECONDS:
        value = block.get(name)
        if _is_number(value):
            assert getattr(time, name) == float(value), name
        elif name not in block:
            assert getattr(time, name) is None, name
    for name in DATES:
        value = block.get(name)
        if isinstance(value, str) and _DATE_C.fullmatch(value):
            assert getattr(time, name) == datetime.fromisoformat(value), name
        elif name not in block:
            assert getattr(time, name) is None, name
    # The set "may vary": what the SDK does not model is kept, not dropped.
    assert dict(time.extra) == {k: v for k, v in block.items() if k not in (*SECONDS, *DATES)}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
