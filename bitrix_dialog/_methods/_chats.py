"""The "chat id by entity" lookups: ``im.chat.get`` and ``imbot.chat.get``.

A chat may be linked to an object outside the messenger (a CRM deal, an open-line
client, a workgroup, a task, or any pair an integration gave ``im.chat.add``); these
methods find that chat's id from the pair (EN ``api-reference/chats/im-chat-get.md``,
``api-reference/chat-bots/outdated/chats/imbot-chat-get.md``):

- ``ENTITY_TYPE`` and ``ENTITY_ID`` are both required, as strings;
- the answer is ``{"ID": 1437}``, returned here as the ``int``;
- ``null`` when no chat is linked to the pair: returned as ``None``. The portal also
  answers ``null`` for missing or malformed parameters, which are refused here first,
  so ``None`` means "no such chat".

Both are served by one portal handler (``CIMRestService::chatGet``); ``imbot.chat.get``
is the deprecated bot-scope twin. Its page lists no ``BOT_ID``/``CLIENT_ID`` (an early
revision had an optional ``BOT_ID`` "if there is more than one bot"), and the handler
reads neither, so none is sent.
"""

from __future__ import annotations

from typing import Final

from . import _checks as check
from ._spec import Params, method_spec

__all__ = ["IMBOT_CHAT_GET", "IM_CHAT_GET"]


def chat_by_entity(*, entity_type: str, entity_id: str | int) -> Params:
    """The id of the chat linked to ``entity_type``/``entity_id`` (``"CRM"``/``"DEAL|1663"``,
    ``"LINES"``/``"telegrambot|2|209607941|744"``, ``"SONET_GROUP"``/``"12"``, ...), or
    ``None`` when no chat is linked to that pair."""
    return {
        "ENTITY_TYPE": check.entity_type(entity_type),
        "ENTITY_ID": check.entity_id(entity_id),
    }


IM_CHAT_GET: Final = method_spec("im.chat.get", chat_by_entity, int, wrap="ID", nullable=True)
IMBOT_CHAT_GET: Final = method_spec("imbot.chat.get", chat_by_entity, int, wrap="ID", nullable=True)
