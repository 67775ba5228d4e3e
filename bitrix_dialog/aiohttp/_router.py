"""The event endpoint: verify a Bitrix24 event post, type it, hand it to your handler.

    events = BitrixEvents()

    @events.on(BotMessageEvent)
    async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        ...

    events.add_route(app, "/bitrix/events")        # after setup(app, ...)

For every post, in this order (answers before verification say only "bad request",
"forbidden" ...; the reason goes to the log):

1. read the body within the bounds: compressed **415**, over ``max_body_size``
   bytes **413**, not all there within ``read_timeout`` **408**; parse the PHP
   form: more than ``max_vars`` variables or ``max_depth`` levels of nesting, no
   ``event``, an unreadable ``auth`` block: **400**. Nothing has been looked up yet;
2. no ``member_id``, a malformed one, or one outside ``allowed_member_ids``: **403**;
   an install, update or uninstall whose ``ts`` is not within ``max_age`` of now
   (a replayed or late post): **403**; any URL the post names (``client_endpoint``,
   ``server_endpoint``, ``domain``) that is not https to a public host: **403**;
3. check ``auth[application_token]`` in constant time against the pinned token for
   the portal (``application_tokens``), else against the one stored at install
   (``Portals.application_token``). Mismatch, or nothing to compare with: **403**.
   ``ONAPPINSTALL``/``ONAPPUPDATE`` bring the token to be stored; for them
   :meth:`Portals.install` decides (see "Trust" below): refused **403**, no tokens
   for a portal with nothing stored **400**, the authorization server or the portal
   not answering within ``verify_timeout`` (or ``max_pending_installs`` already
   being confirmed) **503**;
4. build the typed event; a field that does not hold what the docs say: **400**
   (the portal, verified by now, is told which field); a bot's tokens naming an
   untrusted URL: **403**;
5. call the handler with the event, the client for that portal (the shared
   client of ``setup(app, auth)``, or the portal's own OAuth client of
   ``setup(app, client_id=..., client_secret=...)``; no pair stored: **503**) and
   the request (for ``request.config_dict[...]``: your database, settings ...).
   The handler's ``web.StreamResponse``, if it returns one, is the answer; else 200.
   ``ONAPPUNINSTALL`` then drops the portal's client and deletes its pair.

Refusals are logged (``bitrix_dialog`` logger, warning) with the reason, every
value from the post cut to a few dozen characters. Secrets are never logged.

Trust. An event can only be checked against an application token stored earlier,
so the install post itself needs another proof. With ``verify_install=True`` (the
default) a *new* application token is accepted only when the post's OAuth pair
refreshes at the Bitrix24 authorization server for this app and this
``member_id``, and, for a portal already installed, when ``user.admin`` on the
refreshed pair says its user is an administrator: a stranger cannot register a
portal, and a portal user who is no administrator cannot replace its token (a
reinstall by an administrator works). An authentic post replaces the stored pair
only with a newer one (later expiry) or one a refresh confirms, and (verifying)
only with an administrator's. What no check proves is the application token of a
first install (no API reveals it): pin ``application_tokens`` (and
``allowed_member_ids``) where that matters. ``verify_install=False`` trusts the
first install of an unknown portal as it comes, refuses a changed token for a
known one, and costs no request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from aiohttp import web

from .._auth import EventAuth
from .._client import Client
from .._errors import TransportError
from .._wire._formencode import DEFAULT_MAX_DEPTH, DEFAULT_MAX_VARS
from ._events import (
    AppInstallEvent,
    AppUninstallEvent,
    AppUpdateEvent,
    BitrixEvent,
    RawEvent,
)
from ._guard import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_PENDING_INSTALLS,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_VERIFY_TIMEOUT,
    RefusedError,
    check_fresh,
    check_member_id,
    check_urls,
    cut,
    positive,
    read_form,
    short,
)
from ._handlers import (
    DEFAULT_HANDLER_GRACE,
    DEFAULT_MAX_RUNNING_HANDLERS,
    EventHandler,
    EventHandlers,
    V2EventHandler,
    is_v2,
)
from ._invalidate import invalidate_for
from ._parse import event_class, parse_event
from ._portals import InstallRefusedError, PortalNotInstalledError, Portals
from ._setup import CLIENT_KEY, PORTALS_KEY
from ._v2 import check_bot_auth, decode_post, keep_bot_pair, with_bot_member

__all__ = ["BitrixEvents", "EventHandler", "V2EventHandler"]

logger: Final = logging.getLogger("bitrix_dialog")

_INSTALLS: Final = (AppInstallEvent, AppUpdateEvent)
_DATED: Final = (AppInstallEvent, AppUpdateEvent, AppUninstallEvent)


class BitrixEvents(EventHandlers):
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
        max_running_handlers: int = DEFAULT_MAX_RUNNING_HANDLERS,
        handler_grace: float = DEFAULT_HANDLER_GRACE,
    ) -> None:
        super().__init__(max_running_handlers=max_running_handlers, handler_grace=handler_grace)
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
            positive(name, count, integer=True)
        for name, seconds in (
            ("read_timeout", read_timeout),
            ("max_age", max_age),
            ("verify_timeout", verify_timeout),
        ):
            positive(name, seconds, integer=False)
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

    def add_route(self, app: web.Application, path: str, *, name: str | None = None) -> None:
        """Serve the events at ``POST path`` on ``app`` (call ``setup(app, ...)`` too)."""
        app.router.add_post(path, self.handle, name=name)
        app.on_shutdown.append(self._on_shutdown)

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
            form = await read_form(
                request,
                max_body_size=self._max_body_size,
                read_timeout=self._read_timeout,
                max_vars=self._max_vars,
                max_depth=self._max_depth,
            )
            name = str(form.get("event") or "").upper() or "?"
            v2 = is_v2(name)
            auth = _auth_of(form, portals)
            if v2:  # the top-level auth may name only domain and application_token
                auth = with_bot_member(auth, form)
            member_id = auth.member_id
            await self._verify(name, form, auth, portals)
            if v2:
                v2_event = decode_post(form, self._clock_of(portals))
                check_bot_auth(v2_event, allow_loopback=self._allow_loopback)
            else:
                event = _typed(form, auth)
                for bot in getattr(event, "bots", ()):
                    check_urls(bot.auth, allow_loopback=self._allow_loopback, where="a bot's auth")
            client = shared if shared is not None else await _client_of(portals, auth)
            if v2 and portals is not None:
                await keep_bot_pair(portals, v2_event, auth)
        except RefusedError as refused:
            logger.warning(
                "Bitrix24 event %s from member %s refused (%d): %s",
                short(name),
                short(member_id),
                refused.status,
                cut(refused.reason),
            )
            return web.Response(status=refused.status, text=refused.public)
        if v2:
            await self._start_v2(v2_event, client, request)
            return web.Response()
        await invalidate_for(event, client)
        key = event.event if isinstance(event, RawEvent) else type(event).NAME
        handler = self.handler_for(key)
        try:
            if handler is None:
                logger.info(
                    "Bitrix24 event %s from member %s has no handler",
                    short(name),
                    short(member_id),
                )
                return web.Response()
            answer = await handler(event, client, request)
        finally:
            if isinstance(event, AppUninstallEvent) and portals is not None:
                await portals.forget(event.member_id)
        return answer if isinstance(answer, web.StreamResponse) else web.Response()

    def _clock_of(self, portals: Portals | None) -> Callable[[], float]:
        """The clock posts are judged by: the route's, else ``setup``'s, else the wall's."""
        return self._clock or (portals.clock if portals is not None else time.time)

    async def _verify(
        self, name: str, form: Mapping[str, Any], auth: EventAuth, portals: Portals | None
    ) -> None:
        member_id = check_member_id(auth.member_id)
        if self._allowed is not None and member_id not in self._allowed:
            raise RefusedError(403, "member_id is not in allowed_member_ids")
        kind = event_class(name)
        if kind in _DATED:
            clock = self._clock_of(portals)
            check_fresh(form, max_age=self._max_age, clock=clock)
        check_urls(auth, allow_loopback=self._allow_loopback)
        pinned = self._pinned(member_id)
        if pinned is not None and not auth.verify(pinned):
            raise RefusedError(403, "application_token does not match the pinned one")
        if kind in _INSTALLS and portals is not None:
            await self._install(auth, portals, trusted=pinned is not None)
            return
        if pinned is not None:
            return
        expected = None if portals is None else await portals.application_token(member_id)
        if expected is None:
            raise RefusedError(403, "no application_token is stored or pinned for this portal")
        if not auth.verify(expected):
            raise RefusedError(403, "application_token does not match the stored one")

    async def _install(self, auth: EventAuth, portals: Portals, *, trusted: bool) -> None:
        if self._pending.locked():
            raise RefusedError(503, "too many installs are being confirmed at once")
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
            raise RefusedError(exc.status, exc.reason, public) from None
        except TransportError as exc:
            reason = f"the authorization server did not answer: {exc}"
            raise RefusedError(503, reason) from None
        except TimeoutError:
            reason = f"confirming the install took over {self._verify_timeout} s"
            raise RefusedError(503, reason) from None

    def _pinned(self, member_id: str) -> str | None:
        if isinstance(self._pins, str):
            return self._pins
        if self._pins is None:
            return None
        return self._pins.get(member_id)

    def __repr__(self) -> str:
        return f"BitrixEvents(handlers={sorted(self._handlers)})"


def _auth_of(form: Mapping[str, Any], portals: Portals | None) -> EventAuth:
    if "event" not in form:
        raise RefusedError(400, "not a Bitrix24 event: the post has no 'event' field")
    block = form.get("auth")
    if not isinstance(block, Mapping):
        raise RefusedError(403, "the post has no auth block")
    try:
        if portals is None:
            return EventAuth.from_auth_block(block)
        return EventAuth.from_auth_block(block, clock=portals.clock)
    except ValueError as exc:
        raise RefusedError(400, str(exc)) from None


def _typed(form: Mapping[str, Any], auth: EventAuth) -> BitrixEvent:
    try:
        return parse_event(form, auth)
    except ValueError as exc:
        # Verified by now: the sender is the portal, so it hears what was wrong.
        reason = f"malformed event: {cut(str(exc))}"
        raise RefusedError(400, reason, reason) from None


async def _client_of(portals: Portals | None, auth: EventAuth) -> Client:
    assert portals is not None
    try:
        return await portals.client(auth.member_id or "")
    except PortalNotInstalledError as exc:
        raise RefusedError(503, str(exc)) from None
    except ValueError as exc:  # a stored pair naming a server outside oauth_servers
        raise RefusedError(503, str(exc)) from None
