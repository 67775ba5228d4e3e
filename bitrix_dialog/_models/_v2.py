"""The objects ``imbot.v2`` events carry besides the chat: the bot, a message, a user, a command.

They follow the docs' entities page (EN ``api-reference/chat-bots/chat-bots-v2/entities.md``)
and are read by the same converter as :class:`~bitrix_dialog.Dialog`, in camelCase. Both
delivery modes give equal values: ``imbot.v2.Event.get`` sends JSON types, webhook posts
send every scalar as a string (``"1"``/``"0"`` for booleans, ``""`` for null, ``"0"`` for a
``false`` in a ``string|false`` field), and an empty object is simply absent from a post,
so empty objects read as ``None`` in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["V2Bot", "V2Command", "V2Message", "V2User"]


@attrs.frozen(kw_only=True)
class V2Bot:
    """The bot an event is for (wire ``bot``).

    ``imbot.v2.Event.get`` sends the full object (as ``imbot.v2.Bot.get``); a webhook post
    only ``id`` and ``code`` (its ``auth`` tokens are on the event, not here).
    """

    id: int
    """``id``: the bot's user id."""
    code: str | None = None
    """``code``: the code given at registration."""
    type: str | None = None
    """``type``: ``bot``, ``personal``, ``supervisor``, ``openline`` ..."""
    is_hidden: bool | None = None
    """``isHidden``."""
    is_support_openline: bool | None = None
    """``isSupportOpenline``."""
    is_reactions_enabled: bool | None = None
    """``isReactionsEnabled``."""
    background_id: int | str | None = None
    """``backgroundId``: a background name such as ``azure``, or ``None``."""
    language: str | None = None
    """``language``."""
    module_id: str | None = None
    """``moduleId``: ``rest`` for bots registered through the REST API."""
    event_mode: str | None = None
    """``eventMode``: ``fetch`` or ``webhook``."""
    count_message: int | None = None
    """``countMessage``."""
    count_command: int | None = None
    """``countCommand``."""
    count_chat: int | None = None
    """``countChat``."""
    count_user: int | None = None
    """``countUser``."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class V2Message:
    """A message (wire ``message``)."""

    id: int
    """``id``."""
    chat_id: int | None = None
    """``chatId``."""
    author_id: int | None = None
    """``authorId``: ``0`` for system messages."""
    date: datetime | None = None
    """``date``: when it was written."""
    text: str | None = None
    """``text``: at most 20,000 characters (longer ones end in `` (...)``); ``None`` if empty."""
    is_system: bool | None = None
    """``isSystem``."""
    uuid: str | None = None
    """``uuid``: the sender's deduplication id, ``None`` if empty."""
    forward: Mapping[str, Any] | None = None
    """``forward``: ``{id, userId, chatId, date}`` of a forwarded message, as sent."""
    params: Mapping[str, Any] | None = None
    """``params``: attachments, keyboard, files ..., as sent; ``None`` when empty."""
    viewed_by_others: bool | None = None
    """``viewedByOthers``."""
    unread: bool | None = None
    """``unread`` (method answers only)."""
    viewed: bool | None = None
    """``viewed`` (method answers only)."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class V2User:
    """A user (wire ``user``). Events leave out ``network``, ``botData``, ``avatarHr``."""

    id: int
    """``id``."""
    active: bool | None = None
    """``active``."""
    name: str | None = None
    """``name``: the full name."""
    first_name: str | None = None
    """``firstName``."""
    last_name: str | None = None
    """``lastName``."""
    work_position: str | None = None
    """``workPosition``."""
    color: str | None = None
    """``color``: the avatar placeholder colour (``#df532d``)."""
    avatar: str | None = None
    """``avatar``: the avatar URL, ``None`` if none."""
    gender: str | None = None
    """``gender``: ``M`` or ``F``."""
    birthday: str | None = None
    """``birthday``, as sent; ``None`` if not given."""
    extranet: bool | None = None
    """``extranet``."""
    bot: bool | None = None
    """``bot``."""
    connector: bool | None = None
    """``connector``: an open-lines connector user."""
    external_auth_id: str | None = None
    """``externalAuthId``: ``default``, ``bot``, ``email``, ``replica`` ..."""
    status: str | None = None
    """``status``: ``online``, ``dnd`` ..."""
    idle: datetime | None = None
    """``idle``: since when the user is idle, ``None`` for ``false``."""
    last_activity_date: datetime | None = None
    """``lastActivityDate``, ``None`` for ``false`` (always, in events)."""
    mobile_last_date: datetime | None = None
    """``mobileLastDate``, ``None`` for ``false``."""
    desktop_last_date: datetime | None = None
    """``desktopLastDate``, ``None`` for ``false``."""
    absent: datetime | None = None
    """``absent``: since when the user is away, ``None`` for ``false``."""
    departments: tuple[int, ...] | None = None
    """``departments``: department ids."""
    phones: Mapping[str, Any] | None = None
    """``phones``: ``personalPhone``, ``workPhone`` ..., as sent; ``None`` for ``false``."""
    type: str | None = None
    """``type``: ``employee``, ``extranet``, ``email``, ``collaber``, ``bot``."""
    website: str | None = None
    """``website``."""
    email: str | None = None
    """``email``."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""


@attrs.frozen(kw_only=True)
class V2Command:
    """A slash command a user invoked (wire ``command`` of ``ONIMBOTV2COMMANDADD``)."""

    id: int
    """``id``: the registered command's id."""
    command: str | None = None
    """``command``: as typed, e.g. ``/help``."""
    params: str | None = None
    """``params``: the text after the command."""
    context: str | None = None
    """``context``: ``textarea``, ``keyboard`` or ``menu``."""
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    """Keys this SDK does not know yet, as sent."""
