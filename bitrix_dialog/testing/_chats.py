"""Chats held by the fake portal, and the payload generations it can answer in.

A :class:`FakeChat` stores one chat in the portal's current (rich, snake_case) terms;
:mod:`._render` turns it into the JSON a given portal generation sends
(:data:`PayloadStyle`):

- ``"legacy"``: the flat ≈2017 shape (``id``/``owner`` as strings, ``title``);
- ``"2020"``: the 2020 open-lines docs example (alphabetical keys, ``dialog_id: null``);
- ``"2021"``: what the 2021 server code (``Im\\Chat::getById``) returns;
- ``"2024"``: real 2024 captures (``disappearing_time``, ``entity_link`` without ``id``,
  ``last_message_views: []`` for a chat without messages);
- ``"rich"``: the 2026 docs shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import attrs

__all__ = ["PAYLOAD_STYLES", "FakeChat", "PayloadStyle"]

PayloadStyle = Literal["legacy", "2020", "2021", "2024", "rich"]
PAYLOAD_STYLES: tuple[PayloadStyle, ...] = ("legacy", "2020", "2021", "2024", "rich")
"""Every payload generation the fake portal can answer in, oldest first."""


@attrs.define(kw_only=True)
class FakeChat:
    """A chat seeded into the fake portal. Defaults follow the official example payload."""

    id: int
    name: str = "New Chat Name"
    description: str | None = ""
    owner: int = 1
    type: str = "chat"
    message_type: str = "C"
    color: str = "#f76187"
    avatar: str = ""
    extranet: bool = False
    parent_chat_id: int = 0
    parent_message_id: int = 0
    entity_type: str = "CHAT"
    entity_id: str = ""
    entity_data_1: str = ""
    entity_data_2: str = ""
    entity_data_3: str = ""
    date_create: datetime = attrs.field(
        factory=lambda: datetime.fromisoformat("2026-02-24T13:19:39+02:00")
    )
    members: frozenset[int] | None = None
    """Users who may read the chat; ``None`` lets every user in."""
    managers: tuple[int, ...] = ()
    message_count: int = 0
    last_message_id: int = 0
    role: str = "member"
    session_ids: tuple[int, ...] = ()
    """Open-line sessions held in this chat (found by ``imopenlines.dialog.get`` SESSION_ID)."""
    muted_by: frozenset[int] = frozenset()
    """Users who muted the chat (each sees only themselves in ``mute_list``)."""
    viewers: tuple[int, ...] = ()
    """Users who saw the last message, earliest first (``last_message_views``)."""
    user_names: dict[int, str] = attrs.field(factory=dict)
    """Display names for ``readed_list`` and viewers (default ``"User N"``)."""
    public_code: str | None = None
    """The chat's public alias; rendered as ``public: {code, link}`` when set."""
    text_field_enabled: bool = True
    background_id: int | str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Further keys the classic methods send as they are (e.g. a field a future portal
    adds); ``imbot.v2.Chat.get`` answers in its own camelCase terms without them."""

    def readable_by(self, user_id: int) -> bool:
        """True when ``user_id`` may read this chat."""
        return self.members is None or user_id in self.members

    @property
    def dialog_id(self) -> str:
        """The ``chatNNN`` dialog id of this chat."""
        return f"chat{self.id}"

    def user_name(self, user_id: int) -> str:
        """The display name of ``user_id`` as this chat's payloads show it."""
        return self.user_names.get(user_id, f"User {user_id}")
