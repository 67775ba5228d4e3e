"""The dialog cache shared through Redis: :class:`RedisDialogCache`.

    cache = RedisDialogCache(redis.asyncio.Redis.from_url(url), ttl=60)
    client = Client(auth, cache=cache)          # in every worker process

Every worker reading one portal sees one cache: a dialog one worker looked up is a hit
in the others, and ``client.dialogs.invalidate(dialog_id)`` in any worker drops it for
all. Keys (all of one credential identity in one Redis Cluster slot, by the
``{scope}`` hash tag; ``scope`` and parameters are digests, so no token, webhook code
or ``botToken`` is ever part of a key)::

    PREFIX:dialog:{SCOPE}:e:METHOD:PARAMS_DIGEST   the entry (JSON), expiring by PX
    PREFIX:dialog:{SCOPE}:d:DIALOG_ID              a set: the entries standing for it
    PREFIX:dialog:{SCOPE}:gen                      a counter bumped by invalidations
    PREFIX:dialog:{SCOPE}:epoch                    a counter bumped by invalidate_all

Expiry is Redis's own (``PX``), so no clock is needed; there is no ``max_entries``:
bound the memory with Redis's ``maxmemory`` and an ``allkeys-lru`` policy. An entry
is stored by one Lua script only if the scope's counter is still what the lookup saw,
so an answer read before an invalidation (in any worker) is never stored after it.
``invalidate_all`` moves the epoch on, in one step whatever the number of entries:
each entry records the epoch it was stored in, and one of an older epoch is a miss
(and expires by its TTL).

A Redis that fails or is slower than ``timeout`` never fails a lookup: it is a miss
(the lookup goes to the portal), logged once as a warning until Redis answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

import redis.asyncio

from .._cache import CacheEntry, CacheLookup
from .._cache._backend import check_optional_ttl, check_ttl
from ._cache_codec import decode_entry, encode_entry
from ._common import REDIS_FAILURES, check_client, check_name, describe, text

__all__ = ["RedisDialogCache"]

logger: Final = logging.getLogger("bitrix_dialog")

T = TypeVar("T")

# KEYS[1] entry, KEYS[2] gen, KEYS[3..] index sets; ARGV[1] expected gen, [2] JSON, [3] ttl ms
_STORE: Final = """
local gen = redis.call('GET', KEYS[2]) or '0'
if gen ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
"""

# KEYS[1] the dialog's index set, KEYS[2] gen. Entry keys share KEYS[1]'s hash slot.
_INVALIDATE: Final = """
local entries = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(entries) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return #entries
"""


class RedisDialogCache:
    """Dialog lookups kept in Redis for every worker process (see the module docs).

    - ``ttl``: seconds an answer is kept (default 60);
    - ``negative_ttl``: seconds a "not found"-like refusal or a ``None`` answer is
      kept; ``None`` (the default): refusals are never cached;
    - ``prefix``: the start of every key;
    - ``timeout``: seconds one Redis round trip may take before the lookup goes on
      as a miss (default 1).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        ttl: float = 60.0,
        negative_ttl: float | None = None,
        prefix: str = "bitrix_dialog",
        timeout: float = 1.0,
    ) -> None:
        self._redis = check_client(redis)
        self._ttl = check_ttl("ttl", ttl)
        self._negative_ttl = check_optional_ttl("negative_ttl", negative_ttl)
        self._prefix = check_name("prefix", prefix)
        self._timeout = check_ttl("timeout", timeout)
        self._store = self._redis.register_script(_STORE)
        self._invalidate = self._redis.register_script(_INVALIDATE)
        self._failing = False

    @property
    def ttl(self) -> float:
        return self._ttl

    @property
    def negative_ttl(self) -> float | None:
        return self._negative_ttl

    def _base(self, scope: str) -> str:
        return f"{self._prefix}:dialog:{{{scope}}}"

    async def lookup(self, scope: str, key: str) -> CacheLookup:
        base = self._base(scope)
        entry_key, gen_key, epoch_key = f"{base}:e:{key}", f"{base}:gen", f"{base}:epoch"
        replies = await self._guard(
            "lookup", lambda: self._redis.mget(entry_key, gen_key, epoch_key)
        )
        if replies is None:
            return CacheLookup(None, None)
        raw, gen, epoch = replies
        version = ("0" if gen is None else text(gen), "0" if epoch is None else text(epoch))
        if raw is None:
            return CacheLookup(None, version)
        try:
            entry, stored_in = decode_entry(raw)
        except ValueError as error:
            logger.warning("dialog cache entry %s is unreadable (%s); a miss", entry_key, error)
            return CacheLookup(None, version)
        if stored_in != version[1]:
            return CacheLookup(None, version)  # dropped by invalidate_all
        return CacheLookup(entry, version)

    async def store(
        self, scope: str, key: str, entry: CacheEntry, dialog_ids: Sequence[str], version: object
    ) -> None:
        ttl = self._negative_ttl if entry.negative else self._ttl
        if ttl is None or not isinstance(version, tuple):
            return
        gen, epoch = version
        base = self._base(scope)
        keys = [f"{base}:e:{key}", f"{base}:gen", *(f"{base}:d:{d}" for d in dialog_ids)]
        args: list[str | int] = [gen, encode_entry(entry, epoch), max(1, round(ttl * 1000))]
        await self._guard("store", lambda: self._store(keys=keys, args=args))

    async def invalidate(self, scope: str, dialog_id: str) -> None:
        base = self._base(scope)
        keys = [f"{base}:d:{dialog_id}", f"{base}:gen"]
        await self._guard("invalidate", lambda: self._invalidate(keys=keys))

    async def invalidate_all(self, scope: str) -> None:
        base = self._base(scope)
        await self._guard("invalidate_all", lambda: self._next_epoch(base))

    async def _next_epoch(self, base: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(f"{base}:epoch")
            pipe.incr(f"{base}:gen")
            await pipe.execute()

    async def _guard(self, doing: str, action: Callable[[], Awaitable[T]]) -> T | None:
        """``action()``, or ``None`` when Redis fails or is too slow (logged)."""
        try:
            async with asyncio.timeout(self._timeout):
                result = await action()
        except (*REDIS_FAILURES, TimeoutError) as error:
            level = logging.DEBUG if self._failing else logging.WARNING
            self._failing = True
            logger.log(
                level,
                "dialog cache %s at %s failed (%s); going on without the cache",
                doing,
                describe(self._redis),
                type(error).__name__,
            )
            return None
        if self._failing:
            self._failing = False
            logger.warning("dialog cache at %s answers again", describe(self._redis))
        return result

    def __repr__(self) -> str:
        return (
            f"RedisDialogCache({describe(self._redis)}, ttl={self._ttl!r}, "
            f"negative_ttl={self._negative_ttl!r}, prefix={self._prefix!r})"
        )
