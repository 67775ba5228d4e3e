"""The interfaces to implement to plug your own piece into the client, and what they exchange.

Most code never imports this module: the client's own strategies (``WebhookAuth``,
``OAuthAuth``, ``LeakyBucket``, ``AiohttpTransport``, ``MemoryTokenStore``, the built-in
retry handlers) come from :mod:`bitrix_dialog`. Import from here to write another one::

    from bitrix_dialog.abc import HttpRequest, HttpResponse, Transport

    class MyTransport:                      # structurally a Transport
        async def send(self, request: HttpRequest) -> HttpResponse: ...
        async def aclose(self) -> None: ...

- :class:`Auth` shapes each call into an :class:`Authorization` (URL and parameters)
  and recovers from refused credentials.
- :class:`TokenStore` keeps OAuth token pairs (a database, Redis, ...).
- :class:`Limiter` hands out a :class:`Slot` before every HTTP request; a
  :class:`LearningLimiter` also learns the portal's real bucket from its refusals.
- :class:`Transport` sends an :class:`HttpRequest` and returns the :class:`HttpResponse`.
- :class:`RetryHandler` decides from the :class:`RetryState` whether an error is retried.
- :class:`OffsetStore` keeps a fetch-mode bot's offset and hands out the :class:`Lease`
  that lets one consumer poll it (``client.imbot.v2.events(offsets=...)``).
- :class:`DialogCacheBackend` stores :class:`CacheEntry` values for ``Client(cache=...)``
  and answers a :class:`CacheLookup`.
"""

from __future__ import annotations

from ._auth import Auth, Authorization, TokenStore
from ._cache import CacheEntry, CacheLookup, DialogCacheBackend
from ._call._retry import RetryHandler, RetryState
from ._pacing._limiter import LearningLimiter, Limiter, Slot
from ._poll._offsets import Lease, OffsetStore
from ._public import publish
from ._transports import Transport
from ._wire._http import HttpRequest, HttpResponse

__all__ = [
    "Auth",
    "Authorization",
    "CacheEntry",
    "CacheLookup",
    "DialogCacheBackend",
    "HttpRequest",
    "HttpResponse",
    "LearningLimiter",
    "Lease",
    "Limiter",
    "OffsetStore",
    "RetryHandler",
    "RetryState",
    "Slot",
    "TokenStore",
    "Transport",
]

publish(globals(), __all__, "bitrix_dialog.abc")
del publish
