"""Fetch-mode bots on the fake portal: a queue of events per bot, ``imbot.v2.Event.get``,
and ``imbot.v2.Chat.Message.send`` for their answers.

Modelled on EN ``api-reference/chat-bots/chat-bots-v2/imbot.v2/events/event-get.md``.
Tests put events in a bot's queue with ``portal.queue_event(bot_id, type, data)`` (any
type, typed JSON ``data``) or ``portal.queue_message(bot_id, chat_id, text)`` (an
``ONIMBOTV2MESSAGEADD`` shaped as the docs show). Event ids count up across the portal.

``imbot.v2.Event.get`` checks, in order:

- ``botId`` missing or not a number: ``BOT_ID_REQUIRED``; no such bot: ``BOT_NOT_FOUND``;
- a webhook call without ``botToken``: ``BOT_TOKEN_NOT_SPECIFIED``; with another token
  than the bot's: ``BOT_OWNERSHIP_ERROR``. An OAuth call for a bot registered by an app
  (``add_bot(..., client_id=...)``) must use a token issued to that app; for a bot
  without one, the user who registered it: ``BOT_OWNERSHIP_ERROR`` otherwise;
- ``withUserEvents``: an OAuth token without the ``im`` scope is ``SCOPE_ERROR``; a user
  not in ``portal.user_event_subscribers`` (``im.v2.Event.subscribe``) is
  ``USER_NOT_SUBSCRIBED``.

Then every event below ``offset`` is confirmed (removed; the offset never goes back), and
up to ``limit`` events from there are answered (default 100; the fake clamps a value
outside 1-1000 into that range), with ``nextOffset`` one past the last event answered
(the confirmed offset when none is) and ``hasMore``. User events (``ONIMV2*``, queued
with ``user_id``) are answered only with ``withUserEvents`` to that user, and are
confirmed with everything else below the offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._bots import QueuedEvent
from ._errors import PortalError
from ._imbot import FakeMessage
from ._render import render_v2_result

if TYPE_CHECKING:
    from ._bots import FakeBot
    from ._context import CallContext
    from ._portal import FakePortal

__all__ = ["QueuedEvent", "message_data", "queue_event", "v2_event_get", "v2_message_send"]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
_TRUE: Final = frozenset({"1", "true", "y", "yes"})
_PER_USER: Final = frozenset({"role", "muteList"})
"""What an event's ``chat`` leaves out of ``imbot.v2.Chat.get``'s (``events.md``)."""


def _error(code: str, description: str, status: int = 400) -> PortalError:
    return PortalError(code, description, status=status)


def _int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _owned(context: CallContext, bot: FakeBot) -> None:
    caller = context.caller
    if caller.kind == "webhook":
        token = context.params.get("botToken")
        if not token:
            raise _error(
                "BOT_TOKEN_NOT_SPECIFIED",
                "Bot token not specified (botToken is required for webhook auth)",
            )
        if str(token) != bot.token:
            raise _error("BOT_OWNERSHIP_ERROR", "Bot is registered by another application", 403)
        return
    if bot.client_id is not None:
        if caller.client_id != bot.client_id:
            raise _error("BOT_OWNERSHIP_ERROR", "Bot is registered by another application", 403)
    elif caller.user_id != bot.owner_user_id:
        raise _error("BOT_OWNERSHIP_ERROR", "Bot is registered by another application", 403)


def _bot(context: CallContext) -> FakeBot:
    """The bot ``botId`` names, if the caller may act as it."""
    bot_id = _int(context.params.get("botId")) or 0
    if bot_id <= 0:
        raise _error("BOT_ID_REQUIRED", "Bot ID is required")
    bot = context.portal.bots.get(bot_id)
    if bot is None:
        raise _error("BOT_NOT_FOUND", "Bot not found")
    _owned(context, bot)
    return bot


async def v2_event_get(context: CallContext) -> Any:
    """``imbot.v2.Event.get``."""
    portal = context.portal
    bot = _bot(context)
    with_user = _truthy(context.params.get("withUserEvents", False))
    if with_user:
        scope = context.caller.scope
        if scope is not None and "im" not in scope:
            raise _error("SCOPE_ERROR", "Scope error: withUserEvents needs the im scope", 403)
        if context.caller.user_id not in portal.user_event_subscribers:
            raise _error("USER_NOT_SUBSCRIBED", "User not subscribed")
    offset = _int(context.params.get("offset"))
    if offset is not None and offset > bot.confirmed_offset:
        bot.confirmed_offset = offset
    bot.queue[:] = [event for event in bot.queue if event.event_id >= bot.confirmed_offset]
    raw_limit = _int(context.params.get("limit"))
    limit = DEFAULT_LIMIT if raw_limit is None else min(max(raw_limit, 1), MAX_LIMIT)
    waiting = [
        event
        for event in bot.queue
        if event.user_id is None or (with_user and event.user_id == context.caller.user_id)
    ]
    page = waiting[:limit]
    return {
        "events": [event.item() for event in page],
        "nextOffset": page[-1].event_id + 1 if page else bot.confirmed_offset,
        "hasMore": len(waiting) > limit,
    }


def queue_event(
    portal: FakePortal,
    bot_id: int,
    event_id: int,
    kind: str,
    data: Mapping[str, Any] | None,
    *,
    when: str,
    user_id: int | None,
) -> QueuedEvent:
    """Append an event to bot ``bot_id``'s queue."""
    bot = portal.bots.get(bot_id)
    if bot is None:
        msg = f"queue_event: no bot {bot_id}; add it with add_bot first"
        raise ValueError(msg)
    event = QueuedEvent(
        event_id=event_id, type=kind.upper(), date=when, data=dict(data or {}), user_id=user_id
    )
    bot.queue.append(event)
    return event


