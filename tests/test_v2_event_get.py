"""``client.imbot.v2.event.get``: one page of a fetch-mode bot's events, typed.

The fake portal serves ``imbot.v2.Event.get`` as EN
``api-reference/chat-bots/chat-bots-v2/imbot.v2/events/event-get.md`` documents it: a
queue per bot, ``offset`` confirming everything below it, ``nextOffset``/``hasMore``,
``limit`` 1-1000 (default 100), only the registering app, and the documented errors.
"""

from __future__ import annotations

import json
import logging
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    BadRequestError,
    Client,
    EventPage,
    InsufficientScopeError,
    NotFoundError,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
)
from bitrix_dialog.testing import FakePortal

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "v2_events"
BOT = 456
TOKEN = "fetch-bot-token"


@pytest.fixture
def portal() -> FakePortal:
    portal = FakePortal()
    chat = portal.add_chat(5, name="Support Chat", members=frozenset({1, BOT}))
    portal.add_bot(BOT, token=TOKEN, chats=(chat.id,))
    return portal


@pytest.fixture
async def client(portal: FakePortal) -> AsyncIterator[Client]:
    async with Client(
        portal.webhook_url(), transport=portal.transport(), bot_id=BOT, bot_token=TOKEN
    ) as client:
        yield client


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["data"]
    return data


def _sent(portal: FakePortal) -> list[dict[str, Any]]:
    return [dict(call.params) for call in portal.calls if call.method == "imbot.v2.Event.get"]


async def test_a_page_comes_back_typed_with_its_offset(portal: FakePortal, client: Client) -> None:
    first = portal.queue_message(BOT, 5, "Hello bot!")
    portal.queue_event(BOT, "ONIMBOTV2JOINCHAT", _fixture("ONIMBOTV2JOINCHAT"))
    page = await client.imbot.v2.event.get()
    assert isinstance(page, EventPage)
    assert [type(event) for event in page.events] == [V2MessageAddEvent, V2JoinChatEvent]
    assert [event.event_id for event in page.events] == [first, first + 1]
    message = page.events[0]
    assert isinstance(message, V2MessageAddEvent)
    assert message.message is not None
    assert message.message.text == "Hello bot!"
    assert message.chat is not None
    assert message.chat.dialog_id == "chat5"
    assert message.chat.role is None  # events carry no per-user role
    assert page.next_offset == first + 2
    assert page.has_more is False
    assert _sent(portal) == [{"botId": BOT, "botToken": TOKEN}]


async def test_offset_confirms_and_limit_pages(portal: FakePortal, client: Client) -> None:
    ids = [portal.queue_event(BOT, "ONIMBOTV2MESSAGEDELETE", {"messageId": n}) for n in range(5)]
    page = await client.imbot.v2.event.get(limit=2)
    assert [event.event_id for event in page.events] == ids[:2]
    assert page.has_more is True
    again = await client.imbot.v2.event.get(limit=2)  # nothing confirmed: the same page
    assert [event.event_id for event in again.events] == ids[:2]
    rest = await client.imbot.v2.event.get(offset=page.next_offset, limit=10)
    assert [event.event_id for event in rest.events] == ids[2:]
    assert rest.has_more is False
    empty = await client.imbot.v2.event.get(offset=rest.next_offset)
    assert empty.events == ()
    assert empty.next_offset == rest.next_offset
    assert _sent(portal)[2] == {"botId": BOT, "botToken": TOKEN, "offset": ids[2], "limit": 10}


