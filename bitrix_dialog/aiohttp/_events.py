"""Typed Bitrix24 events: what an event post says, as frozen values.

Bitrix24 posts every event as an ``application/x-www-form-urlencoded`` PHP form,
every scalar a string (``"Y"``/``"N"``, ``"1"``/``"0"``, ``""`` for null)::

    event=ONIMBOTMESSAGEADD&event_handler_id=403&ts=1771928985
    &data[PARAMS][MESSAGE]=Hello&data[PARAMS][DIALOG_ID]=chat1157&...
    &data[BOT][567][access_token]=...&auth[member_id]=...&auth[application_token]=...

:func:`~._parse.parse_event` turns the parsed form into one of the classes below; an event
without a class of its own becomes a :class:`RawEvent`. Every event keeps the whole
``data`` mapping as sent, so a field a portal adds is never lost. Field docstrings
name the wire keys (EN ``api-reference/chat-bots/outdated/messages/events/
on-imbot-message-add.md``, ``.../chats/events/on-imbot-join-chat.md``,
``.../events/on-imbot-delete.md``, ``api-reference/common/events/on-app-install.md``,
``on-app-update.md``, ``on-app-uninstall.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from .._auth import EventAuth
from .._models import MessageType
from ._wire import field, flag, integer, mapping, text

__all__ = [
    "AppInstallEvent",
    "AppUninstallEvent",
    "AppUpdateEvent",
    "BitrixEvent",
    "BotDeleteEvent",
    "BotJoinChatEvent",
    "BotMessageEvent",
    "EventBot",
    "EventUser",
    "RawEvent",
]


# ------------------------------------------------------------------ parts
@attrs.frozen(kw_only=True)
class EventUser:
    """The person behind a bot event (wire ``data[USER]``)."""

    id: int
    """``ID``."""
    name: str | None = None
    """``NAME``: the full name."""
    first_name: str | None = None
    last_name: str | None = None
    work_position: str | None = None
    gender: str | None = None
    """``M`` or ``F``."""
    is_bot: bool | None = None
    is_connector: bool | None = None
    """``IS_CONNECTOR``: an open-line client writing through a connector."""
    is_network: bool | None = None
    is_extranet: bool | None = None

    @classmethod
    def parse(cls, block: Mapping[str, Any]) -> EventUser | None:
        user_id = field(block, "ID", integer, "data[USER]")
        if not user_id:
            return None  # "may be an empty object if ID = 0"

        def string(key: str) -> str | None:
            return field(block, key, text, "data[USER]")

        def yes(key: str) -> bool | None:
            return field(block, key, flag, "data[USER]")

        return cls(
            id=user_id,
            name=string("NAME"),
            first_name=string("FIRST_NAME"),
            last_name=string("LAST_NAME"),
            work_position=string("WORK_POSITION"),
            gender=string("GENDER"),
            is_bot=yes("IS_BOT"),
            is_connector=yes("IS_CONNECTOR"),
            is_network=yes("IS_NETWORK"),
            is_extranet=yes("IS_EXTRANET"),
        )


@attrs.frozen(kw_only=True)
class EventBot:
    """One bot an event is addressed to (wire ``data[BOT][<BOT_ID>]``), with its tokens.

    ``auth`` is the bot's own OAuth pair as the portal sent it (``repr`` masks the
    secrets). Like everything in a post, trust it only once the post is verified.
    """

    bot_id: int
    """``BOT_ID`` (the key of ``data[BOT]``)."""
    bot_code: str | None = None
    """``BOT_CODE``: the ``CODE`` given to ``imbot.register``."""
    client_id: str | None = None
    """``client_id``: the app that registered the bot."""
    auth: EventAuth
    """The bot's ``access_token``, ``refresh_token``, ``member_id`` ... as an :class:`EventAuth`."""

    @classmethod
    def parse_all(cls, block: Mapping[str, Any]) -> tuple[EventBot, ...]:
        bots = []
        for key, value in block.items():
            where = f"data[BOT][{key}]"
            item = field({"BOT": value}, "BOT", mapping, where)
            bot_id = field(item, "BOT_ID", integer, where)
            if bot_id is None:  # the key is the bot id too
                bot_id = field({"BOT_ID": key}, "BOT_ID", integer, where)
            if bot_id is None:
                msg = f"{where}: no BOT_ID"
                raise ValueError(msg)
            try:
                auth = EventAuth.from_auth_block(item)
            except ValueError as exc:
                msg = f"{where}: {exc}"
                raise ValueError(msg) from None
            bots.append(
                cls(
                    bot_id=bot_id,
                    bot_code=field(item, "BOT_CODE", text, where),
                    client_id=field(item, "client_id", text, where),
                    auth=auth,
                )
            )
        return tuple(bots)


# ------------------------------------------------------------------ events
@attrs.frozen(kw_only=True)
class BitrixEvent:
    """What every event post carries. Subclasses add the typed fields of one event."""

    NAME: ClassVar[str] = ""
    """The event code this class is parsed from (``""`` for :class:`RawEvent`)."""

    event: str
    """The event code as sent, upper-cased (``ONIMBOTMESSAGEADD``)."""
    event_handler_id: int | None = None
    """``event_handler_id``: which ``event.bind`` registration fired."""
    ts: datetime | None = None
    """``ts``: when the event left the portal's queue (UTC)."""
    auth: EventAuth
    """The post's ``auth`` block; already checked against the stored application token."""
    data: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """The whole ``data`` block as sent: every key, typed or not, is here."""

    @property
    def member_id(self) -> str:
        """The portal that sent the event (``auth[member_id]``)."""
        return self.auth.member_id or ""


@attrs.frozen(kw_only=True)
class RawEvent(BitrixEvent):
    """An event with no class of its own (``ONCRMDEALUPDATE``, ``ONIMBOTV2MESSAGEADD``...):
    everything it says is in :attr:`data`."""


