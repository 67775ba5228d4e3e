"""Capped exponential backoff with full jitter.

After the ``n``-th failure (``n`` from 1) a retry waits a random time in
``[0, min(cap, base * 2 ** (n - 1)))``. "Full jitter" spreads coroutines that failed
together over the whole interval, so they do not come back together and collide
again (AWS Architecture Blog, "Exponential Backoff And Jitter").

The random source is a plain ``() -> float in [0, 1)`` callable so a test can pin it:

    Backoff(base=0.5, cap=30).delay(3, random=lambda: 0.5)  # == 1.0
"""

from __future__ import annotations

import math

import attrs

from .._types import Random

__all__ = ["Backoff"]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and not isinstance(value, bool)):
        msg = f"{attribute.name} must be a number of seconds, not {type(value).__name__}"
        raise TypeError(msg)
    if not (value > 0 and math.isfinite(value)):
        msg = f"{attribute.name} must be a finite number of seconds > 0, not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Backoff:
    """How long to wait before a retry: ``random() * min(cap, base * 2 ** (failures - 1))``."""

    base: float = attrs.field(default=0.5, validator=_positive)
    """Seconds the first retry waits at most."""
    cap: float = attrs.field(default=30.0, validator=_positive)
    """No retry waits longer than this many seconds."""

    def ceiling(self, failures: int) -> float:
        """The longest wait after ``failures`` consecutive failures (1 for the first)."""
        exponent = min(max(failures - 1, 0), 64)  # 2**64 * base is past any cap
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, failures: int, *, random: Random) -> float:
        """A fully jittered wait after ``failures`` failures, drawn from ``random``."""
        return random() * self.ceiling(failures)
