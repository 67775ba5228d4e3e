"""The event endpoint: verify a Bitrix24 event post, type it, hand it to your handler.

    events = BitrixEvents()

    @events.on(BotMessageEvent)
    async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        ...

    events.add_route(app, "/bitrix/events")        # after setup(app, ...)

For every post, in this order:

1. parse the PHP form; no ``event`` or an unreadable ``auth`` block: **400**;
2. no ``member_id`` or one outside ``allowed_member_ids``: **403**;
3. check ``auth[application_token]`` in constant time against the pinned token for
   the portal (``application_tokens``), else against the one stored at install
   (``Portals.application_token``). Mismatch, or nothing to compare with: **403**.
   ``ONAPPINSTALL``/``ONAPPUPDATE`` bring the token to be stored; for them
   :meth:`Portals.install` decides (see "Trust" below);
4. build the typed event; a field that does not hold what the docs say: **400**;
5. call the handler with the event, the client for that portal (the shared
   client of ``setup(app, auth)``, or the portal's own OAuth client of
   ``setup(app, client_id=..., client_secret=...)``; no pair stored: **503**) and
   the request (for ``request.config_dict[...]``: your database, settings ...).
   The handler's ``web.StreamResponse``, if it returns one, is the answer; else 200.
   ``ONAPPUNINSTALL`` then drops the portal's client and deletes its pair.

Refusals are logged (``bitrix_dialog`` logger, warning) with the reason; the
answer itself says only "forbidden". Secrets are never logged.

Trust. An event can only be checked against an application token stored earlier,
so the install post itself needs another proof. With ``verify_install=True`` (the
default) a *new* application token is accepted only when the post's OAuth pair
refreshes at the Bitrix24 authorization server for this app and this
``member_id``: a stranger cannot register a portal, nor replace a known portal's
token (reinstalls and updates work, since Bitrix24 sends them with fresh tokens).
What it cannot prove is the application token itself (no API reveals it): a user
of that portal who holds the app's tokens could install a token of their own for
their own portal. Pin ``application_tokens`` (and ``allowed_member_ids``) where
that matters. ``verify_install=False`` trusts the first install of an unknown
portal as it comes, refuses a changed token for a known one, and costs no
refresh.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Final, TypeAlias, TypeVar, overload

from aiohttp import web

from .._auth import EventAuth
from .._client import Client
from .._errors import TransportError
from .._wire._formencode import DEFAULT_MAX_DEPTH, DEFAULT_MAX_VARS, FormLimitError, parse_query
from .._wire._urls import require_public_host, require_public_url
from ._events import (
    AppInstallEvent,
    AppUninstallEvent,
    AppUpdateEvent,
    BitrixEvent,
    RawEvent,
)
from ._parse import event_class, parse_event
from ._portals import InstallRefusedError, PortalNotInstalledError, Portals
from ._setup import CLIENT_KEY, PORTALS_KEY

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_VERIFY_TIMEOUT",
    "BitrixEvents",
    "EventHandler",
]

logger: Final = logging.getLogger("bitrix_dialog")

_E = TypeVar("_E", bound=BitrixEvent)
EventHandler: TypeAlias = Callable[[_E, Client, web.Request], Awaitable[web.StreamResponse | None]]
"""``async def handler(event, client, request) -> None`` (or a ``web.StreamResponse``)."""
_AnyHandler: TypeAlias = Callable[[Any, Client, web.Request], Awaitable[web.StreamResponse | None]]
_H = TypeVar("_H", bound=_AnyHandler)
_INSTALLS: Final = (AppInstallEvent, AppUpdateEvent)
_DATED: Final = (AppInstallEvent, AppUpdateEvent, AppUninstallEvent)

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
    503: "service unavailable",
}
_LOG_CHARS: Final = 64
_REASON_CHARS: Final = 300
_MEMBER_ID: Final = re.compile(r"[!-~]{1,128}", re.ASCII)


class _RefusedError(Exception):
    """A refused post: ``reason`` goes to the log, ``public`` (fixed text) to the caller."""

    def __init__(self, status: int, reason: str, public: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.public = public if public is not None else _PUBLIC_TEXT.get(status, "refused")


class BitrixEvents:
    """A router for Bitrix24 event posts: verification, typed events, one handler per event.

    ``application_tokens`` pins the expected application token: a mapping of
    ``member_id`` to token, or one string for every portal (an outgoing webhook's
    token). Pinned portals are checked against the pin only, install posts too.
    ``allowed_member_ids`` refuses every other portal. ``verify_install`` is the
    install policy described in the module docs.

    Bounds on what an unauthenticated post may cost (see "Bounds" in the module
    docs): ``max_body_size`` bytes, ``read_timeout`` seconds to arrive, ``max_vars``
    form variables and ``max_depth`` levels of nesting (PHP's ``max_input_vars`` and
    ``max_input_nesting_level``), ``verify_timeout`` seconds and at most
    ``max_pending_installs`` at once for confirming new installs. ``max_age`` is the
    freshness window of install, update and uninstall posts against ``clock`` (by
    default the clock given to ``setup``, else ``time.time``). ``allow_loopback``
    lets posts name loopback hosts over http (a fake portal on 127.0.0.1 in tests
    and demos); never turn it on for an endpoint the internet can reach.
    """

    def __init__(
        self,
        *,
        application_tokens: Mapping[str, str] | str | None = None,
        allowed_member_ids: Collection[str] | None = None,
        verify_install: bool = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_vars: int = DEFAULT_MAX_VARS,
        max_depth: int = DEFAULT_MAX_DEPTH,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] | None = None,
        verify_timeout: float = DEFAULT_VERIFY_TIMEOUT,
        max_pending_installs: int = DEFAULT_MAX_PENDING_INSTALLS,
        allow_loopback: bool = False,
    ) -> None:
        if isinstance(application_tokens, str):
            if not application_tokens:
                msg = "application_tokens must not be empty"
                raise ValueError(msg)
        elif application_tokens is not None:
            if not isinstance(application_tokens, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and k and v
                for k, v in application_tokens.items()
            ):
                msg = "application_tokens must map member_id strings to non-empty tokens"
                raise TypeError(msg)
            application_tokens = dict(application_tokens)
        if allowed_member_ids is not None and (
            isinstance(allowed_member_ids, str)
            or not all(isinstance(m, str) for m in allowed_member_ids)
        ):
            msg = "allowed_member_ids must be a collection of member_id strings"
            raise TypeError(msg)
        for name, flag in (("verify_install", verify_install), ("allow_loopback", allow_loopback)):
            if not isinstance(flag, bool):
                msg = f"{name} must be a bool, not {type(flag).__name__}"
                raise TypeError(msg)
        for name, count in (
            ("max_body_size", max_body_size),
            ("max_vars", max_vars),
            ("max_depth", max_depth),
            ("max_pending_installs", max_pending_installs),
        ):
            _positive(name, count, integer=True)
        for name, seconds in (
            ("read_timeout", read_timeout),
            ("max_age", max_age),
            ("verify_timeout", verify_timeout),
        ):
            _positive(name, seconds, integer=False)
        if clock is not None and not callable(clock):
            msg = "clock must be a callable returning Unix time"
            raise TypeError(msg)
        self._pins = application_tokens
        self._allowed = None if allowed_member_ids is None else frozenset(allowed_member_ids)
        self._verify_install = verify_install
        self._max_body_size = max_body_size
        self._max_vars = max_vars
        self._max_depth = max_depth
        self._read_timeout = read_timeout
        self._max_age = max_age
        self._clock = clock
        self._verify_timeout = verify_timeout
        self._pending = asyncio.BoundedSemaphore(max_pending_installs)
        self._allow_loopback = allow_loopback
        self._handlers: dict[str, _AnyHandler] = {}
        self._fallback: _AnyHandler | None = None

    # ------------------------------------------------------------ registering
    @overload
    def on(self, event: type[_E]) -> Callable[[EventHandler[_E]], EventHandler[_E]]: ...
    @overload
    def on(self, event: str) -> Callable[[_H], _H]: ...
    def on(self, event: type[BitrixEvent] | str) -> Callable[[Any], Any]:
        """Decorate the handler of one event, by class or by code (``"ONCRMDEALUPDATE"``)."""
        _event_name(event)  # a bad name fails here, not at the first post

        def register(handler: Any) -> Any:
            self.add(event, handler)
            return handler

        return register

    def add(self, event: type[BitrixEvent] | str, handler: _AnyHandler) -> None:
        """Register ``handler`` for ``event`` (a class such as ``BotMessageEvent``, or a code)."""
        name = _event_name(event)
        if not callable(handler):
            msg = "handler must be an async callable (event, client, request)"
            raise TypeError(msg)
        if name in self._handlers:
            msg = f"{name} already has a handler"
            raise ValueError(msg)
        self._handlers[name] = handler

    def fallback(self, handler: _H) -> _H:
        """Decorate the handler of every verified event that has no handler of its own."""
        if not callable(handler):
            msg = "handler must be an async callable (event, client, request)"
            raise TypeError(msg)
        self._fallback = handler
        return handler

    def add_route(self, app: web.Application, path: str, *, name: str | None = None) -> None:
        """Serve the events at ``POST path`` on ``app`` (call ``setup(app, ...)`` too)."""
        app.router.add_post(path, self.handle, name=name)

    # --------------------------------------------------------------- serving
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler: ``app.router.add_post("/bitrix/events", events.handle)``."""
        config = request.config_dict
        shared = config.get(CLIENT_KEY)
        portals = config.get(PORTALS_KEY)
        if shared is None and portals is None:
            msg = "BitrixEvents needs setup(app, ...) on this application (or a parent)"
            raise RuntimeError(msg)
        name = "?"
        member_id: str | None = None
        try:
            form = await self._form(request)
            name = str(form.get("event") or "").upper() or "?"
            auth = _auth_of(form, portals)
            member_id = auth.member_id
            await self._verify(name, form, auth, portals)
            event = _typed(form, auth)
            client = shared if shared is not None else await _client_of(portals, auth)
        except _RefusedError as refused:
            logger.warning(
                "Bitrix24 event %s from member %s refused (%d): %s",
                _short(name),
                _short(member_id),
                refused.status,
                _cut(refused.reason),
            )
            return web.Response(status=refused.status, text=refused.public)
        key = event.event if isinstance(event, RawEvent) else type(event).NAME
        handler = self._handlers.get(key, self._fallback)
        try:
            if handler is None:
                logger.info(
                    "Bitrix24 event %s from member %s has no handler",
                    _short(name),
                    _short(member_id),
                )
                return web.Response()
            answer = await handler(event, client, request)
        finally:
            if isinstance(event, AppUninstallEvent) and portals is not None:
                await portals.forget(event.member_id)
        return answer if isinstance(answer, web.StreamResponse) else web.Response()

    async def _form(self, request: web.Request) -> dict[str, Any]:
        """The post's form, read and parsed within the bounds, or a refusal."""
        limit = self._max_body_size
        if request.content_length is not None and request.content_length > limit:
            raise _RefusedError(413, f"Content-Length {request.content_length} > {limit}")
        body = bytearray()
        try:
            async with asyncio.timeout(self._read_timeout):
                async for chunk in request.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > limit:
                        raise _RefusedError(413, f"the body is over {limit} bytes")
        except TimeoutError:
            raise _RefusedError(408, f"the body took over {self._read_timeout} s") from None
        try:
            return parse_query(
                body.decode("utf-8", "replace"), max_vars=self._max_vars, max_depth=self._max_depth
            )
        except FormLimitError as exc:
            raise _RefusedError(400, str(exc)) from None

    async def _verify(
        self, name: str, form: Mapping[str, Any], auth: EventAuth, portals: Portals | None
    ) -> None:
        member_id = auth.member_id
        if not member_id:
            raise _RefusedError(403, "the post names no member_id")
        if not _MEMBER_ID.fullmatch(member_id):
            raise _RefusedError(403, "member_id is not a printable ASCII id of 1-128 characters")
        if self._allowed is not None and member_id not in self._allowed:
            raise _RefusedError(403, "member_id is not in allowed_member_ids")
        kind = event_class(name)
        if kind in _DATED:
            self._check_fresh(form, portals)
        self._check_urls(auth)
        pinned = self._pinned(member_id)
        if pinned is not None and not auth.verify(pinned):
            raise _RefusedError(403, "application_token does not match the pinned one")
        if kind in _INSTALLS and portals is not None:
            await self._install(auth, portals, trusted=pinned is not None)
            return
        if pinned is not None:
            return
        expected = None if portals is None else await portals.application_token(member_id)
        if expected is None:
            raise _RefusedError(403, "no application_token is stored or pinned for this portal")
        if not auth.verify(expected):
            raise _RefusedError(403, "application_token does not match the stored one")

    async def _install(self, auth: EventAuth, portals: Portals, *, trusted: bool) -> None:
        if self._pending.locked():
            raise _RefusedError(503, "too many installs are being confirmed at once")
        try:
            async with self._pending, asyncio.timeout(self._verify_timeout):
                await portals.install(
                    auth,
                    verify=self._verify_install,
                    trusted=trusted,
                    allow_loopback=self._allow_loopback,
                )
        except InstallRefusedError as exc:
            public = f"bad request: {exc.reason}" if exc.status == 400 else None
            raise _RefusedError(exc.status, exc.reason, public) from None
        except TransportError as exc:
            reason = f"the authorization server did not answer: {exc}"
            raise _RefusedError(503, reason) from None
        except TimeoutError:
            reason = f"confirming the install took over {self._verify_timeout} s"
            raise _RefusedError(503, reason) from None

    def _check_fresh(self, form: Mapping[str, Any], portals: Portals | None) -> None:
        """Install, update and uninstall change what is stored: a replay must not."""
        raw = form.get("ts")
        try:
            ts = int(raw) if isinstance(raw, str) and len(raw) <= 20 else None
        except ValueError:
            ts = None
        if ts is None:
            raise _RefusedError(403, "the post has no ts (Unix seconds)")
        clock = self._clock or (portals.clock if portals is not None else time.time)
        age = clock() - ts
        if not -self._max_age <= age <= self._max_age:
            raise _RefusedError(403, f"ts is {age:.0f} s from now, outside +-{self._max_age:.0f} s")

    def _check_urls(self, auth: EventAuth) -> None:
        """Every URL a post names must be https to a public host (see ``allow_loopback``)."""
        loopback = self._allow_loopback
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
                    require_public_url(url, parameter=parameter, allow_loopback=loopback)
            if auth.domain is not None:
                require_public_host(auth.domain, parameter="domain", allow_loopback=loopback)
        except ValueError as exc:
            raise _RefusedError(403, str(exc)) from None

    def _pinned(self, member_id: str) -> str | None:
        if isinstance(self._pins, str):
            return self._pins
        if self._pins is None:
            return None
        return self._pins.get(member_id)

    def __repr__(self) -> str:
        return f"BitrixEvents(handlers={sorted(self._handlers)})"


