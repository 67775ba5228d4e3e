"""The portal's plan, and what ``QUERY_LIMIT_EXCEEDED`` teaches when the plan is wrong.

Bitrix24 (``limits.md``) sizes every portal's leaky bucket by its plan: Enterprise
portals hold 250 requests draining at 5 per second, every other plan 50 at 2 per
second. :class:`Plan` names those sizes; ``Plan.AUTO`` (the client's default) asks
the portal: an app reads ``app.info`` once (``LICENSE_FAMILY`` ``ent`` is
Enterprise), a webhook, which may not call ``app.info``, paces as Standard.

A bucket that was told the wrong size learns from the portal's refusals
(:func:`learn`), whatever the plan:

- **Refused with room left** (the client's copy held at least two fewer requests
  than its capacity when the refused one was sent): the portal's bucket is smaller.
  The capacity estimate drops to what the portal had admitted, the level the
  request was sent at.
- **Refused again at the drain** (a request sent after the previous refusal, at the
  edge of the bucket): the portal drains slower than assumed. The drain estimate
  drops by :data:`DRAIN_CUT` (30 %), so a client told Enterprise (5 per second) on
  a Standard portal (2) is there after three such refusals.

Neither estimate drops below Standard's (50, 2 per second; or the bucket's own
size, if it was made smaller): no cloud plan is smaller, so a refusal below that
means others share the portal's bucket (other apps on the same server), which a
full bucket and a back-off already answer. Estimates only go down, for the life of
the bucket: a new client starts from the plan again. Requests already in flight
when a refusal is learned from do not count again (they were sent on the old
estimate).
"""

from __future__ import annotations

import enum
import math
from typing import Final

__all__ = ["DRAIN_CUT", "Plan", "concrete_plan", "learn"]

DRAIN_CUT: Final = 0.7
"""A repeated refusal at the drain multiplies the drain estimate by this."""

# Float drift in drain arithmetic must not make a level look a whole request lower.
_EPSILON: Final = 1e-6


class Plan(enum.Enum):
    """The portal's plan, which sizes its leaky bucket.

    ``STANDARD``: 50 requests draining at 2 per second (every plan but Enterprise);
    ``ENTERPRISE``: 250 draining at 5 per second. ``AUTO`` (the client's default)
    finds out: ``app.info`` for app credentials, Standard for webhooks; until it
    knows, it paces as Standard (``Plan.AUTO.capacity`` is Standard's).
    """

    AUTO = "auto"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"

    @property
    def capacity(self) -> int:
        """Requests the bucket holds."""
        return 250 if self is Plan.ENTERPRISE else 50

    @property
    def drain_rate(self) -> float:
        """Requests per second the bucket drains."""
        return 5.0 if self is Plan.ENTERPRISE else 2.0


def concrete_plan(plan: object) -> Plan:
    """``plan`` if it is a plan with known sizes; ``Plan.AUTO`` and other values raise."""
    if not isinstance(plan, Plan):
        msg = f"plan must be a Plan, not {type(plan).__name__}"
        raise TypeError(msg)
    if plan is Plan.AUTO:
        msg = (
            "Plan.AUTO is found out by a Client (app.info); "
            "size a bucket with Plan.STANDARD or Plan.ENTERPRISE"
        )
        raise ValueError(msg)
    return plan


def learn(
    capacity: int,
    drain_rate: float,
    *,
    plan: tuple[int, float],
    sent_level: float,
    repeated: bool,
) -> tuple[int, float]:
    """The bucket's new ``(capacity, drain_rate)`` after the portal refused a request.

    ``plan``: the ``(capacity, drain_rate)`` the bucket was made with;
    ``sent_level``: the client's level when the refused request was sent (not
    counting it); ``repeated``: it was sent after an earlier refusal had been
    learned from. See the module docs.
    """
    least_capacity = min(plan[0], Plan.STANDARD.capacity)
    least_drain = min(plan[1], Plan.STANDARD.drain_rate)
    if sent_level + 2 <= capacity + _EPSILON:
        return max(least_capacity, math.ceil(sent_level - _EPSILON), 1), drain_rate
    if repeated:
        return capacity, max(drain_rate * DRAIN_CUT, least_drain)
    return capacity, drain_rate
