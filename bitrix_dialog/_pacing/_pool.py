"""The client's limiters: one bucket per set of credentials, sized by the portal's plan.

The portal meters an application, not a coroutine, so every call a client makes
with the same credentials (``Auth.identity``) shares one bucket. A :class:`Limiter`
passed in is used as it is, which is how several clients share one.

With ``Plan.AUTO`` (the default) the bucket starts at Standard's size, and the pool
asks the portal once per identity, through a ``probe`` the executor gives it (one
``app.info`` call, see ``_call/_plan_probe``), when the plan first matters: when a
request finds only one slot left in the bucket. Below that, every plan admits a
request at once, so a client that never comes near 50 requests at a time never
sends ``app.info``. The probe takes that last slot; the requests after it wait for
its answer, and the bucket takes the plan's size (an Enterprise portal's 250 let
them all go at once). Without a probe (webhooks, which may not call ``app.info``)
the bucket stays Standard.

    pool = LimiterPool(Plan.AUTO, probe=read_plan)
    limiter = await pool.ready(auth.identity)       # before each request
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from .._types import Clock, Sleep
from ._limiter import LeakyBucket, Limiter, wait_or_timeout
from ._plan import Plan

__all__ = ["LimiterPool", "PlanProbe"]

logger: Final = logging.getLogger("bitrix_dialog")

PlanProbe = Callable[[], Awaitable[Plan]]
"""Finds the portal's plan out (``Plan.STANDARD`` or ``Plan.ENTERPRISE``); never raises."""

# Set inside a probe: its own request must not wait for itself.
_PROBING: Final = contextvars.ContextVar("bitrix_dialog_plan_probe", default=False)


class LimiterPool:
    """The client's limiters: one per credential identity, or one given limiter for all."""

    def __init__(
        self,
        limiter: Limiter | Plan | None = None,
        *,
        probe: PlanProbe | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if limiter is not None and not isinstance(limiter, Plan | Limiter):
            msg = f"limiter must be a Limiter or a Plan, not {type(limiter).__name__}"
            raise TypeError(msg)
        self._shared = limiter if isinstance(limiter, Limiter) else None
        self.plan = limiter if isinstance(limiter, Plan) else Plan.AUTO
        """The plan the buckets were told (``Plan.AUTO``: find it out)."""
        self._probe = probe if self.plan is Plan.AUTO and self._shared is None else None
        self._clock = clock
        self._sleep = sleep
        self._by_identity: dict[str, LeakyBucket] = {}
        self._found: dict[str, Plan] = {}
        self._probes: dict[str, asyncio.Task[None]] = {}

    def for_identity(self, identity: str) -> Limiter:
        """The limiter for calls made with the credentials named ``identity``."""
        if self._shared is not None:
            return self._shared
        bucket = self._by_identity.get(identity)
        if bucket is None:
            told = self.plan if self.plan is not Plan.AUTO else Plan.STANDARD
            bucket = LeakyBucket.for_plan(told, clock=self._clock, sleep=self._sleep)
            self._by_identity[identity] = bucket
        return bucket

    def plan_for(self, identity: str) -> Plan:
        """The plan ``identity``'s bucket is sized by: the one told, or the one found out
        (``Plan.AUTO`` while that is not known yet, or for a limiter given as it is;
        Standard when there is no probe)."""
        if self.plan is not Plan.AUTO or self._shared is not None:
            return self.plan
        if self._probe is None:
            return Plan.STANDARD
        return self._found.get(identity, Plan.AUTO)

    async def ready(self, identity: str, *, max_wait: float | None = None) -> Limiter:
        """The limiter for ``identity``, once its plan matters and is known.

        Waits at most ``max_wait`` seconds for the probe; raises the builtin
        :class:`TimeoutError` if it has not answered by then.
        """
        limiter = self.for_identity(identity)
        if self._probe is None or identity in self._found or _PROBING.get():
            return limiter
        task = self._probes.get(identity)
        if task is None:
            bucket = self._by_identity[identity]
            if bucket.level + 2 <= bucket.capacity:
                return limiter  # room to spare: every plan would admit this request now
            task = asyncio.ensure_future(self._find_out(identity, self._probe))
            self._probes[identity] = task
        if not await wait_or_timeout(task, max_wait, self._sleep or asyncio.sleep):
            raise TimeoutError
        return limiter

    async def _find_out(self, identity: str, probe: PlanProbe) -> None:
        _PROBING.set(True)
        try:
            plan = await probe()
        except Exception as exc:  # a probe must never fail the calls waiting on it
            logger.warning(
                "finding the portal's plan failed (%s): pacing as Standard (50, 2/s)",
                type(exc).__name__,
            )
            plan = Plan.STANDARD
        finally:
            del self._probes[identity]
        self._found[identity] = plan
        self._by_identity[identity].use_plan(plan)

    async def aclose(self) -> None:
        """Stop the probes still running (the client is closing)."""
        probes = list(self._probes.values())
        for task in probes:
            task.cancel()
        if probes:
            await asyncio.wait(probes)