def _event_name(event: type[BitrixEvent] | str) -> str:
    if isinstance(event, str):
        if not event.strip():
            msg = "the event code must not be empty"
            raise ValueError(msg)
        return event_class(event).NAME or event.strip().upper()
    if isinstance(event, type) and issubclass(event, BitrixEvent) and event.NAME:
        return event.NAME
    msg = f"name an event class such as BotMessageEvent, or an event code; not {event!r}"
    raise TypeError(msg)


def _positive(name: str, value: object, *, integer: bool) -> None:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        msg = f"{name} must be a {'whole' if integer else ''} number, not {type(value).__name__}"
        raise TypeError(msg.replace("a  number", "a number"))
    if not (math.isfinite(value) and value > 0):
        msg = f"{name} must be positive, got {value!r}"
        raise ValueError(msg)


def _short(value: object, limit: int = _LOG_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters: posts are anyone's text."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return repr(value)


def _cut(text: str, limit: int = _REASON_CHARS) -> str:
    """``text`` cut to about ``limit`` characters (a reason may quote the post)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _auth_of(form: Mapping[str, Any], portals: Portals | None) -> EventAuth:
    if "event" not in form:
        raise _RefusedError(400, "not a Bitrix24 event: the post has no 'event' field")
    block = form.get("auth")
    if not isinstance(block, Mapping):
        raise _RefusedError(403, "the post has no auth block")
    try:
        if portals is None:
            return EventAuth.from_auth_block(block)
        return EventAuth.from_auth_block(block, clock=portals.clock)
    except ValueError as exc:
        raise _RefusedError(400, str(exc)) from None


def _typed(form: Mapping[str, Any], auth: EventAuth) -> BitrixEvent:
    try:
        return parse_event(form, auth)
    except ValueError as exc:
        # Verified by now: the sender is the portal, so it hears what was wrong.
        reason = f"malformed event: {_cut(str(exc))}"
        raise _RefusedError(400, reason, reason) from None


async def _client_of(portals: Portals | None, auth: EventAuth) -> Client:
    assert portals is not None
    try:
        return await portals.client(auth.member_id or "")
    except PortalNotInstalledError as exc:
        raise _RefusedError(503, str(exc)) from None
    except ValueError as exc:  # a stored pair naming a server outside oauth_servers
        raise _RefusedError(503, str(exc)) from None
