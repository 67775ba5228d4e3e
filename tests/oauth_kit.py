"""Helpers for the OAuth tests: an injectable clock, a recording store and transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from yarl import URL

from bitrix_dialog import AiohttpTransport, MemoryTokenStore, OAuthAuth, OAuthToken
from bitrix_dialog.abc import HttpRequest, HttpResponse, Transport
from bitrix_dialog.testing import FakeApp, FakePortal, MemoryTransport

START = 1_700_000_000.0
"""The Unix time every test clock starts at."""

Event = tuple[str, str | None, str | None]
"""("saved", access_token, None) or ("sent", access_token, host): one shared timeline."""


class GatedRefreshes:
    """The portal behind a gate for token refreshes: ``arrived`` is set when one reaches
    it, and it is answered only once ``release`` is set, so a test acts while a refresh
    is surely in flight instead of sleeping and hoping. ``refreshes`` counts arrivals."""

    def __init__(self, portal: FakePortal) -> None:
        self.portal = portal
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.refreshes = 0
        self.transport = MemoryTransport(self._handle)

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        if request.url.path == "/oauth/token/":  # the documented refresh endpoint
            self.refreshes += 1
            self.arrived.set()
            await self.release.wait()
        return await self.portal.handle(request)


async def settle() -> None:
    """Let every task that can run, run: no wall time passes, no timer fires."""
    for _ in range(20):
        await asyncio.sleep(0)


class ManualClock:
    """Unix time that moves only when told, plus ``step`` seconds on every read.

    A stepping clock shared by the portal and the auth lets a burst of calls run
    across the moment of expiry without any real waiting.
    """

    def __init__(self, start: float = START, *, step: float = 0.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingStore(MemoryTokenStore):
    """A memory store that logs each save to ``timeline`` and can be told to fail."""

    def __init__(self, timeline: list[Event], tokens: Iterable[OAuthToken] = ()) -> None:
        super().__init__(tokens)
        self.timeline = timeline
        self.fail_saves = 0
        self.fail_loads = 0
        self.saves: list[OAuthToken] = []

    async def load(self, member_id: str) -> OAuthToken | None:
        if self.fail_loads:
            self.fail_loads -= 1
            msg = "database is down"
            raise OSError(msg)
        return await super().load(member_id)

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            msg = f"database is down (while writing {token.refresh_token})"
            raise OSError(msg)
        await super().save(token, replaces=replaces)
        self.saves.append(token)
        self.timeline.append(("saved", token.access_token, None))


class RecordingTransport:
    """Wraps a transport and logs the ``auth`` and host of every REST call it sends.

    With ``clock`` and ``tick``, each REST call sent moves the clock on by ``tick``
    seconds: a burst of calls then spans time, and can straddle an expiry.
    """

    def __init__(
        self,
        inner: Transport,
        timeline: list[Event],
        *,
        clock: ManualClock | None = None,
        tick: float = 0.0,
    ) -> None:
        self.inner = inner
        self.timeline = timeline
        self.hosts: list[str] = []
        self.clock = clock
        self.tick = tick

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.hosts.append(f"{request.url.host}{request.url.path}")
        if request.url.path.startswith("/rest/"):
            body = json.loads(request.body) if request.body else {}
            self.timeline.append(("sent", body.get("auth"), request.url.host))
            if self.clock is not None:
                self.clock.advance(self.tick)
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def portal_base(portal: FakePortal, mode: str) -> AsyncIterator[tuple[URL | None, Transport]]:
    """The portal in memory (base None) or served on 127.0.0.1 (its base URL)."""
    if mode == "memory":
        yield None, portal.transport()
        return
    async with portal.serve() as base:
        transport = AiohttpTransport()
        try:
            yield base, transport
        finally:
            await transport.aclose()


def make_auth(
    portal: FakePortal,
    app: FakeApp,
    token: OAuthToken,
    clock: ManualClock,
    store: MemoryTokenStore | None = None,
    **options: object,
) -> OAuthAuth:
    """An OAuthAuth for ``app`` on ``portal``'s clock.

    A pair issued by a portal served on 127.0.0.1 names that server as its
    authorization server: the test lists it, as an app lists its own servers.
    """
    server = URL(token.server_endpoint or "https://oauth.bitrix.info/")
    if server.host == "127.0.0.1" and "oauth_server" not in options:
        options.setdefault("oauth_servers", {f"127.0.0.1:{server.port}"})
    return OAuthAuth(
        token,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=store,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def sent_tokens(timeline: list[Event]) -> list[str | None]:
    return [token for kind, token, _ in timeline if kind == "sent"]


class OAuthSetting:
    """A portal on a :class:`ManualClock` with one chat and one app, whose first pair is
    ``token``, kept in ``store``; :meth:`auth` makes an ``OAuthAuth`` for that pair."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.portal = FakePortal(clock=self.clock)
        self.chat = self.portal.add_chat()
        self.app = self.portal.register_app()
        self.token = self.portal.issue_tokens()
        self.store = MemoryTokenStore([self.token])

    def auth(self, **options: object) -> OAuthAuth:
        return make_auth(self.portal, self.app, self.token, self.clock, self.store, **options)
