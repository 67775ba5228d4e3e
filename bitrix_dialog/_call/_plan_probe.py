"""``Plan.AUTO`` for app credentials: one ``app.info`` call tells the portal's plan.

``app.info`` (``api-reference/common/system/app-info.md``) answers an app with its
portal's licence; ``LICENSE_FAMILY`` ``ent`` (``LICENSE_TYPE`` ``ent250`` ...
``ent10000``) is an Enterprise plan, whose bucket holds 250 requests draining at 5
per second; any other licence is Standard (50, 2 per second). A webhook may not call
it (``ACCESS_DENIED``: "Application context required"), so webhooks are never
probed. Whatever goes wrong (an error answer, no answer in time, an answer without
a licence) the client paces as Standard, the plan no portal is below, and logs why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from .._errors import BitrixError
from .._pacing._plan import Plan

if TYPE_CHECKING:
    from ._executor import Executor

__all__ = ["PROBE_DEADLINE", "plan_from_app_info", "read_plan"]

logger: Final = logging.getLogger("bitrix_dialog")

PROBE_DEADLINE: Final = 10.0
"""Seconds the ``app.info`` call may take, retries included, before Standard is assumed."""

_ENTERPRISE_FAMILY: Final = "ent"


def plan_from_app_info(result: object) -> Plan | None:
    """The plan an ``app.info`` result names, or ``None`` if it names no licence."""
    if not isinstance(result, Mapping):
        return None
    family = result.get("LICENSE_FAMILY")
    if not isinstance(family, str) or not family.strip():
        # Older answers may lack the family; the type is the family plus a user count.
        kind = result.get("LICENSE_TYPE")
        if not isinstance(kind, str) or not kind.strip():
            return None
        family = kind.strip().rstrip("0123456789")
    if family.strip().lower() == _ENTERPRISE_FAMILY:
        return Plan.ENTERPRISE
    return Plan.STANDARD


async def read_plan(executor: Executor) -> Plan:
    """Ask the portal for its plan with ``app.info``; Standard (logged) on any failure."""
    try:
        response = await executor.execute("app.info", {}, idempotent=True, deadline=PROBE_DEADLINE)
    except BitrixError as error:
        reason = error.code or type(error).__name__
        logger.warning(
            "app.info failed (%s): pacing %s as Standard (50, 2/s); "
            "pass limiter=Plan.ENTERPRISE if the portal is on Enterprise",
            reason,
            executor.auth.portal,
        )
        return Plan.STANDARD
    plan = plan_from_app_info(response.result)
    if plan is None:
        logger.warning(
            "app.info named no licence: pacing %s as Standard (50, 2/s)", executor.auth.portal
        )
        return Plan.STANDARD
    logger.info(
        "app.info: %s is on %s (%d requests, %g/s)",
        executor.auth.portal,
        plan.name.title(),
        plan.capacity,
        plan.drain_rate,
    )
    return plan
