"""Which events make cached dialog lookups stale, and what is dropped for each.

The endpoint calls :func:`invalidate_for` with every verified event, before its
handler runs (so the handler's own lookup asks the portal afresh), whatever handlers
are registered. With no cache on the client it does nothing. The events, as the
official docs describe them (EN ``api-reference/chat-bots/...``,
``api-reference/imopenlines/openlines/events/...``):

==========================================  =============================================
event                                       dropped
==========================================  =============================================
``ONIMBOTJOINCHAT``                         ``data[PARAMS][DIALOG_ID]``: the bot joined a
                                            chat (its role, members and access changed)
``ONIMBOTV2JOINCHAT``                       ``data[dialogId]`` (and ``chatNNN`` of
                                            ``data[chat][id]``)
``ONSESSIONSTART``, ``ONSESSIONFINISH``     ``chatNNN`` of each ``data[DATA][*][chat][id]``:
                                            an open-line session began or closed (the
                                            chat's operators and session state changed)
``ONIMBOTDELETE``                            everything of the client: lookups made as the
                                            deleted bot can no longer be answered
``ONAPPUNINSTALL``                          everything of the client
==========================================  =============================================

``imbot.v2`` events (``ONIMBOTV2*``, ``ONIMV2*``) do more: their ``chat`` primes the
cache, see ``client.dialogs.learn`` (``_cache/_learn.py``). Bitrix24 sends no event when
a bot is removed from a chat or a chat is renamed (the docs list none, classic or v2);
such changes reach the cache only by its TTL.
Message events (``ONIMBOTMESSAGEADD`` ...) drop nothing: a message changes only the
counters (``message_count``, ``last_message_id``, unread counts), which a cached
``Dialog`` shows as of its lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Final

from .._client import Client
from .._errors import InvalidDialogIdError
from ._events import AppUninstallEvent, BitrixEvent, BotDeleteEvent, BotJoinChatEvent

__all__ = ["INVALIDATING_EVENTS", "invalidate_for"]

logger: Final = logging.getLogger("bitrix_dialog")

_SESSIONS: Final = frozenset({"ONSESSIONSTART", "ONSESSIONFINISH"})
_DROP_ALL: Final = frozenset({"ONIMBOTDELETE", "ONAPPUNINSTALL"})

INVALIDATING_EVENTS: Final = frozenset({"ONIMBOTJOINCHAT", *_SESSIONS, *_DROP_ALL})
"""The events after which the endpoint drops cached lookups (see the module docs)."""


def _items(value: object) -> Iterator[Any]:
    """A PHP list as parsed from a form: a ``list``, or a mapping ``{"0": ..., "1": ...}``."""
    if isinstance(value, list):
        yield from value
    elif isinstance(value, Mapping):
        yield from value.values()


def _chat_of(block: object) -> str | None:
    if not isinstance(block, Mapping):
        return None
    chat = block.get("chat")
    chat_id = chat.get("id") if isinstance(chat, Mapping) else None
    return f"chat{chat_id}" if chat_id not in (None, "", "0") else None


def _dialog_ids(event: BitrixEvent) -> list[Any]:
    data = event.data
    if isinstance(event, BotJoinChatEvent):
        return [event.dialog_id]
    if event.event in _SESSIONS:
        return [_chat_of(item) for item in _items(data.get("DATA"))]
    return []


async def invalidate_for(event: BitrixEvent, client: Client) -> None:
    """Drop what ``event`` makes stale from ``client``'s dialog cache (see the module docs)."""
    if client.cache is None or event.event not in INVALIDATING_EVENTS:
        return
    if isinstance(event, BotDeleteEvent | AppUninstallEvent) or event.event in _DROP_ALL:
        await client.dialogs.invalidate_all()
        return
    for dialog_id in dict.fromkeys(d for d in _dialog_ids(event) if d not in (None, "")):
        try:
            await client.dialogs.invalidate(dialog_id)
        except InvalidDialogIdError:
            logger.info("%s names no dialog id the cache knows; nothing dropped", event.event)
