"""Fetch-mode offsets in Redis, shared by every worker: :class:`RedisOffsetStore`.

    store = RedisOffsetStore(redis.asyncio.Redis.from_url(url))
    poller = EventPoller(bot_id=456, offsets=store)       # in each worker

Each bot's offset is one string key, saved by a Lua script that never lowers it (a
worker that wakes late cannot undo a newer one's progress). ``lease(key)`` is a
:class:`RedisLeaseLock`: exactly one worker polls a bot at a time; the others wait
(blocked on Redis, not polling) and one takes over within ``lease`` seconds when the
holder dies, or at once when it stops cleanly. Redis failures raise
:class:`~bitrix_dialog.OffsetStoreError` naming the server, never its password (the
event stream waits and tries again).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Final

import redis.asyncio

from .._errors import OffsetStoreError
from .._poll._offsets import Lease, check_offset
from ._common import REDIS_FAILURES, check_client, check_name, check_seconds, describe, text
from ._lock import RedisLeaseLock

__all__ = ["RedisOffsetStore"]

# KEYS[1] the offset; ARGV[1] the new offset. Stores it only if larger.
_SAVE_MAX: Final = """
local stored = tonumber(redis.call('GET', KEYS[1]))
if stored == nil or tonumber(ARGV[1]) > stored then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


class RedisOffsetStore:
    """Offsets and single-consumer leases in Redis (see the module docs).

    ``prefix`` starts every key (``<prefix>:<key>`` and ``<prefix>:<key>:lease``);
    ``lease`` is how long a dead worker keeps the others waiting (renewed every third
    of it while the holder lives).
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        prefix: str = "bitrix_dialog:events",
        lease: float = 15.0,
    ) -> None:
        self._redis = check_client(redis)
        self._prefix = check_name("prefix", prefix)
        self._lease = check_seconds("lease", lease)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{check_name('key', key)}"

    async def load(self, key: str) -> int | None:
        """The offset saved for ``key``, or ``None``."""
        try:
            value = await self._redis.get(self._key(key))
        except REDIS_FAILURES as exc:
            msg = f"loading the offset of {key} from {describe(self._redis)} failed"
            raise OffsetStoreError(f"{msg} ({type(exc).__name__})") from exc
        return None if value is None else int(text(value))

    async def save(self, key: str, offset: int) -> None:
        """Store ``offset`` for ``key`` unless a larger one is stored already."""
        offset = check_offset(offset)
        script = self._redis.register_script(_SAVE_MAX)
        try:
            await script(keys=[self._key(key)], args=[offset])
        except REDIS_FAILURES as exc:
            msg = f"saving the offset of {key} at {describe(self._redis)} failed"
            raise OffsetStoreError(f"{msg} ({type(exc).__name__})") from exc

    def lease(self, key: str) -> AbstractAsyncContextManager[Lease]:
        """The polling lease of ``key``: waits (without polling) while another worker holds it."""
        return RedisLeaseLock(
            self._redis,
            f"{self._key(key)}:lease",
            lease=self._lease,
            wait=None,
            name=key,
            what="polling lease",
            error=OffsetStoreError,
        )

    def __repr__(self) -> str:
        return f"RedisOffsetStore({self._prefix!r}, redis={describe(self._redis)!r})"
