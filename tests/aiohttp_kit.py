"""Helpers for the aiohttp integration tests: serve an app, route to several fake portals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

WebClient = TestClient[web.Request, web.Application]
EVENTS = "/bitrix/events"


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
