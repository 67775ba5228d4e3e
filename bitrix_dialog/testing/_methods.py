"""The fake portal's REST methods, modelled on the server's own handlers.

``im.dialog.get`` and ``imbot.dialog.get`` share one handler on the real portal
(``CIMRestService::dialogGet``): keys are upper-cased, ``DIALOG_ID`` must match
``^([0-9]+|(chat|sg|crm)[0-9]+)$`` case-insensitively, access is checked, then the
chat is rendered and ``dialog_id`` echoes the id as passed.
``imopenlines.dialog.get`` lives in :mod:`._openlines`, ``imbot.v2.Chat.get`` in :mod:`._bots`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from ._app import app_info
from ._batch import batch
from ._bots import v2_chat_get
from ._chats import FakeChat
from ._errors import PortalError
from ._imbot import imbot_message_add, imbot_register
from ._openlines import openlines_dialog_get
from ._render import render_dialog
from ._users import user_admin

if TYPE_CHECKING:
    from ._portal import CallContext, FakePortal

__all__ = ["find_chat", "register_builtin_methods"]

_DIALOG_ID: Final = re.compile(r"^([0-9]+|(chat|sg|crm)[0-9]+)$", re.IGNORECASE)


def find_chat(portal: FakePortal, dialog_id: str, user_id: int) -> FakeChat | None:
    """Resolve a dialog id the way ``Dialog::getChatId`` does, or ``None``."""
    lowered = dialog_id.lower()
    if lowered.startswith("chat"):
        return portal.chats.get(int(lowered[4:]))
    for prefix, entity in (("sg", "SONET_GROUP"), ("crm", "CRM")):
        if lowered.startswith(prefix):
            wanted = lowered[len(prefix) :]
            return next(
                (
                    c
                    for c in portal.chats.values()
                    if c.entity_type == entity and c.entity_id == wanted
                ),
                None,
            )
    other = int(lowered)
    return next(
        (
            c
            for c in portal.chats.values()
            if c.message_type == "P" and c.members is not None and {user_id, other} <= c.members
        ),
        None,
    )


async def dialog_get(context: CallContext) -> Any:
    """``im.dialog.get`` / ``imbot.dialog.get``."""
    raw = context.param("DIALOG_ID")
    dialog_id = "" if raw is None else str(raw)
    if not _DIALOG_ID.match(dialog_id):
        raise PortalError("DIALOG_ID_EMPTY", "Dialog ID can't be empty")
    chat = find_chat(context.portal, dialog_id, context.caller.user_id)
    if chat is None:
        raise PortalError("ACCESS_ERROR", "You don't have access to this chat", status=400)
    if not chat.readable_by(context.caller.user_id):
        raise PortalError("ACCESS_ERROR", "You do not have access to the specified dialog")
    return render_dialog(
        chat,
        context.portal.payload_style,
        dialog_id=dialog_id,
        viewer_id=context.caller.user_id,
        domain=context.portal.domain,
    )


def register_builtin_methods(portal: FakePortal) -> None:
    """Install the methods every fake portal serves."""
    portal.register_method("im.dialog.get", dialog_get)
    portal.register_method("imbot.dialog.get", dialog_get)
    portal.register_method("batch", batch)
    portal.register_method("app.info", app_info)
    portal.register_method("imopenlines.dialog.get", openlines_dialog_get)
    portal.register_method("imbot.v2.Chat.get", v2_chat_get, case_sensitive=True)
    portal.register_method("imbot.register", imbot_register)
    portal.register_method("imbot.message.add", imbot_message_add)
    portal.register_method("user.admin", user_admin)
