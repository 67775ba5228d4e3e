"""A transport that hands requests to a Python callable: no sockets, no event-loop I/O.

``FakePortal.transport()`` returns one bound to the portal's request handler, the
same handler its aiohttp application mounts when served on 127.0.0.1, so in-memory
and socket tests exercise identical portal code.

    transport = MemoryTransport(handler)  # handler: async (HttpRequest) -> HttpResponse
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._errors import RequestTimeoutError, TransportError
from .._transports._aiohttp import DEFAULT_MAX_BODY, check_max_body, too_large
from .._wire._http import HttpRequest, HttpResponse, Timeout
from .._wire._redact import redact_text, redact_url, safe_cause

__all__ = ["Handler", "MemoryTransport"]

Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]
"""What a :class:`MemoryTransport` routes to: an async function from request to answer."""


class MemoryTransport:
    """Routes each request to ``handler``; a handler's ``OSError`` becomes ``TransportError``.

    The read timeout (the request's own, else ``timeout``) is honoured, so latency
    injected by a fake portal behaves as it would over a socket, and so is
    ``max_body``: a longer answer raises :class:`ResponseTooLargeError`.
    """

    def __init__(
        self, handler: Handler, *, timeout: Timeout | None = None, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        self.max_body = check_max_body(max_body)
        self._handler = handler
        self.timeout = timeout or Timeout()
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        if self.closed:
            msg = "the transport is closed"
            raise TransportError(msg, method=request.rest_method)
        timeout = (request.timeout or self.timeout).read
        failure: TransportError
        try:
            async with asyncio.timeout(timeout):
                response = await self._handler(request)
            if len(response.body) > self.max_body:
                raise too_large(self.max_body, response.status, redact_url(request.url))
            return response
        except TransportError:
            raise  # the handler's own (a RequestTimeoutError is a TimeoutError too)
        except TimeoutError as exc:
            msg = f"no answer within {timeout} s from {redact_url(request.url)}"
            failure, cause = RequestTimeoutError(msg, method=request.rest_method), safe_cause(exc)
        except OSError as exc:
            # The handler's own message may quote the URL: chained only if it names no secret.
            msg = f"{type(exc).__name__} from {redact_url(request.url)}: {redact_text(str(exc))}"
            failure, cause = TransportError(msg, method=request.rest_method), safe_cause(exc)
        raise failure from cause  # outside the handler: a dropped cause is no __context__

    async def aclose(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"MemoryTransport(handler={self._handler!r})"
