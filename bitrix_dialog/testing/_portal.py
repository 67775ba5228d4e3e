"""The fake portal: its state, set-up, and the path of every request through it.

The portal holds what a test sets up (credentials, chats, bots, queued events,
limits and faults) and answers each request, in memory or over a socket
(``_serve.py``), through :meth:`FakePortal.handle`, which runs the request path of
:mod:`._pipeline`: arrival and limits, route, PHP-style params, authentication,
operating budget, scripted errors, the method handler, the envelope.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from yarl import URL

from .._auth import OAuthToken
from .._pacing._plan import Plan
from .._wire._http import HttpRequest, HttpResponse
from . import _serve
from ._access import Credentials
from ._bots import FakeBot
from ._bucket import BucketSpec
from ._chats import PAYLOAD_STYLES, FakeChat, PayloadStyle
from ._context import CallContext, Caller, MethodHandler, RecordedCall
from ._errors import PortalError
from ._event_queue import message_data, queue_event
from ._events import FakeEvents
from ._faults import Faults
from ._imbot import FakeMessage
from ._limits import PortalCounters, PortalLimits
from ._memory import MemoryTransport
from ._oauth import FakeApp, FakeOAuthServer
from ._openlines import add_openline_chat
from ._operating import OperatingModel
from ._pipeline import RequestPath
from ._routes import MethodRoutes, ScriptedErrors

__all__ = ["CallContext", "Caller", "FakePortal", "MethodHandler", "RecordedCall"]


class FakePortal:
    """A faithful in-process Bitrix24 portal for tests: yours and ours.

    >>> portal = FakePortal()
    >>> chat = portal.add_chat(name="Mint chat No.3")
    >>> # async with Client(portal.webhook_url(), transport=portal.transport()) as client: ...

    ``payload_style`` picks which generation of the dialog payload the portal sends
    (``"rich"``: current portals; ``"2024"``, ``"2021"``, ``"2020"``; ``"legacy"``: the
    flat 2017 shape with string ids); see :data:`PayloadStyle`.
    ``clock`` is the portal's notion of Unix time, injectable for expiry tests.

    ``license`` is the portal's licence as ``app.info`` names it (``"de_std"``,
    ``"de_ent250"``; default: Enterprise 250 when ``bucket`` is ``Plan.ENTERPRISE``,
    else Standard); apps read it, webhooks are refused ``ACCESS_DENIED``.

    Limits and faults (off unless given; see :class:`PortalLimits`): ``bucket`` (a
    ``Plan`` or ``(capacity, drain_rate)``) meters requests like the cloud's leaky
    bucket, ``operating`` charges method execution time, ``faults`` injects failures,
    and ``sleep`` is what injected latency sleeps with.
    """

    def __init__(
        self,
        domain: str = "portal.example.com",
        *,
        payload_style: PayloadStyle = "rich",
        clock: Callable[[], float] = time.time,
        webhook_user_id: int = 1,
        utc_offset_hours: int = 2,
        bucket: BucketSpec | None = None,
        operating: OperatingModel | None = None,
        faults: Faults | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        license: str | None = None,
    ) -> None:
        if payload_style not in PAYLOAD_STYLES:
            msg = f"payload_style must be one of {', '.join(PAYLOAD_STYLES)}, not {payload_style!r}"
            raise ValueError(msg)
        self.domain = domain
        if license is None:
            license = "de_ent250" if bucket is Plan.ENTERPRISE else "de_std"
        if not isinstance(license, str) or not license:
            msg = f"license must be a non-empty str such as 'de_ent250', not {license!r}"
            raise ValueError(msg)
        self.license = license
        """The licence ``app.info`` reports (``LICENSE``); change it at any time."""
        self.payload_style: PayloadStyle = payload_style
        self.clock = clock
        self.calls: list[RecordedCall] = []
        self.record_calls = True
        self.chats: dict[int, FakeChat] = {}
        self.bots: dict[int, FakeBot] = {}
        self._credentials = Credentials(clock)
        self._routes = MethodRoutes()
        self._next_chat_id = 1
        self._scripted = ScriptedErrors()
        self._moved_to: URL | None = None
        self._tz = timezone(timedelta(hours=utc_offset_hours))
        self.limits = PortalLimits(
            clock=clock, sleep=sleep, bucket=bucket, operating=operating, faults=faults
        )
        self.webhook_code = self.add_webhook(webhook_user_id)
        self.webhook_user_id = webhook_user_id
        self.oauth = FakeOAuthServer(self)
        """The authorization server (``/oauth/token/``): apps, token pairs, refresh counters."""
        self.admin_user_ids: set[int] = {1}
        """Users ``user.admin`` answers ``true`` for (whoever calls: webhook or OAuth token)."""
        self.messages: list[FakeMessage] = []
        """Messages bots sent with ``imbot.message.add``, oldest first."""
        self.events = FakeEvents(self)
        """Builds event posts shaped like this portal's, to test your event handlers."""
        self.user_event_subscribers: set[int] = set()
        """Users subscribed with ``im.v2.Event.subscribe`` (``withUserEvents`` needs it)."""
        self._last_event_id = 0
        self._path = RequestPath(
            self,
            credentials=self._credentials,
            routes=self._routes,
            scripted=self._scripted,
        )
        from ._methods import register_builtin_methods  # noqa: PLC0415 - avoids an import cycle

        register_builtin_methods(self)

    # ----------------------------------------------------------------- set-up
    def add_webhook(self, user_id: int = 1, code: str | None = None) -> str:
        """Create an incoming webhook for ``user_id``; returns its secret code."""
        return self._credentials.add_webhook(user_id, code)

    def webhook_url(self, base: str | URL | None = None, *, code: str | None = None) -> str:
        """The webhook URL for the default (or given) code, on ``base`` or the portal domain."""
        code = code or self.webhook_code
        user_id = self._credentials.webhook_user(code)
        origin = URL(base).origin() if base is not None else URL(f"https://{self.domain}")
        return str(origin / "rest" / str(user_id) / code) + "/"

    def client_endpoint(self, base: str | URL | None = None) -> str:
        """The OAuth base URL (``https://portal/rest/``) on ``base`` or the portal domain."""
        origin = URL(base).origin() if base is not None else URL(f"https://{self.domain}")
        return str(origin / "rest") + "/"

    def add_access_token(
        self,
        token: str | None = None,
        *,
        user_id: int = 1,
        expires_in: float = 3600,
        client_id: str | None = None,
        scope: str | None = None,
    ) -> str:
        """Grant an OAuth access token valid for ``expires_in`` seconds of the portal clock;
        ``client_id`` names the app it was issued to, ``scope`` its scopes
        (``"imbot,im"``; ``None``: any)."""
        return self._credentials.add_access_token(
            token, user_id=user_id, expires_in=expires_in, client_id=client_id, scope=scope
        )

    def register_app(
        self, client_id: str | None = None, client_secret: str | None = None
    ) -> FakeApp:
        """Register an OAuth app with :attr:`oauth` (see :meth:`FakeOAuthServer.register_app`)."""
        return self.oauth.register_app(client_id, client_secret)

    def issue_tokens(
        self,
        client_id: str | None = None,
        *,
        user_id: int = 1,
        scope: str = "im,imbot",
        expires_in: float | None = None,
        base: str | URL | None = None,
    ) -> OAuthToken:
        """A fresh OAuth pair for an app (see :meth:`FakeOAuthServer.issue_tokens`)."""
        return self.oauth.issue_tokens(
            client_id, user_id=user_id, scope=scope, expires_in=expires_in, base=base
        )

    @property
    def refresh_count(self) -> int:
        """Refreshes the authorization server granted."""
        return self.oauth.refresh_count

    @property
    def refresh_token_reuse_count(self) -> int:
        """Refreshes that presented an already-spent refresh token (each got invalid_grant)."""
        return self.oauth.refresh_token_reuse_count

    def revoke_access_token(self, token: str) -> None:
        """Forget ``token``: the portal then answers ``invalid_token``."""
        self._credentials.revoke(token)

    def add_chat(self, chat_id: int | None = None, **fields: Any) -> FakeChat:
        """Seed a chat; any :class:`FakeChat` field may be given. Returns the chat."""
        if chat_id is None:
            chat_id = self._next_chat_id
        self._next_chat_id = max(self._next_chat_id, chat_id + 1)
        chat = FakeChat(id=chat_id, **fields)
        self.chats[chat_id] = chat
        return chat

    def add_openline_chat(self, user_code: str, **fields: Any) -> FakeChat:
        """Seed an open-line chat for client ``user_code`` (``livechat|1|1363|203``);
        ``session_ids``, ``operator_id`` and any :class:`FakeChat` field may be given."""
        return add_openline_chat(self, user_code, **fields)

    def add_bot(
        self,
        bot_id: int,
        *,
        token: str | None = None,
        owner_user_id: int = 1,
        chats: tuple[int, ...] = (),
        name: str = "Support Bot",
        client_id: str | None = None,
    ) -> FakeBot:
        """Register a chat bot (its user id is ``bot_id``) and make it a member of ``chats``;
        ``client_id``: the app that registered it (only that app reads its events)."""
        missing = [chat_id for chat_id in chats if chat_id not in self.chats]
        if missing:
            msg = f"add_bot: no chats {missing}; add them with add_chat first"
            raise ValueError(msg)
        bot = FakeBot(
            id=bot_id, token=token, owner_user_id=owner_user_id, name=name, client_id=client_id
        )
        self.bots[bot_id] = bot
        for chat_id in chats:
            chat = self.chats[chat_id]
            if chat.members is not None:
                chat.members = chat.members | {bot_id}
        return bot

    def queue_event(
        self,
        bot_id: int,
        type: str,
        data: Mapping[str, Any] | None = None,
        *,
        user_id: int | None = None,
    ) -> int:
        """Queue an event for fetch-mode bot ``bot_id`` (``imbot.v2.Event.get`` answers it):
        ``type`` such as ``ONIMBOTV2JOINCHAT``, ``data`` its typed JSON ``data``; a user
        event (``ONIMV2*``) names its ``user_id``. Returns the new ``eventId``."""
        self._last_event_id += 1
        when = self._iso(self.clock())
        queue_event(self, bot_id, self._last_event_id, type, data, when=when, user_id=user_id)
        return self._last_event_id

    def queue_message(self, bot_id: int, chat_id: int, text: str, *, author_id: int = 1) -> int:
        """Queue an ``ONIMBOTV2MESSAGEADD`` for bot ``bot_id``: ``author_id`` wrote
        ``text`` in chat ``chat_id`` (``data`` shaped as the docs show). Returns the
        ``eventId``."""
        data = message_data(self, bot_id, chat_id, text, author_id, self._iso(self.clock()))
        return self.queue_event(bot_id, "ONIMBOTV2MESSAGEADD", data)

    def register_method(
        self, name: str, handler: MethodHandler, *, case_sensitive: bool = False
    ) -> None:
        """Serve ``name`` with ``handler``. Names match in any case, as the portal's REST
        server lower-cases them; ``case_sensitive`` serves ``name`` only as spelled (the
        few controller methods that need their case, such as ``tasks.flow.Flow.*``)."""
        self._routes.register(name, handler, case_sensitive=case_sensitive)

    def method_handler(self, name: str) -> MethodHandler:
        """The handler serving ``name`` now (a built-in one, or one you registered), to
        wrap: doctor its answer, count its calls, or fail on a condition.

        >>> serve_batch = portal.method_handler("batch")             # doctest: +SKIP
        >>> async def forgetful(context: CallContext) -> Any:        # doctest: +SKIP
        ...     answer = await serve_batch(context)
        ...     answer["result"].popitem()                           # one outcome lost
        ...     return answer
        >>> portal.register_method("batch", forgetful)               # doctest: +SKIP

        Names match as :meth:`register_method`'s do. Raises ``KeyError`` for a method
        the portal does not serve.
        """
        try:
            return self._routes.resolve(name)
        except PortalError:
            msg = f"the fake portal serves no method {name!r}"
            raise KeyError(msg) from None

    def fail_next(
        self,
        code: str,
        description: str = "",
        *,
        status: int | None = None,
        method: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls (of ``method``, or any) with this error.

        ``status`` defaults to the status the docs give for ``code``.
        """
        self._scripted.add(
            PortalError(code, description, status=status), method=method, times=times
        )

    def move_to(self, new_base: str | URL | None) -> None:
        """Move the portal to ``new_base`` (None stops): requests to any other origin get
        HTTP 302 to the same path there, and token refreshes name it in ``client_endpoint``."""
        self._moved_to = URL(new_base).origin() if new_base is not None else None

    @property
    def moved_to(self) -> URL | None:
        """The origin the portal moved to, or None."""
        return self._moved_to

    @property
    def counters(self) -> PortalCounters:
        """Requests received and answered, 503s and 429s sent, faults injected."""
        return self.limits.counters

    # ------------------------------------------------------------------ serve
    def transport(self) -> MemoryTransport:
        """A transport that routes to this portal in memory (no sockets)."""
        return MemoryTransport(self.handle)

    def application(self) -> web.Application:
        """An aiohttp application serving this portal (what :meth:`serve` runs)."""
        return _serve.application(self.handle)

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[URL]:
        """Serve the portal over real HTTP; yields the base URL (``http://127.0.0.1:PORT``)."""
        async with _serve.serve(self.application(), host, port) as base:
            yield base

    # ----------------------------------------------------------------- handle
    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Serve one request exactly as the portal would (see :mod:`._pipeline`)."""
        return await self._path.handle(request)

    def time_block(
        self,
        started: float,
        *,
        payer: str | None = None,
        method: str | None = None,
        processing: float = 0.0,
    ) -> dict[str, Any]:
        """A ``time`` block as the cloud sends it (operating fields unless turned off)."""
        finished = self.clock()
        return {
            "start": started,
            "finish": finished,
            "duration": finished - started,
            "processing": processing,
            "date_start": self._iso(started),
            "date_finish": self._iso(finished),
            **self.limits.time_fields(payer, method),
        }

    def _iso(self, moment: float) -> str:
        local = datetime.fromtimestamp(moment, UTC).astimezone(self._tz)
        return local.replace(microsecond=0).isoformat()

    async def dispatch(self, caller: Caller, method: str, params: Mapping[str, Any]) -> Any:
        """Run ``method`` as ``caller`` through the portal's own handlers; what ``batch`` uses.

        Returns the handler's ``result`` or raises :class:`PortalError` (unknown method,
        access errors ...). Faults from ``fail_next(method=...)`` naming this method apply;
        ones for any method do not, since those stand for whole HTTP requests.
        """
        return await self._path.dispatch(caller, method, params)

    def __repr__(self) -> str:
        return f"FakePortal(domain={self.domain!r}, chats={len(self.chats)})"