@attrs.frozen(kw_only=True)
class _BotEvent(BitrixEvent):
    bots: tuple[EventBot, ...] = ()
    """``data[BOT]``: the app's bots the event is for, each with its own tokens."""
    bot_id: int | None = None
    """The (first) bot the event is for."""
    dialog_id: str = ""
    """``DIALOG_ID``: answer here (``chat1157``, or the user id in a private chat)."""
    chat_type: MessageType | str | None = None
    """``CHAT_TYPE``: ``P`` private, ``C`` group, ``O`` open, ``L`` open line ..."""
    message_type: MessageType | str | None = None
    """``MESSAGE_TYPE``: the same letters."""
    chat_author_id: int | None = None
    """``CHAT_AUTHOR_ID``: the group chat's owner (absent in private chats)."""
    chat_entity_type: str | None = None
    """``CHAT_ENTITY_TYPE`` (``LINES``, ``THREAD``, ``CRM`` ...), group chats only."""
    chat_entity_id: str | None = None
    """``CHAT_ENTITY_ID``, group chats only."""
    from_user_id: int | None = None
    """``FROM_USER_ID``."""
    to_user_id: int | None = None
    """``TO_USER_ID``."""
    language: str | None = None
    """``LANGUAGE``: the portal's default language."""
    user: EventUser | None = None
    """``data[USER]``, or None when the portal sent none (``ID = 0``)."""
    params: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """``data[PARAMS]`` as sent."""

    @property
    def is_private(self) -> bool:
        """True in a one-to-one dialog with the bot."""
        return self.message_type == MessageType.PRIVATE


@attrs.frozen(kw_only=True)
class BotMessageEvent(_BotEvent):
    """``ONIMBOTMESSAGEADD``: someone wrote to the bot (in a group chat: mentioned it).

    >>> @events.on(BotMessageEvent)                          # doctest: +SKIP
    ... async def answer(event: BotMessageEvent, client: Client, request: web.Request) -> None:
    ...     await client.call("imbot.message.add", {
    ...         "BOT_ID": event.bot_id, "DIALOG_ID": event.dialog_id, "MESSAGE": "Hi"})
    """

    NAME: ClassVar[str] = "ONIMBOTMESSAGEADD"

    message_id: int | None = None
    """``MESSAGE_ID``."""
    message: str = ""
    """``MESSAGE``: the text (in group chats with the bot mention removed)."""
    message_original: str | None = None
    """``MESSAGE_ORIGINAL``: the text with BB codes, group chats only."""
    chat_id: int | None = None
    """``TO_CHAT_ID`` (``CHAT_ID`` in group chats): the chat's numeric id."""
    chat_title: str | None = None
    """``CHAT_TITLE``, group chats only."""
    author_id: int | None = None
    """``AUTHOR_ID``."""
    system: bool | None = None
    """``SYSTEM``: a system message."""
    mentioned_ids: frozenset[int] = frozenset()
    """``MENTIONED_LIST``: users and bots mentioned in the message."""
    command_context: str | None = None
    """``COMMAND_CONTEXT`` (``TEXTAREA`` ...)."""
    platform_context: str | None = None
    """``PLATFORM_CONTEXT`` (``web``, ``mobile`` ...)."""


@attrs.frozen(kw_only=True)
class BotJoinChatEvent(_BotEvent):
    """``ONIMBOTJOINCHAT``: the bot was added to a chat or a private dialog was opened."""

    NAME: ClassVar[str] = "ONIMBOTJOINCHAT"

    chat_id: int | None = None
    """``CHAT_ID``, group chats only."""
    user_id: int | None = None
    """``USER_ID``: who added the bot."""
    access_history: bool | None = None
    """``ACCESS_HISTORY``: the bot may read the chat's history (group chats)."""
    silent_join: bool | None = None
    """``SILENT_JOIN``: added without a system message (Copilot chats)."""


@attrs.frozen(kw_only=True)
class BotDeleteEvent(BitrixEvent):
    """``ONIMBOTDELETE``: the bot was deleted."""

    NAME: ClassVar[str] = "ONIMBOTDELETE"

    bot_id: int
    """``data[BOT_ID]``."""
    bot_code: str | None = None
    """``data[BOT_CODE]``."""


@attrs.frozen(kw_only=True)
class AppInstallEvent(BitrixEvent):
    """``ONAPPINSTALL``: the app was installed; ``auth`` carries its first tokens and the
    ``application_token`` every later event is checked against."""

    NAME: ClassVar[str] = "ONAPPINSTALL"

    version: str | None = None
    """``VERSION`` of the installed app."""
    active: bool | None = None
    """``ACTIVE``."""
    installed: bool | None = None
    """``INSTALLED``: False while the installation is not finished."""
    language_id: str | None = None
    """``LANGUAGE_ID``."""


@attrs.frozen(kw_only=True)
class AppUpdateEvent(BitrixEvent):
    """``ONAPPUPDATE``: a new version was installed; it may bring a new application token."""

    NAME: ClassVar[str] = "ONAPPUPDATE"

    version: str | None = None
    """``VERSION``: the version now installed."""
    previous_version: str | None = None
    """``PREVIOUS_VERSION``."""
    language_id: str | None = None
    """``LANGUAGE_ID``."""


@attrs.frozen(kw_only=True)
class AppUninstallEvent(BitrixEvent):
    """``ONAPPUNINSTALL``: the app was removed; its tokens no longer work."""

    NAME: ClassVar[str] = "ONAPPUNINSTALL"

    language_id: str | None = None
    """``LANGUAGE_ID``."""
    clean: bool | None = None
    """``CLEAN``: the user asked to delete the app's data."""
