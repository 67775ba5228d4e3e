"""imbot.v2 events decode to typed classes, the same from both delivery modes.

Every documented example payload (tests/fixtures/v2_events, copied from the official
events pages) is read twice: as ``imbot.v2.Event.get`` returns it (JSON types) and as a
webhook post carries it (PHP's ``http_build_query``, every scalar a string, empty arrays
left out), and both must give equal typed events.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import attrs
import pytest

from bitrix_dialog import (
    ChatType,
    Dialog,
    ModelDecodeError,
    V2BotDeleteEvent,
    V2CommandAddEvent,
    V2ContextGetEvent,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
    V2MessageDeleteEvent,
    V2ReactionChangeEvent,
)
from bitrix_dialog._events._decode import decode_event, decode_event_post
from bitrix_dialog.testing import http_build_query, parse_str

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "v2_events"
EXAMPLES = sorted(FIXTURES.glob("*.json"))
_AS_SENT = frozenset({"context", "params", "forward", "phones", "extra", "permissions"})
EXPECTED = {
    "ONIMBOTV2MESSAGEADD": V2MessageAddEvent,
    "ONIMBOTV2JOINCHAT": V2JoinChatEvent,
    "ONIMBOTV2DELETE": V2BotDeleteEvent,
    "ONIMBOTV2CONTEXTGET": V2ContextGetEvent,
    "ONIMBOTV2COMMANDADD": V2CommandAddEvent,
    "ONIMBOTV2REACTIONCHANGE": V2ReactionChangeEvent,
    "ONIMV2MESSAGEADD": V2MessageAddEvent,
}


def _example(path: pathlib.Path) -> tuple[str, dict[str, Any]]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded["type"], loaded["data"]


def _as_post(kind: str, data: dict[str, Any], bot_auth: dict[str, str] | None = None) -> bytes:
    if bot_auth is not None:
        data = {**data, "bot": {**data["bot"], "auth": bot_auth}}
    form = {"event": kind, "data": data, "ts": "1772093963", "auth": {"application_token": "t"}}
    return http_build_query(form).encode()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_documented_example_decodes_to_its_class_in_both_modes(path: pathlib.Path) -> None:
    kind, data = _example(path)
    fetched = decode_event({"eventId": 1001, "type": kind, "date": None, "data": data})
    posted = decode_event_post(parse_str(_as_post(kind, data).decode()))

    assert type(fetched) is EXPECTED[kind]
    assert type(posted) is EXPECTED[kind]
    assert fetched.event_id == 1001
    assert posted.event_id is None
    # Only the fetch-only envelope differs between the modes, and the objects kept as
    # sent (``context``, ``params``: a post has strings in them).
    assert _typed(fetched) == {**_typed(posted), "event_id": 1001}
    chat = getattr(fetched, "chat", None)
    if "chat" in data:
        assert isinstance(chat, Dialog)
        assert chat.id == data["chat"]["id"]
        assert chat.dialog_id == data["chat"]["dialogId"]


def _typed(value: Any) -> Any:
    """``value``'s fields, recursively, without the ones kept as sent."""
    if not attrs.has(type(value)):
        return value
    return {
        field.name: _typed(getattr(value, field.name))
        for field in attrs.fields(type(value))
        if field.eq and field.name not in _AS_SENT
    }


def test_a_message_event_reads_every_documented_field() -> None:
    kind, data = _example(FIXTURES / "ONIMBOTV2MESSAGEADD.json")
    event = decode_event(
        {"eventId": 7, "type": kind, "date": "2025-01-15T10:30:00+02:00", "data": data}
    )

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


def test_webhook_strings_decode_to_the_json_values() -> None:
    post = (
        "event=ONIMBOTV2MESSAGEDELETE&data[bot][id]=456&data[bot][code]=support_bot"
        "&data[messageId]=789&data[chat][id]=5&data[chat][dialogId]=chat5"
        "&data[chat][isNew]=0&data[chat][extranet]=1&data[chat][backgroundId]="
        "&data[user][id]=1&data[user][active]=1&data[user][idle]=0&data[user][phones]=0"
        "&data[language]=en&auth[application_token]=t"
    )
    event = decode_event_post(parse_str(post))

    assert isinstance(event, V2MessageDeleteEvent)
    assert event.message_id == 789
    chat, user = event.chat, event.user
    assert chat is not None
    assert user is not None
    assert (chat.is_new, chat.extranet, chat.background_id) == (False, True, None)
    assert (user.active, user.idle, user.phones) == (True, None, None)


def test_the_bot_tokens_of_a_post_are_kept_apart_and_never_shown() -> None:
    kind, data = _example(FIXTURES / "ONIMBOTV2JOINCHAT.json")
    secret = "0b02a0690000071b0008440001b0007a16b39202c2490f015"
    body = _as_post(
        kind,
        data,
        bot_auth={
            "access_token": secret,
            "expires": "1772093963",
            "expires_in": "3600",
            "domain": "some-domain.bitrix24.com",
            "client_endpoint": "https://some-domain.bitrix24.com/rest/",
            "server_endpoint": "https://oauth.bitrix.info/rest/",
            "member_id": "bac1cd5c8940947a75e0d71b1a84e348",
            "application_token": "831c76b092f9f135d9b6b36c3a720757",
        },
    )
    event = decode_event_post(parse_str(body.decode()))

    assert event.bot_auth is not None
    assert event.bot_auth.token is not None
    assert event.bot_auth.token.access_token == secret
    assert "auth" not in event.data["bot"]
    assert secret not in repr(event)
    assert "831c76b092f9f135d9b6b36c3a720757" not in repr(event)


def test_an_unknown_type_arrives_as_a_raw_event_with_its_data() -> None:
    event = decode_event({"eventId": 3, "type": "ONIMBOTV2SOMETHINGNEW", "data": {"x": 1}})

    assert type(event) is V2Event
    assert (event.type, event.event_id, event.data) == ("ONIMBOTV2SOMETHINGNEW", 3, {"x": 1})


def test_a_field_that_does_not_fit_names_its_path() -> None:
    with pytest.raises(ModelDecodeError) as caught:
        decode_event({"eventId": 1, "type": "ONIMBOTV2JOINCHAT", "data": {"chat": {"id": "x"}}})

    assert caught.value.path == "data.chat.id"
