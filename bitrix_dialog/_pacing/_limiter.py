"""A client-side copy of the portal's leaky bucket, so the portal never has to refuse us.

How the portal meters requests (Bitrix24 ``limits.md``): every request that *arrives*
adds one to a counter; the counter drains at ``Y`` per second; a request that would
take it above ``X`` is refused with HTTP 503 ``QUERY_LIMIT_EXCEEDED``. ``X``/``Y`` are
50/2 on most plans and 250/5 on Enterprise (:class:`Plan`).

The client cannot see when a request arrives, only when it is sent (earlier) and when
its answer is back (later). :class:`LeakyBucket` therefore counts a request from the
moment it is **sent** and lets it **drain only once its answer is back**::

    level = in_flight + drained_part
    in_flight     requests sent and not answered: held at 1 each, not draining
    drained_part  answered requests, draining together at Y per second
    a request may be sent when level + 1 <= X

Every request the portal has counted by time ``t`` was sent by then, and it started
draining on the portal no later than here, so this copy is never *below* the portal's
counter: it never runs ahead of the portal, and trails it by at most the response
time. (A naive copy that drains from the moment of sending sees room the portal does
not yet have, and draws 503s as soon as many coroutines share it.)

Waiting is first come, first served and costs no CPU: the coroutine at the head of the
queue either sleeps exactly as long as the drain needs (releases never make that
wait longer: the total drains at ``Y`` while anything is draining), or, when every
counted request is still in flight, waits for the next answer. Nobody polls.

    bucket = LeakyBucket.for_plan(Plan.ENTERPRISE)
    slot = await bucket.acquire(max_wait=5.0)
    try:
        ...  # send the request
    finally:
        await bucket.release(slot)

:class:`Limiter` is the protocol the client talks to, so a bucket shared between
processes (for example in Redis) can take this one's place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Final, NamedTuple, Protocol, runtime_checkable

import attrs

from .._types import Clock, Sleep
from ._plan import Plan, concrete_plan, learn

__all__ = [
    "LeakyBucket",
    "LearningLimiter",
    "Limiter",
    "Plan",
    "Slot",
    "loop_clock",
    "report_refusal",
    "wait_or_timeout",
]

logger: Final = logging.getLogger("bitrix_dialog")


# Float drift from repeated drain arithmetic must not make a full slot look taken.
_EPSILON: Final = 1e-9


def loop_clock() -> float:
    """The running event loop's monotonic clock (so a virtual-time loop is honoured)."""
    return asyncio.get_running_loop().time()


@attrs.frozen(kw_only=True)
class Slot:
    """A permission to send one HTTP request, handed back to :meth:`Limiter.release`."""

    waited: float = 0.0
    """Seconds the caller waited for this slot (0 when it was free at once)."""
    token: object = attrs.field(default=None, repr=False)
    """Whatever the limiter needs to recognise the slot on release (opaque to callers)."""


@runtime_checkable
class Limiter(Protocol):
    """What the client asks before every HTTP request. One slot = one HTTP request.

    A ``batch`` is one HTTP request and so takes one slot. Implementations must be
    safe for many coroutines at once and fair (first come, first served).
    """

    @property
    def capacity(self) -> int:
        """Requests the bucket holds (its burst): how many requests may usefully be
        in flight at once, which sizes the bulk lookups' default concurrency."""
        ...

    async def acquire(self, *, max_wait: float | None = None) -> Slot:
        """Wait for room to send one request, at most ``max_wait`` seconds (None: no limit).

        Raises the builtin :class:`TimeoutError` when no slot can be had in time
        (as soon as that is certain, not only once the time has passed).
        """
        ...

    async def release(self, slot: Slot) -> None:
        """The answer to the request sent with ``slot`` is back (or it failed)."""
        ...

    async def saturate(self) -> None:
        """The portal said ``QUERY_LIMIT_EXCEEDED``: treat the bucket as full now."""
        ...


@runtime_checkable
class LearningLimiter(Limiter, Protocol):
    """A :class:`Limiter` that learns the portal's real bucket from its refusals."""

    async def refused(self, slot: Slot) -> None:
        """The request sent with ``slot`` got ``QUERY_LIMIT_EXCEEDED`` (before its release):
        fill the bucket, as :meth:`saturate` does, and learn from the refusal."""
        ...


