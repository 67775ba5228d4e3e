"""Chats held by the fake portal, and how each payload generation renders them.

A :class:`FakeChat` stores one chat in the portal's current (rich, snake_case) terms;
:func:`render_dialog` turns it into the JSON a given portal generation sends:

- ``"rich"``: the 2026 docs shape of ``im.dialog.get`` / ``imbot.dialog.get``;
- ``"legacy"``: the flat 2017 shape (``id``/``owner`` as strings, ``title``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

__all__ = ["FakeChat", "PayloadStyle", "render_dialog"]

PayloadStyle = Literal["rich", "legacy"]

_DEFAULT_RESTRICTIONS: Mapping[str, bool] = {
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
_DEFAULT_PERMISSIONS: Mapping[str, str] = {
    "manage_users_add": "member",
    "manage_users_delete": "manager",
    "manage_ui": "member",
    "manage_settings": "owner",
    "manage_messages": "member",
    "can_post": "member",
}


@attrs.define(kw_only=True)
class FakeChat:
    """A chat seeded into the fake portal. Defaults follow the official example payload."""

    id: int
    name: str = "New Chat Name"
    description: str | None = ""
    owner: int = 1
    type: str = "chat"
    message_type: str = "C"
    color: str = "#f76187"
    avatar: str = ""
    extranet: bool = False
    parent_chat_id: int = 0
    parent_message_id: int = 0
    entity_type: str = "CHAT"
    entity_id: str = ""
    entity_data_1: str = ""
    entity_data_2: str = ""
    entity_data_3: str = ""
    date_create: datetime = attrs.field(
        factory=lambda: datetime.fromisoformat("2026-02-24T13:19:39+02:00")
    )
    members: frozenset[int] | None = None
    """Users who may read the chat; ``None`` lets every user in."""
    managers: tuple[int, ...] = ()
    message_count: int = 0
    last_message_id: int = 0
    role: str = "member"
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Further keys sent as they are (e.g. a field a future portal adds)."""

    def readable_by(self, user_id: int) -> bool:
        """True when ``user_id`` may read this chat."""
        return self.members is None or user_id in self.members

    @property
    def dialog_id(self) -> str:
        """The ``chatNNN`` dialog id of this chat."""
        return f"chat{self.id}"


def render_dialog(chat: FakeChat, style: PayloadStyle, *, dialog_id: str | None) -> dict[str, Any]:
    """The ``result`` of ``im.dialog.get`` for ``chat`` in the given generation."""
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
        payload.update(chat.extra)
        return payload
    payload = {
        "id": chat.id,
        "parent_chat_id": chat.parent_chat_id,
        "parent_message_id": chat.parent_message_id,
        "name": chat.name,
        "description": chat.description,
        "owner": chat.owner,
        "extranet": chat.extranet,
        "avatar": chat.avatar,
        "color": chat.color,
        "type": chat.type,
        "counter": 0,
        "user_counter": len(chat.members) if chat.members is not None else 0,
        "message_count": chat.message_count,
        "unread_id": 0,
        "restrictions": dict(_DEFAULT_RESTRICTIONS),
        "last_message_id": chat.last_message_id,
        "last_id": chat.last_message_id,
        "marked_id": 0,
        "disk_folder_id": 0,
        "entity_type": chat.entity_type,
        "entity_id": chat.entity_id,
        "entity_data_1": chat.entity_data_1,
        "entity_data_2": chat.entity_data_2,
        "entity_data_3": chat.entity_data_3,
        "mute_list": [],
        "date_create": chat.date_create.isoformat(),
        "message_type": chat.message_type,
        "public": "",
        "role": chat.role,
        "entity_link": {"type": chat.entity_type, "url": "", "id": chat.entity_id},
        "text_field_enabled": True,
        "background_id": None,
        "permissions": dict(_DEFAULT_PERMISSIONS),
        "is_new": False,
        "readed_list": [],
        "manager_list": list(chat.managers),
        "last_message_views": {
            "message_id": chat.last_message_id,
            "first_viewers": [],
            "count_of_viewers": 0,
        },
        "dialog_id": dialog_id,
    }
    payload.update(chat.extra)
    return payload
