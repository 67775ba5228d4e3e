"""``user.admin``: whether the calling user is an administrator of the portal.

EN ``api-reference/common/users/user-admin.md``: scope ``basic``, any user may call
it, no parameters, ``result`` is ``true`` for an administrator (in the cloud: a user
who may change the portal's settings) and ``false`` for anyone else; no errors of
its own. The fake answers from :attr:`FakePortal.admin_user_ids` (default: user 1),
for webhooks and OAuth tokens alike, since each acts for one user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._portal import CallContext

__all__ = ["user_admin"]


async def user_admin(context: CallContext) -> bool:
    """``true`` when the caller's user is in ``portal.admin_user_ids``."""
    return context.caller.user_id in context.portal.admin_user_ids
