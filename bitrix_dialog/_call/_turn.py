"""An attempt's turn to send: the operating budgets of what it bills, then a bucket slot.

Both waits come before the auth is asked for credentials (a token fetched before a
long wait could expire in it), and both are cut to the call's one :class:`Deadline`:
a wait that cannot end in time raises at once, caused by the call's last failure.
Each wait is reported to the hooks (``on_limiter_wait``) with its kind.

    limiter, slot = await take_turn(method, billed, deadline, cause, operating=...,
                                    limiters=..., identity=auth.identity, hooks=...)
    try: ...send...
    finally: await limiter.release(slot)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._deadline import Deadline
from .._errors import BitrixError
from .._pacing._limiter import Limiter, Slot
from .._pacing._operating import OperatingTracker
from .._pacing._pool import LimiterPool
from ._hooks import Hooks, LimiterWaitEvent
from ._observe import report_waits

__all__ = ["operating_turn", "take_turn"]


async def operating_turn(
    operating: OperatingTracker,
    hooks: Hooks,
    methods: Iterable[str],
    deadline: Deadline,
    cause: BitrixError | None,
) -> None:
    """Wait for the operating budget of each of ``methods``; report the waits to the hooks."""
    waited = await operating.wait_turns(methods, deadline, cause=cause)
    if waited:
        await report_waits(hooks, waited)


async def take_turn(
    method: str,
    billed: Sequence[str],
    deadline: Deadline,
    cause: BitrixError | None,
    *,
    operating: OperatingTracker,
    limiters: LimiterPool,
    identity: str,
    hooks: Hooks,
) -> tuple[Limiter, Slot]:
    """Wait for the billed methods' operating budgets, then for a bucket slot (release it)."""
    if deadline.expired():
        raise deadline.exceeded(method, "another attempt", cause)
    free = operating.free
    for billed_method in billed:  # in the common case no waiting coroutine is made
        if not free(billed_method):
            await operating_turn(operating, hooks, billed, deadline, cause)
            break
    try:
        limiter = await limiters.ready(identity, max_wait=deadline.remaining())
    except TimeoutError:
        raise deadline.exceeded(method, "the portal's plan (app.info)", cause) from cause
    try:
        slot = await limiter.acquire(max_wait=deadline.remaining())
    except TimeoutError:
        raise deadline.exceeded(method, "a slot in the rate limiter", cause) from cause
    if slot.waited > 0:
        try:
            await hooks.limiter_wait(
                LimiterWaitEvent(method=method, kind="bucket", waited=slot.waited)
            )
        except BaseException:
            await limiter.release(slot)
            raise
    return limiter, slot
