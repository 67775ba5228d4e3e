"""``Dialog``: one chat as any of the four dialog methods describes it.

Every method and every portal generation decodes into this one class, so code written
against it works whichever answered:

- legacy flat (``title``, ids as strings), 2020/2021 shapes, 2024 captures and the 2026
  "rich" shape of ``im.dialog.get`` / ``imbot.dialog.get`` / ``imopenlines.dialog.get``;
- the camelCase ``result.chat`` of ``imbot.v2.Chat.get``.

Only ``id`` is required. A field the answering portal did not send is ``None`` (or
``()``), so a rich-only field reads the same everywhere::

    if dialog.restrictions is not None and not dialog.restrictions.send:
        ...

Every key the portal sent is kept: in a typed field, or as sent in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._enums import ChatType, MessageType, Role
from ._nested import EntityLink, LastMessageViews, Permissions, PublicLink, Reader, Restrictions

__all__ = ["Dialog"]


@attrs.frozen(kw_only=True)
class Dialog:
    """A chat: the ``result`` of the dialog methods (``result.chat`` for ``imbot.v2``).

    Docstrings name the wire key (snake_case for the classic methods, camelCase for
    ``imbot.v2``). Unset values (``""``, ``null``) are ``None``; numeric strings are ints;
    dates are timezone-aware; ``"Y"``/``"N"`` flags are bools.
    """

    id: int
    """``id``: the chat id."""
    dialog_id: str | None = None
    """``dialog_id`` / ``dialogId``: the dialog id as the portal echoed it
    (``"chat29"``, ``"256"``); ``null`` in the 2020 open-lines shape."""
    name: str | None = None
    """``name`` (legacy ``title``): the chat name; ``None`` for private chats."""
    description: str | None = None
    """``description``: the chat description."""
    owner: int | None = None
    """``owner``: the owner's user id (``0``: no owner, e.g. a waiting open line)."""
    type: ChatType | str | None = None
    """``type``: the kind of chat (a :class:`ChatType`, or the string for a new kind)."""
    message_type: MessageType | str | None = None
    """``message_type`` / ``messageType``: the one-letter internal chat type."""
    role: Role | str | None = None
    """``role``: the caller's role (for ``imbot.v2``: the bot's role)."""
    color: str | None = None
    """``color``: the chat colour, ``#rrggbb``."""
    avatar: str | None = None
    """``avatar``: the avatar URL; ``None`` when no avatar is set."""
    extranet: bool | None = None
    """``extranet``: extranet users take part."""
    contains_collaber: bool | None = None
    """``containsCollaber`` (``imbot.v2``): collabers take part."""
    date_create: datetime | None = None
    """``date_create`` / ``dateCreate``: when the chat was created, in the portal's offset."""
    entity_type: str | None = None
    """``entity_type`` / ``entityType``: what the chat is bound to (``LINES``, ``CRM``...)."""
    entity_id: str | None = None
    """``entity_id`` / ``entityId``: the bound object's id; for open lines the user code
    ``connector|line|chat|user`` (e.g. ``livechat|1|1363|203``)."""
    entity_data_1: str | None = None
    """``entity_data_1`` / ``entityData1``: bound-object data (open lines: ``|``-packed
    session state)."""
    entity_data_2: str | None = None
    """``entity_data_2`` / ``entityData2``: bound-object data (open lines: CRM bindings)."""
    entity_data_3: str | None = None
    """``entity_data_3`` / ``entityData3``: bound-object data."""
    entity_link: EntityLink | None = None
    """``entity_link`` / ``entityLink``: the bound object's kind, URL and id."""
    parent_chat_id: int | None = None
    """``parent_chat_id`` / ``parentChatId``: the parent chat of a thread (``0``/``None``: none)."""
    parent_message_id: int | None = None
    """``parent_message_id`` / ``parentMessageId``: the message a thread hangs off."""
    counter: int | None = None
    """``counter``: the caller's unread count."""
    user_counter: int | None = None
    """``user_counter`` / ``userCounter``: the number of members."""
    guest_count: int | None = None
    """``guestCount`` (``imbot.v2``): the number of guests."""
    message_count: int | None = None
    """``message_count`` / ``messageCount``: the number of messages."""
    unread_id: int | None = None
    """``unread_id`` / ``unreadId``: the caller's first unread message."""
    last_message_id: int | None = None
    """``last_message_id`` / ``lastMessageId``: the newest message."""
    last_id: int | None = None
    """``last_id`` / ``lastId``: the last message the caller read."""
    marked_id: int | None = None
    """``marked_id`` / ``markedId``: the message the caller marked unread (``0``: none)."""
    disk_folder_id: int | None = None
    """``disk_folder_id`` / ``diskFolderId``: the Drive folder holding the chat's files."""
    muted_user_ids: tuple[int, ...] | None = None
    """``mute_list`` / ``muteList``: users who muted the chat (at most the caller)."""
    manager_ids: tuple[int, ...] | None = None
    """``manager_list`` / ``managerList``: the chat's managers (open lines: operators)."""
    readers: tuple[Reader, ...] | None = None
    """``readed_list``: how far each other member has read."""
    last_message_views: LastMessageViews | None = None
    """``last_message_views`` / ``lastMessageViews``: who saw the newest message; ``None``
    also when the portal sent ``[]`` (no messages) or ``"{}"``."""
    restrictions: Restrictions | None = None
    """``restrictions``: what may be done in the chat."""
    permissions: Permissions | None = None
    """``permissions``: the minimum role for each action."""
    public: PublicLink | None = None
    """``public``: the public alias; ``None`` when the portal sent ``""``."""
    text_field_enabled: bool | None = None
    """``text_field_enabled`` / ``textFieldEnabled`` (``true``/``false`` or ``"Y"``/``"N"``):
    the message input is enabled."""
    background_id: int | str | None = None
    """``background_id`` / ``backgroundId``: the chat background (an int id or a name such
    as ``"azure"``)."""
    is_new: bool | None = None
    """``is_new`` / ``isNew``: a newly created chat (open channels: under a day old)."""
    can_have_threads: bool | None = None
    """``canHaveThreads`` (``imbot.v2``): threads may be started."""
    has_manage_capability: bool | None = None
    """``hasManageCapability`` (``imbot.v2``): extended management access."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys of the chat object this SDK does not know yet (e.g. ``disappearing_time``), as sent."""
    result_extra: Mapping[str, Any] = attrs.field(factory=dict)
    """``imbot.v2`` only: the keys of ``result`` beside ``chat`` (``users``, ...), as sent."""
