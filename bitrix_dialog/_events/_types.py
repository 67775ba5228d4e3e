"""The typed ``imbot.v2`` events: one class per documented event, the same for both modes.

A bot registered with ``eventMode: "fetch"`` polls ``imbot.v2.Event.get``; one registered
with ``"webhook"`` gets each event posted to its URL. Both deliver the same ``data``
(EN ``api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.md``), so both become
the same classes here. User events (``ONIMV2*``, fetched with ``withUserEvents``) use the
classes of their bot twins, with ``bot`` ``None``::

    match event:
        case V2MessageAddEvent(chat=chat, message=message):
            ...
        case V2Event(type=kind):          # an event type this SDK does not know yet
            log.info("unhandled %s", kind)

Every event keeps its ``data`` as received (``repr`` hides it; the bot's tokens are
taken out of it and kept in ``bot_auth``, whose ``repr`` masks them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from .._auth import EventAuth
from .._models import Dialog, V2Bot, V2Command, V2Message, V2User

__all__ = [
    "EVENT_CLASSES",
    "V2BotDeleteEvent",
    "V2CommandAddEvent",
    "V2ContextGetEvent",
    "V2Event",
    "V2JoinChatEvent",
    "V2MessageAddEvent",
    "V2MessageDeleteEvent",
    "V2MessageUpdateEvent",
    "V2ReactionChangeEvent",
]


@attrs.frozen(kw_only=True)
class V2Event:
    """An ``imbot.v2`` or ``im.v2`` event; exactly this class for a type the SDK does not know.

    Two events are equal when their typed fields are: ``data`` and ``bot_auth`` differ
    between the modes (strings and tokens in posts) and take no part in ``==``.
    """

    type: str
    """The event type, upper case as documented (``ONIMBOTV2MESSAGEADD``)."""
    event_id: int | None = None
    """``eventId`` (fetch mode): confirm it by passing a larger ``offset``; ``None`` in posts."""
    date: datetime | None = None
    """``date`` of the event (fetch mode); ``None`` in posts."""
    bot: V2Bot | None = None
    """The bot the event is for; ``None`` for user events (``ONIMV2*``)."""
    language: str | None = None
    """``language``: the portal's language (``en``, ``de`` ...)."""
    data: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    """The event's ``data`` as received, without the bot's ``auth`` block."""
    bot_auth: EventAuth | None = attrs.field(default=None, eq=False)
    """``data.bot.auth`` of a webhook post: the bot's OAuth tokens for calling back.
    Never a proof that the post is genuine: that is the post's top-level
    ``auth.application_token``."""


@attrs.frozen(kw_only=True)
class _ChatEvent(V2Event):
    chat: Dialog | None = None
    """``chat``: the chat, as ``imbot.v2.Chat.get`` describes it, without the per-user
    ``role`` and ``muteList``."""
    user: V2User | None = None
    """``user``: who caused the event."""


@attrs.frozen(kw_only=True)
class V2MessageAddEvent(_ChatEvent):
    """``ONIMBOTV2MESSAGEADD`` / ``ONIMV2MESSAGEADD``: a new message."""

    message: V2Message | None = None
    """``message``: the message sent."""


@attrs.frozen(kw_only=True)
class V2MessageUpdateEvent(_ChatEvent):
    """``ONIMBOTV2MESSAGEUPDATE`` / ``ONIMV2MESSAGEUPDATE``: a message was edited."""

    message: V2Message | None = None
    """``message``: the message as it reads now."""


@attrs.frozen(kw_only=True)
class V2MessageDeleteEvent(_ChatEvent):
    """``ONIMBOTV2MESSAGEDELETE`` / ``ONIMV2MESSAGEDELETE``: a message was deleted."""

    message_id: int | None = None
    """``messageId``: the deleted message."""


@attrs.frozen(kw_only=True)
class V2JoinChatEvent(_ChatEvent):
    """``ONIMBOTV2JOINCHAT``: the bot was added to a chat (``ONIMV2JOINCHAT``: someone was)."""

    dialog_id: str | None = None
    """``dialogId``: the dialog joined (``chat5``)."""


@attrs.frozen(kw_only=True)
class V2BotDeleteEvent(V2Event):
    """``ONIMBOTV2DELETE``: the bot was removed; the last event it gets."""


@attrs.frozen(kw_only=True)
class V2ContextGetEvent(_ChatEvent):
    """``ONIMBOTV2CONTEXTGET``: a user opened the dialog with context data."""

    dialog_id: str | None = None
    """``dialogId``: a user id in a private chat with the bot, ``chatN`` in a group chat."""
    context: Mapping[str, Any] | None = None
    """``context``: whatever the opener passed, as sent."""


@attrs.frozen(kw_only=True)
class V2CommandAddEvent(_ChatEvent):
    """``ONIMBOTV2COMMANDADD``: a user invoked one of the bot's slash commands."""

    command: V2Command | None = None
    """``command``: which command, with its parameters."""
    message: V2Message | None = None
    """``message``: the message carrying the command."""


@attrs.frozen(kw_only=True)
class V2ReactionChangeEvent(_ChatEvent):
    """``ONIMBOTV2REACTIONCHANGE`` / ``ONIMV2REACTIONCHANGE``: a reaction was set or removed."""

    reaction: str | None = None
    """``reaction``: its code (``like``)."""
    action: str | None = None
    """``action``: ``add`` or ``delete``."""
    message: V2Message | None = None
    """``message``: the message reacted to."""


EVENT_CLASSES: Final[Mapping[str, type[V2Event]]] = {
    "ONIMBOTV2MESSAGEADD": V2MessageAddEvent,
    "ONIMBOTV2MESSAGEUPDATE": V2MessageUpdateEvent,
    "ONIMBOTV2MESSAGEDELETE": V2MessageDeleteEvent,
    "ONIMBOTV2JOINCHAT": V2JoinChatEvent,
    "ONIMBOTV2DELETE": V2BotDeleteEvent,
    "ONIMBOTV2CONTEXTGET": V2ContextGetEvent,
    "ONIMBOTV2COMMANDADD": V2CommandAddEvent,
    "ONIMBOTV2REACTIONCHANGE": V2ReactionChangeEvent,
    "ONIMV2MESSAGEADD": V2MessageAddEvent,
    "ONIMV2MESSAGEUPDATE": V2MessageUpdateEvent,
    "ONIMV2MESSAGEDELETE": V2MessageDeleteEvent,
    "ONIMV2REACTIONCHANGE": V2ReactionChangeEvent,
    "ONIMV2JOINCHAT": V2JoinChatEvent,
}
"""Each documented event type (upper case) and its class; any other type is a :class:`V2Event`."""
