"""The dialog cache learns from ``imbot.v2`` events: ``client.dialogs.learn(event)``.

Every bot event carries the ``chat`` that ``imbot.v2.Chat.get`` returns, minus the
per-user ``role`` and ``muteList`` (EN ``api-reference/chat-bots/chat-bots-v2/imbot.v2/
events/events.md``, "Chat Object in Events"). :func:`learn` turns each event into what
the cache should hold, under the client's credentials:

==================================  ===================================================
event                               the cache
==================================  ===================================================
``ONIMBOTV2DELETE``                 drops everything (the bot's lookups cannot be
                                    answered any more)
``ONIMBOTV2JOINCHAT``,              drops the dialog (``dialogId``, the chat's
``ONIMV2JOINCHAT``                  ``dialogId`` and ``chatNNN``: the members and the
                                    bot's role changed), then primes it as below
any other bot event with a chat     primes ``imbot.v2.Chat.get`` of ``event.bot.id``
                                    and the chat's ``dialogId`` (``dialogId`` of the
                                    event if the chat names none)
an event type the SDK does not      drops the chat it names (``data.dialogId``,
know (a plain ``V2Event``)          ``data.chat.id``): it may be the leave or rename
                                    event the docs do not list yet
user events (``ONIMV2*``)           prime nothing (there is no bot whose lookup it is)
==================================  ===================================================

Priming stores under the key a later ``client.imbot.v2.chat.get(dialog_id,
bot_id=event.bot.id)`` looks up (with the client's ``bot_token`` for its own bot, as
such a call sends), so the handler's lookup right after the event sends nothing.

Merging. An entry already holding a full answer keeps what the event does not say:
every field whose key the event's chat carries is the event's, every other field
(``role``, ``muted_user_ids``, ``last_message_views`` ...) the answer's; ``extra``
holds both. A primed entry with no full answer before it has ``role`` and
``muted_user_ids`` ``None``: a lookup it answers returns them so, as "not known",
exactly as for a portal answer that did not send them. A lookup is not sent again
for them: an event-driven bot answers from its events and rarely needs the role,
and sending a lookup after every event would be the request this cache saves. Code
that needs the bot's role asks for it fresh: ``await client.dialogs.invalidate(d)``
and then the lookup. An entry primed or merged lives the cache's ``ttl`` from then
on, so the role a merged entry keeps is as of its last full answer for as long as
events keep coming (Bitrix24 sends no event when the bot's role changes short of a
join, which drops it).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any, Final

import attrs

from .._decode._hooks import wire_name
from .._errors import InvalidDialogIdError
from .._events._types import V2BotDeleteEvent, V2Event, V2JoinChatEvent
from .._methods._dialogs import IMBOT_V2_CHAT_GET
from .._methods._endpoint import BotCredentials
from .._models import Dialog
from ._reads import CachedReads

__all__ = ["learn", "merge_chat"]

logger: Final = logging.getLogger("bitrix_dialog")

_PER_USER: Final = frozenset({"role", "muted_user_ids", "result_extra"})


def merge_chat(cached: Dialog, chat: Dialog, sent: Collection[str]) -> Dialog:
    """``cached`` (a full answer) updated with what an event's ``chat`` says: the fields
    whose camelCase keys are in ``sent``; ``role``, ``muted_user_ids`` and
    ``result_extra`` stay the answer's."""
    changes: dict[str, Any] = {"id": chat.id, "extra": {**cached.extra, **chat.extra}}
    for field in attrs.fields(Dialog):
        name = field.name
        if name in _PER_USER or name in changes:
            continue
        if wire_name(Dialog, name, "camel") in sent:
            changes[name] = getattr(chat, name)
    return attrs.evolve(cached, **changes)


def _named(data: Mapping[str, object], chat: Dialog | None) -> list[object]:
    block = data.get("chat")
    chat_id = chat.id if chat is not None else None
    if chat_id is None and isinstance(block, Mapping):
        chat_id = block.get("id")
    found: list[object] = [data.get("dialogId")]
    if chat is not None:
        found.append(chat.dialog_id)
    if chat_id not in (None, "", "0", 0):
        found.append(f"chat{chat_id}")
    return [item for item in dict.fromkeys(found) if item not in (None, "")]


async def _drop(cache: CachedReads, event: V2Event, ids: list[object]) -> None:
    for dialog_id in ids:
        try:
            await cache.invalidate(dialog_id)
        except (InvalidDialogIdError, TypeError):
            logger.info("%s names no dialog id the cache knows; nothing dropped", event.type)


async def learn(cache: CachedReads, bot: BotCredentials, event: V2Event) -> None:
    """What ``event`` tells the cache (see the module docs); never sends a request."""
    if isinstance(event, V2BotDeleteEvent):
        await cache.invalidate_all()
        return
    chat: Dialog | None = getattr(event, "chat", None)
    if type(event) is V2Event or isinstance(event, V2JoinChatEvent):
        await _drop(cache, event, _named(event.data, chat))
    if type(event) is V2Event or event.bot is None or chat is None:
        return
    dialog_id = chat.dialog_id or getattr(event, "dialog_id", None)
    if not dialog_id:
        return
    try:
        params = IMBOT_V2_CHAT_GET.build(dialog_id, **bot.fill({"bot_id": event.bot.id}))
    except (InvalidDialogIdError, TypeError, ValueError):
        logger.info("%s names no dialog id to prime the cache with", event.type)
        return
    block = event.data.get("chat")
    sent = frozenset(block) if isinstance(block, Mapping) else frozenset()
    known: Dialog = chat

    def merged(cached: Dialog) -> Dialog:
        return merge_chat(cached, known, sent)

    await cache.prime(IMBOT_V2_CHAT_GET, params, known, merged)
