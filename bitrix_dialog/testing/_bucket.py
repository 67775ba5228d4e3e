"""The fake portal's request-rate limit: Bitrix24's leaky bucket, as documented.

Every request adds one to a counter *when it arrives*; the counter drains at
``drain_rate`` per second; a request that would take the counter above
``capacity`` is refused with HTTP 503 ``QUERY_LIMIT_EXCEEDED`` and is not counted
(Bitrix24 ``limits.md``: 50 and 2 per second on most plans, 250 and 5 on
Enterprise). The bucket belongs to the portal, not to one app: every caller of the
fake shares it, as apps on one server share the real one.

    portal = FakePortal(bucket=Plan.STANDARD)      # or bucket=(10, 100.0)
    portal.bucket.level                             # the counter right now
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .._pacing._plan import Plan, concrete_plan

__all__ = ["BucketSpec", "PortalBucket"]

BucketSpec = Plan | tuple[int, float]
"""How a fake portal's bucket is given: a :class:`Plan` or ``(capacity, drain_rate)``."""

# A ten-thousandth of a request: Unix timestamps (~1.8e9) carry float rounding of
# ~2e-7 s, which a fast drain turns into a hair of a request. No real client can
# tell, and an exact client copy must not be refused for it.
_EPSILON: Final = 1e-4


class PortalBucket:
    """The portal's side of the leaky bucket (see the module docs)."""

    def __init__(self, capacity: int, drain_rate: float, *, clock: Callable[[], float]) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            msg = f"bucket capacity must be an int >= 1, not {capacity!r}"
            raise ValueError(msg)
        if not drain_rate > 0:
            msg = f"bucket drain_rate must be > 0, not {drain_rate!r}"
            raise ValueError(msg)
        self.capacity = capacity
        self.drain_rate = float(drain_rate)
        self._clock = clock
        self._level = 0.0
        self._updated: float | None = None

    @classmethod
    def from_spec(cls, spec: BucketSpec, *, clock: Callable[[], float]) -> PortalBucket:
        """A bucket from a :class:`Plan` or a ``(capacity, drain_rate)`` pair."""
        if isinstance(spec, Plan):
            plan = concrete_plan(spec)
            return cls(plan.capacity, plan.drain_rate, clock=clock)
        if isinstance(spec, tuple) and len(spec) == 2:
            return cls(spec[0], spec[1], clock=clock)
        msg = f"bucket must be a Plan or a (capacity, drain_rate) tuple, not {spec!r}"
        raise TypeError(msg)

    @property
    def level(self) -> float:
        """The counter now, after draining."""
        now = self._clock()
        if self._updated is not None:
            self._level = max(0.0, self._level - (now - self._updated) * self.drain_rate)
        self._updated = now
        return self._level

    def admit(self) -> bool:
        """A request arrives: count it and return True, or return False to refuse it."""
        level = self.level
        if level + 1 > self.capacity + _EPSILON:
            return False
        self._level = level + 1
        return True

    def __repr__(self) -> str:
        return f"PortalBucket(capacity={self.capacity}, drain_rate={self.drain_rate})"
