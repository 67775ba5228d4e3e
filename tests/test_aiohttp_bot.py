"""The echo bot end to end, and the event endpoint's verification, through aiohttp's test client.

Every post is built by ``portal.events`` in the shape the portal sends, and goes over
a real 127.0.0.1 socket to the app; the app's REST calls go to the fake portal.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bitrix_dialog import Client, MemoryTokenStore
from bitrix_dialog.aiohttp import (
    PORTALS_KEY,
    AppUninstallEvent,
    BitrixEvent,
    BitrixEvents,
    BotMessageEvent,
    RawEvent,
    setup,
)
from bitrix_dialog.testing import FakeApp, FakePortal, http_build_query

from .aiohttp_kit import (
    EVENTS,
    FORBIDDEN,
    OK,
    WebClient,
    echo_bot,
    echo_bot_module,
    host_log,
    installed,
    oauth_app,
    post,
    served,
)


@pytest.fixture
async def bot(portal: FakePortal, fake_app: FakeApp) -> AsyncIterator[WebClient]:
    """The example echo bot, installed on ``portal``."""
    async with installed(echo_bot(portal, fake_app), portal) as client:
        yield client


def registered_bot_id(portal: FakePortal) -> int:
    (bot,) = portal.bots.values()
    return bot.id


async def test_the_echo_bot_answers_with_the_dialog_name_and_type(
    portal: FakePortal, bot: WebClient
) -> None:
    chat = portal.add_chat(name="Release planning", type="open", message_type="O")
    bot_id = registered_bot_id(portal)
    assert portal.bots[bot_id].code == "echo_bot"
    assert portal.bots[bot_id].event_handlers["EVENT_MESSAGE_ADD"].endswith(EVENTS)

    body = portal.events.bot_message(bot_id, "Hello, bot!", dialog_id=chat.dialog_id)
    assert await post(bot, body) == OK

    (answer,) = portal.messages
    assert answer.bot_id == bot_id
    assert answer.dialog_id == chat.dialog_id
    assert answer.text == (
        'This is "Release planning", a dialog of type open. You wrote: Hello, bot!'
    )
    methods = [call.method for call in portal.calls]
    assert methods[-2:] == ["imbot.dialog.get", "imbot.message.add"]
    assert portal.calls[-2].params["DIALOG_ID"] == chat.dialog_id


async def test_a_forged_application_token_gets_403_and_reaches_no_handler(
    portal: FakePortal, bot: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    chat = portal.add_chat(name="Board")
    bot_id = registered_bot_id(portal)
    calls = len(portal.calls)
    forged = portal.events.bot_message(
        bot_id, "wire the money", dialog_id=chat.dialog_id, application_token="f" * 32
    )
    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        assert await post(bot, forged) == FORBIDDEN
    assert portal.messages == []
    assert len(portal.calls) == calls
    assert "does not match the stored one" in caplog.text
    assert "f" * 32 not in caplog.text

    # The genuine post is still answered.
    genuine = portal.events.bot_message(bot_id, "hi", dialog_id=chat.dialog_id)
    assert await post(bot, genuine) == OK
    assert len(portal.messages) == 1


async def test_a_post_without_an_application_token_or_from_an_unknown_portal_gets_403(
    portal: FakePortal, fake_app: FakeApp, bot: WebClient
) -> None:
    chat = portal.add_chat()
    bot_id = registered_bot_id(portal)
    body = portal.events.bot_message(bot_id, "hi", dialog_id=chat.dialog_id).decode()
    token = portal.events.auth(user_id=None)["application_token"]
    assert await post(bot, body.replace(token, "").encode()) == FORBIDDEN

    stranger = FakePortal("stranger.example")
    stranger.register_app(fake_app.client_id, fake_app.client_secret)
    stranger.add_chat()
    stranger.add_bot(bot_id)
    assert (
        await post(bot, stranger.events.bot_message(bot_id, "hi", dialog_id="chat1")) == FORBIDDEN
    )
    assert portal.messages == []


async def test_a_forged_install_is_refused_and_stores_nothing(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    store = MemoryTokenStore()
    app = oauth_app(portal, fake_app, store=store)
    # A genuine-looking install whose pair the authorization server never issued.
    auth = portal.events.auth() | {"refresh_token": "0" * 32, "access_token": "1" * 32}
    form = {"event": "ONAPPINSTALL", "ts": str(int(portal.clock())), "auth": auth}
    body = http_build_query(form | {"data": {"VERSION": "1"}})
    async with served(app) as client:
        assert await post(client, body.encode()) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) is None
    assert portal.oauth.requests[-1].error == "invalid_grant"


async def test_an_install_naming_a_foreign_authorization_server_never_sends_the_secret(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    transport, sent = host_log(portal)
    app = oauth_app(portal, fake_app, transport=transport)
    body = portal.events.install().decode().replace("oauth.bitrix.info", "evil.example")
    async with served(app) as client:
        assert await post(client, body.encode()) == FORBIDDEN
    assert "evil.example" not in sent


async def test_unknown_events_are_delivered_raw_and_unhandled_ones_get_200(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    events = BitrixEvents()
    seen: list[BitrixEvent] = []

    @events.on("onCrmDealUpdate")
    async def deal(event: RawEvent, client: Client, request: web.Request) -> None:
        seen.append(event)

    @events.fallback
    async def anything(event: BitrixEvent, client: Client, request: web.Request) -> None:
        seen.append(event)

    async with served(oauth_app(portal, fake_app, events)) as client:
        assert await post(client, portal.events.install()) == OK
        deal_post = portal.events.body("ONCRMDEALUPDATE", {"FIELDS": {"ID": "662"}}, user_id=None)
        assert await post(client, deal_post) == OK
        task_post = portal.events.body("ONTASKADD", {"FIELDS_AFTER": {"ID": "12"}})
        assert await post(client, task_post) == OK

    install, deal_event, task_event = seen
    assert install.event == "ONAPPINSTALL"
    assert type(deal_event) is RawEvent
    assert deal_event.event == "ONCRMDEALUPDATE"
    assert deal_event.data == {"FIELDS": {"ID": "662"}}
    assert deal_event.member_id == portal.oauth.member_id
    assert deal_event.auth.token is None  # no user caused it
    assert type(task_event) is RawEvent
    assert task_event.data["FIELDS_AFTER"] == {"ID": "12"}


async def test_uninstall_reaches_its_handler_then_forgets_the_portal(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    store = MemoryTokenStore()
    events = BitrixEvents()
    uninstalled: list[AppUninstallEvent] = []

    @events.on(AppUninstallEvent)
    async def goodbye(event: AppUninstallEvent, client: Client, request: web.Request) -> None:
        uninstalled.append(event)
        assert not client.closed

    @events.on(BotMessageEvent)
    async def never(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        raise AssertionError

    member_id = portal.oauth.member_id
    async with served(oauth_app(portal, fake_app, events, store=store)) as client:
        assert await post(client, portal.events.install()) == OK
        portals = client.app[PORTALS_KEY]
        portal_client = await portals.client(member_id)

        forged = portal.events.uninstall(application_token="0" * 32)
        assert await post(client, forged) == FORBIDDEN
        assert await store.load(member_id) is not None

        assert await post(client, portal.events.uninstall(clean=True)) == OK
        (event,) = uninstalled
        assert event.clean is True
        assert event.language_id == "en"
        assert event.auth.token is None
        assert portal_client.closed
        assert member_id not in portals.clients
        assert await store.load(member_id) is None

        # The portal is unknown now: its events are refused.
        chat = portal.add_chat()
        portal.add_bot(1000)
        message = portal.events.bot_message(1000, "still there?", dialog_id=chat.dialog_id)
        assert await post(client, message) == FORBIDDEN


async def test_a_reinstall_with_a_new_application_token_replaces_the_old_one(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    events = BitrixEvents()
    got: list[str] = []

    @events.on("ONCRMDEALUPDATE")
    async def deal(event: RawEvent, client: Client, request: web.Request) -> None:
        got.append(event.data["FIELDS"]["ID"])

    old = fake_app.application_token
    async with served(oauth_app(portal, fake_app, events)) as client:
        assert await post(client, portal.events.install()) == OK
        fake_app.application_token = "b" * 32  # the portal issues a new one on reinstall
        assert await post(client, portal.events.install()) == OK
        stale = portal.events.body(
            "ONCRMDEALUPDATE", {"FIELDS": {"ID": "1"}}, application_token=old
        )
        assert await post(client, stale) == FORBIDDEN
        fresh = portal.events.body("ONCRMDEALUPDATE", {"FIELDS": {"ID": "2"}})
        assert await post(client, fresh) == OK
    assert got == ["2"]
    assert portal.refresh_count == 2  # each new application token was confirmed once


async def test_without_install_verification_the_first_install_is_trusted_and_kept(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    events = BitrixEvents(verify_install=False)
    async with served(oauth_app(portal, fake_app, events)) as client:
        assert await post(client, portal.events.install()) == OK
        assert portal.refresh_count == 0
        # Someone else's "reinstall" cannot replace the trusted token ...
        hijack = portal.events.install(application_token="c" * 32)
        assert await post(client, hijack) == FORBIDDEN
        # ... while the portal's own repeated install (same token) refreshes the pair.
        assert await post(client, portal.events.install()) == OK
        assert await post(client, portal.events.update()) == OK


async def test_pinned_tokens_and_allowed_portals_decide_before_anything_is_stored(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    member_id = portal.oauth.member_id
    store = MemoryTokenStore()
    pinned = BitrixEvents(application_tokens={member_id: fake_app.application_token})
    allowed = BitrixEvents(allowed_member_ids={"somebody-else"})
    app = oauth_app(portal, fake_app, pinned, store=store)
    allowed.add_route(app, "/allowed")
    async with served(app) as client:
        body = portal.events.install()
        assert await post(client, body, "/allowed") == FORBIDDEN
        assert await store.load(member_id) is None
        other = portal.events.install(application_token="d" * 32)
        assert await post(client, other) == FORBIDDEN
        assert await post(client, body) == OK
    saved = await store.load(member_id)
    assert saved is not None
    assert saved.application_token == fake_app.application_token
    assert portal.refresh_count == 0  # a pinned token needs no confirmation


async def test_malformed_posts_get_400_after_verification(
    portal: FakePortal, bot: WebClient
) -> None:
    chat = portal.add_chat()
    bot_id = registered_bot_id(portal)
    body = portal.events.bot_message(bot_id, "x", dialog_id=chat.dialog_id).decode()
    message_id = str(chat.last_message_id)
    bad = body.replace(f"MESSAGE_ID%5D={message_id}", "MESSAGE_ID%5D=abc")
    status, text = await post(bot, bad.encode())
    assert (status, text) == (
        400,
        "malformed event: data[PARAMS][MESSAGE_ID]: expected an integer, got 'abc'",
    )
    # Before verification the answer is generic: the reason is logged, not told.
    assert await post(bot, b"hello=world") == (400, "bad request")
    assert await post(bot, b"event=ONAPPINSTALL") == FORBIDDEN
    assert portal.messages == []


async def test_the_example_runs_against_its_embedded_fake_portal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = echo_bot_module()["demo"]
    assert callable(demo)
    await demo("127.0.0.1", 0, once=True)
    out = capsys.readouterr().out
    assert 'Anna Petrova writes in "Release planning": Hello, bot!' in out
    assert (
        'the bot answers: This is "Release planning", a dialog of type chat. You wrote: Hello, bot!'
        in out
    )


async def test_the_readme_handler_test_runs_as_written() -> None:
    # The README's "Event handlers" and "Testing your handlers" snippets, verbatim.
    events = BitrixEvents()

    @events.on(BotMessageEvent)
    async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        dialog = await client.imbot.dialog.get(event.dialog_id)
        await client.call(
            "imbot.message.add",
            {
                "BOT_ID": event.bot_id,
                "DIALOG_ID": event.dialog_id,
                "MESSAGE": f"{dialog.name} ({dialog.type}): {event.message}",
            },
        )

    portal = FakePortal()
    fake_app = portal.register_app()
    chat = portal.add_chat(name="Support")
    app = web.Application()
    setup(
        app,
        client_id=fake_app.client_id,
        client_secret=fake_app.client_secret,
        transport=portal.transport(),
    )
    events.add_route(app, "/bitrix/events")
    async with TestClient(TestServer(app)) as http:
        await http.post(
            "/bitrix/events", data=portal.events.install(), headers=portal.events.headers
        )
        bot = portal.add_bot(1000)
        body = portal.events.bot_message(bot.id, "Hello", dialog_id=chat.dialog_id, from_user_id=7)
        await http.post("/bitrix/events", data=body, headers=portal.events.headers)
    assert portal.messages[-1].text == "Support (chat): Hello"
