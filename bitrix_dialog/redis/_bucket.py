"""One portal's leaky bucket in Redis, shared by every worker process that calls it.

Each worker's private :class:`~bitrix_dialog.LeakyBucket` believes it owns the
portal's whole budget; several of them together draw ``QUERY_LIMIT_EXCEEDED``.
:class:`RedisLeakyBucket` keeps the one copy in Redis, with the local bucket's
rules (see :mod:`bitrix_dialog._pacing._limiter`): a request counts from when it is sent,
drains only once its answer is back, and ``QUERY_LIMIT_EXCEEDED`` fills the
bucket for everyone. Each decision is one Lua script run (see
:mod:`._bucket_script`), timed by the Redis server's clock; :mod:`._shared_bucket`
runs it, and this module decides what a worker does with the answers (and without them).

A refusal also teaches the shared bucket, by the local bucket's rules: a refusal
with room left lowers the capacity estimate, refusals repeated at the drain lower
the drain estimate, never below Standard's (50, 2 per second). The estimates live in
Redis beside the bucket, so every worker paces by what any one of them learned
(``capacity``/``drain_rate`` show them as of this worker's last script run), and
they go when the bucket does: one idle past its keys' TTL starts from the plan.

Waiting, and what is guaranteed:

- Within a process, callers are served first come, first served; only the first
  in line talks to Redis.
- Across processes, those first-in-line callers are served in the order they
  reached Redis: a waiter either gets a reservation (the exact moment the drain
  frees its slot, which nobody arriving later can take) and sleeps until then, or,
  while every slot is held by a request in flight, queues and is woken by the
  answer that lets it move up. Nobody polls. So no process starves: a process
  waits at most for the processes queued before it to take one slot each.
- A worker that dies holding slots frees them when their lease ends
  (``slot_lease``); one that dies waiting frees its place after ``waiter_lease``.

When Redis cannot be reached the bucket does not guess: :meth:`acquire` raises
:class:`~bitrix_dialog.LimiterUnavailableError` and nothing is sent, unless you
gave a ``fallback`` limiter (a local share of the budget), which is then used,
with a warning, until Redis answers again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Final, TypedDict, Unpack

import attrs
import redis.asyncio

from .._errors import LimiterUnavailableError
from .._pacing._limiter import Limiter, Slot, report_refusal
from .._pacing._plan import Plan, concrete_plan
from ._common import check_client, check_name, check_seconds, describe
from ._shared_bucket import RedisFailedError, SharedBucket, SharedSlot

__all__ = ["BucketOptions", "RedisBucketState", "RedisLeakyBucket"]

logger: Final = logging.getLogger("bitrix_dialog")


class BucketOptions(TypedDict, total=False):
    """The keyword options of :class:`RedisLeakyBucket` (for :meth:`~RedisLeakyBucket.for_plan`)."""

    prefix: str
    slot_lease: float
    waiter_lease: float
    fallback: Limiter | None
    recheck_after: float


@attrs.frozen(kw_only=True)
class RedisBucketState:
    """A snapshot of the shared bucket, for dashboards and tests."""

    level: float
    """How full the bucket is: requests in flight plus what has not drained yet."""
    in_flight: int
    """Requests sent (by any worker) whose answers are not back."""
    reserved: int
    """Waiters promised a slot at a set moment."""
    queued: int
    """Waiters queued until an answer comes back."""


@attrs.frozen
class _FallbackSlot:
    slot: Slot


def _check_bucket(capacity: object, drain_rate: object) -> tuple[int, float]:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        msg = f"capacity must be an int >= 1, not {capacity!r}"
        raise ValueError(msg)
    if isinstance(drain_rate, bool) or not isinstance(drain_rate, int | float):
        msg = f"drain_rate must be a number, not {type(drain_rate).__name__}"
        raise TypeError(msg)
    if not math.isfinite(drain_rate) or drain_rate <= 0:
        msg = f"drain_rate must be > 0 requests per second, not {drain_rate!r}"
        raise ValueError(msg)
    return capacity, float(drain_rate)


class RedisLeakyBucket:
    """A :class:`~bitrix_dialog.Limiter` whose bucket lives in Redis, shared by all workers.

    >>> redis = redis.asyncio.Redis.from_url("redis://localhost:6379/0")   # doctest: +SKIP
    >>> bucket = RedisLeakyBucket.for_plan(redis, auth.identity, Plan.STANDARD)  # doctest: +SKIP
    >>> client = Client(auth, limiter=bucket)                              # doctest: +SKIP

    ``key`` names what the portal meters together: every worker passing the same
    key (and ``prefix``) shares one bucket; ``auth.identity`` (portal and app) is the
    usual choice. ``capacity``/``drain_rate`` are the portal's (:class:`Plan`).
    ``slot_lease``: seconds after which a slot whose answer never came back (its
    worker died) starts draining; it must outlast the time from taking a slot to the
    request reaching the portal (the connect timeout, plus an OAuth refresh).
    ``waiter_lease``: seconds after which a dead waiter's place is dropped.
    ``fallback``: a local limiter used while Redis is unreachable (give it this
    worker's share of the plan); without one, :meth:`acquire` raises
    :class:`~bitrix_dialog.LimiterUnavailableError`. ``recheck_after``: seconds
    between attempts to reach Redis again while on the fallback.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        key: str,
        capacity: int = Plan.STANDARD.capacity,
        drain_rate: float = Plan.STANDARD.drain_rate,
        *,
        prefix: str = "bitrix_dialog",
        slot_lease: float = 120.0,
        waiter_lease: float = 15.0,
        fallback: Limiter | None = None,
        recheck_after: float = 5.0,
    ) -> None:
        self._redis = check_client(redis)
        self.key = check_name("key", key)
        capacity, drain_rate = _check_bucket(capacity, drain_rate)
        prefix = check_name("prefix", prefix)
        self.slot_lease = check_seconds("slot_lease", slot_lease)
        self.waiter_lease = check_seconds("waiter_lease", waiter_lease)
        self._recheck_after = check_seconds("recheck_after", recheck_after)
        if fallback is not None and (not isinstance(fallback, Limiter) or fallback is self):
            msg = f"fallback must be another Limiter (such as a LeakyBucket), not {fallback!r}"
            raise TypeError(msg)
        self._fallback = fallback
        self._shared = SharedBucket(
            self._redis,
            key=key,
            prefix=prefix,
            capacity=capacity,
            drain_rate=drain_rate,
            slot_lease=self.slot_lease,
            waiter_lease=self.waiter_lease,
        )
        self._turn = asyncio.Lock()
        self._down_until = -math.inf
        self._degraded = False

    @classmethod
    def for_plan(
        cls, redis: redis.asyncio.Redis, key: str, plan: Plan, **options: Unpack[BucketOptions]
    ) -> RedisLeakyBucket:
        """A bucket the size of ``plan``'s (``Plan.STANDARD``, ``Plan.ENTERPRISE``)."""
        plan = concrete_plan(plan)
        return cls(redis, key, plan.capacity, plan.drain_rate, **options)

    @property
    def capacity(self) -> int:
        """The shared estimate of the bucket's size, as of this worker's last script run."""
        return self._shared.capacity

    @property
    def drain_rate(self) -> float:
        """The shared estimate of the drain (requests per second), as of the last run."""
        return self._shared.drain_rate

    @property
    def plan_capacity(self) -> int:
        """The plan's capacity, which the shared estimate starts from."""
        return self._shared.plan_capacity

    @property
    def plan_drain_rate(self) -> float:
        """The plan's drain rate, which the shared estimate starts from."""
        return self._shared.plan_drain_rate

    @property
    def fallback(self) -> Limiter | None:
        """The local limiter used while Redis is unreachable, if any."""
        return self._fallback

    # -------------------------------------------------------------- protocol
    async def acquire(self, *, max_wait: float | None = None) -> Slot:
        """Take a slot in the shared bucket, waiting in line. See :meth:`Limiter.acquire`.

        Raises :class:`~bitrix_dialog.LimiterUnavailableError` when Redis fails and
        there is no fallback.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = None if max_wait is None else started + max(max_wait, 0.0)
        if not self._on_fallback(started):
            queued = self._turn.locked()
            async with asyncio.timeout_at(deadline):
                await self._turn.acquire()
            try:
                if not self._on_fallback(loop.time()):
                    shared, waited = await self._shared.take(deadline)
                    self._recovered()
                    elapsed = loop.time() - started if queued or waited else 0.0
                    return Slot(waited=elapsed, token=shared)
            except RedisFailedError as failure:
                if self._fallback is None:
                    msg = (
                        f"the shared rate limiter at {describe(self._redis)} failed "
                        f"({type(failure.error).__name__}); the request was not sent"
                    )
                    raise LimiterUnavailableError(msg) from failure.error
                self._degrade(failure.error)
            finally:
                self._turn.release()
        assert self._fallback is not None
        remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
        slot = await self._fallback.acquire(max_wait=remaining)
        return Slot(waited=loop.time() - started if slot.waited else 0.0, token=_FallbackSlot(slot))

    async def release(self, slot: Slot) -> None:
        """The answer is back: the slot starts draining for every worker.

        A Redis failure here is logged, not raised (the request is done; the slot's
        lease frees it later).
        """
        token = slot.token
        if isinstance(token, _FallbackSlot):
            assert self._fallback is not None
            await self._fallback.release(token.slot)
            return
        if not isinstance(token, SharedSlot):
            msg = "release() got a slot this RedisLeakyBucket did not hand out"
            raise TypeError(msg)
        try:
            await self._shared.release(token)
        except RedisFailedError as failure:
            logger.warning(
                "shared rate limiter at %s: handing back a slot failed (%s); "
                "its lease frees it within %.0f s",
                describe(self._redis),
                type(failure.error).__name__,
                self.slot_lease,
            )

    async def saturate(self) -> None:
        """The portal said ``QUERY_LIMIT_EXCEEDED``: the shared bucket is full, for all workers."""
        if self._fallback is not None:
            await self._fallback.saturate()
        await self._saturate_shared()

    async def refused(self, slot: Slot) -> None:
        """The portal refused the request sent with ``slot``: the shared bucket fills up,
        for all workers, and its shared estimates learn from the refusal."""
        token = slot.token
        if isinstance(token, _FallbackSlot):
            assert self._fallback is not None
            await report_refusal(self._fallback, token.slot)
            await self._saturate_shared()
            return
        if not isinstance(token, SharedSlot):
            await self.saturate()
            return
        before = (self.capacity, self.drain_rate)
        try:
            await self._shared.refused(token)
        except RedisFailedError as failure:
            logger.warning(
                "shared rate limiter at %s: recording QUERY_LIMIT_EXCEEDED failed (%s)",
                describe(self._redis),
                type(failure.error).__name__,
            )
            return
        if (self.capacity, self.drain_rate) != before:
            logger.warning(
                "QUERY_LIMIT_EXCEEDED below the shared bucket's estimates (%d, %g/s): "
                "every worker paces at (%d, %g/s) from now on",
                *before,
                self.capacity,
                self.drain_rate,
            )

    async def _saturate_shared(self) -> None:
        """Fill the shared bucket only (the fallback's own state left as it is)."""
        try:
            await self._shared.saturate()
        except RedisFailedError as failure:
            logger.warning(
                "shared rate limiter at %s: recording QUERY_LIMIT_EXCEEDED failed (%s)",
                describe(self._redis),
                type(failure.error).__name__,
            )

    async def state(self) -> RedisBucketState:
        """The shared bucket now. Raises ``LimiterUnavailableError`` when Redis fails."""
        try:
            draining, in_flight, reserved, queued = await self._shared.state()
        except RedisFailedError as failure:
            msg = f"the shared rate limiter at {describe(self._redis)} failed"
            raise LimiterUnavailableError(msg) from failure.error
        return RedisBucketState(
            level=in_flight + draining, in_flight=in_flight, reserved=reserved, queued=queued
        )

    # -------------------------------------------------------------- fallback
    def _on_fallback(self, now: float) -> bool:
        return self._fallback is not None and now < self._down_until

    def _degrade(self, error: BaseException) -> None:
        self._down_until = asyncio.get_running_loop().time() + self._recheck_after
        if not self._degraded:
            self._degraded = True
            logger.warning(
                "shared rate limiter at %s failed (%s): pacing with the local fallback "
                "%r until Redis answers again",
                describe(self._redis),
                type(error).__name__,
                self._fallback,
            )

    def _recovered(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.warning(
                "shared rate limiter at %s answers again: back on the shared bucket",
                describe(self._redis),
            )

    def __repr__(self) -> str:
        return (
            f"RedisLeakyBucket({self.key!r}, capacity={self.capacity}, "
            f"drain_rate={self.drain_rate}, redis={describe(self._redis)!r})"
        )
