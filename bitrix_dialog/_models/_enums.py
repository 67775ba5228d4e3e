"""The documented values of the dialog payload's coded fields.

Portals add values without notice (a new chat ``type``, a new ``role``), so every field
typed with one of these enums is ``Enum | str``: a documented value arrives as the enum
member, an unknown one as the plain string the portal sent. Both compare equal to the
wire string, because the enums are ``StrEnum``::

    if dialog.type == ChatType.OPEN_LINES: ...
    if dialog.type == "lines": ...          # the same test
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ChatType", "MessageType", "Role"]


class ChatType(StrEnum):
    """The chat's ``type`` (``im.dialog.get``) / ``type`` (``imbot.v2``).

    Classic methods derive it from the entity type (camelCased) or the message type;
    ``imbot.v2`` uses its own names (``openChannel``, ``generalChannel``, ...).
    """

    PRIVATE = "private"
    CHAT = "chat"
    OPEN = "open"
    OPEN_LINES = "lines"
    CRM = "crm"
    WORKGROUP = "sonetGroup"
    GENERAL = "general"
    CALL = "call"
    CHANNEL = "channel"
    OPEN_CHANNEL = "openChannel"
    GENERAL_CHANNEL = "generalChannel"
    COPILOT = "copilot"
    THREAD = "thread"


class MessageType(StrEnum):
    """The one-letter ``message_type`` / ``messageType`` (``Bitrix\\Im\\V2\\Chat::IM_TYPE_*``)."""

    PRIVATE = "P"
    CHAT = "C"
    OPEN = "O"
    OPEN_LINE = "L"
    COMMENTS = "T"
    SYSTEM = "S"
    CHANNEL = "N"


class Role(StrEnum):
    """A role in a chat: the caller's ``role``, and the minimum role in ``permissions``."""

    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"
    GUEST = "guest"
    NONE = "none"
