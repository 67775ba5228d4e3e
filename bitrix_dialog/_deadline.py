"""The overall time budget of one call: limiter waits, requests and backoff sleeps included.

A :class:`Deadline` is made when a call starts and consulted before every wait: a wait
that cannot end in time fails at once with :class:`DeadlineExceededError` (a
``RequestTimeoutError``) instead of sleeping first, and each request's timeouts are
cut to the time left.
"""

from __future__ import annotations

import math

from ._errors import BitrixError, DeadlineExceededError
from ._types import Clock

__all__ = ["Deadline", "check_deadline_seconds"]


def check_deadline_seconds(name: str, value: object) -> float | None:
    """Validate a ``deadline=`` argument: ``None`` or a number of seconds > 0 (``inf`` allowed)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds or None, not {type(value).__name__}"
        raise TypeError(msg)
    if math.isnan(value) or value <= 0:
        msg = f"{name} must be > 0 seconds (math.inf for none), not {value!r}"
        raise ValueError(msg)
    return float(value)


class Deadline:
    """``seconds`` from now on ``clock``; ``None`` or ``inf`` means no deadline."""

    def __init__(self, seconds: float | None, clock: Clock) -> None:
        self.seconds = None if seconds is None or math.isinf(seconds) else seconds
        self._clock = clock
        self._at = None if self.seconds is None else clock() + self.seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a deadline."""
        if self._at is None:
            return None
        return max(self._at - self._clock(), 0.0)

    def expired(self) -> bool:
        """True once no time is left."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def fits(self, wait: float) -> bool:
        """True if a wait of ``wait`` seconds ends before the deadline."""
        remaining = self.remaining()
        return remaining is None or wait < remaining

    def exceeded(
        self, method: str, doing: str, cause: BitrixError | None = None
    ) -> DeadlineExceededError:
        """The error for running out of time while ``doing`` (e.g. "waiting for the limiter")."""
        msg = f"the call's deadline of {self.seconds:g} s leaves no time for {doing}"
        if cause is not None:
            msg += f" (last error: {cause.code or type(cause).__name__})"
        error = DeadlineExceededError(msg, method=method)
        error.__cause__ = cause
        return error

    def __repr__(self) -> str:
        return f"Deadline(seconds={self.seconds!r}, remaining={self.remaining()!r})"
