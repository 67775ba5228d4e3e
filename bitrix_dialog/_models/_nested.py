"""The small objects inside a dialog: restrictions, permissions, readers, views, links.

Each is frozen and slotted, every field optional (portals omit what they do not know),
and each keeps the keys it does not know in ``extra``. Field docstrings name the wire
key as sent by the classic methods (snake_case) and by ``imbot.v2`` (camelCase).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._enums import Role

__all__ = [
    "EntityLink",
    "LastMessageViews",
    "Permissions",
    "PublicLink",
    "Reader",
    "Restrictions",
    "Viewer",
]


@attrs.frozen(kw_only=True)
class Restrictions:
    """What may be done in the chat (wire ``restrictions``; rich and open-lines payloads only).

    Each flag is ``True`` when the action is allowed. ``path``/``path_title`` come only
    for chats bound to a workgroup, task, calendar event or CRM item.
    """

    avatar: bool | None = None
    """``avatar``: the avatar may be changed."""
    rename: bool | None = None
    """``rename``: the chat may be renamed."""
    extend: bool | None = None
    """``extend``: members may be added."""
    call: bool | None = None
    """``call``: calls may be started."""
    mute: bool | None = None
    """``mute``: notifications may be muted."""
    leave: bool | None = None
    """``leave``: members may leave."""
    leave_owner: bool | None = None
    """``leave_owner``: the owner may leave."""
    send: bool | None = None
    """``send``: messages may be sent."""
    user_list: bool | None = None
    """``user_list``: the member list may be viewed."""
    path: str | None = None
    """``path``: the portal path of the bound object (``/workgroups/group/#ID#/``)."""
    path_title: str | None = None
    """``path_title``: the caption for ``path``."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys of ``restrictions`` this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class Permissions:
    """The minimum role for each action (wire ``permissions``).

    Values are :class:`Role` members (``member``, ``manager``, ``owner``, ``none``) or,
    for a role this SDK does not know, the string sent.
    """

    manage_users_add: Role | str | None = None
    """``manage_users_add`` / ``manageUsersAdd``: who may add members."""
    manage_users_delete: Role | str | None = None
    """``manage_users_delete`` / ``manageUsersDelete``: who may remove members."""
    manage_ui: Role | str | None = None
    """``manage_ui`` / ``manageUi``: who may change the look of the chat."""
    manage_settings: Role | str | None = None
    """``manage_settings`` / ``manageSettings``: who may change settings."""
    manage_messages: Role | str | None = None
    """``manage_messages`` / ``manageMessages``: who may manage messages."""
    manage_messages_auto_delete: Role | str | None = None
    """``manageMessagesAutoDelete`` (``imbot.v2``): who may set message auto-deletion."""
    manage_guest_invites: Role | str | None = None
    """``manageGuestInvites`` (``imbot.v2``): who may invite guests."""
    manage_delete: Role | str | None = None
    """``manageDelete`` (``imbot.v2``): who may delete the chat."""
    can_post: Role | str | None = None
    """``can_post`` / ``canPost``: who may post."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys of ``permissions`` this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class Reader:
    """How far one member has read (an item of wire ``readed_list``)."""

    user_id: int | None = None
    """``user_id``: the member."""
    user_name: str | None = None
    """``user_name``: the member's display name."""
    message_id: int | None = None
    """``message_id``: the last message the member read (0: none)."""
    date: datetime | None = None
    """``date``: when it was read; ``None`` when the portal does not say."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class Viewer:
    """One of the first viewers of the last message (item of ``first_viewers``)."""

    user_id: int | None = None
    """``user_id`` / ``userId``: the viewer."""
    user_name: str | None = None
    """``user_name`` / ``userName``: the viewer's display name."""
    date: datetime | None = None
    """``date``: when the message was viewed."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class LastMessageViews:
    """Who has seen the last message (wire ``last_message_views`` / ``lastMessageViews``).

    The portal sends an object, ``[]`` when the chat has no messages (decoded as ``None``
    on the dialog) or, in ``imbot.v2``, the same object as a JSON string.
    """

    message_id: int | None = None
    """``message_id`` / ``messageId``: the message the counts are for."""
    first_viewers: tuple[Viewer, ...] = ()
    """``first_viewers`` / ``firstViewers``: up to two earliest viewers."""
    count_of_viewers: int | None = None
    """``count_of_viewers`` / ``countOfViewers``: how many others viewed it."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class EntityLink:
    """The object the chat is bound to (wire ``entity_link`` / ``entityLink``)."""

    type: str | None = None
    """``type``: the bound object's kind (``DEAL``, ``SONET_GROUP``, ``LINES``...)."""
    url: str | None = None
    """``url``: its page on the portal (relative), ``None`` when it has none."""
    id: str | None = None
    """``id``: its id (``DEAL|1663``, ``121``); sent since 2026."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class PublicLink:
    """The chat's public alias (wire ``public``), sent only for chats that have one."""

    code: str | None = None
    """``code``: the alias code."""
    link: str | None = None
    """``link``: the public URL."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""
