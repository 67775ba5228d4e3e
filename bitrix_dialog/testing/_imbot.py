"""What a bot does on the fake portal: ``imbot.register`` and ``imbot.message.add``.

Modelled on EN ``api-reference/chat-bots/outdated/bots/imbot-register.md`` and
``.../messages/imbot-message-add.md`` and the server's ``Bitrix\\Im\\Bot::register``:

- ``imbot.register``: ``CODE`` required (``CODE_ERROR``); ``EVENT_HANDLER`` is copied
  to every ``EVENT_*`` URL; ``EVENT_MESSAGE_ADD``, ``EVENT_WELCOME_MESSAGE`` and
  ``EVENT_BOT_DELETE`` are required and must be http(s) URLs (``EVENT_*_ERROR``);
  ``PROPERTIES`` needs ``NAME`` or ``LAST_NAME`` (``NAME_ERROR``); a webhook call
  needs ``CLIENT_ID`` (``ACCESS_DENIED``). A ``CODE`` already registered answers
  with that bot's id, as ``Bot::register`` does. The result is the new bot's id.
- ``imbot.message.add``: ``BOT_ID`` defaults to the first registered bot, an unknown
  one is ``BOT_ID_ERROR``; a webhook call needs the bot's ``CLIENT_ID``
  (``ACCESS_DENIED`` without, ``APP_ID_ERROR`` for another one); ``DIALOG_ID``
  must be a user id or ``chatNNN`` (``DIALOG_ID_EMPTY``) unless both
  ``FROM_USER_ID`` and ``TO_USER_ID`` are given (then ``SYSTEM`` is forced to
  ``Y``); ``MESSAGE`` is trimmed and must not be empty (``MESSAGE_EMPTY``). The
  message is recorded in ``portal.messages`` and the result is its id.

Errors come with HTTP 400, as the pages show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
from yarl import URL

from ._bots import FakeBot
from ._errors import PortalError

if TYPE_CHECKING:
    from ._portal import CallContext

__all__ = ["FakeMessage", "imbot_message_add", "imbot_register"]

_DIALOG_ID: Final = re.compile(r"[0-9]+|chat[0-9]+", re.IGNORECASE)
_EVENTS: Final = (
    "EVENT_MESSAGE_ADD",
    "EVENT_MESSAGE_UPDATE",
    "EVENT_MESSAGE_DELETE",
    "EVENT_WELCOME_MESSAGE",
    "EVENT_BOT_DELETE",
)
_REQUIRED_EVENTS: Final = {
    "EVENT_MESSAGE_ADD": 'Handler for "Message add" event isn\'t specified',
    "EVENT_WELCOME_MESSAGE": 'Handler for "Welcome message" event isn\'t specified',
    "EVENT_BOT_DELETE": 'Handler for "Bot delete" event isn\'t specified',
}
_FIRST_BOT_ID: Final = 1000
"""Bots are users; new ones get ids above the users tests usually seed."""


@attrs.frozen(kw_only=True)
class FakeMessage:
    """One message a bot sent with ``imbot.message.add``, for assertions in tests."""

    id: int
    bot_id: int
    dialog_id: str
    """``DIALOG_ID`` as sent, or the ``TO_USER_ID`` in from/to mode."""
    text: str
    """``MESSAGE``, trimmed as the portal trims it."""
    system: bool
    params: Mapping[str, Any] = attrs.field(repr=False)
    """Every parameter as sent (``ATTACH``, ``KEYBOARD``, ``MENU``, ``URL_PREVIEW`` ...)."""
    caller_user_id: int
    """The user whose credentials sent it."""


def _error(code: str, description: str) -> PortalError:
    return PortalError(code, description, status=400)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _is_url(value: str) -> bool:
    url = URL(value)
    return url.scheme in ("http", "https") and bool(url.host)


async def imbot_register(context: CallContext) -> Any:
    """``imbot.register``."""
    portal = context.portal
    code = _text(context.param("CODE"))
    if not code:
        raise _error("CODE_ERROR", "Bot code isn't specified")
    client_id = _text(context.param("CLIENT_ID")) or None
    if context.caller.kind == "webhook" and client_id is None:
        raise PortalError("ACCESS_DENIED", "Access denied! Client ID not specified")
    handlers: dict[str, str] = {}
    common = _text(context.param("EVENT_HANDLER"))
    for name in _EVENTS:
        url = common or _text(context.param(name))
        if url:
            if not _is_url(url):
                raise _error(f"{name}_ERROR", "Wrong handler URL")
            handlers[name] = url
    for name, description in _REQUIRED_EVENTS.items():
        if name not in handlers:
            raise _error(f"{name}_ERROR", description)
    properties = context.param("PROPERTIES")
    properties = properties if isinstance(properties, Mapping) else {}
    name = _text(properties.get("NAME")) or _text(properties.get("LAST_NAME"))
    if not name:
        raise _error("NAME_ERROR", "Bot name isn't specified")
    for bot in portal.bots.values():
        if bot.code == code:
            return bot.id
    bot_id = max([_FIRST_BOT_ID - 1, *portal.bots]) + 1
    portal.bots[bot_id] = FakeBot(
        id=bot_id,
        owner_user_id=context.caller.user_id,
        name=name,
        code=code,
        client_id=client_id,
        event_handlers=handlers,
    )
    return bot_id


def _bot_for(context: CallContext) -> FakeBot:
    portal = context.portal
    raw = context.param("BOT_ID")
    if raw in (None, "", 0, "0"):
        if not portal.bots:
            raise _error("BOT_ID_ERROR", "Bot not found")
        bot = portal.bots[min(portal.bots)]
    else:
        try:
            bot_id = int(raw)
        except (TypeError, ValueError):
            raise _error("BOT_ID_ERROR", "Bot not found") from None
        found = portal.bots.get(bot_id)
        if found is None:
            raise _error("BOT_ID_ERROR", "Bot not found")
        bot = found
    if context.caller.kind == "webhook":
        client_id = _text(context.param("CLIENT_ID"))
        if not client_id:
            raise PortalError("ACCESS_DENIED", "Access denied! Client ID not specified")
        if bot.client_id is not None and client_id != bot.client_id:
            raise _error("APP_ID_ERROR", "Bot was installed by another REST application")
    return bot


def _positive(value: object) -> int:
    try:
        return max(int(str(value)), 0) if value not in (None, "") else 0
    except ValueError:
        return 0


async def imbot_message_add(context: CallContext) -> Any:
    """``imbot.message.add``."""
    portal = context.portal
    bot = _bot_for(context)
    from_user = _positive(context.param("FROM_USER_ID"))
    to_user = _positive(context.param("TO_USER_ID"))
    system = _text(context.param("SYSTEM")).upper() == "Y"
    if from_user and to_user:
        dialog_id, system = str(to_user), True
    else:
        dialog_id = _text(context.param("DIALOG_ID"))
        if not _DIALOG_ID.fullmatch(dialog_id):
            raise _error("DIALOG_ID_EMPTY", "Dialog ID can't be empty")
    text = _text(context.param("MESSAGE"))
    if not text:
        raise _error("MESSAGE_EMPTY", "Message can't be empty")
    message_id = (
        max(
            [
                *(message.id for message in portal.messages[-1:]),
                *(chat.last_message_id for chat in portal.chats.values()),
                0,
            ]
        )
        + 1
    )
    if dialog_id.lower().startswith("chat"):
        chat = portal.chats.get(int(dialog_id[4:]))
        if chat is not None:
            chat.message_count += 1
            chat.last_message_id = message_id
    portal.messages.append(
        FakeMessage(
            id=message_id,
            bot_id=bot.id,
            dialog_id=dialog_id,
            text=text,
            system=system,
            params=dict(context.params),
            caller_user_id=context.caller.user_id,
        )
    )
    return message_id
