"""The event endpoint drops cached lookups the events make stale, before the handler runs.

Posts are built by ``portal.events`` as the portal sends them and go over a real
127.0.0.1 socket to the app; the app's client has a ``DialogCache``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bitrix_dialog import Client, Dialog, DialogCache
from bitrix_dialog.abc import Auth, Transport
from bitrix_dialog.aiohttp import BitrixEvents, BotJoinChatEvent, BotMessageEvent, setup
from bitrix_dialog.testing import FakePortal

from .aiohttp_kit import EVENTS, OK, WebClient, echo_bot, installed, post, served

BOT = 456


class App:
    def __init__(self, portal: FakePortal) -> None:
        self.portal = portal
        self.seen: list[Dialog] = []
        self.client: Client | None = None


@pytest.fixture
async def app(portal: FakePortal) -> AsyncIterator[tuple[App, WebClient]]:
    fake_app = portal.register_app()
    portal.add_bot(BOT, token="bot-secret")
    portal.add_chat(5, name="Before", members=frozenset({1, BOT}))
    portal.add_chat(6, name="Other", members=frozenset({1, BOT}))
    state = App(portal)
    events = BitrixEvents(application_tokens=fake_app.application_token)

    @events.on(BotMessageEvent)
    async def message(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        state.seen.append(await client.imbot.dialog.get(event.dialog_id))

    @events.on(BotJoinChatEvent)
    async def joined(event: BotJoinChatEvent, client: Client, request: web.Request) -> None:
        state.seen.append(await client.imbot.dialog.get(event.dialog_id))

    def make_client(auth: Auth, transport: Transport) -> Client:
        state.client = Client(auth, transport=transport, cache=DialogCache())
        return state.client

    web_app = web.Application()
    setup(web_app, portal.webhook_url(), transport=portal.transport(), client_factory=make_client)
    events.add_route(web_app, EVENTS)
    async with served(web_app) as web_client:
        yield state, web_client


async def say_hi(web_client: WebClient, portal: FakePortal, dialog_id: str) -> tuple[int, str]:
    return await post(web_client, portal.events.bot_message(BOT, "hi", dialog_id=dialog_id))


def lookups(portal: FakePortal) -> list[str]:
    return [call.params["DIALOG_ID"] for call in portal.calls if call.method == "imbot.dialog.get"]


async def test_messages_are_answered_from_the_cache(app: tuple[App, WebClient]) -> None:
    state, web_client = app
    for _ in range(3):
        body = state.portal.events.bot_message(BOT, "hi", dialog_id="chat5")
        assert await post(web_client, body) == (200, "")
    assert lookups(state.portal) == ["chat5"]
    assert [dialog.name for dialog in state.seen] == ["Before"] * 3


async def test_the_bot_joining_a_chat_drops_it_before_the_handler_looks(
    app: tuple[App, WebClient],
) -> None:
    state, web_client = app
    portal = state.portal
    for dialog_id in ("chat5", "chat6"):
        assert await say_hi(web_client, portal, dialog_id) == OK
    portal.chats[5].name = "After"
    assert await post(web_client, portal.events.bot_join_chat(BOT, dialog_id="chat5")) == (200, "")
    assert state.seen[-1].name == "After"
    assert await post(web_client, portal.events.bot_message(BOT, "hi", dialog_id="chat6")) == OK
    assert lookups(portal) == ["chat5", "chat6", "chat5"]  # chat6 stayed cached


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("ONIMBOTV2JOINCHAT", {"bot": {"id": str(BOT)}, "dialogId": "chat5"}),
        ("ONIMBOTV2JOINCHAT", {"bot": {"id": str(BOT)}, "chat": {"id": "5"}}),
        ("ONSESSIONFINISH", {"DATA": [{"chat": {"id": "5"}, "session": {"id": "42"}}]}),
        ("ONSESSIONSTART", {"DATA": [{"chat": {"id": "5"}}, {"chat": {"id": "9"}}]}),
    ],
)
async def test_other_chat_events_drop_the_chat_they_name(
    app: tuple[App, WebClient], event: str, data: dict[str, Any]
) -> None:
    state, web_client = app
    portal = state.portal
    for dialog_id in ("chat5", "chat6"):
        assert await say_hi(web_client, portal, dialog_id) == OK
    assert await post(web_client, portal.events.body(event, data, user_id=None)) == (200, "")
    for dialog_id in ("chat5", "chat6"):
        assert await say_hi(web_client, portal, dialog_id) == OK
    assert lookups(portal) == ["chat5", "chat6", "chat5"]


@pytest.mark.parametrize("event", ["ONIMBOTDELETE", "ONIMBOTV2DELETE"])
async def test_a_deleted_bot_drops_everything(app: tuple[App, WebClient], event: str) -> None:
    state, web_client = app
    portal = state.portal
    for dialog_id in ("chat5", "chat6"):
        assert await say_hi(web_client, portal, dialog_id) == OK
    body = portal.events.body(event, {"BOT_ID": "999", "bot": {"id": "999"}}, user_id=None)
    assert await post(web_client, body) == (200, "")
    for dialog_id in ("chat5", "chat6"):
        assert await say_hi(web_client, portal, dialog_id) == OK
    assert lookups(portal) == ["chat5", "chat6", "chat5", "chat6"]


async def test_events_that_change_no_chat_drop_nothing(app: tuple[App, WebClient]) -> None:
    state, web_client = app
    portal = state.portal
    assert await post(web_client, portal.events.bot_message(BOT, "hi", dialog_id="chat5")) == OK
    for event, data in (
        ("ONCRMDEALUPDATE", {"FIELDS": {"ID": "5"}}),
        ("ONIMBOTV2JOINCHAT", {"dialogId": "not a dialog"}),
        ("ONSESSIONFINISH", {"DATA": "junk"}),
    ):
        assert await post(web_client, portal.events.body(event, data, user_id=None)) == (200, "")
    assert await post(web_client, portal.events.bot_message(BOT, "hi", dialog_id="chat5")) == OK
    assert lookups(portal) == ["chat5"]


async def test_the_echo_bot_with_a_cache_looks_each_chat_up_once(portal: FakePortal) -> None:
    fake_app = portal.register_app()
    chat = portal.add_chat(name="Release planning")
    web_app = echo_bot(portal, fake_app, cache=DialogCache(ttl=60))
    async with installed(web_app, portal) as web_client:
        (bot,) = portal.bots.values()
        for text in ("one", "two", "three"):
            body = portal.events.bot_message(bot.id, text, dialog_id=chat.dialog_id)
            assert await post(web_client, body) == OK
        chat.name = "Renamed"
        joined = portal.events.bot_join_chat(bot.id, dialog_id=chat.dialog_id)
        assert await post(web_client, joined) == OK
        body = portal.events.bot_message(bot.id, "four", dialog_id=chat.dialog_id)
        assert await post(web_client, body) == OK
    assert lookups(portal) == [chat.dialog_id, chat.dialog_id]
    assert [message.text.split('"')[1] for message in portal.messages] == [
        "Release planning",
        "Release planning",
        "Release planning",
        "Renamed",
    ]
