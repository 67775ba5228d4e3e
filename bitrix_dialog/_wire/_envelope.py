"""The REST envelope: ``{"result", "time"}`` or ``{"error", "error_description"}``.

:func:`decode_response` is the one function that turns an HTTP answer into either a
:class:`RestResponse` or an exception from :mod:`._errors`. It classifies by the
body's ``error`` code, never by the HTTP status alone: Bitrix24 sends
``wrong_client`` with HTTP 200 and both ``QUERY_LIMIT_EXCEEDED`` and
``OVERLOAD_LIMIT`` with 503, and ``error`` may be an empty string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from .._decode._json import loads
from .._errors import (
    BitrixError,
    OperationTimeLimitError,
    PortalMovedError,
    ResponseDecodeError,
    error_class,
    error_for,
)
from ._http import HttpResponse
from ._redact import redact_url

__all__ = [
    "Hold",
    "RestResponse",
    "Time",
    "decode_json",
    "decode_response",
    "error_code",
    "error_from_payload",
    "parse_time",
]

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_ABSENT: Final = object()
_TIME_FIELDS: Final = frozenset(
    {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating",
        "operating_reset_at",
    }
)


@attrs.frozen(kw_only=True)
class Time:
    """The ``time`` block of an answer; any field may be absent (``None``).

    Self-hosted portals and ``imbot.v2`` answers often omit ``operating`` and
    ``operating_reset_at``; unknown keys are kept in ``extra``.
    """

    start: float | None = None
    """Unix time (seconds) the portal started the request."""
    finish: float | None = None
    """Unix time (seconds) the portal finished it."""
    duration: float | None = None
    """``finish - start`` in seconds."""
    processing: float | None = None
    """Seconds spent in the method itself."""
    date_start: datetime | None = None
    """``start`` as a timezone-aware datetime in the portal's offset."""
    date_finish: datetime | None = None
    """``finish`` as a timezone-aware datetime in the portal's offset."""
    operating: float | None = None
    """Execution seconds this method used in the current 10-minute window (cloud only)."""
    operating_reset_at: float | None = None
    """Unix time when the oldest minute of that window drops out (cloud only)."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys of the ``time`` block this SDK does not know yet."""


@attrs.frozen(kw_only=True)
class RestResponse:
    """A successful REST answer: ``result`` is the decoded JSON, exactly as sent."""

    method: str
    """The REST method that answered."""
    result: Any
    """The decoded ``result`` (object, list, scalar or ``None``)."""
    time: Time | None = None
    """The ``time`` block, when the portal sent one."""
    next: int | None = None
    """For list methods: the ``start`` offset of the next page."""
    total: int | None = None
    """For list methods: the total number of records."""
    status: int = 200
    """The HTTP status of the answer."""
    body: bytes = attrs.field(default=b"", repr=False, eq=False)
    """The raw answer bytes, kept for errors raised while decoding ``result`` further."""


def _number(value: object) -> float | None:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is int:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
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


def _int(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def parse_time(block: object) -> Time | None:
    """Decode a ``time`` block leniently: an odd field becomes ``None``, never an error.

    Every answer carries one, so this runs once per call: floats are taken as they
    are, and ``date_finish`` reuses ``date_start``'s datetime when both say the same.
    """
    if type(block) is not dict and not isinstance(block, Mapping):
        return None
    get = block.get
    date_start = _date(get("date_start"))
    finish_text = get("date_finish")
    date_finish = (
        date_start
        if date_start is not None and finish_text == get("date_start")
        else _date(finish_text)
    )
    return Time(
        start=_number(get("start")),
        finish=_number(get("finish")),
        duration=_number(get("duration")),
        processing=_number(get("processing")),
        date_start=date_start,
        date_finish=date_finish,
        operating=_number(get("operating")),
        operating_reset_at=_number(get("operating_reset_at")),
        extra={} if _TIME_FIELDS.issuperset(block) else _extra(block),
    )


def _extra(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k not in _TIME_FIELDS}


def decode_json(response: HttpResponse, method: str) -> Any:
    """Parse the body as JSON or raise :class:`ResponseDecodeError` keeping status and body.

    ``orjson`` parses it when installed, :mod:`json` otherwise, with the same value or the
    same error either way (:mod:`.._decode._json`).
    """
    body = response.body
    try:
        return loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError; too deep
        msg = "the answer is not JSON"
        raise ResponseDecodeError(msg, status=response.status, method=method, body=body) from None


Hold = Callable[[str], float | None]
"""Told that the portal refused a method with ``OPERATION_TIME_LIMIT``: holds the method
and returns the seconds until it may be served again (``None``: unknown). The operating
tracker's ``block``; asked while the error is built, so that it is built complete."""


def error_code(payload: Mapping[str, Any]) -> tuple[str, str]:
    """``(code, description)`` of an ``{"error": ..., "error_description": ...}`` object."""
    error = payload.get("error")
    description = payload.get("error_description")
    if isinstance(error, Mapping):  # REST v3 form: {"error": {"code", "message"}}
        description = error.get("message", description)
        error = error.get("code")
    return ("" if error is None else str(error)), ("" if description is None else str(description))


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    status: int | None,
    method: str,
    body: bytes | None,
    hold: Hold | None = None,
) -> BitrixError:
    """The exception an ``{"error": ..., "error_description": ...}`` object stands for.

    ``hold`` is consulted only for ``OPERATION_TIME_LIMIT``; its answer is the error's
    ``resume_in``.
    """
    code, text = error_code(payload)
    resume_in = None
    if hold is not None and issubclass(error_class(code), OperationTimeLimitError):
        resume_in = hold(method)
    return error_for(code, text, status=status, method=method, body=body, resume_in=resume_in)


def decode_response(
    response: HttpResponse, method: str, *, hold: Hold | None = None
) -> RestResponse:
    """Turn one HTTP answer into a :class:`RestResponse`, or raise the matching error.

    ``hold`` (see :data:`Hold`) learns of an ``OPERATION_TIME_LIMIT`` as the error is made.
    """
    if response.status in _REDIRECTS:
        location = _header(response.headers, "Location")
        shown = redact_url(location) if location else "an unknown address"
        msg = f"the portal answered HTTP {response.status} and moved to {shown}"
        raise PortalMovedError(
            msg, location=location, status=response.status, method=method, body=response.body
        )
    payload = decode_json(response, method)
    if type(payload) is not dict:
        msg = "the answer is JSON but not an object"
        raise ResponseDecodeError(msg, status=response.status, method=method, body=response.body)
    if "error" in payload:
        raise error_from_payload(
            payload, status=response.status, method=method, body=response.body, hold=hold
        )
    result = payload.get("result", _ABSENT)
    if result is _ABSENT:
        msg = "the answer has neither 'result' nor 'error'"
        raise ResponseDecodeError(msg, status=response.status, method=method, body=response.body)
    time, next_, total = payload.get("time"), payload.get("next"), payload.get("total")
    return RestResponse(
        method=method,
        result=result,
        time=None if time is None else parse_time(time),
        next=None if next_ is None else _int(next_),
        total=None if total is None else _int(total),
        status=response.status,
        body=response.body,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
