"""One HTTP request of an attempt: its JSON body and headers, its timeouts, its debug log.

Split from the executor so that the attempt loop reads as the steps it takes; nothing
here waits, retries or decodes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from .._deadline import Deadline
from .._errors import BitrixError
from .._transports import Transport
from .._wire._http import HttpRequest, HttpResponse, Timeout
from .._wire._redact import mask_body

__all__ = ["JSON_HEADERS", "encode_json_body", "mask_answer", "request_timeout", "send_logged"]

logger: Final = logging.getLogger("bitrix_dialog")

JSON_HEADERS: Final[Mapping[str, str]] = {
    # Exactly this type: the portal silently drops a body whose type it does not parse.
    "Content-Type": "application/json",
    "Accept": "application/json",
}

# Built once: ``json.dumps`` with options makes a new encoder on every call. NaN and
# infinities are refused: they are not JSON, and PHP's json_decode rejects the body.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json_body(method: str, params: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON for the body; a value JSON cannot carry (NaN, an object, a structure
    that contains itself or nests past the interpreter's limit) fails here, before sending."""
    try:
        return _ENCODER.encode(params).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "they nest too deeply" if isinstance(exc, RecursionError) else str(exc)
        msg = f"params for {method} are not JSON-serialisable: {reason}"
        raise TypeError(msg) from None


def request_timeout(
    deadline: Deadline, timeout: Timeout | None, transport: Transport
) -> Timeout | None:
    """The request's timeouts: the client's (or transport's) cut to the deadline's rest."""
    remaining = deadline.remaining()
    if remaining is None:
        return timeout
    base = timeout or getattr(transport, "timeout", None)
    if not isinstance(base, Timeout):
        base = Timeout()
    return base.capped(remaining)


async def send_logged(transport: Transport, method: str, request: HttpRequest) -> HttpResponse:
    """Send one HTTP request, logging it (redacted) when debug logging is on.

    Errors come from the transport complete (``request.rest_method`` names the call).
    """
    if not logger.isEnabledFor(logging.DEBUG):  # the common case: nothing to time or log
        return await transport.send(request)
    started = time.perf_counter()
    logger.debug("-> %s %s (%d bytes)", request.method, method, len(request.body))
    try:
        response = await transport.send(request)
    except BitrixError as error:
        logger.debug(
            "<- %s failed after %.1f ms: %s",
            method,
            (time.perf_counter() - started) * 1000,
            type(error).__name__,
        )
        raise
    logger.debug(
        "<- %s HTTP %d in %.1f ms (%d bytes)",
        method,
        response.status,
        (time.perf_counter() - started) * 1000,
        len(response.body),
    )
    return response


def mask_answer(response: HttpResponse, secrets: tuple[str, ...]) -> HttpResponse:
    """``response`` with every known secret masked in its body and its ``Location``.

    A portal's HTML error page may echo the request path, webhook code and all, and a
    redirect's ``Location`` repeats it: masked here, before any error is built from
    them. An answer that names no secret is returned as it is.
    """
    body = mask_body(response.body, secrets)
    headers = response.headers
    for key, value in headers.items():
        if key.lower() == "location":
            masked = mask_body(value.encode(), secrets)
            if masked != value.encode():
                headers = {**headers, key: masked.decode("utf-8", "replace")}
            break
    if body is response.body and headers is response.headers:
        return response
    return HttpResponse(status=response.status, headers=headers, body=body)
