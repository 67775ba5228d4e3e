"""Many workers, one portal: the rate limiter, the OAuth pairs and the dialog cache
shared through Redis.

    import redis.asyncio
    from bitrix_dialog import Client, OAuthAuth, Plan
    from bitrix_dialog.redis import RedisLeakyBucket, RedisTokenStore

    r = redis.asyncio.Redis.from_url("redis://localhost:6379/0")
    store = RedisTokenStore(r)
    auth = OAuthAuth(await store.load(member_id), client_id=ID, client_secret=SECRET,
                     store=store)
    bucket = RedisLeakyBucket.for_plan(r, auth.identity, Plan.STANDARD)
    cache = RedisDialogCache(r, ttl=60)
    async with Client(auth, limiter=bucket, cache=cache) as client: ...

Every worker process doing this shares one leaky bucket per portal and app (so
together they stay under the portal's limit), one token pair per portal (so an
expiring pair is refreshed exactly once) and one dialog cache (a dialog one worker
looked up is a hit in all of them; an invalidation in one drops it for all).
``RedisOffsetStore`` keeps fetch-mode bots' offsets and lets exactly one worker poll each
bot (``EventPoller(offsets=RedisOffsetStore(r))``).
Needs the ``redis`` extra (``pip install 'bitrix-dialog[redis]'``) and a Redis
server 6.0 or newer; the core package never imports this module.
"""

from __future__ import annotations

try:
    import redis.asyncio  # noqa: F401 - fail early, with the extra's name
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    msg = "bitrix_dialog.redis needs the redis package: pip install 'bitrix-dialog[redis]'"
    raise ImportError(msg) from exc

from .._public import publish
from ._bucket import BucketOptions, RedisBucketState, RedisLeakyBucket
from ._cache import RedisDialogCache
from ._lock import RedisLeaseLock
from ._offsets import RedisOffsetStore
from ._store import RedisTokenStore

__all__ = [
    "BucketOptions",
    "RedisBucketState",
    "RedisDialogCache",
    "RedisLeakyBucket",
    "RedisLeaseLock",
    "RedisOffsetStore",
    "RedisTokenStore",
]

publish(globals(), __all__, "bitrix_dialog.redis")
del publish
