"""The fake portal's resource limit: per-method execution time in ten one-minute baskets.

As documented (Bitrix24 ``limits.md``, "Resource Intensity Limits"): each call's
execution time is added to the current one-minute basket of *that method* for *that
app or webhook*; the sum over the last ten baskets is ``time.operating``; when the
oldest basket drops out is ``time.operating_reset_at``. While the sum is above the
limit, the next call of that method by that caller is refused with HTTP 429
``OPERATION_TIME_LIMIT``; other methods and other callers are unaffected.

The fake's methods run instantly, so how many seconds a call "executes" is set by
:attr:`OperatingModel.cost`:

    portal = FakePortal(operating=OperatingModel(cost={"im.dialog.get": 30.0}))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import attrs

from ._errors import PortalError

__all__ = ["OperatingMeter", "OperatingModel"]


@attrs.frozen(kw_only=True)
class OperatingModel:
    """How the fake portal meters method execution time."""

    limit: float = 480.0
    """Execution seconds a method may use per window before it is blocked."""
    window: float = 600.0
    """The accounting window in seconds (split into ten baskets)."""
    cost: float | Mapping[str, float] = 0.0
    """Seconds each call executes: one number for every method, or per method name."""
    report: bool = True
    """Send ``operating``/``operating_reset_at`` in ``time`` (False: a self-hosted portal)."""

    def cost_of(self, method: str) -> float:
        """The execution seconds one call of ``method`` is charged."""
        if isinstance(self.cost, Mapping):
            wanted = method.lower()
            for name, value in self.cost.items():
                if name.lower() == wanted:
                    return float(value)
            return 0.0
        return float(self.cost)


class OperatingMeter:
    """The baskets of every (caller, method) pair, on the portal's clock."""

    def __init__(self, model: OperatingModel, *, clock: Callable[[], float]) -> None:
        self.model = model
        self._clock = clock
        self._baskets: dict[tuple[str, str], dict[int, float]] = {}

    @property
    def _basket_seconds(self) -> float:
        return self.model.window / 10

    def _current(self, key: tuple[str, str]) -> tuple[dict[int, float], int]:
        index = math.floor(self._clock() / self._basket_seconds)
        baskets = self._baskets.setdefault(key, {})
        for old in [i for i in baskets if i <= index - 10]:
            del baskets[old]
        return baskets, index

    def used(self, caller: str, method: str) -> float:
        """Execution seconds ``method`` used for ``caller`` over the window."""
        return self.report(caller, method)[0]

    def reset_at(self, caller: str, method: str) -> int:
        """Unix time at which the oldest basket with time in it drops out."""
        return self.report(caller, method)[1]

    def report(self, caller: str, method: str) -> tuple[float, int]:
        """``(used, reset_at)``: what an answer's ``time`` block says about the budget."""
        if (caller, method.lower()) not in self._baskets:  # never charged: the common case
            index = math.floor(self._clock() / self._basket_seconds)
            return 0.0, math.ceil((index + 10) * self._basket_seconds)
        baskets, index = self._current((caller, method.lower()))
        oldest = min(baskets, default=index)
        return sum(baskets.values()), math.ceil((oldest + 10) * self._basket_seconds)

    def check(self, caller: str, method: str) -> None:
        """Refuse the call with ``OPERATION_TIME_LIMIT`` while the method is over its limit."""
        if self.used(caller, method) > self.model.limit:
            raise PortalError(
                "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", status=429
            )

    def charge(self, caller: str, method: str) -> float:
        """Add one call's execution time to the current basket; returns that time."""
        cost = self.model.cost_of(method)
        if cost > 0:
            baskets, index = self._current((caller, method.lower()))
            baskets[index] = baskets.get(index, 0.0) + cost
        return cost