async def test_an_item_that_does_not_fit_is_delivered_raw_and_logged(
    portal: FakePortal, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    bad = portal.queue_event(BOT, "ONIMBOTV2JOINCHAT", {"chat": {"id": "five"}, "x": 1})
    good = portal.queue_event(BOT, "ONIMBOTV2JOINCHAT", _fixture("ONIMBOTV2JOINCHAT"))
    unknown = portal.queue_event(BOT, "ONIMBOTV2SOMETHINGNEW", {"y": 2})
    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        page = await client.imbot.v2.event.get()
    raw, typed, new = page.events
    assert type(raw) is V2Event
    assert (raw.type, raw.event_id, raw.data["x"]) == ("ONIMBOTV2JOINCHAT", bad, 1)
    assert raw.date is not None
    assert isinstance(typed, V2JoinChatEvent)
    assert typed.event_id == good
    assert type(new) is V2Event
    assert (new.event_id, new.data) == (unknown, {"y": 2})
    assert "data.chat.id" in caplog.text
    assert str(bad) in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"limit": 0}, ValueError),
        ({"limit": 1001}, ValueError),
        ({"limit": "10"}, TypeError),
        ({"offset": -1}, ValueError),
        ({"offset": True}, TypeError),
        ({"with_user_events": "yes"}, TypeError),
        ({"bot_id": 0}, ValueError),
    ],
)
async def test_bad_arguments_are_refused_before_sending(
    portal: FakePortal, client: Client, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.imbot.v2.event.get(**kwargs)
    assert portal.calls == []


async def test_limit_bounds_are_accepted(portal: FakePortal, client: Client) -> None:
    for _ in range(3):
        portal.queue_event(BOT, "ONIMBOTV2DELETE", {})
    assert len((await client.imbot.v2.event.get(limit=1)).events) == 1
    assert len((await client.imbot.v2.event.get(limit=1000, offset=0)).events) == 3


async def test_a_bot_without_client_credentials_needs_bot_id(portal: FakePortal) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(ValueError, match="bot_id"):
            await client.imbot.v2.event.get()
    assert portal.calls == []


async def test_documented_errors_are_typed_and_final(portal: FakePortal) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(NotFoundError) as missing:
            await client.imbot.v2.event.get(bot_id=999, bot_token=TOKEN)
        assert missing.value.code == "BOT_NOT_FOUND"
        with pytest.raises(BadRequestError) as no_token:
            await client.imbot.v2.event.get(bot_id=BOT)
        assert no_token.value.code == "BOT_TOKEN_NOT_SPECIFIED"
        with pytest.raises(AccessDeniedError) as stranger:
            await client.imbot.v2.event.get(bot_id=BOT, bot_token="another-bots-token")
        assert stranger.value.code == "BOT_OWNERSHIP_ERROR"
    assert [call.error for call in portal.calls] == [
        "BOT_NOT_FOUND",
        "BOT_TOKEN_NOT_SPECIFIED",
        "BOT_OWNERSHIP_ERROR",
    ]  # each sent once: final, not retried


async def test_only_the_registering_app_reads_the_events(portal: FakePortal) -> None:
    ours, theirs = portal.register_app(), portal.register_app()
    portal.add_bot(777, client_id=ours.client_id)
    portal.queue_event(777, "ONIMBOTV2DELETE", {})
    base = portal.client_endpoint()
    mine = portal.add_access_token(client_id=ours.client_id)
    other = portal.add_access_token(client_id=theirs.client_id)
    async with Client(_token_auth(base, mine), transport=portal.transport(), bot_id=777) as client:
        page = await client.imbot.v2.event.get()
        assert len(page.events) == 1
    async with Client(_token_auth(base, other), transport=portal.transport(), bot_id=777) as client:
        with pytest.raises(AccessDeniedError, match="BOT_OWNERSHIP_ERROR"):
            await client.imbot.v2.event.get()


async def test_user_events_need_the_im_scope_and_a_subscription(portal: FakePortal) -> None:
    app = portal.register_app()
    portal.add_bot(777, client_id=app.client_id)
    portal.queue_event(777, "ONIMBOTV2DELETE", {})
    portal.queue_event(777, "ONIMV2MESSAGEADD", _fixture("ONIMV2MESSAGEADD"), user_id=1)
    base = portal.client_endpoint()
    narrow = portal.add_access_token(client_id=app.client_id, scope="imbot")
    full = portal.add_access_token(client_id=app.client_id, scope="imbot,im")
    async with Client(_token_auth(base, narrow), transport=portal.transport()) as client:
        with pytest.raises(InsufficientScopeError, match="SCOPE_ERROR"):
            await client.imbot.v2.event.get(bot_id=777, with_user_events=True)
        assert len((await client.imbot.v2.event.get(bot_id=777)).events) == 1
    async with Client(_token_auth(base, full), transport=portal.transport()) as client:
        with pytest.raises(BadRequestError, match="USER_NOT_SUBSCRIBED"):
            await client.imbot.v2.event.get(bot_id=777, with_user_events=True)
        portal.user_event_subscribers.add(1)
        page = await client.imbot.v2.event.get(bot_id=777, with_user_events=True)
    assert [event.type for event in page.events] == ["ONIMBOTV2DELETE", "ONIMV2MESSAGEADD"]
    assert page.events[1].bot is None
    assert _sent(portal)[-1]["withUserEvents"] is True


def _token_auth(base: str, token: str) -> AccessTokenAuth:
    return AccessTokenAuth(base, token)