async def report_refusal(limiter: Limiter, slot: Slot) -> None:
    """Tell ``limiter`` that the request sent with ``slot`` was refused for the rate limit."""
    if isinstance(limiter, LearningLimiter):
        await limiter.refused(slot)
    else:
        await limiter.saturate()


class _Sent(NamedTuple):  # a tuple: built for every request, so as cheap as can be
    """What a :class:`LeakyBucket` slot remembers: the level it was taken at, and its number."""

    level: float
    number: int


class LeakyBucket:
    """The default :class:`Limiter`: the portal's leaky bucket, mirrored conservatively.

    ``capacity`` requests fit in the bucket; answered requests drain at
    ``drain_rate`` per second. ``clock`` (monotonic seconds) and ``sleep`` are
    injectable for tests; by default they follow the running event loop.

    ``capacity`` and ``drain_rate`` are estimates: a refusal from the portal
    (:meth:`refused`) lowers them when they were too high (see
    :mod:`bitrix_dialog._pacing._plan`); ``plan_capacity``/``plan_drain_rate`` keep
    what the bucket was told.
    """

    def __init__(
        self,
        capacity: int = Plan.STANDARD.capacity,
        drain_rate: float = Plan.STANDARD.drain_rate,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            msg = f"capacity must be an int >= 1, not {capacity!r}"
            raise ValueError(msg)
        if isinstance(drain_rate, bool) or not isinstance(drain_rate, int | float):
            msg = f"drain_rate must be a number, not {type(drain_rate).__name__}"
            raise TypeError(msg)
        if not drain_rate > 0:
            msg = f"drain_rate must be > 0 requests per second, not {drain_rate!r}"
            raise ValueError(msg)
        self.capacity = self.plan_capacity = capacity
        self.drain_rate = self.plan_drain_rate = float(drain_rate)
        self._granted = 0  # slots handed out so far
        self._learned_at: int | None = None  # _granted when the last refusal was learned from
        self._clock: Clock = clock or loop_clock
        self._sleep: Sleep = sleep or asyncio.sleep
        self._in_flight = 0
        self._draining = 0.0  # answered requests still in the bucket, as of _updated
        self._updated: float | None = None
        self._queue: deque[asyncio.Future[None]] = deque()
        self._answer: asyncio.Future[None] | None = None

    @classmethod
    def for_plan(
        cls, plan: Plan, *, clock: Clock | None = None, sleep: Sleep | None = None
    ) -> LeakyBucket:
        """A bucket the size of ``plan``'s: ``LeakyBucket.for_plan(Plan.ENTERPRISE)``."""
        plan = concrete_plan(plan)
        return cls(plan.capacity, plan.drain_rate, clock=clock, sleep=sleep)

    def use_plan(self, plan: Plan) -> None:
        """Size the bucket for ``plan`` from now on (the client's ``Plan.AUTO`` found it out)."""
        plan = concrete_plan(plan)
        self.capacity = self.plan_capacity = plan.capacity
        self.drain_rate = self.plan_drain_rate = plan.drain_rate
        self._learned_at = None

    # ------------------------------------------------------------------ state
    @property
    def in_flight(self) -> int:
        """Requests sent whose answers are not back yet."""
        return self._in_flight

    @property
    def level(self) -> float:
        """How full the bucket is now: in-flight requests plus what has not drained."""
        return self._in_flight + self._drain()

    @property
    def waiting(self) -> int:
        """Coroutines queued for a slot."""
        return len(self._queue)

    def _drain(self) -> float:
        now = self._clock()
        if self._updated is not None:
            self._draining = max(0.0, self._draining - (now - self._updated) * self.drain_rate)
        self._updated = now
        return self._draining

    def _has_room(self) -> bool:
        return self._in_flight + self._drain() + 1 <= self.capacity + _EPSILON

    def _drain_wait(self) -> float | None:
        """Seconds until one slot frees by draining alone, or None if an answer is needed."""
        excess = self._in_flight + self._drain() + 1 - self.capacity
        if excess > self._draining + _EPSILON:
            return None
        return max(excess, 0.0) / self.drain_rate

    # -------------------------------------------------------------- protocol
    async def acquire(self, *, max_wait: float | None = None) -> Slot:
        """Take a slot, waiting in line if the bucket is full. See :meth:`Limiter.acquire`."""
        if not self._queue and self._has_room():
            self._granted += 1
            sent = _Sent(self._in_flight + self._draining, self._granted)
            self._in_flight += 1
            return Slot(token=sent)
        started = self._clock()
        deadline = None if max_wait is None else started + max(max_wait, 0.0)
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._queue.append(turn)
        if len(self._queue) == 1:
            turn.set_result(None)
        try:
            if not await wait_or_timeout(turn, self._remaining(deadline), self._sleep):
                raise TimeoutError
            while not self._has_room():
                wait = self._drain_wait()
                if wait is not None:
                    remaining = self._remaining(deadline)
                    if remaining is not None and wait > remaining:
                        raise TimeoutError  # a drain never speeds up: it cannot be in time
                    await self._sleep(wait)
                    continue
                if self._answer is None or self._answer.done():
                    self._answer = loop.create_future()
                if not await wait_or_timeout(self._answer, self._remaining(deadline), self._sleep):
                    raise TimeoutError
            self._granted += 1
            sent = _Sent(self._in_flight + self._draining, self._granted)
            self._in_flight += 1
            return Slot(waited=self._clock() - started, token=sent)
        finally:
            self._leave(turn)

    async def release(self, slot: Slot) -> None:
        """The request's answer is back: it now drains like the portal's copy of it."""
        if self._in_flight <= 0:
            msg = "release() called more often than acquire()"
            raise RuntimeError(msg)
        self._draining = self._drain() + 1.0
        self._in_flight -= 1
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(None)

    async def saturate(self) -> None:
        """The portal's bucket is full, so this one fills up too: everyone waits a drain."""
        self._draining = max(self._drain(), self.capacity - self._in_flight)

    async def refused(self, slot: Slot) -> None:
        """The portal refused the request sent with ``slot``: fill up, and learn from it
        (a capacity or drain estimate that was too high comes down; see :func:`learn`)."""
        sent = slot.token
        if isinstance(sent, _Sent):
            capacity, drain_rate = learn(
                self.capacity,
                self.drain_rate,
                plan=(self.plan_capacity, self.plan_drain_rate),
                sent_level=sent.level,
                repeated=self._learned_at is not None and sent.number > self._learned_at,
            )
            if (capacity, drain_rate) != (self.capacity, self.drain_rate):
                self._drain()  # what drained so far drained at the old rate
                logger.warning(
                    "QUERY_LIMIT_EXCEEDED below the assumed bucket (%d, %g/s): "
                    "pacing at (%d, %g/s) from now on",
                    self.capacity,
                    self.drain_rate,
                    capacity,
                    drain_rate,
                )
                self.capacity, self.drain_rate = capacity, drain_rate
        self._learned_at = self._granted
        await self.saturate()

    # --------------------------------------------------------------- helpers
    def _remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else deadline - self._clock()

    def _leave(self, turn: asyncio.Future[None]) -> None:
        was_head = bool(self._queue) and self._queue[0] is turn
        with contextlib.suppress(ValueError):
            self._queue.remove(turn)
        turn.cancel()  # a no-op once resolved; stops a late set_result on a leaver
        if was_head and self._queue and not self._queue[0].done():
            self._queue[0].set_result(None)

    def __repr__(self) -> str:
        return (
            f"LeakyBucket(capacity={self.capacity}, drain_rate={self.drain_rate}, "
            f"in_flight={self._in_flight}, waiting={len(self._queue)})"
        )


async def wait_or_timeout(future: asyncio.Future[None], limit: float | None, sleep: Sleep) -> bool:
    """Wait for ``future`` at most ``limit`` seconds of ``sleep``'s time; True if it resolved.

    The future itself is never cancelled here, so others may keep waiting on it.
    """
    if future.done():
        return True
    if limit is None:
        await asyncio.shield(future)
        return True
    if limit <= 0:
        return False
    timer = asyncio.ensure_future(sleep(limit))
    try:
        await asyncio.wait({future, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    return future.done()
