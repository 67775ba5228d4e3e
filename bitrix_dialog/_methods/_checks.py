"""Input checks shared by the method specs' parameter builders.

Each returns the value as it is sent or raises ``TypeError`` (wrong kind of value) or
``ValueError`` (right kind, refused value) naming the parameter, so that a mistake never
costs a request.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_BOT_TOKEN",
    "bot_id",
    "bot_token",
    "entity_id",
    "entity_type",
    "positive_int",
    "user_code",
]

MAX_BOT_TOKEN: Final = 40
"""The longest ``botToken`` imbot.v2 accepts (EN ``imbot.v2/bots/bot-register.md``)."""

# <connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>, optionally after "imol|".
_USER_CODE: Final = re.compile(r"(?:imol\|)?[^|\s]+\|[0-9]+\|[^|\s]+\|[^|\s]+", re.ASCII)


def positive_int(value: object, parameter: str) -> int:
    """A positive ``int`` (not a ``bool``, not a numeric string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{parameter} must be a positive int, not {type(value).__name__}"
        raise TypeError(msg)
    if value <= 0:
        msg = f"{parameter} must be a positive int, got {value}"
        raise ValueError(msg)
    return value


def bot_id(value: object, parameter: str = "bot_id") -> int:
    """A bot id: the bot's user id, a positive int."""
    return positive_int(value, parameter)


def bot_token(value: object, parameter: str = "bot_token") -> str:
    """A bot token (the ``botToken`` given at registration): a non-empty string of at most
    40 characters, which ``imbot.v2`` refuses past (``BOT_TOKEN_INVALID_LENGTH``, since
    2026-08-06); the message never quotes the token."""
    if not isinstance(value, str):
        msg = f"{parameter} must be a str, not {type(value).__name__}"
        raise TypeError(msg)
    if not value.strip() or value != value.strip():
        msg = f"{parameter} must be a non-empty string without surrounding whitespace"
        raise ValueError(msg)
    if len(value) > MAX_BOT_TOKEN:
        msg = (
            f"{parameter} has {len(value)} characters; imbot.v2 refuses tokens longer than "
            f"{MAX_BOT_TOKEN} (BOT_TOKEN_INVALID_LENGTH): rotate it with imbot.v2.Bot.update"
        )
        raise ValueError(msg)
    return value


def user_code(value: object, parameter: str = "user_code") -> str:
    """An open-line client code ``connector|LINE_ID|CHAT_ID|USER_ID`` (``imol|`` allowed)."""
    if not isinstance(value, str):
        msg = f"{parameter} must be a str, not {type(value).__name__}"
        raise TypeError(msg)
    if not _USER_CODE.fullmatch(value):
        msg = (
            f"{parameter} {value!r} is not an open-line user code "
            f"'connector|LINE_ID|CHAT_ID|USER_ID' (e.g. 'livechat|1|1373|211', "
            f"optionally prefixed 'imol|')"
        )
        raise ValueError(msg)
    return value


def _text(value: object, parameter: str, example: str) -> str:
    if not isinstance(value, str):
        msg = f"{parameter} must be a str (e.g. {example!r}), not {type(value).__name__}"
        raise TypeError(msg)
    if not value.strip() or value != value.strip():
        msg = f"{parameter} must be a non-empty string without surrounding whitespace"
        raise ValueError(msg)
    return value


def entity_type(value: object, parameter: str = "entity_type") -> str:
    """The type of the object a chat is linked to (``CRM``, ``LINES``, ``SONET_GROUP`` or
    any type an integration gave ``im.chat.add``): a non-empty string, sent as given."""
    return _text(value, parameter, "CRM")


def entity_id(value: object, parameter: str = "entity_id") -> str:
    """The object's id within its type (``DEAL|1663``, a task id ...): a non-empty
    string, or a positive int sent as its decimal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(positive_int(value, parameter))
    return _text(value, parameter, "DEAL|1663")
