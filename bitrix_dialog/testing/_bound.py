"""How fast a leaky bucket lets N requests through, at best.

A bucket of ``capacity`` draining ``drain_rate`` per second admits at most
``capacity + drain_rate * t`` requests in ``t`` seconds, so ``n`` requests need at
least ``(n - capacity) / drain_rate`` seconds. Benchmarks and tests report a run's
time as a ratio to that minimum (1.0 is perfect; the issue asks for at most 1.10):

    bound = BucketBound(requests=2000, capacity=50, drain_rate=2.0)
    print(bound.describe(elapsed))  # "2000 requests in 975.2 s; minimum 975.0 s; ratio 1.000"
"""

from __future__ import annotations

import math

import attrs

from .._pacing._plan import Plan, concrete_plan

__all__ = ["BucketBound"]


@attrs.frozen(kw_only=True)
class BucketBound:
    """The physical minimum time for ``requests`` through a leaky bucket."""

    requests: int
    capacity: int
    drain_rate: float

    @classmethod
    def for_plan(cls, requests: int, plan: Plan) -> BucketBound:
        """The bound for ``requests`` on a portal of ``plan``."""
        plan = concrete_plan(plan)
        return cls(requests=requests, capacity=plan.capacity, drain_rate=plan.drain_rate)

    @property
    def minimum(self) -> float:
        """Seconds the bucket needs at least: ``max(0, requests - capacity) / drain_rate``."""
        return max(self.requests - self.capacity, 0) / self.drain_rate

    def ratio(self, elapsed: float) -> float:
        """``elapsed / minimum`` (1.0 when both are 0, ``inf`` if only the minimum is)."""
        if self.minimum == 0:
            return 1.0 if elapsed <= 0 else math.inf
        return elapsed / self.minimum

    def describe(self, elapsed: float) -> str:
        """One line for a report: the run, the minimum and their ratio."""
        return (
            f"{self.requests} requests in {elapsed:.1f} s; minimum {self.minimum:.1f} s "
            f"(bucket {self.capacity} + {self.drain_rate:g}/s); ratio {self.ratio(elapsed):.3f}"
        )
