"""A lease lock in Redis: one OAuth refresher per portal across every worker process.

    async with RedisLeaseLock(redis, key, lease=15.0, wait=60.0, name="member m1"):
        ...  # reload the pair, refresh, save(new, replaces=old)

- **Lease.** The lock key expires ``lease`` seconds after it was last renewed, so a
  worker that dies holding it (SIGKILL, lost host) wedges the others for at most one
  lease. While held, a task renews it every third of a lease, so a slow refresh
  keeps it.
- **Owner token.** Each acquisition stores a random token; renewing and releasing
  are Lua scripts that act only while the key still holds *that* token, so a worker
  whose lease ran out never deletes the lock a successor holds.
- **No polling.** A waiter blocks (``BLPOP``) on a wake list that the releasing
  owner pushes, or at most until the holder's lease would end.
- **Fencing** is not the lock's job: a worker that wakes after its lease ran out
  may still be mid-refresh, and what stops it from overwriting a newer pair is the
  store's compare-and-set on the pair it replaces (refresh tokens are never
  reissued, so that pair cannot come back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from types import TracebackType
from typing import Final

import redis.asyncio

from .._cancel import cancel_requested
from .._errors import BitrixError, TokenStoreError
from ._common import REDIS_FAILURES, block_seconds, describe

__all__ = ["RedisLeaseLock"]

logger: Final = logging.getLogger("bitrix_dialog")

# KEYS[1] lock, KEYS[2] wake list; ARGV[1] owner token, ARGV[2] lease in ms.
# Returns 0 when taken, else the holder's remaining lease in ms.
_ACQUIRE: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 1 then return 1 end
return ttl
"""
_RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('RPUSH', KEYS[2], '1')
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class RedisLeaseLock:
    """An async context manager holding a Redis lease lock (see the module docs).

    ``lease``: seconds the lock outlives its last renewal; ``wait``: seconds to wait
    for it (None: no limit) before raising ``error`` (by default
    :class:`~bitrix_dialog.TokenStoreError`), as Redis failures do; ``name`` says what
    is locked, in messages.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        key: str,
        *,
        lease: float,
        wait: float | None,
        name: str,
        what: str = "refresh lock",
        error: type[BitrixError] = TokenStoreError,
    ) -> None:
        self._redis = redis
        self._keys = [key, f"{key}:wake"]
        self._lease_ms = max(math.ceil(lease * 1000), 1)
        self._wait = wait
        self._name = name
        self._what = what
        self._error = error
        self._owner: str | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._stopping = False
        self.lost = False
        """True once a renewal found the lease gone (another worker may hold it now)."""

    @property
    def held(self) -> bool:
        """True between entering and leaving (even if the lease was lost meanwhile)."""
        return self._owner is not None

    async def __aenter__(self) -> RedisLeaseLock:
        if self._owner is not None:
            msg = f"the {self._what} of {self._name} is already held by this object"
            raise RuntimeError(msg)
        loop = asyncio.get_running_loop()
        deadline = None if self._wait is None else loop.time() + self._wait
        owner = secrets.token_hex(16)
        acquire = self._redis.register_script(_ACQUIRE)
        while True:
            try:
                holder_ms = int(await acquire(keys=self._keys, args=[owner, self._lease_ms]))
            except asyncio.CancelledError:
                await self._give_back(owner)  # it may have been taken as the answer got lost
                raise
            except REDIS_FAILURES as exc:
                msg = f"taking the {self._what} of {self._name} at {describe(self._redis)} failed"
                raise self._error(f"{msg} ({type(exc).__name__})") from exc
            if holder_ms == 0:
                break
            seconds = holder_ms / 1000
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    msg = (
                        f"waited {self._wait:g} s for the {self._what} of {self._name}; "
                        "another worker still holds it"
                    )
                    raise self._error(msg)
                seconds = min(seconds, remaining)
            try:
                await self._redis.blpop([self._keys[1]], block_seconds(self._redis, seconds))
            except REDIS_FAILURES as exc:
                msg = f"waiting for the {self._what} of {self._name} at {describe(self._redis)}"
                raise self._error(f"{msg} failed ({type(exc).__name__})") from exc
            if cancel_requested():  # and redis-py lost it (see .._cancel)
                await self._give_back(owner)
                raise asyncio.CancelledError
        self._owner = owner
        self.lost = False
        self._stopping = False
        self._renewal = loop.create_task(self._renew(owner))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        owner, self._owner = self._owner, None
        if self._renewal is not None:
            self._stopping = True  # a cancel redis-py loses (see _renew) still stops it
            self._renewal.cancel()
            await asyncio.wait([self._renewal])  # its cancellation is not ours to raise
            self._renewal = None
        if owner is None:
            return
        release = self._redis.register_script(_RELEASE)
        try:
            released = await release(keys=self._keys, args=[owner, self._lease_ms])
        except REDIS_FAILURES as error:
            # Not raised: whatever ran under the lock is done; the lease ends it anyway.
            logger.warning(
                "releasing the %s of %s at %s failed (%s); its lease ends it",
                self._what,
                self._name,
                describe(self._redis),
                type(error).__name__,
            )
            return
        if not released and not self.lost:
            self.lost = True
            logger.warning("the %s of %s had expired before its release", self._what, self._name)

    async def _give_back(self, owner: str) -> None:
        release = self._redis.register_script(_RELEASE)
        with contextlib.suppress(*REDIS_FAILURES):
            await release(keys=self._keys, args=[owner, self._lease_ms])

    async def _renew(self, owner: str) -> None:
        renew = self._redis.register_script(_RENEW)
        interval = self._lease_ms / 3000
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                kept = await renew(keys=self._keys, args=[owner, self._lease_ms])
            except REDIS_FAILURES as error:
                logger.warning(
                    "renewing the %s of %s failed (%s); retrying",
                    self._what,
                    self._name,
                    type(error).__name__,
                )
                continue
            # Checked again by the loop: Python 3.11's asyncio.wait_for, under every
            # redis-py command, drops a cancel that arrives just as the answer does,
            # and __aexit__ would then wait for this task forever.
            if not kept and not self._stopping:
                self.lost = True
                logger.warning(
                    "the %s of %s expired while held (a stall longer than its lease); "
                    "its holder is told through .lost",
                    self._what,
                    self._name,
                )
                return

    def __repr__(self) -> str:
        return f"RedisLeaseLock({self._name!r}, held={self.held})"
