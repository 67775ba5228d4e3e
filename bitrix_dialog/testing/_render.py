"""How each portal generation writes a :class:`FakeChat` on the wire.

The classic methods (``im.dialog.get``, ``imbot.dialog.get``, ``imopenlines.dialog.get``)
share one serialiser on the server (``Im\\Chat::getById`` + ``Common::toJson``), so
:func:`render_dialog` serves all three; keys, order and types follow the documented
example or capture of each generation (see :data:`~._chats.PayloadStyle`).
``imbot.v2.Chat.get`` answers camelCase ``{"chat": ...}``: :func:`render_v2_result`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from ._chats import FakeChat, PayloadStyle

__all__ = ["render_dialog", "render_v2_result"]

_RESTRICTIONS: Final[Mapping[str, bool]] = {
    "avatar": True,
    "rename": True,
    "extend": True,
    "call": True,
    "mute": True,
    "leave": True,
    "leave_owner": True,
    "send": True,
    "user_list": True,
}
# Chats bound to a workgroup or a CRM item carry different defaults and a path
# (``CIMChat::GetChatOptions``; the 2026 docs examples of im.dialog.get / im.search.chat.list).
_ENTITY_RESTRICTIONS: Final[Mapping[str, Mapping[str, bool | str]]] = {
    "SONET_GROUP": {
        "avatar": False,
        "rename": False,
        "extend": False,
        "leave": False,
        "leave_owner": False,
        "path": "/workgroups/group/#ID#/",
        "path_title": "Go to group",
    },
    "CRM": {"avatar": False, "rename": False, "leave_owner": False, "path": "", "path_title": ""},
}
_PERMISSIONS: Final[Mapping[str, str]] = {
    "manage_users_add": "member",
    "manage_users_delete": "manager",
    "manage_ui": "member",
    "manage_settings": "owner",
    "manage_messages": "member",
    "can_post": "member",
}
# Newer imbot.v2 permissions (2026 docs), in camelCase.
_V2_EXTRA_PERMISSIONS: Final[Mapping[str, str]] = {
    "manageMessagesAutoDelete": "manager",
    "manageGuestInvites": "manager",
    "manageDelete": "member",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _restrictions(chat: FakeChat) -> dict[str, Any]:
    return {**_RESTRICTIONS, **_ENTITY_RESTRICTIONS.get(chat.entity_type, {})}


def _readers(chat: FakeChat, viewer_id: int) -> list[dict[str, Any]]:
    """Every other member and how far they read (the caller is left out, as on the server)."""
    if chat.members is None:
        return []
    return [
        {
            "user_id": user_id,
            "user_name": chat.user_name(user_id),
            "message_id": chat.last_message_id,
            "date": None,
        }
        for user_id in sorted(chat.members)
        if user_id != viewer_id
    ]


def _views(chat: FakeChat, *, camel: bool) -> dict[str, Any]:
    """``last_message_views``: at most two first viewers, and how many others saw it."""
    first = [
        {
            "userId" if camel else "user_id": user_id,
            "userName" if camel else "user_name": chat.user_name(user_id),
            "date": chat.date_create.isoformat(),
        }
        for user_id in chat.viewers[:2]
    ]
    return {
        "messageId" if camel else "message_id": chat.last_message_id,
        "firstViewers" if camel else "first_viewers": first,
        "countOfViewers" if camel else "count_of_viewers": max(0, len(chat.viewers) - 2),
    }


def _public(chat: FakeChat, domain: str) -> dict[str, str] | str:
    if chat.public_code is None:
        return ""
    return {"code": chat.public_code, "link": f"https://{domain}/online/{chat.public_code}"}


def render_dialog(
    chat: FakeChat,
    style: PayloadStyle,
    *,
    dialog_id: str | None,
    viewer_id: int = 1,
    domain: str = "portal.example.com",
) -> dict[str, Any]:
    """The ``result`` a classic dialog method returns for ``chat`` in ``style``.

    ``dialog_id`` is the echo the method adds; ``viewer_id`` the calling user (left out of
    ``readed_list``; sees themselves in ``mute_list`` when they muted the chat).
    """
    if style == "legacy":
        payload: dict[str, Any] = {
            "id": str(chat.id),
            "title": chat.name,
            "owner": str(chat.owner),
            "extranet": chat.extranet,
            "avatar": chat.avatar,
            "color": chat.color,
            "type": chat.type,
            "entity_type": chat.entity_type if chat.entity_type != "CHAT" else "",
            "entity_data_1": chat.entity_data_1,
            "entity_data_2": chat.entity_data_2,
            "entity_data_3": chat.entity_data_3,
            "date_create": chat.date_create.isoformat(),
            "message_type": chat.message_type,
        }
    elif style == "2020":
        payload = {
            "avatar": chat.avatar,
            "color": chat.color,
            "date_create": chat.date_create.isoformat(),
            "dialog_id": None,
            "entity_data_1": chat.entity_data_1,
            "entity_data_2": chat.entity_data_2,
            "entity_data_3": chat.entity_data_3,
            "entity_id": chat.entity_id,
            "entity_type": chat.entity_type,
            "extranet": chat.extranet,
            "id": chat.id,
            "manager_list": list(chat.managers),
            "message_type": chat.message_type,
            "name": chat.name,
            "owner": chat.owner,
            "type": chat.type,
        }
    else:
        payload = _modern(chat, style, dialog_id=dialog_id, viewer_id=viewer_id, domain=domain)
    payload.update(chat.extra)
    return payload


def _modern(
    chat: FakeChat, style: PayloadStyle, *, dialog_id: str | None, viewer_id: int, domain: str
) -> dict[str, Any]:
    """The 2021, 2024 and 2026 shapes: each a superset of most of the one before."""
    rich, since_2024 = style == "rich", style in ("2024", "rich")
    payload: dict[str, Any] = {"id": chat.id}
    if since_2024:
        payload["parent_chat_id"] = chat.parent_chat_id
        payload["parent_message_id"] = chat.parent_message_id
    payload["name"] = chat.name
    if since_2024:
        payload["description"] = chat.description
    payload.update(
        owner=chat.owner,
        extranet=chat.extranet,
        avatar=chat.avatar,
        color=chat.color,
        type=chat.type,
        counter=0,
        user_counter=len(chat.members) if chat.members is not None else 0,
        message_count=chat.message_count,
        unread_id=0,
    )
    if since_2024:
        payload["restrictions"] = _restrictions(chat)
    payload["last_message_id"] = chat.last_message_id
    if since_2024:
        payload["last_id"] = chat.last_message_id
        payload["marked_id"] = 0
    payload.update(
        disk_folder_id=0,
        entity_type=chat.entity_type,
        entity_id=chat.entity_id,
        entity_data_1=chat.entity_data_1,
        entity_data_2=chat.entity_data_2,
        entity_data_3=chat.entity_data_3,
        mute_list=[viewer_id] if viewer_id in chat.muted_by else [],
        date_create=chat.date_create.isoformat(),
        message_type=chat.message_type,
    )
    if style == "2024":
        payload["disappearing_time"] = 0
    payload["public"] = _public(chat, domain)
    if since_2024:
        payload["role"] = chat.role
        link = {"type": chat.entity_type, "url": ""}
        payload["entity_link"] = {**link, "id": chat.entity_id} if rich else link
    if rich:
        payload["text_field_enabled"] = chat.text_field_enabled
        payload["background_id"] = chat.background_id
    if since_2024:
        payload["permissions"] = dict(_PERMISSIONS)
        payload["is_new"] = False
    payload["readed_list"] = _readers(chat, viewer_id)
    payload["manager_list"] = list(chat.managers)
    if since_2024:
        empty = style == "2024" and chat.message_count == 0
        payload["last_message_views"] = [] if empty else _views(chat, camel=False)
    payload["dialog_id"] = dialog_id
    return payload


def _bot_user(bot_id: int, name: str) -> dict[str, Any]:
    """The ``users`` entry ``imbot.v2.Chat.get`` adds for the calling bot (2026 docs)."""
    return {
        "id": bot_id,
        "active": True,
        "name": name,
        "firstName": name,
        "lastName": "",
        "workPosition": "",
        "color": "#4ba984",
        "avatar": "",
        "gender": "M",
        "birthday": "",
        "extranet": False,
        "bot": True,
        "connector": False,
        "externalAuthId": "bot",
        "status": "online",
        "idle": False,
        "lastActivityDate": False,
        "mobileLastDate": False,
        "desktopLastDate": False,
        "absent": False,
        "departments": [],
        "phones": False,
        "type": "bot",
        "website": "",
        "email": "",
    }


def render_v2_result(
    chat: FakeChat,
    style: PayloadStyle,
    *,
    dialog_id: str,
    role: str,
    bot_id: int,
    bot_name: str,
    domain: str = "portal.example.com",
) -> dict[str, Any]:
    """The ``result`` of ``imbot.v2.Chat.get``: ``{"chat": {...}}`` in camelCase.

    ``"rich"`` portals answer as the current docs show (``textFieldEnabled`` a bool,
    ``lastMessageViews`` an object, a ``users`` list with the bot); older generations as
    the first revisions did (``textFieldEnabled`` ``"Y"``/``"N"``, ``lastMessageViews`` a
    JSON string).
    """
    rich = style == "rich"
    permissions = {_camel(key): value for key, value in _PERMISSIONS.items()}
    if rich:
        can_post = permissions.pop("canPost")
        permissions = {**permissions, **_V2_EXTRA_PERMISSIONS, "canPost": can_post}
    link = {"type": chat.entity_type, "url": ""}
    views = _views(chat, camel=True)
    flag = chat.text_field_enabled
    background = chat.background_id
    payload: dict[str, Any] = {
        "id": chat.id,
        "dialogId": dialog_id,
        "name": chat.name,
        "description": chat.description or "",
        "type": chat.type,
        "messageType": chat.message_type,
        "owner": chat.owner,
        "color": chat.color,
        "avatar": chat.avatar,
        "extranet": chat.extranet,
        "containsCollaber": False,
        "entityType": chat.entity_type,
        "entityId": chat.entity_id,
        "entityData1": chat.entity_data_1,
        "entityData2": chat.entity_data_2,
        "entityData3": chat.entity_data_3,
        "entityLink": {**link, "id": chat.entity_id} if rich else link,
        "diskFolderId": None,
        "role": role,
        "permissions": permissions,
    }
    if rich:
        payload["hasManageCapability"] = False
        payload["canHaveThreads"] = True
    payload.update(
        muteList=[bot_id] if bot_id in chat.muted_by else [],
        parentChatId=chat.parent_chat_id or None,
        parentMessageId=chat.parent_message_id or None,
        isNew=False,
        textFieldEnabled=flag if rich else ("Y" if flag else "N"),
        backgroundId=None if background is None else str(background),
        dateCreate=chat.date_create.isoformat(),
        lastMessageId=chat.last_message_id,
        lastMessageViews=views if rich else json.dumps(views if chat.message_count else {}),
        lastId=chat.last_message_id,
        managerList=list(chat.managers),
        markedId=0,
        messageCount=chat.message_count,
        public=_public(chat, domain),
        unreadId=0,
        userCounter=len(chat.members) if chat.members is not None else 0,
    )
    if rich:
        payload["guestCount"] = 0
    result: dict[str, Any] = {"chat": payload}
    if rich:
        result["users"] = [_bot_user(bot_id, bot_name)]
    return result
