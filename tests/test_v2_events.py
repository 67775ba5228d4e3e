"""imbot.v2 events decode to typed classes, the same from both delivery modes.

Every documented example payload (tests/fixtures/v2_events, copied from the official
events pages) is delivered twice, through the public paths: fetched with
``client.imbot.v2.event.get()`` from the fake portal's queue (JSON types), and posted
by the fake portal to the aiohttp event endpoint (PHP's ``http_build_query``, every
scalar a string, empty arrays left out); both must give equal typed events.
"""

from __future__ import annotations

import logging
import pathlib
from typing import Any

import attrs
import pytest

from bitrix_dialog import (
    ChatType,
    Dialog,
    V2BotDeleteEvent,
    V2CommandAddEvent,
    V2ContextGetEvent,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
    V2MessageDeleteEvent,
    V2ReactionChangeEvent,
)

from .v2_kit import BOT, FIXTURES, example, fetch_event, post_event

EXAMPLES = sorted(FIXTURES.glob("*.json"))
_AS_SENT = frozenset({"context", "params", "forward", "phones", "extra", "permissions"})
# Envelope fields the modes carry differently: a post has no id or date, and its
# ``bot`` is the simplified ``{id, code, auth}`` object.
_ENVELOPE = frozenset({"event_id", "date", "bot"})
EXPECTED = {
    "ONIMBOTV2MESSAGEADD": V2MessageAddEvent,
    "ONIMBOTV2JOINCHAT": V2JoinChatEvent,
    "ONIMBOTV2DELETE": V2BotDeleteEvent,
    "ONIMBOTV2CONTEXTGET": V2ContextGetEvent,
    "ONIMBOTV2COMMANDADD": V2CommandAddEvent,
    "ONIMBOTV2REACTIONCHANGE": V2ReactionChangeEvent,
    "ONIMV2MESSAGEADD": V2MessageAddEvent,
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_documented_example_decodes_to_its_class_in_both_modes(
    path: pathlib.Path,
) -> None:
    kind, data = example(path)
    fetched = await fetch_event(kind, data)
    posted = await post_event(lambda portal: portal.events.v2(kind, data))

    assert type(fetched) is EXPECTED[kind]
    assert type(posted) is EXPECTED[kind]
    assert fetched.event_id is not None
    assert fetched.date is not None
    assert (posted.event_id, posted.date) == (None, None)
    # Only the envelope differs between the modes, and the objects kept as sent
    # (``context``, ``params``: a post has strings in them).
    assert _typed(fetched) == _typed(posted)
    if "bot" in data:
        assert fetched.bot is not None
        assert posted.bot is not None
        assert fetched.bot.id == posted.bot.id == data["bot"]["id"]
    chat = getattr(fetched, "chat", None)
    if "chat" in data:
        assert isinstance(chat, Dialog)
        assert chat.id == data["chat"]["id"]
        assert chat.dialog_id == data["chat"]["dialogId"]


def _typed(value: Any, *, top: bool = True) -> Any:
    """``value``'s fields, recursively, without the ones kept as sent (nor, at the top,
    the envelope)."""
    if not attrs.has(type(value)):
        return value
    return {
        field.name: _typed(getattr(value, field.name), top=False)
        for field in attrs.fields(type(value))
        if field.eq and field.name not in _AS_SENT and not (top and field.name in _ENVELOPE)
    }


async def test_a_message_event_reads_every_documented_field() -> None:
    kind, data = example(FIXTURES / "ONIMBOTV2MESSAGEADD.json")
    event = await fetch_event(kind, data)

    assert isinstance(event, V2MessageAddEvent)
    assert event.bot is not None
    assert event.bot.id == 456
    assert event.bot.event_mode == "fetch"
    assert event.message is not None
    assert (event.message.id, event.message.chat_id, event.message.text) == (789, 5, "Hello bot!")
    assert event.message.is_system is False
    assert event.message.params is None
    assert event.chat is not None
    assert event.chat.type is ChatType.CHAT
    assert event.user is not None
    assert event.user.departments == (1,)
    assert event.user.phones is None
    assert event.user.active is True
    assert event.language == "en"
    assert event.date is not None
    assert event.date.utcoffset() is not None


async def test_webhook_strings_decode_to_the_json_values() -> None:
    data = {
        "bot": {"id": BOT, "code": "support_bot"},
        "messageId": 789,
        "chat": {
            "id": 5,
            "dialogId": "chat5",
            "isNew": False,
            "extranet": True,
            "backgroundId": None,
        },
        "user": {"id": 1, "active": True, "idle": False, "phones": False},
        "language": "en",
    }
    # Posted with every scalar a string: isNew=0, extranet=1, idle=0, phones=0, backgroundId=
    event = await post_event(lambda portal: portal.events.v2("ONIMBOTV2MESSAGEDELETE", data))

    assert isinstance(event, V2MessageDeleteEvent)
    assert event.message_id == 789
    chat, user = event.chat, event.user
    assert chat is not None
    assert user is not None
    assert (chat.is_new, chat.extranet, chat.background_id) == (False, True, None)
    assert (user.active, user.idle, user.phones) == (True, None, None)


async def test_the_bot_tokens_of_a_post_are_kept_apart_and_never_shown() -> None:
    kind, data = example(FIXTURES / "ONIMBOTV2JOINCHAT.json")
    forged = "831c76b092f9f135d9b6b36c3a720757"
    event = await post_event(
        lambda portal: portal.events.v2(kind, data, bot_application_token=forged)
    )

    assert event.bot_auth is not None
    assert event.bot_auth.token is not None
    secret = event.bot_auth.token.access_token
    assert secret
    assert "auth" not in event.data["bot"]
    assert secret not in repr(event)
    assert forged not in repr(event)


async def test_an_unknown_type_arrives_as_a_raw_event_with_its_data() -> None:
    event = await fetch_event("ONIMBOTV2SOMETHINGNEW", {"x": 1})

    assert type(event) is V2Event
    assert (event.type, event.data) == ("ONIMBOTV2SOMETHINGNEW", {"x": 1})
    assert event.event_id is not None


async def test_a_field_that_does_not_fit_is_named_and_the_event_still_arrives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        event = await fetch_event("ONIMBOTV2JOINCHAT", {"chat": {"id": "x"}})

    assert type(event) is V2Event
    assert event.type == "ONIMBOTV2JOINCHAT"
    assert "(data.chat.id)" in caplog.text
