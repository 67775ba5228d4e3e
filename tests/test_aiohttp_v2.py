"""``imbot.v2`` webhook mode at the event endpoint (#16, item 2).

Posts are built by ``portal.events.v2`` as the portal sends them (PHP form, every scalar
a string, two ``auth`` blocks) and go over a real 127.0.0.1 socket to an OAuth app
(``setup(app, client_id=..., client_secret=...)``) installed by ``portal.events.install``,
so the top-level ``application_token`` is checked against the stored one.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bitrix_dialog import (
    Client,
    DialogCache,
    MemoryTokenStore,
    V2BotDeleteEvent,
    V2CommandAddEvent,
    V2ContextGetEvent,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
    V2ReactionChangeEvent,
)
from bitrix_dialog.aiohttp import PORTALS_KEY, BitrixEvents
from bitrix_dialog.testing import FakeApp, FakePortal, http_build_query, parse_str

from .aiohttp_kit import EVENTS, FORBIDDEN, OK, WebClient, installed, oauth_app, post, served
from .oauth_kit import ManualClock
from .v2_kit import BOT, FIXTURES, fetch_event
from .v2_kit import example as documented

EXAMPLES = sorted(FIXTURES.glob("*.json"))
EXPECTED: dict[str, type[V2Event]] = {
    "ONIMBOTV2MESSAGEADD": V2MessageAddEvent,
    "ONIMBOTV2JOINCHAT": V2JoinChatEvent,
    "ONIMBOTV2DELETE": V2BotDeleteEvent,
    "ONIMBOTV2CONTEXTGET": V2ContextGetEvent,
    "ONIMBOTV2COMMANDADD": V2CommandAddEvent,
    "ONIMBOTV2REACTIONCHANGE": V2ReactionChangeEvent,
    "ONIMV2MESSAGEADD": V2MessageAddEvent,
}


def example(name: str) -> tuple[str, dict[str, Any]]:
    return documented(FIXTURES / f"{name}.json")


class Seen:
    def __init__(self) -> None:
        self.events: list[V2Event] = []
        self.requests: list[web.Request | None] = []


@pytest.fixture
def portal(clock: ManualClock) -> FakePortal:
    portal = FakePortal(clock=clock)
    portal.add_chat(5, name="Support Chat", members=frozenset({1, BOT}))
    portal.add_bot(BOT, owner_user_id=1)
    return portal


def recording(seen: Seen, events: BitrixEvents | None = None) -> BitrixEvents:
    events = events or BitrixEvents()

    @events.fallback
    async def record(event: object, client: Client, request: web.Request | None) -> None:
        if isinstance(event, V2Event):  # not the install
            seen.events.append(event)
            seen.requests.append(request)

    return events


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def events(seen: Seen) -> BitrixEvents:
    return recording(seen)


@pytest.fixture
async def endpoint(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, events: BitrixEvents
) -> AsyncIterator[WebClient]:
    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as client:
        yield client


# ------------------------------------------------------------- typed events
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_documented_example_reaches_its_handler_as_the_typed_event(
    path: pathlib.Path, portal: FakePortal, endpoint: WebClient, events: BitrixEvents, seen: Seen
) -> None:
    kind, data = example(path.stem)
    assert await post(endpoint, portal.events.v2(kind, data)) == OK
    await events.join()

    fetched = await fetch_event(kind, data)  # what fetch mode delivers
    [event] = seen.events
    assert type(event) is EXPECTED[kind]
    assert event.type == kind
    assert isinstance(seen.requests[0], web.Request)
    for name in ("chat", "user", "language", "dialog_id", "message_id", "reaction", "action"):
        assert getattr(event, name, None) == getattr(fetched, name, None), name
    if isinstance(fetched, V2MessageAddEvent | V2CommandAddEvent):
        assert isinstance(event, V2MessageAddEvent | V2CommandAddEvent)
        assert event.message is not None
        assert fetched.message is not None
        assert (event.message.id, event.message.text) == (fetched.message.id, fetched.message.text)
    if "bot" in data:
        assert event.bot is not None
        assert event.bot.id == data["bot"]["id"]
        assert event.bot_auth is not None
        assert event.bot_auth.token is not None  # the bot's pair, for calling back
    else:
        assert event.bot is None


async def test_handlers_register_by_class_for_bot_and_user_events_alike(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore
) -> None:
    events = BitrixEvents()
    messages: list[V2MessageAddEvent] = []
    joins: list[str] = []

    @events.on(V2MessageAddEvent)
    async def message(
        event: V2MessageAddEvent, client: Client, request: web.Request | None
    ) -> None:
        messages.append(event)

    @events.on("ONIMBOTV2JOINCHAT")
    async def joined(event: V2Event, client: Client, request: web.Request | None) -> None:
        joins.append(event.type)

    with pytest.raises(ValueError, match="ONIMV2MESSAGEADD already has a handler"):
        events.add("onimv2messageadd", message)
    with pytest.raises(TypeError, match="fallback"):
        events.on(V2Event)

    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as endpoint:
        for name in ("ONIMBOTV2MESSAGEADD", "ONIMV2MESSAGEADD", "ONIMBOTV2JOINCHAT"):
            assert await post(endpoint, portal.events.v2(*example(name))) == OK
        await events.join()
    assert [(event.type, event.bot is None) for event in messages] == [
        ("ONIMBOTV2MESSAGEADD", False),
        ("ONIMV2MESSAGEADD", True),
    ]
    assert joins == ["ONIMBOTV2JOINCHAT"]


# -------------------------------------------------------------------- trust
async def test_a_forged_top_level_application_token_is_refused(
    portal: FakePortal, endpoint: WebClient, events: BitrixEvents, seen: Seen
) -> None:
    kind, data = example("ONIMBOTV2MESSAGEADD")
    genuine = portal.events.v2(kind, data)
    assert genuine.count(b"application_token") == 2
    forged = portal.events.v2(kind, data, application_token="forged-token")
    assert await post(endpoint, forged) == FORBIDDEN
    # ... even when the bot's own block carries the genuine one.
    fake_app = portal.oauth._app(None)
    both = portal.events.v2(
        kind, data, application_token="forged", bot_application_token=fake_app.application_token
    )
    assert await post(endpoint, both) == FORBIDDEN
    without = portal.events.v2(kind, data, application_token="forged", top_member_id=False)
    assert await post(endpoint, without) == FORBIDDEN
    await events.join()
    assert seen.events == []


async def test_a_forged_bot_auth_application_token_is_ignored(
    portal: FakePortal, endpoint: WebClient, events: BitrixEvents, seen: Seen
) -> None:
    kind, data = example("ONIMBOTV2MESSAGEADD")
    body = portal.events.v2(kind, data, bot_application_token="forged-token")
    assert await post(endpoint, body) == OK
    await events.join()
    [event] = seen.events
    assert isinstance(event, V2MessageAddEvent)


async def test_a_top_level_block_without_member_id_is_checked_for_the_bots_portal(
    portal: FakePortal, endpoint: WebClient, events: BitrixEvents, seen: Seen
) -> None:
    body = portal.events.v2(*example("ONIMBOTV2JOINCHAT"), top_member_id=False)
    assert await post(endpoint, body) == OK
    await events.join()
    assert [event.type for event in seen.events] == ["ONIMBOTV2JOINCHAT"]


async def test_a_v2_post_for_a_portal_never_installed_is_refused(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, events: BitrixEvents, seen: Seen
) -> None:
    async with served(oauth_app(portal, fake_app, events, store=store)) as endpoint:
        assert await post(endpoint, portal.events.v2(*example("ONIMBOTV2DELETE"))) == FORBIDDEN
    assert seen.events == []


async def test_the_bounds_before_verification_hold_for_v2_posts(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, seen: Seen
) -> None:
    events = recording(seen, BitrixEvents(max_body_size=16384, max_vars=200))
    kind, data = example("ONIMBOTV2MESSAGEADD")
    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as endpoint:
        big = {**data, "message": {**data["message"], "text": "x" * 20000}}
        assert (await post(endpoint, portal.events.v2(kind, big)))[0] == 413
        many = {**data, "context": {str(i): "1" for i in range(300)}}
        assert (await post(endpoint, portal.events.v2(kind, many)))[0] == 400
        headers = {**portal.events.headers, "Content-Encoding": "gzip"}
        packed = gzip.compress(portal.events.v2(kind, data))
        response = await endpoint.post(EVENTS, data=packed, headers=headers)
        assert response.status == 415
        assert await post(endpoint, portal.events.v2(kind, data)) == OK
        await events.join()
    assert len(seen.events) == 1


async def test_a_bots_pair_naming_an_untrusted_url_is_refused(
    portal: FakePortal, endpoint: WebClient, events: BitrixEvents, seen: Seen
) -> None:
    form = parse_str(portal.events.v2(*example("ONIMBOTV2MESSAGEADD")).decode())
    form["data"]["bot"]["auth"]["client_endpoint"] = "https://169.254.169.254/rest/"
    assert await post(endpoint, http_build_query(form).encode()) == FORBIDDEN
    await events.join()
    assert seen.events == []


async def test_a_field_that_does_not_fit_is_a_400_naming_it(
    portal: FakePortal, endpoint: WebClient
) -> None:
    kind, data = example("ONIMBOTV2MESSAGEADD")
    broken = {**data, "chat": {**data["chat"], "id": "not-a-number"}}
    status, text = await post(endpoint, portal.events.v2(kind, broken))
    assert status == 400
    assert "data.chat.id" in text


# ------------------------------------------------------------ answering fast
async def test_the_post_is_answered_before_the_handler_finishes(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore
) -> None:
    events = BitrixEvents(max_running_handlers=2)
    started, release = asyncio.Event(), asyncio.Event()
    done: list[str] = []

    @events.on(V2MessageAddEvent)
    async def slow(event: V2MessageAddEvent, client: Client, request: web.Request | None) -> None:
        started.set()
        await release.wait()
        done.append(event.type)

    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as endpoint:
        assert await post(endpoint, portal.events.v2(*example("ONIMBOTV2MESSAGEADD"))) == OK
        await started.wait()
        assert done == []  # answered 200 while the handler still runs
        release.set()
        await events.join()
    assert done == ["ONIMBOTV2MESSAGEADD"]


async def test_the_apps_shutdown_waits_for_running_handlers(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore
) -> None:
    events = BitrixEvents()
    done: list[str] = []

    @events.fallback
    async def later(event: object, client: Client, request: web.Request | None) -> None:
        if not isinstance(event, V2Event):
            return
        await asyncio.sleep(0)
        await client.imbot.v2.chat.get("chat5", bot_id=BOT)  # the client is still open
        done.append(event.type)

    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as endpoint:
        assert await post(endpoint, portal.events.v2(*example("ONIMBOTV2MESSAGEADD"))) == OK
    assert done == ["ONIMBOTV2MESSAGEADD"]


async def test_a_failing_handler_is_logged_without_secrets(
    portal: FakePortal,
    fake_app: FakeApp,
    store: MemoryTokenStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = BitrixEvents()

    @events.fallback
    async def broken(event: object, client: Client, request: web.Request | None) -> None:
        if isinstance(event, V2Event):
            raise RuntimeError("the handler broke")

    caplog.set_level(logging.DEBUG)
    kind, data = example("ONIMBOTV2MESSAGEADD")
    async with installed(oauth_app(portal, fake_app, events, store=store), portal) as endpoint:
        body = portal.events.v2(kind, data)
        assert await post(endpoint, body) == OK
        assert await post(endpoint, portal.events.v2(kind, data, application_token="x")) == (
            FORBIDDEN
        )
        await events.join()
    assert "the handler broke" in caplog.text
    bot_auth = parse_str(body.decode())["data"]["bot"]["auth"]
    for secret in (bot_auth["access_token"], bot_auth["refresh_token"], fake_app.application_token):
        assert secret not in caplog.text


# ------------------------------------------------------------- bot's pair
async def test_a_verified_newer_pair_of_the_same_user_replaces_the_stored_one(
    portal: FakePortal, clock: ManualClock, endpoint: WebClient, store: MemoryTokenStore
) -> None:
    member = portal.oauth.member_id
    installed = await store.load(member)
    assert installed is not None
    assert installed.user_id == 1
    kind, data = example("ONIMBOTV2MESSAGEADD")
    clock.now += 60
    # Another user's pair (the bot's own) never replaces the installer's.
    assert await post(endpoint, portal.events.v2(kind, data)) == OK
    assert await store.load(member) == installed
    # Nor does a forged post's, nor one without a refresh token.
    assert await post(endpoint, portal.events.v2(kind, data, user_id=1, application_token="x")) == (
        FORBIDDEN
    )
    assert await post(endpoint, portal.events.v2(kind, data, user_id=1, refresh_token=False)) == OK
    assert await store.load(member) == installed
    body = portal.events.v2(kind, data, user_id=1, bot_application_token="forged")
    assert await post(endpoint, body) == OK
    kept = await store.load(member)
    assert kept is not None
    bot_auth = parse_str(body.decode())["data"]["bot"]["auth"]
    assert kept.access_token == bot_auth["access_token"]
    assert kept.expires_at > installed.expires_at
    # Its expires_in counts from setup's clock, as the installer's pair did.
    assert kept.expires_at == clock.now + int(bot_auth["expires_in"])
    assert kept.application_token == installed.application_token  # never the bot block's
    # An older pair (a late post) does not go back in.
    clock.now -= 30
    assert await post(endpoint, portal.events.v2(kind, data, user_id=1)) == OK
    assert await store.load(member) == kept


# -------------------------------------------------------- the dialog cache
async def test_the_cache_learns_from_v2_events_so_the_handlers_lookup_sends_nothing(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore
) -> None:
    events = BitrixEvents()
    seen: list[tuple[str | None, object]] = []

    @events.on(V2MessageAddEvent)
    async def answer(event: V2MessageAddEvent, client: Client, request: web.Request | None) -> None:
        assert event.chat is not None
        assert event.chat.dialog_id is not None
        chat = await client.imbot.v2.chat.get(event.chat.dialog_id)
        seen.append((chat.name, chat.role))

    def make_client(auth: Any, transport: Any) -> Client:
        return Client(auth, transport=transport, cache=DialogCache(), bot_id=BOT)

    app = oauth_app(portal, fake_app, events, store=store, client_factory=make_client)
    kind, data = example("ONIMBOTV2MESSAGEADD")

    def lookups() -> int:
        return sum(call.method == "imbot.v2.Chat.get" for call in portal.calls)

    async with installed(app, portal) as endpoint:
        assert await post(endpoint, portal.events.v2(kind, data)) == OK
        await events.join()
        assert lookups() == 0  # primed: no role known yet
        assert seen == [("Support Chat", None)]
        client = await app[PORTALS_KEY].client(portal.oauth.member_id)
        await client.dialogs.invalidate("chat5")
        full = await client.imbot.v2.chat.get("chat5")
        assert lookups() == 1
        assert full.role is not None
        renamed = {**data, "chat": {**data["chat"], "name": "Renamed"}}
        assert await post(endpoint, portal.events.v2(kind, renamed)) == OK
        await events.join()
        assert lookups() == 1  # merged: the event's name, the answer's role
        assert seen[-1] == ("Renamed", full.role)
        assert await post(endpoint, portal.events.v2(*example("ONIMBOTV2DELETE"))) == OK
        await client.imbot.v2.chat.get("chat5")
        assert lookups() == 2  # the bot's deletion dropped everything
