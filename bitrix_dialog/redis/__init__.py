"""Many workers, one portal: the rate limiter and the OAuth pairs shared through Redis.

    import redis.asyncio
    from bitrix_dialog import Client, OAuthAuth, Plan
    from bitrix_dialog.redis import RedisLeakyBucket, RedisTokenStore

    r = redis.asyncio.Redis.from_url("redis://localhost:6379/0")
    store = RedisTokenStore(r)
    auth = OAuthAuth(await store.load(member_id), client_id=ID, client_secret=SECRET,
                     store=store)
    bucket = RedisLeakyBucket.for_plan(r, auth.identity, Plan.STANDARD)
    async with Client(auth, limiter=bucket) as client: ...

Every worker process doing this shares one leaky bucket per portal and app (so
together they stay under the portal's limit) and one token pair per portal (so an
expiring pair is refreshed exactly once). Needs the ``redis`` extra
(``pip install 'bitrix-dialog[redis]'``) and a Redis server 6.0 or newer; the core
package never imports this module.
"""

from __future__ import annotations

try:
    import redis.asyncio  # noqa: F401 - fail early, with the extra's name
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    msg = "bitrix_dialog.redis needs the redis package: pip install 'bitrix-dialog[redis]'"
    raise ImportError(msg) from exc

from .._public import publish
from ._bucket import BucketOptions, RedisBucketState, RedisLeakyBucket
from ._lock import RedisLeaseLock
from ._store import RedisTokenStore

__all__ = [
    "BucketOptions",
    "RedisBucketState",
    "RedisLeakyBucket",
    "RedisLeaseLock",
    "RedisTokenStore",
]

publish(globals(), __all__, "bitrix_dialog.redis")
del publish
