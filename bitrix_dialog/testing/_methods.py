"""The fake portal's REST methods, modelled on the server's own handlers.

``im.dialog.get`` and ``imbot.dialog.get`` share one handler on the real portal
(``CIMRestService::dialogGet``): keys are upper-cased, ``DIALOG_ID`` must match
``^([0-9]+|(chat|sg|crm)[0-9]+)$`` case-insensitively, access is checked, then the
chat is rendered and ``dialog_id`` echoes the id as passed.

``im.chat.get`` and ``imbot.chat.get`` share ``CIMRestService::chatGet``: with
``DIALOG_ID`` it answers as ``dialogGet``; with non-empty ``ENTITY_TYPE`` and
``ENTITY_ID`` it answers ``{"ID": <chat id>}`` for the chat linked to that pair, or
``null`` when none is; with neither, ``null``.

``imopenlines.dialog.get`` lives in :mod:`._openlines`, ``imbot.v2.Chat.get`` in :mod:`._bots`.
The typed methods are registered under their specs' names, so the fake serves exactly
what the SDK sends; names match case-insensitively, as on the portal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from .._methods import _chats, _dialogs, _events
from ._app import app_info
from ._batch import batch
from ._bots import v2_chat_get
from ._chats import FakeChat
from ._errors import PortalError
from ._event_queue import v2_event_get, v2_message_send
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


async def chat_get(context: CallContext) -> Any:
    """``im.chat.get`` / ``imbot.chat.get``."""
    if context.param("DIALOG_ID") is not None:
        return await dialog_get(context)
    entity_type = context.param("ENTITY_TYPE")
    entity_id = context.param("ENTITY_ID")
    if not entity_type or not entity_id:
        return None
    chat = next(
        (
            chat
            for chat in context.portal.chats.values()
            if chat.entity_type == str(entity_type) and chat.entity_id == str(entity_id)
        ),
        None,
    )
    return None if chat is None else {"ID": chat.id}


def register_builtin_methods(portal: FakePortal) -> None:
    """Install the methods every fake portal serves."""
    for spec, handler in (
        (_dialogs.IM_DIALOG_GET, dialog_get),
        (_dialogs.IMBOT_DIALOG_GET, dialog_get),
        (_dialogs.IMOPENLINES_DIALOG_GET, openlines_dialog_get),
        (_dialogs.IMBOT_V2_CHAT_GET, v2_chat_get),
        (_chats.IM_CHAT_GET, chat_get),
        (_chats.IMBOT_CHAT_GET, chat_get),
        (_events.IMBOT_V2_EVENT_GET, v2_event_get),
    ):
        portal.register_method(spec.name, handler)
    portal.register_method("batch", batch)
    portal.register_method("app.info", app_info)
    portal.register_method("imbot.register", imbot_register)
    portal.register_method("imbot.message.add", imbot_message_add)
    portal.register_method("imbot.v2.Chat.Message.send", v2_message_send)
    portal.register_method("user.admin", user_admin)
