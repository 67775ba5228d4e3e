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

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Final, TypeAlias, TypeVar, overload

from aiohttp import web

from .._auth import EventAuth
from .._client import Client
from .._errors import TransportError
from .._wire._formencode import parse_query
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

__all__ = ["BitrixEvents", "EventHandler"]

logger: Final = logging.getLogger("bitrix_dialog")

_E = TypeVar("_E", bound=BitrixEvent)
EventHandler: TypeAlias = Callable[[_E, Client, web.Request], Awaitable[web.StreamResponse | None]]
"""``async def handler(event, client, request) -> None`` (or a ``web.StreamResponse``)."""
_AnyHandler: TypeAlias = Callable[[Any, Client, web.Request], Awaitable[web.StreamResponse | None]]
_H = TypeVar("_H", bound=_AnyHandler)
_INSTALLS: Final = (AppInstallEvent, AppUpdateEvent)


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BitrixEvents:
    """A router for Bitrix24 event posts: verification, typed events, one handler per event.

    ``application_tokens`` pins the expected application token: a mapping of
    ``member_id`` to token, or one string for every portal (an outgoing webhook's
    token). Pinned portals are checked against the pin only, install posts too.
    ``allowed_member_ids`` refuses every other portal. ``verify_install`` is the
    install policy described in the module docs.
    """

    def __init__(
        self,
        *,
        application_tokens: Mapping[str, str] | str | None = None,
        allowed_member_ids: Collection[str] | None = None,
        verify_install: bool = True,
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
        if not isinstance(verify_install, bool):
            msg = f"verify_install must be a bool, not {type(verify_install).__name__}"
            raise TypeError(msg)
        self._pins = application_tokens
        self._allowed = None if allowed_member_ids is None else frozenset(allowed_member_ids)
        self._verify_install = verify_install
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
        form = parse_query((await request.read()).decode("utf-8", "replace"))
        name = str(form.get("event") or "").upper() or "?"
        member_id: str | None = None
        try:
            auth = _auth_of(form, portals)
            member_id = auth.member_id
            await self._verify(name, auth, portals)
            event = _typed(form, auth)
            client = shared if shared is not None else await _client_of(portals, auth)
        except _RefusedError as refused:
            logger.warning(
                "Bitrix24 event %r from member %r refused (%d): %s",
                name,
                member_id,
                refused.status,
                refused.reason,
            )
            text = "forbidden" if refused.status == 403 else refused.reason
            return web.Response(status=refused.status, text=text)
        key = event.event if isinstance(event, RawEvent) else type(event).NAME
        handler = self._handlers.get(key, self._fallback)
        try:
            if handler is None:
                logger.info("Bitrix24 event %r from member %r has no handler", name, member_id)
                return web.Response()
            answer = await handler(event, client, request)
        finally:
            if isinstance(event, AppUninstallEvent) and portals is not None:
                await portals.forget(event.member_id)
        return answer if isinstance(answer, web.StreamResponse) else web.Response()

    async def _verify(self, name: str, auth: EventAuth, portals: Portals | None) -> None:
        member_id = auth.member_id
        if not member_id:
            raise _RefusedError(403, "the post names no member_id")
        if self._allowed is not None and member_id not in self._allowed:
            raise _RefusedError(403, "member_id is not in allowed_member_ids")
        pinned = self._pinned(member_id)
        if pinned is not None and not auth.verify(pinned):
            raise _RefusedError(403, "application_token does not match the pinned one")
        if event_class(name) in _INSTALLS and portals is not None:
            try:
                await portals.install(auth, verify=self._verify_install, trusted=pinned is not None)
            except InstallRefusedError as exc:
                raise _RefusedError(403, exc.reason) from None
            except TransportError as exc:
                reason = f"the authorization server did not answer: {exc}"
                raise _RefusedError(503, reason) from None
            return
        if pinned is not None:
            return
        expected = None if portals is None else await portals.application_token(member_id)
        if expected is None:
            raise _RefusedError(403, "no application_token is stored or pinned for this portal")
        if not auth.verify(expected):
            raise _RefusedError(403, "application_token does not match the stored one")

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
        raise _RefusedError(400, f"malformed event: {exc}") from None


async def _client_of(portals: Portals | None, auth: EventAuth) -> Client:
    assert portals is not None
    try:
        return await portals.client(auth.member_id or "")
    except PortalNotInstalledError as exc:
        raise _RefusedError(503, str(exc)) from None
