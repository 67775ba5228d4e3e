"""The bucket's own copy in Redis: each decision one run of the Lua script, nothing else.

:class:`SharedBucket` is what every worker's :class:`~._bucket.RedisLeakyBucket`
talks to. It knows the keys (one ``{hash tag}``, so a Redis cluster keeps them on one
node), the arguments the script (:mod:`._bucket_script`) takes, and how a waiter
waits: asleep until its reservation's moment, or blocked on its own wake-up list
until an answer lets it move up. It keeps the shared estimates of the bucket's size
that every script reply ends with. It never falls back and never logs: a failing
Redis is a :class:`RedisFailedError`, which the bucket decides about.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
from typing import Final

import attrs
import redis.asyncio

from .._cancel import raise_if_cancelled
from .._pacing._plan import DRAIN_CUT, Plan
from ._bucket_script import BUCKET_SCRIPT, KEY_SUFFIXES
from ._common import REDIS_FAILURES, block_seconds, text

__all__ = ["RedisFailedError", "SharedBucket", "SharedSlot"]

# Longer than any bucket could take to drain: idle buckets vanish from Redis by themselves.
_IDLE_GRACE: Final = 60.0


@attrs.frozen
class SharedSlot:
    """A slot the script granted: its waiter's id, and what a refusal is checked against."""

    ident: str
    level: str = "0"  # the bucket's level when the slot was granted, as the script said
    number: str = "0"  # the grant's number


class RedisFailedError(Exception):
    """Redis could not be reached or refused the script; ``error`` is its own error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class SharedBucket:
    """One portal's bucket in Redis under ``{prefix}:bucket:{key}``, sized by the plan.

    ``capacity``/``drain_rate`` are the shared estimates as of the last script run
    (they start at the plan's and only come down, never below Standard's).
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        key: str,
        prefix: str,
        capacity: int,
        drain_rate: float,
        slot_lease: float,
        waiter_lease: float,
    ) -> None:
        self._redis = client
        self.capacity, self.drain_rate = capacity, drain_rate
        self.plan_capacity, self.plan_drain_rate = capacity, drain_rate
        self._floor = (
            min(capacity, Plan.STANDARD.capacity),
            min(drain_rate, Plan.STANDARD.drain_rate),
        )
        self._slot_lease = slot_lease
        self._waiter_lease = waiter_lease
        base = f"{prefix}:bucket:{{{key}}}"
        self._keys = [f"{base}:{suffix}" for suffix in KEY_SUFFIXES]
        self._wake_prefix = f"{base}:wake:"
        idle = slot_lease + waiter_lease + capacity / self._floor[1]
        self._ttl_ms = math.ceil((idle + _IDLE_GRACE) * 1000)
        self._script = client.register_script(BUCKET_SCRIPT)

    async def take(self, deadline: float | None) -> tuple[SharedSlot, bool]:
        """Run the script until it grants a slot: (the slot, whether we had to wait).

        ``deadline`` is on the loop's clock (None: no limit); past it, or once it is
        certain the slot cannot come in time, the builtin ``TimeoutError``.
        """
        loop = asyncio.get_running_loop()
        ident = secrets.token_hex(12)
        waited = False
        settled = False  # granted, or Redis failed (a failing Redis is not asked to clean up)
        try:
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                max_wait = -1.0 if remaining is None else max(remaining, 0.0)
                try:
                    kind, value, *rest = await self._call("acquire", ident, max_wait)
                except RedisFailedError:
                    settled = True
                    raise
                if kind == "granted":
                    settled = True
                    return SharedSlot(ident, value, rest[0]), waited
                seconds = float(value)
                if kind == "timeout" or (
                    remaining is not None
                    and (remaining <= 0 or (kind == "wait" and seconds > remaining))
                ):
                    raise TimeoutError  # a drain never speeds up: it cannot be in time
                waited = True
                if remaining is not None:
                    seconds = min(seconds, remaining)
                if kind == "wait":
                    await asyncio.sleep(seconds)
                else:  # queued: until an answer moves us up (or it is time to renew our place)
                    try:
                        await self._blpop(ident, seconds)
                    except RedisFailedError:
                        settled = True
                        raise
                    raise_if_cancelled()  # a cancel redis-py lost (see .._cancel)
        finally:
            if not settled:  # timed out or cancelled: give up the place in line now
                with contextlib.suppress(RedisFailedError):
                    await self._call("cancel", ident)

    async def release(self, slot: SharedSlot) -> None:
        """The slot's answer is back: it starts draining."""
        await self._call("release", slot.ident)

    async def refused(self, slot: SharedSlot) -> None:
        """The request sent with ``slot`` got ``QUERY_LIMIT_EXCEEDED``: fill up and learn."""
        await self._call(
            "refused", slot.ident, extra=(slot.level, slot.number, *self._floor, DRAIN_CUT)
        )

    async def saturate(self) -> None:
        """Fill the bucket, for every worker."""
        await self._call("saturate", "")

    async def state(self) -> tuple[float, int, int, int]:
        """``(draining, in_flight, reserved, queued)`` now."""
        reply = await self._call("state", "")
        draining, in_flight, reserved, queued = float(reply[1]), *map(int, reply[2:5])
        return draining, in_flight, reserved, queued

    async def _blpop(self, ident: str, seconds: float) -> None:
        try:
            await self._redis.blpop(
                [self._wake_prefix + ident], block_seconds(self._redis, seconds)
            )
        except REDIS_FAILURES as exc:
            raise RedisFailedError(exc) from exc

    async def _call(
        self,
        op: str,
        ident: str,
        max_wait: float = -1.0,
        *,
        extra: tuple[str | int | float, ...] = (),
    ) -> list[str]:
        args: list[str | int | float] = [
            op,
            self.plan_capacity,
            self.plan_drain_rate,
            ident,
            self._slot_lease,
            self._waiter_lease,
            max_wait,
            self._ttl_ms,
            self._wake_prefix,
            *extra,
        ]
        try:
            reply = await self._script(keys=self._keys, args=args)
        except REDIS_FAILURES as exc:
            raise RedisFailedError(exc) from exc
        parts = [text(part) for part in reply]
        # Every reply ends with the shared estimates in force.
        self.capacity, self.drain_rate = int(float(parts[-2])), float(parts[-1])
        return parts[:-2]
