"""What a post may cost and name before anyone believes it.

The event endpoint is on the internet and every post reaches it before it is
authenticated, so everything here is cheap, bounded and done first:

- the body: uncompressed (the portal never compresses; a ``Content-Encoding`` is
  refused unread), at most ``max_body_size`` bytes (``Content-Length`` checked before
  reading, a chunked body counted as it arrives) within ``read_timeout`` seconds;
- the form: PHP's bounds, ``max_vars`` variables and ``max_depth`` levels, refused
  whole before any key is looked at (``parse_query`` is linear in the body);
- the ``member_id``: printable ASCII, at most 128 characters (it becomes a store key);
- install, update and uninstall posts change what is stored: their ``ts`` must be
  within ``max_age`` of now, so a captured post cannot be replayed later;
- every URL a post names must be https to a public host (see
  ``_wire/_urls.py``), so a post cannot point the app at a local service or the
  cloud's metadata address.

A refusal is a :class:`RefusedError`: its ``reason`` is logged, cut short (a post
is anyone's text); the caller gets only ``public``, a fixed text per status.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import web

from .._auth import EventAuth
from .._wire._formencode import FormLimitError, parse_query
from .._wire._urls import require_public_host, require_public_url

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_PENDING_INSTALLS",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_VERIFY_TIMEOUT",
    "RefusedError",
    "check_fresh",
    "check_member_id",
    "check_urls",
    "cut",
    "positive",
    "read_form",
    "short",
]

DEFAULT_MAX_BODY_SIZE: Final = 1024 * 1024
"""Bytes an event post may have (1 MiB, aiohttp's own default ``client_max_size``)."""
DEFAULT_READ_TIMEOUT: Final = 10.0
"""Seconds the whole body of a post may take to arrive."""
DEFAULT_MAX_AGE: Final = 600.0
"""Seconds an install, update or uninstall post's ``ts`` may be from now, either way."""
DEFAULT_VERIFY_TIMEOUT: Final = 15.0
"""Seconds the authorization server and the portal get to confirm a new install."""
DEFAULT_MAX_PENDING_INSTALLS: Final = 8
"""Unconfirmed installs checked at once; more are answered 503 without a request."""

_PUBLIC_TEXT: Final[Mapping[int, str]] = {
    400: "bad request",
    403: "forbidden",
    408: "request timeout",
    413: "payload too large",
    415: "unsupported media type",
    503: "service unavailable",
}
_LOG_CHARS: Final = 64
_REASON_CHARS: Final = 300
_CHUNK: Final = 64 * 1024
_MEMBER_ID: Final = re.compile(r"[!-~]{1,128}", re.ASCII)


class RefusedError(Exception):
    """A refused post: ``reason`` goes to the log, ``public`` (fixed text) to the caller."""

    def __init__(self, status: int, reason: str, public: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.public = public if public is not None else _PUBLIC_TEXT.get(status, "refused")


async def read_form(
    request: web.Request, *, max_body_size: int, read_timeout: float, max_vars: int, max_depth: int
) -> dict[str, Any]:
    """The post's form, read and parsed within the bounds, or a :class:`RefusedError`."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # the portal never compresses: a bomb, unread
        raise RefusedError(415, f"the body is compressed ({encoding[:16]!r})")
    length = request.content_length
    if length is not None and length > max_body_size:
        raise RefusedError(413, f"Content-Length {length} is over {max_body_size} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(read_timeout):
            async for chunk in request.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_body_size:
                    raise RefusedError(413, f"the body is over {max_body_size} bytes")
    except TimeoutError:
        raise RefusedError(408, f"the body took over {read_timeout} s to arrive") from None
    try:
        return parse_query(body.decode("utf-8", "replace"), max_vars=max_vars, max_depth=max_depth)
    except FormLimitError as exc:
        raise RefusedError(400, str(exc)) from None


def check_member_id(member_id: str | None) -> str:
    """The post's ``member_id``, if it can be one (it becomes a store key)."""
    if not member_id:
        raise RefusedError(403, "the post names no member_id")
    if not _MEMBER_ID.fullmatch(member_id):
        raise RefusedError(403, "member_id is not a printable ASCII id of 1-128 characters")
    return member_id


def check_fresh(form: Mapping[str, Any], *, max_age: float, clock: Callable[[], float]) -> None:
    """Refuse a post whose ``ts`` (Unix seconds) is missing or not within ``max_age`` of now."""
    raw = form.get("ts")
    ts: int | None = None
    if isinstance(raw, str) and 0 < len(raw) <= 20:
        try:
            ts = int(raw)
        except ValueError:
            ts = None
    if ts is None:
        raise RefusedError(403, "the post has no ts (Unix seconds)")
    age = clock() - ts
    if not -max_age <= age <= max_age:
        raise RefusedError(403, f"ts is {age:.0f} s from now, outside +-{max_age:.0f} s")


def check_urls(auth: EventAuth, *, allow_loopback: bool, where: str = "the post") -> None:
    """Every URL ``auth`` names must be https to a public host (or loopback, opted in)."""
    token = auth.token
    urls = {
        "client_endpoint": auth.client_endpoint,
        "server_endpoint": auth.server_endpoint,
        "the pair's client_endpoint": None if token is None else token.client_endpoint,
        "the pair's server_endpoint": None if token is None else token.server_endpoint,
    }
    try:
        for parameter, url in urls.items():
            if url is not None:
                require_public_url(url, parameter=parameter, allow_loopback=allow_loopback)
        if auth.domain is not None:
            require_public_host(auth.domain, parameter="domain", allow_loopback=allow_loopback)
    except ValueError as exc:
        raise RefusedError(403, f"{where} names an untrusted URL: {exc}") from None


def positive(name: str, value: object, *, integer: bool) -> None:
    """Refuse an option that is not a positive (whole, with ``integer``) finite number."""
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "an int" if integer else "a number"
        msg = f"{name} must be {kind}, not {type(value).__name__}"
        raise TypeError(msg)
    assert isinstance(value, int | float)
    if not (math.isfinite(value) and value > 0):
        msg = f"{name} must be positive, got {value!r}"
        raise ValueError(msg)


def short(value: object, limit: int = _LOG_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters: posts are anyone's text."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return repr(value)


def cut(text: str, limit: int = _REASON_CHARS) -> str:
    """``text`` cut to about ``limit`` characters (a reason may quote the post)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
