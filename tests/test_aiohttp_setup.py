"""``setup(app, ...)``: clients made at startup and closed at cleanup, borrowed sessions left
open, and an app serving several portals that keeps their tokens and clients apart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bitrix_dialog import Client, LeakyBucket, MemoryTokenStore, WebhookAuth
from bitrix_dialog.abc import Auth, Transport
from bitrix_dialog.aiohttp import (
    CLIENT_KEY,
    PORTALS_KEY,
    BitrixEvents,
    BotMessageEvent,
    PortalNotInstalledError,
    RawEvent,
    setup,
)
from bitrix_dialog.testing import FakePortal

from .aiohttp_kit import EVENTS, PortalRouter, post, served
from .oauth_kit import ManualClock


async def test_the_shared_client_is_made_at_startup_and_closed_at_cleanup(
    portal: FakePortal,
) -> None:
    app = web.Application()
    setup(app, portal.webhook_url(), transport=portal.transport())
    assert CLIENT_KEY not in app
    chat = portal.add_chat(name="Support")
    async with served(app) as web_client:
        client = web_client.app[CLIENT_KEY]
        assert isinstance(client.auth, WebhookAuth)
        dialog = await client.im.dialog.get(chat.dialog_id)
        assert dialog.name == "Support"
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})


async def test_a_borrowed_client_session_is_used_and_never_closed(portal: FakePortal) -> None:
    session_key = web.AppKey("session", aiohttp.ClientSession)
    open_at_our_cleanup: list[bool] = []

    async def own_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[session_key] = session
            yield
            # Cleanup runs in reverse order: the SDK has closed its clients by now.
            open_at_our_cleanup.append(not session.closed)

    chat = portal.add_chat(name="Support")
    async with portal.serve() as base:
        app = web.Application()
        app.cleanup_ctx.append(own_session)
        setup(app, portal.webhook_url(base), session=session_key)
        async with served(app) as web_client:
            client = web_client.app[CLIENT_KEY]
            assert (await client.im.dialog.get(chat.dialog_id)).name == "Support"
    assert client.closed
    assert open_at_our_cleanup == [True]

    # A session object works the same way and is still open afterwards.
    async with aiohttp.ClientSession() as session, portal.serve() as base:
        app = web.Application()
        setup(app, portal.webhook_url(base), session=session)
        async with served(app) as web_client:
            await web_client.app[CLIENT_KEY].im.dialog.get(chat.dialog_id)
        assert not session.closed
        async with session.get(f"{base}/rest/") as response:  # still usable
            assert response.status == 404


async def test_the_webhook_mode_hands_handlers_the_shared_client(portal: FakePortal) -> None:
    # An outgoing webhook: no install, its token is pinned from the portal's UI.
    fake_app = portal.register_app()
    events = BitrixEvents(application_tokens=fake_app.application_token)
    seen: list[tuple[str, Client]] = []

    @events.on("ONCRMDEALUPDATE")
    async def deal(event: RawEvent, client: Client, request: web.Request) -> None:
        seen.append((event.data["FIELDS"]["ID"], client))

    app = web.Application()
    setup(app, portal.webhook_url(), transport=portal.transport())
    events.add_route(app, EVENTS)
    async with served(app) as web_client:
        body = portal.events.body("ONCRMDEALUPDATE", {"FIELDS": {"ID": "662"}}, user_id=None)
        assert await post(web_client, body) == (200, "")
        forged = portal.events.body("ONCRMDEALUPDATE", {}, application_token="x" * 32)
        assert await post(web_client, forged) == (403, "forbidden")
        # Installs are not for webhook apps: nothing to confirm them with.
        assert await post(web_client, portal.events.install()) == (200, "")
        assert seen == [("662", web_client.app[CLIENT_KEY])]


async def test_an_app_on_two_portals_keeps_their_tokens_and_clients_apart() -> None:
    clock = ManualClock()
    a, b = FakePortal("a.example", clock=clock), FakePortal("b.example", clock=clock)
    for portal in (a, b):
        portal.register_app("app.echo", "s3cret")
        portal.add_chat(name=f"Chat on {portal.domain}")
    router = PortalRouter(a=a, b=b)
    store = MemoryTokenStore()
    events = BitrixEvents()
    answered: list[tuple[str, Client]] = []

    @events.on(BotMessageEvent)
    async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        dialog = await client.imbot.dialog.get(event.dialog_id)
        await client.call(
            "imbot.message.add", {"DIALOG_ID": event.dialog_id, "MESSAGE": dialog.name}
        )
        answered.append((event.member_id, client))

    app = web.Application()
    setup(
        app,
        client_id="app.echo",
        client_secret="s3cret",
        store=store,
        transport=router.transport(),
        oauth_servers={"a.example", "b.example"},
        clock=clock,
    )
    events.add_route(app, EVENTS)
    async with served(app) as web_client:
        portals = web_client.app[PORTALS_KEY]
        for portal, base in ((a, "https://a.example"), (b, "https://b.example")):
            assert await post(web_client, portal.events.install(base=base)) == (200, "")
            portal.add_bot(1000)
        token_a = await store.load(a.oauth.member_id)
        token_b = await store.load(b.oauth.member_id)
        assert token_a is not None
        assert token_b is not None
        assert token_a.client_endpoint == "https://a.example/rest/"
        assert token_b.client_endpoint == "https://b.example/rest/"
        assert token_a.access_token != token_b.access_token

        async def message(portal: FakePortal, base: str) -> None:
            body = portal.events.bot_message(1000, "hi", dialog_id="chat1", base=base)
            assert await post(web_client, body) == (200, "")

        await message(a, "https://a.example")
        await message(b, "https://b.example")
        await message(a, "https://a.example")
        assert [m.text for m in a.messages] == ["Chat on a.example", "Chat on a.example"]
        assert [m.text for m in b.messages] == ["Chat on b.example"]
        # One client per portal, reused across requests.
        assert set(portals.clients) == {a.oauth.member_id, b.oauth.member_id}
        (member_a, client_a1), (member_b, client_b), (_, client_a2) = answered
        assert client_a1 is client_a2 is portals.clients[member_a]
        assert client_b is portals.clients[member_b]
        assert client_a1 is not client_b
        # The calls went to each portal with that portal's token only.
        assert {c.params.get("DIALOG_ID") for c in a.calls} == {"chat1"}
        assert all(call.status == 200 for call in (*a.calls, *b.calls))

        # An hour later both pairs expire; each refreshes at its own portal, once.
        clock.advance(3600)
        refreshes = (a.refresh_count, b.refresh_count)
        await message(b, "https://b.example")
        assert (a.refresh_count, b.refresh_count) == (refreshes[0], refreshes[1] + 1)
        await message(a, "https://a.example")
        assert (a.refresh_count, b.refresh_count) == (refreshes[0] + 1, refreshes[1] + 1)
        assert a.refresh_token_reuse_count == b.refresh_token_reuse_count == 0
        new_a = await store.load(a.oauth.member_id)
        new_b = await store.load(b.oauth.member_id)
        assert new_a is not None
        assert new_b is not None
        assert new_a.refresh_token != token_a.refresh_token
        assert new_a.client_endpoint == "https://a.example/rest/"
        assert new_b.client_endpoint == "https://b.example/rest/"
        # The refreshed pairs keep the application tokens events are checked against.
        assert new_a.application_token == a.oauth.apps["app.echo"].application_token
        assert new_b.application_token == b.oauth.apps["app.echo"].application_token
        await message(a, "https://a.example")
        refresh_hosts = {h for h in router.hosts if h.endswith("/oauth/token/")}
        assert refresh_hosts == {"a.example/oauth/token/", "b.example/oauth/token/"}

        with pytest.raises(PortalNotInstalledError, match="install the app first"):
            await portals.client("c0ffee")
    assert client_a1.closed
    assert client_b.closed


def test_setup_refuses_bad_arguments_before_the_app_runs(portal: FakePortal) -> None:
    app = web.Application()
    with pytest.raises(ValueError, match="either auth"):
        setup(app)
    with pytest.raises(ValueError, match="either auth"):
        setup(app, portal.webhook_url(), client_id="a", client_secret="b")
    with pytest.raises(ValueError, match="both client_id and client_secret"):
        setup(app, client_id="a")
    with pytest.raises(ValueError, match="client_secret must be a non-empty string"):
        setup(app, client_id="a", client_secret=" ")
    with pytest.raises(ValueError, match="session or transport"):
        setup(
            app,
            portal.webhook_url(),
            session=web.AppKey("s", aiohttp.ClientSession),
            transport=portal.transport(),
        )
    with pytest.raises(ValueError, match="store= is for OAuth apps"):
        setup(app, portal.webhook_url(), store=MemoryTokenStore())
    with pytest.raises(TypeError, match="oauth_servers"):
        setup(app, client_id="a", client_secret="b", oauth_servers="oauth.bitrix.info")
    with pytest.raises(ValueError, match="https"):
        setup(app, "http://portal.example.com/rest/1/code/")
    setup(app, portal.webhook_url())
    with pytest.raises(RuntimeError, match="already called"):
        setup(app, portal.webhook_url())


async def test_the_event_route_needs_setup() -> None:
    app = web.Application()
    BitrixEvents().add_route(app, EVENTS)
    async with served(app) as web_client:
        response = await web_client.post(EVENTS, data=b"event=ONAPPINSTALL")
        assert response.status == 500


def test_handlers_are_registered_once_per_event() -> None:
    events = BitrixEvents()

    async def handler(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        return None

    events.add(BotMessageEvent, handler)
    with pytest.raises(ValueError, match="ONIMBOTMESSAGEADD already has a handler"):
        events.add("onimbotmessageadd", handler)
    with pytest.raises(TypeError, match="name an event class"):
        events.add(RawEvent, handler)
    with pytest.raises(ValueError, match="must not be empty"):
        events.on(" ")
    with pytest.raises(TypeError, match="application_tokens"):
        BitrixEvents(application_tokens={"m": ""})
    with pytest.raises(TypeError, match="allowed_member_ids"):
        BitrixEvents(allowed_member_ids="m1")


def test_the_core_does_not_import_the_aiohttp_module() -> None:
    # Its __all__ is checked with every public package's, in test_public_api.
    code = "import sys, bitrix_dialog; print('bitrix_dialog.aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_client_factory_configures_every_client(portal: FakePortal) -> None:
    """Apps give their clients a limiter (e.g. a shared RedisLeakyBucket), hooks or
    retries through ``client_factory``; the webhook client and each portal's client use it."""
    shared = LeakyBucket(7, 3.0)
    made: list[str] = []

    def factory(auth: Auth, transport: Transport) -> Client:
        made.append(auth.identity)
        return Client(auth, transport=transport, limiter=shared)

    chat = portal.add_chat(name="Support")
    app = web.Application()
    setup(app, portal.webhook_url(), transport=portal.transport(), client_factory=factory)
    async with served(app) as web_client:
        client = web_client.app[CLIENT_KEY]
        assert client.limiter is shared
        assert (await client.im.dialog.get(chat.dialog_id)).name == "Support"
    assert made == [WebhookAuth(portal.webhook_url()).identity]

    oauth_portal = FakePortal("a.example")
    oauth_portal.register_app("app.echo", "s3cret")
    store = MemoryTokenStore()
    app = web.Application()
    setup(
        app,
        client_id="app.echo",
        client_secret="s3cret",
        store=store,
        transport=PortalRouter(a=oauth_portal).transport(),
        oauth_servers={"a.example"},
        client_factory=factory,
    )
    BitrixEvents().add_route(app, EVENTS)
    async with served(app) as web_client:
        install = oauth_portal.events.install(base="https://a.example")
        assert await post(web_client, install) == (200, "")
        portals = web_client.app[PORTALS_KEY]
        portal_client = await portals.client(oauth_portal.oauth.member_id)
        assert portal_client.limiter is shared
    assert len(made) == 2
