"""Each method's execution-time ("operating") budget, tracked from the portal's answers.

Bitrix24 cloud portals add up, per method and per app or webhook, the seconds the
method spent executing over the last ten minutes (ten one-minute baskets). Every
answer reports that sum as ``time.operating`` and when the oldest basket drops out
as ``time.operating_reset_at`` (Unix time). Past the limit (480 s per 600 s in the
docs' example) the portal refuses *that method only* with HTTP 429
``OPERATION_TIME_LIMIT``; other methods keep working.

:class:`OperatingTracker` keeps the last report per method and, before each call:

- below ``slow_down_at`` of the budget: lets it go at once;
- above it: spaces calls of that method so it spends no more than
  ``limit / window`` seconds of execution per second (a call of cost ``c`` starts
  ``c * window / limit`` seconds after the previous one; ``c`` is learned from
  ``time.processing``);
- when the next call would cross the budget, or after an ``OPERATION_TIME_LIMIT``:
  holds the method until ``operating_reset_at``, bounded by the call's deadline; if
  it is still refused then, one more basket (60 s), as the docs advise. An
  ``OPERATION_TIME_LIMIT`` for a method no answer has told a reset time of is
  raised at once: the client cannot know how long the wait would be.

``operating_reset_at`` is turned into a local wait using the same answer's ``finish``
time, so the client's and the portal's clocks need not agree. Portals that omit the
fields (self-hosted, some ``imbot.v2`` answers) are simply not paced.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Final

import attrs

from .._deadline import Deadline
from .._errors import BitrixError
from .._types import Clock, Sleep
from .._wire._envelope import Time

__all__ = ["OperatingBudget", "OperatingTracker", "OperatingUsage"]

logger: Final = logging.getLogger("bitrix_dialog")

_COST_WEIGHT: Final = 0.3  # weight of the newest cost sample in the moving average


def _fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        msg = f"{attribute.name} must be in (0, 1], not {value!r}"
        raise ValueError(msg)


def _seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        msg = f"{attribute.name} must be a finite number of seconds > 0, not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class OperatingBudget:
    """The per-method execution-time budget the client paces against."""

    limit: float = attrs.field(default=480.0, validator=_seconds)
    """Execution seconds a method may use per window (the docs' cloud example: 480)."""
    window: float = attrs.field(default=600.0, validator=_seconds)
    """The accounting window in seconds (ten one-minute baskets)."""
    slow_down_at: float = attrs.field(default=0.8, validator=_fraction)
    """Start spacing a method's calls once it has used this fraction of ``limit``."""

    @property
    def basket(self) -> float:
        """A tenth of the window: how long a block lasts when the reset time is unknown."""
        return self.window / 10


@attrs.frozen(kw_only=True)
class OperatingUsage:
    """How much of its budget a method has used, as of the last answer."""

    method: str
    used: float | None
    """Execution seconds in the current window (``None``: the portal did not say)."""
    limit: float
    """The budget in seconds."""
    resets_in: float | None
    """Seconds until the oldest minute of the window drops out, if known."""
    blocked_for: float
    """Seconds the method is still held back after ``OPERATION_TIME_LIMIT`` (0 if not)."""

    @property
    def fraction(self) -> float | None:
        """``used / limit`` (``None`` when unknown)."""
        return None if self.used is None else self.used / self.limit


@attrs.define
class _MethodState:
    used: float | None = None
    reset_at: float | None = None  # on the local clock
    cost: float | None = None
    blocked_until: float | None = None
    next_start: float = -math.inf


class OperatingTracker:
    """Per-method operating state for one set of credentials (see the module docs)."""

    def __init__(self, budget: OperatingBudget, *, clock: Clock, sleep: Sleep) -> None:
        self.budget = budget
        self._clock = clock
        self._sleep = sleep
        self._methods: dict[str, _MethodState] = {}

    def _state(self, method: str) -> _MethodState:
        key = method.lower()
        state = self._methods.get(key)
        if state is None:
            state = self._methods[key] = _MethodState()
        return state

    def observe(self, method: str, time: Time | None) -> None:
        """Learn from a successful answer's ``time`` block (absent fields are fine)."""
        if time is None:
            return
        state = self._state(method)
        now = self._clock()
        if time.operating is not None:
            state.used = time.operating
        answered_at = time.finish if time.finish is not None else time.start
        if time.operating_reset_at is not None and answered_at is not None:
            state.reset_at = now + max(time.operating_reset_at - answered_at, 0.0)
        sample = time.processing if time.processing is not None else time.duration
        if sample is not None and sample >= 0:
            state.cost = (
                sample
                if state.cost is None
                else (1 - _COST_WEIGHT) * state.cost + _COST_WEIGHT * sample
            )
        if state.blocked_until is not None and state.blocked_until <= now:
            state.blocked_until = None

    def block(self, method: str) -> float | None:
        """The portal said ``OPERATION_TIME_LIMIT``: hold ``method`` until its reset.

        Returns the hold in seconds, or ``None`` (no hold) when no answer ever told
        this method's reset time.
        """
        state = self._state(method)
        now = self._clock()
        if state.reset_at is None:
            return None
        if state.reset_at > now:
            until = state.reset_at
        else:
            until = now + self.budget.basket  # still blocked: the next basket to drop out
            state.reset_at = until
        state.blocked_until = max(state.blocked_until or now, until)
        state.used = max(state.used or 0.0, self.budget.limit)
        held = state.blocked_until - now
        logger.debug("%s hit OPERATION_TIME_LIMIT: held for %s s", method, held)
        return held

    def free(self, method: str) -> bool:
        """True when ``method`` may go at once for all that is known: far from its budget
        and not held. The common case, decided without reading the clock, so that a call
        checks it before making any waiting coroutine."""
        state = self._methods.get(method.lower())
        return state is None or (
            state.blocked_until is None
            and (state.used is None or state.used < self.budget.slow_down_at * self.budget.limit)
            and (state.used or 0.0) + (state.cost or 0.0) < self.budget.limit
        )

    def delay(self, method: str) -> tuple[float, str]:
        """Seconds ``method`` must wait before its next call, and why ("" when none)."""
        if self.free(method):
            return 0.0, ""
        state = self._methods[method.lower()]
        now = self._clock()
        if state.blocked_until is not None and state.blocked_until > now:
            return state.blocked_until - now, "OPERATION_TIME_LIMIT"
        if state.used is None:
            return 0.0, ""
        cost = state.cost or 0.0
        budget = self.budget
        if (
            state.used + cost >= budget.limit
            and state.reset_at is not None
            and state.reset_at > now
        ):
            return state.reset_at - now, "the budget would run out"
        if state.used >= budget.slow_down_at * budget.limit and cost > 0:
            start = max(now, state.next_start)
            state.next_start = start + cost * budget.window / budget.limit
            return start - now, "pacing near the budget"
        return 0.0, ""

    async def wait_turns(
        self, methods: Iterable[str], deadline: Deadline, *, cause: BitrixError | None = None
    ) -> dict[str, float] | None:
        """Sleep until every method in ``methods`` may be called; the seconds waited by method.

        One request may bill several methods: the portal charges a ``batch`` to each
        nested command's own method (the outer ``batch`` costs nothing), so a batch takes
        each of those methods' turns exactly as single calls of them would. ``None``
        when nothing was waited for (the common case, decided without a clock read).

        Raises :class:`DeadlineExceededError` (caused by ``cause``, the call's last
        failure) at once if a wait would outlast ``deadline``.
        """
        waited: dict[str, float] | None = None
        for method in methods:
            wait, why = self.delay(method)
            if wait <= 0:
                continue
            if not deadline.fits(wait):
                raise deadline.exceeded(
                    method, f"{wait:.1f} s of operating-limit wait ({why})", cause
                )
            await self._sleep(wait)
            if waited is None:
                waited = {}
            waited[method] = waited.get(method, 0.0) + wait
        return waited

    def learn(
        self, answered: Iterable[tuple[str, Time | None]], refused: Iterable[str]
    ) -> dict[str, float | None]:
        """Learn from one answer that billed several methods (a ``batch``).

        ``answered`` are ``(method, time)`` of the commands that ran, ``refused`` the
        methods of those refused with ``OPERATION_TIME_LIMIT``. The answered ones are
        read first: their ``operating_reset_at`` tells how long a method refused in the
        same answer has to wait. Returns each refused method's hold (see :meth:`block`),
        to become its errors' ``resume_in``.
        """
        for method, time in answered:
            self.observe(method, time)
        holds: dict[str, float | None] = {}
        for method in refused:
            if method not in holds:
                holds[method] = self.block(method)
        return holds

    def usage(self, method: str) -> OperatingUsage:
        """What is known of ``method``'s budget right now."""
        state = self._methods.get(method.lower(), _MethodState())
        now = self._clock()
        resets_in = None if state.reset_at is None else max(state.reset_at - now, 0.0)
        blocked = 0.0 if state.blocked_until is None else max(state.blocked_until - now, 0.0)
        return OperatingUsage(
            method=method,
            used=state.used,
            limit=self.budget.limit,
            resets_in=resets_in,
            blocked_for=blocked,
        )
