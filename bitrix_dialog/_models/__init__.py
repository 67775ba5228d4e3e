"""Typed results of the dialog methods: :class:`Dialog` and the objects inside it."""

from __future__ import annotations

from ._dialog import Dialog
from ._enums import ChatType, MessageType, Role
from ._nested import (
    EntityLink,
    LastMessageViews,
    Permissions,
    PublicLink,
    Reader,
    Restrictions,
    Viewer,
)
from ._v2 import V2Bot, V2Command, V2Message, V2User

__all__ = [
    "ChatType",
    "Dialog",
    "EntityLink",
    "LastMessageViews",
    "MessageType",
    "Permissions",
    "PublicLink",
    "Reader",
    "Restrictions",
    "Role",
    "V2Bot",
    "V2Command",
    "V2Message",
    "V2User",
    "Viewer",
]
