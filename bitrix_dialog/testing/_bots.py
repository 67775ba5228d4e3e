"""Chat bots in the fake portal, and ``imbot.v2.Chat.get``.

``imbot.v2.Chat.get`` is a REST-controller method: its parameters are camelCase
(``botId``, ``dialogId``, ``botToken``). The fake checks, in order:

- ``botId`` missing or not a number: ``BOT_ID_REQUIRED``;
- no such bot: ``BOT_NOT_FOUND``;
- a webhook call without ``botToken``: ``BOT_TOKEN_NOT_SPECIFIED`` (OAuth calls need none);
- the bot belongs to someone else: ``BOT_OWNERSHIP_ERROR`` (a webhook call whose
  ``botToken`` is not the bot's, or an OAuth call by a user who did not register the bot);
- ``dialogId`` names no chat the bot can reach: ``CHAT_NOT_FOUND``;
- the bot is not a member of a closed chat: ``ACCESS_DENIED``. Open chats and open
  channels answer even then, with the bot's ``role`` ``guest`` (2026 docs).

Controller errors come with HTTP 400 (``RestManager`` raises them with the default status).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._chats import FakeChat
from ._errors import PortalError
from ._render import render_v2_result

if TYPE_CHECKING:
    from ._portal import CallContext, FakePortal

__all__ = ["FakeBot", "QueuedEvent", "v2_chat_get"]

_CHAT_FORM: Final = re.compile(r"chat([0-9]+)", re.IGNORECASE)
_USER_FORM: Final = re.compile(r"[0-9]+")
_OPEN_TYPES: Final = frozenset({"open", "openChannel"})


@attrs.frozen(kw_only=True)
class QueuedEvent:
    """One event waiting in a fetch-mode bot's queue."""

    event_id: int
    type: str
    date: str
    """ISO 8601 with the portal's offset, as ``Event.get`` answers it."""
    data: Mapping[str, Any] = attrs.field(repr=False)
    user_id: int | None = None
    """For a user event (``ONIMV2*``): the user it belongs to."""

    def item(self) -> dict[str, Any]:
        """The event as an item of ``events``."""
        return {"eventId": self.event_id, "type": self.type, "date": self.date, "data": self.data}


@attrs.define(kw_only=True)
class FakeBot:
    """A chat bot registered on the fake portal. ``id`` is the bot's user id."""

    id: int
    token: str | None = attrs.field(default=None, repr=False)
    """The ``botToken`` given at registration; webhook calls must send it."""
    owner_user_id: int = 1
    """The user who registered the bot (OAuth calls must run as this user)."""
    name: str = "Support Bot"
    code: str | None = None
    """The ``CODE`` given to ``imbot.register`` (``BOT_CODE`` in events)."""
    client_id: str | None = None
    """The ``CLIENT_ID`` a webhook registered the bot with (webhook calls must send it)."""
    event_handlers: dict[str, str] = attrs.field(factory=dict)
    """``EVENT_MESSAGE_ADD``, ``EVENT_WELCOME_MESSAGE`` ... URLs given to ``imbot.register``."""
    queue: list[QueuedEvent] = attrs.field(factory=list, repr=False)
    """Events waiting for ``imbot.v2.Event.get`` (fetch mode), oldest first; confirmed
    ones are removed (``portal.queue_event`` adds them)."""
    confirmed_offset: int = 0
    """Every event below this id is confirmed: the largest ``offset`` received so far."""


def _error(code: str, description: str) -> PortalError:
    return PortalError(code, description, status=400)


def _find_chat(portal: FakePortal, dialog_id: str, bot_id: int) -> FakeChat | None:
    if match := _CHAT_FORM.fullmatch(dialog_id):
        return portal.chats.get(int(match.group(1)))
    if _USER_FORM.fullmatch(dialog_id):
        other = int(dialog_id)
        return next(
            (
                chat
                for chat in portal.chats.values()
                if chat.message_type == "P"
                and chat.members is not None
                and {bot_id, other} <= chat.members
            ),
            None,
        )
    return None


def _role(chat: FakeChat, bot_id: int) -> str | None:
    """The bot's role in ``chat``, ``"guest"`` in an open chat it has not joined, or
    ``None`` when it may not see the chat."""
    if chat.owner == bot_id:
        return "owner"
    if bot_id in chat.managers:
        return "manager"
    if chat.members is None or bot_id in chat.members:
        return "member"
    return "guest" if chat.type in _OPEN_TYPES else None


async def v2_chat_get(context: CallContext) -> Any:
    """``imbot.v2.Chat.get``."""
    portal = context.portal
    raw_bot = context.params.get("botId")
    try:
        bot_id = int(raw_bot) if raw_bot is not None and not isinstance(raw_bot, bool) else 0
    except (TypeError, ValueError):
        bot_id = 0
    if bot_id <= 0:
        raise _error("BOT_ID_REQUIRED", "botId is required")
    bot = portal.bots.get(bot_id)
    if bot is None:
        raise _error("BOT_NOT_FOUND", "Bot not found")
    token = context.params.get("botToken")
    if context.caller.kind == "webhook":
        if not token:
            raise _error(
                "BOT_TOKEN_NOT_SPECIFIED",
                "Bot token not specified (botToken is required for webhook auth)",
            )
        if str(token) != bot.token:
            raise _error("BOT_OWNERSHIP_ERROR", "Bot was installed by another rest application")
    elif context.caller.user_id != bot.owner_user_id:
        raise _error("BOT_OWNERSHIP_ERROR", "Bot was installed by another rest application")
    dialog_id = str(context.params.get("dialogId") or "")
    chat = _find_chat(portal, dialog_id, bot_id)
    if chat is None:
        raise _error("CHAT_NOT_FOUND", "CHAT_NOT_FOUND")
    role = _role(chat, bot_id)
    if role is None:
        raise _error("ACCESS_DENIED", "ACCESS_DENIED")
    return render_v2_result(
        chat,
        portal.payload_style,
        dialog_id=dialog_id,
        role=role,
        bot_id=bot_id,
        bot_name=bot.name,
        domain=portal.domain,
    )
