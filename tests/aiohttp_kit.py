"""Helpers for the aiohttp integration tests: an OAuth app with its event endpoint, served
on 127.0.0.1 and posted to as the portal posts; transports that watch or hold requests."""

from __future__ import annotations

import runpy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bitrix_dialog.abc import HttpRequest, HttpResponse, Transport
from bitrix_dialog.aiohttp import BitrixEvents, setup
from bitrix_dialog.testing import FakeApp, FakePortal, MemoryTransport

WebClient = TestClient[web.Request, web.Application]
EVENTS = "/bitrix/events"
OK = (200, "")
FORBIDDEN = (403, "forbidden")
EXAMPLES = Path(__file__).parent.parent / "examples"


def echo_bot_module() -> dict[str, object]:
    """The globals of ``examples/echo_bot.py``, run as a module (not as ``__main__``)."""
    return runpy.run_path(str(EXAMPLES / "echo_bot.py"), run_name="echo_bot")


def echo_bot(portal: FakePortal, fake_app: FakeApp, **options: Any) -> web.Application:
    """The example echo bot's app for ``fake_app``, talking to ``portal`` in memory;
    ``options`` are more of its ``create_app`` keywords (``cache=``)."""
    create_app = echo_bot_module()["create_app"]
    assert callable(create_app)
    app = create_app(
        client_id=fake_app.client_id,
        client_secret=fake_app.client_secret,
        transport=portal.transport(),
        **options,
    )
    assert isinstance(app, web.Application)
    return app


def oauth_app(
    portal: FakePortal,
    fake_app: FakeApp,
    events: BitrixEvents | None = None,
    *,
    transport: Transport | None = None,
    path: str = EVENTS,
    **options: Any,
) -> web.Application:
    """An app ``setup`` for ``fake_app``, with ``events`` (default: a plain endpoint) at ``path``.

    Its clients talk to ``portal`` in memory (or over ``transport``) on the portal's
    clock; ``options`` are more of ``setup``'s keywords (``store=``, ``client_factory=``...).
    """
    app = web.Application()
    setup(
        app,
        client_id=fake_app.client_id,
        client_secret=fake_app.client_secret,
        transport=transport or portal.transport(),
        clock=portal.clock,
        **options,
    )
    (events or BitrixEvents()).add_route(app, path)
    return app


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[WebClient]:
    """``app`` on a real 127.0.0.1 socket (startup and cleanup run), with a test client."""
    async with TestClient(TestServer(app)) as client:
        yield client


async def post(client: WebClient, body: bytes, path: str = EVENTS) -> tuple[int, str]:
    """Post an event body the way the portal does; returns status and text."""
    response = await client.post(
        path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    return response.status, await response.text()


@asynccontextmanager
async def installed(app: web.Application, portal: FakePortal) -> AsyncIterator[WebClient]:
    """``app`` served, once ``portal``'s install post to it has been accepted."""
    async with served(app) as client:
        assert await post(client, portal.events.install()) == OK
        yield client


def watched(portal: FakePortal, before: Callable[[HttpRequest], Awaitable[None]]) -> Transport:
    """``portal`` in memory, awaiting ``before(request)`` ahead of each request it answers
    (to record it, hold it or fail it)."""

    async def handle(request: HttpRequest) -> HttpResponse:
        await before(request)
        return await portal.handle(request)

    return MemoryTransport(handle)


def host_log(portal: FakePortal) -> tuple[Transport, list[str]]:
    """``portal`` in memory, and the host of every request sent to it, in order."""
    hosts: list[str] = []

    async def record(request: HttpRequest) -> None:
        hosts.append(str(request.url.host))

    return watched(portal, record), hosts


class PortalRouter:
    """One transport for several fake portals, chosen by host (``https://a.example``...).

    Each portal's tokens are issued with ``base=`` its own origin, so its REST calls
    *and* its refreshes go to its own host; ``hosts`` records every request sent.
    """

    def __init__(self, **portals: FakePortal) -> None:
        self.portals = {f"{name}.example": portal for name, portal in portals.items()}
        self.hosts: list[str] = []

    def transport(self) -> MemoryTransport:
        return MemoryTransport(self._handle)

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        host = request.url.host or ""
        self.hosts.append(f"{host}{request.url.path}")
        portal = self.portals.get(host)
        if portal is None:
            return HttpResponse(status=502, body=b"no such host in the test")
        return await portal.handle(request)
