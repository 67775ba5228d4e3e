"""The default transport, on aiohttp.

It either owns its ``ClientSession`` (made lazily inside the running loop, closed by
:meth:`AiohttpTransport.aclose`) or borrows one the application already has, which
it then never closes: an aiohttp app that shares one session keeps control of it.

    transport = AiohttpTransport(limit=20, timeout=Timeout(connect=5, read=20))
    transport = AiohttpTransport(session=app_session)  # borrowed, never closed here
"""

from __future__ import annotations

import asyncio
from typing import Final

import aiohttp

from .._errors import RequestTimeoutError, ResponseTooLargeError, TransportError
from .._wire._http import HttpRequest, HttpResponse, Timeout
from .._wire._redact import redact_text, redact_url, safe_cause

__all__ = ["DEFAULT_MAX_BODY", "AiohttpTransport", "check_max_body", "too_large"]

DEFAULT_MAX_BODY: Final = 16 * 1024 * 1024
"""The longest answer a transport reads by default (16 MiB), compressed or not."""
_CHUNK: Final = 64 * 1024


def check_max_body(max_body: object) -> int:
    """``max_body=`` as given: a positive int of bytes."""
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body <= 0:
        msg = f"max_body must be a positive int of bytes, not {max_body!r}"
        raise ValueError(msg)
    return max_body


def too_large(limit: int, status: int, where: str) -> ResponseTooLargeError:
    """The error for an answer past ``limit`` bytes."""
    msg = f"the answer from {where} is longer than max_body ({limit} bytes); not read further"
    return ResponseTooLargeError(msg, limit=limit, status=status)


class AiohttpTransport:
    """Sends requests with aiohttp, never following redirects.

    ``limit`` caps open connections in all (default 256: an Enterprise bucket's burst of
    250 requests goes out at once, as ``get_many``'s default width sends it),
    ``limit_per_host`` per portal; both apply only to a session this transport makes.
    ``timeout`` is the default per request.
    ``max_body`` caps the bytes read of one answer (after decompression): a longer one
    raises :class:`ResponseTooLargeError` as soon as it passes the cap, never read whole.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        limit: int = 256,
        limit_per_host: int = 0,
        timeout: Timeout | None = None,
        user_agent: str | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.max_body = check_max_body(max_body)
        if limit < 0 or limit_per_host < 0:
            msg = "limit and limit_per_host must be >= 0 (0 means no limit)"
            raise ValueError(msg)
        self._session = session
        self._owns_session = session is None
        self._limit = limit
        self._limit_per_host = limit_per_host
        self.timeout = timeout or Timeout()
        self._default_timeout = _client_timeout(self.timeout)
        self._user_agent = user_agent
        self._lock = asyncio.Lock()

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use, or ``None`` before the first request of an owning transport."""
        return self._session

    async def _get_session(self, request: HttpRequest) -> aiohttp.ClientSession:
        if self._session is not None:
            if self._session.closed:
                msg = "the aiohttp ClientSession is closed"
                raise TransportError(msg, method=request.rest_method)
            return self._session
        async with self._lock:
            if self._session is None:
                connector = aiohttp.TCPConnector(
                    limit=self._limit, limit_per_host=self._limit_per_host
                )
                self._session = aiohttp.ClientSession(connector=connector)
            return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        session = self._session
        if session is None or session.closed:
            session = await self._get_session(request)
        timeout = (
            self._default_timeout if request.timeout is None else _client_timeout(request.timeout)
        )
        headers = request.headers
        if self._user_agent and "User-Agent" not in headers:
            headers = {**headers, "User-Agent": self._user_agent}
        failure: TransportError
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body,
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                body = await self._read(response, request)
                # The multidict proxy is a read-only Mapping already: no copy on the hot path.
                return HttpResponse(status=response.status, headers=response.headers, body=body)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            failure = RequestTimeoutError(
                f"no answer in time from {redact_url(request.url)}", method=request.rest_method
            )
            cause = safe_cause(exc)
        except (aiohttp.ClientError, OSError) as exc:
            # aiohttp's messages may embed the full URL (and so a webhook code, or a
            # refresh query): such an original is not chained, its text is kept redacted.
            where = redact_url(request.url)
            failure = TransportError(
                f"{type(exc).__name__} talking to {where}: {redact_text(str(exc))}",
                method=request.rest_method,
            )
            cause = safe_cause(exc)
        raise failure from cause  # outside the handler: a dropped cause is no __context__

    async def _read(self, response: aiohttp.ClientResponse, request: HttpRequest) -> bytes:
        """The body, read in chunks unless its declared length is within ``max_body``."""
        limit = self.max_body
        length = response.content_length
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        if length is not None and not encoded:
            if length > limit:
                raise too_large(limit, response.status, redact_url(request.url))
            return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit, response.status, redact_url(request.url))
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    def __repr__(self) -> str:
        owner = "owned" if self._owns_session else "borrowed"
        return f"AiohttpTransport(session={owner}, limit={self._limit}, timeout={self.timeout!r})"


def _client_timeout(limits: Timeout) -> aiohttp.ClientTimeout:
    # ``total`` bounds the whole answer, not just the gap between two reads: a portal
    # (or proxy) that drips a byte every few seconds must not hold a call forever. Only
    # ``read=None`` lifts it.
    total = None if limits.read is None else (limits.connect or 0.0) + limits.read
    return aiohttp.ClientTimeout(
        total=total, connect=limits.connect, sock_connect=limits.connect, sock_read=limits.read
    )