def message_data(  # noqa: PLR0917 - portal.queue_message's arguments
    portal: FakePortal, bot_id: int, chat_id: int, text: str, author_id: int, date: str
) -> dict[str, Any]:
    """``data`` of an ``ONIMBOTV2MESSAGEADD`` as ``events.md`` shows it; counts the
    message in the chat."""
    bot, chat = portal.bots[bot_id], portal.chats[chat_id]
    chat.message_count += 1
    chat.last_message_id += 1
    message_id = chat.last_message_id
    rendered = render_v2_result(
        chat,
        portal.payload_style,
        dialog_id=chat.dialog_id,
        role="member",
        bot_id=bot.id,
        bot_name=bot.name,
        domain=portal.domain,
    )["chat"]
    chat_block = {key: value for key, value in rendered.items() if key not in _PER_USER}
    name = chat.user_name(author_id)
    first, _, last = name.partition(" ")
    return {
        "bot": {
            "id": bot.id,
            "code": bot.code or f"bot{bot.id}",
            "type": "bot",
            "isHidden": False,
            "isSupportOpenline": False,
            "isReactionsEnabled": True,
            "backgroundId": None,
            "language": "en",
            "moduleId": "rest",
            "eventMode": "fetch",
        },
        "message": {
            "id": message_id,
            "chatId": chat.id,
            "authorId": author_id,
            "date": date,
            "text": text,
            "isSystem": False,
            "uuid": "",
            "forward": None,
            "params": {},
            "viewedByOthers": False,
        },
        "chat": chat_block,
        "user": {
            "id": author_id,
            "active": True,
            "name": name,
            "firstName": first,
            "lastName": last,
            "bot": False,
            "type": "employee",
        },
        "language": "en",
    }


async def v2_message_send(context: CallContext) -> Any:
    """``imbot.v2.Chat.Message.send`` (EN ``.../imbot.v2/messages/chat-message-send.md``):
    the bot checks of ``Event.get``; ``ACCESS_DENIED`` for a chat the bot is not in (or a
    ``dialogId`` that is neither ``chatN`` nor a user id); ``EMPTY_MESSAGE`` without
    ``fields.message`` or ``fields.attach``. The message is recorded in
    ``portal.messages``; the answer is ``{"id": ..., "uuidMap": {}}``."""
    portal = context.portal
    bot = _bot(context)
    dialog_id = str(context.params.get("dialogId") or "")
    chat = None
    if dialog_id[:4].lower() == "chat" and dialog_id[4:].isdigit():
        chat = portal.chats.get(int(dialog_id[4:]))
        if chat is None or (chat.members is not None and bot.id not in chat.members):
            raise _error("ACCESS_DENIED", "Access denied", 403)
    elif not dialog_id.isdigit():
        raise _error("ACCESS_DENIED", "Access denied", 403)
    fields = context.params.get("fields")
    fields = fields if isinstance(fields, Mapping) else {}
    text = str(fields.get("message") or "").strip()
    if not text and not fields.get("attach"):
        raise _error("EMPTY_MESSAGE", "Message is empty")
    message_id = 1 + max(
        [
            *(message.id for message in portal.messages[-1:]),
            *(known.last_message_id for known in portal.chats.values()),
            0,
        ]
    )
    if chat is not None:
        chat.message_count += 1
        chat.last_message_id = message_id
    portal.messages.append(
        FakeMessage(
            id=message_id,
            bot_id=bot.id,
            dialog_id=dialog_id,
            text=text,
            system=_truthy(fields.get("system", False)),
            params=dict(context.params),
            caller_user_id=context.caller.user_id,
        )
    )
    return {"id": message_id, "uuidMap": {}}
