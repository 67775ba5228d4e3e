"""The fake portal over real HTTP: an aiohttp application on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from yarl import URL

from .._wire._http import HttpRequest, HttpResponse

__all__ = ["application", "serve"]

Handle = Callable[[HttpRequest], Awaitable[HttpResponse]]


def application(handle: Handle) -> web.Application:
    """An aiohttp application passing every request to ``handle``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            response = await handle(
                HttpRequest(
                    method=request.method, url=request.url, headers=dict(request.headers), body=body
                )
            )
        except ConnectionResetError:
            # An injected drop: close the socket without a word; the status is never sent.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        return web.Response(status=response.status, headers=response.headers, body=response.body)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@asynccontextmanager
async def serve(app: web.Application, host: str, port: int) -> AsyncIterator[URL]:
    """Run ``app`` on ``host:port`` (0: any free port); yields the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        server = site._server  # the bound socket tells the port chosen by the OS
        assert isinstance(server, asyncio.base_events.Server)
        bound_port = server.sockets[0].getsockname()[1]
        yield URL.build(scheme="http", host=host, port=bound_port)
    finally:
        await runner.cleanup()
