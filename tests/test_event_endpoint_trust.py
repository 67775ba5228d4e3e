"""Whom the event endpoint believes: replayed and late installs, a portal user taking over
the install, URLs that point the app somewhere else, and genuine posts of older forms
(#14, items 2, 3, 5 and the inbound half of 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bitrix_dialog import AiohttpTransport, Client, MemoryTokenStore, parse_event_auth
from bitrix_dialog.aiohttp import BitrixEvents, RawEvent
from bitrix_dialog.testing import FakeApp, FakePortal, http_build_query, parse_str

from .aiohttp_kit import FORBIDDEN, OK, WebClient, host_log, oauth_app, post, served
from .oauth_kit import START, ManualClock


@pytest.fixture
def portal(clock: ManualClock) -> FakePortal:
    return FakePortal(clock=clock)


@pytest.fixture
def deals() -> list[str]:
    return []


def make_app(
    portal: FakePortal,
    fake_app: FakeApp,
    store: MemoryTokenStore,
    deals: list[str],
    events: BitrixEvents | None = None,
) -> web.Application:
    events = events or BitrixEvents()

    @events.on("ONCRMDEALUPDATE")
    async def deal(event: RawEvent, client: Client, request: web.Request) -> None:
        deals.append(event.data["FIELDS"]["ID"])
        await client.call("user.admin")  # the stored pair works

    return oauth_app(portal, fake_app, events, store=store)


@pytest.fixture
async def endpoint(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, deals: list[str]
) -> AsyncIterator[WebClient]:
    async with served(make_app(portal, fake_app, store, deals)) as client:
        yield client


def deal(portal: FakePortal, deal_id: str, **options: object) -> bytes:
    return portal.events.body("ONCRMDEALUPDATE", {"FIELDS": {"ID": deal_id}}, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ item 2
async def test_a_replayed_install_is_refused_once_its_ts_is_stale(
    portal: FakePortal, clock: ManualClock, store: MemoryTokenStore, endpoint: WebClient
) -> None:
    captured = portal.events.install()
    assert await post(endpoint, captured) == OK
    stored = await store.load(portal.oauth.member_id)
    clock.advance(601)
    assert await post(endpoint, captured) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) == stored
    # From the future (a skewed or forged ts) is outside the window too.
    ahead = portal.events.install(ts=clock() + 601)
    assert await post(endpoint, ahead) == FORBIDDEN
    undated = b"&".join(p for p in portal.events.install().split(b"&") if not p.startswith(b"ts="))
    assert await post(endpoint, undated) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) == stored


async def test_a_late_install_never_replaces_a_newer_pair(
    portal: FakePortal,
    fake_app: FakeApp,
    clock: ManualClock,
    store: MemoryTokenStore,
    deals: list[str],
) -> None:
    events = BitrixEvents(max_age=3 * 3600)  # a wide window: the pair check alone decides
    async with served(make_app(portal, fake_app, store, deals, events)) as endpoint:
        captured = portal.events.install()
        assert await post(endpoint, captured) == OK
        clock.advance(2 * 3600)  # the pair has expired; the next call refreshes it
        assert await post(endpoint, deal(portal, "1")) == OK
        refreshed = await store.load(portal.oauth.member_id)
        assert refreshed is not None
        # The captured install comes back: authentic token, spent pair. It is refused
        # by the authorization server and the live pair stays.
        assert await post(endpoint, captured) == OK
        assert await store.load(portal.oauth.member_id) == refreshed
        assert await post(endpoint, deal(portal, "2")) == OK
    assert deals == ["1", "2"]


async def test_the_freshness_window_and_clock_are_set_on_the_endpoint(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, deals: list[str]
) -> None:
    events = BitrixEvents(max_age=60, clock=lambda: START + 61)
    async with served(make_app(portal, fake_app, store, deals, events)) as endpoint:
        assert await post(endpoint, portal.events.install()) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) is None
    with pytest.raises(ValueError, match="max_age"):
        BitrixEvents(max_age=0)


# ------------------------------------------------------------------ item 3
async def test_a_portal_user_who_is_no_admin_cannot_take_over_the_install(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, endpoint: WebClient
) -> None:
    assert await post(endpoint, portal.events.install()) == OK  # user 1, an admin
    installed = await store.load(portal.oauth.member_id)
    assert installed is not None
    # User 5 holds a genuine pair of this app on this portal and posts an install with
    # an application token of their own.
    own = "e" * 32
    takeover = portal.events.install(user_id=5, application_token=own)
    assert await post(endpoint, takeover) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) == installed
    # Genuine events still pass; the user's forged uninstall does not.
    assert await post(endpoint, deal(portal, "7")) == OK
    assert await post(endpoint, portal.events.uninstall(application_token=own)) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) is not None
    # An administrator may install a new token (a reinstall).
    portal.admin_user_ids.add(5)
    reinstall = portal.events.install(user_id=5, application_token=own)
    assert await post(endpoint, reinstall) == OK
    replaced = await store.load(portal.oauth.member_id)
    assert replaced is not None
    assert replaced.application_token == own
    assert replaced.user_id == 5


async def test_a_pair_of_a_user_who_is_no_admin_never_replaces_the_stored_one(
    portal: FakePortal, store: MemoryTokenStore, endpoint: WebClient
) -> None:
    assert await post(endpoint, portal.events.install()) == OK
    installed = await store.load(portal.oauth.member_id)
    # The portal's own update, caused by user 5: authentic, but its pair is a user's.
    assert await post(endpoint, portal.events.update(user_id=5)) == OK
    assert await store.load(portal.oauth.member_id) == installed
    assert await post(endpoint, portal.events.update(user_id=1)) == OK
    updated = await store.load(portal.oauth.member_id)
    assert updated is not None
    assert updated != installed


async def test_the_fake_portal_answers_user_admin_per_user(portal: FakePortal) -> None:
    portal.add_webhook(5, code="code5")
    async with Client(portal.webhook_url(), transport=portal.transport()) as admin:
        assert (await admin.call("user.admin")).result is True
    url = portal.webhook_url(code="code5")
    async with Client(url, transport=portal.transport()) as user:
        assert (await user.call("user.admin")).result is False
        portal.admin_user_ids.add(5)
        assert (await user.call("user.admin")).result is True


# ------------------------------------------------------------------ item 5
async def test_an_install_with_a_domain_and_no_client_endpoint_derives_it(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, deals: list[str]
) -> None:
    form = parse_str(portal.events.install().decode())
    del form["auth"]["client_endpoint"]
    legacy = http_build_query(form).encode()
    auth = parse_event_auth(legacy)
    assert auth.token is not None
    assert auth.token.client_endpoint == f"https://{portal.domain}/rest/"
    events = BitrixEvents(verify_install=False)
    async with served(make_app(portal, fake_app, store, deals, events)) as endpoint:
        assert await post(endpoint, legacy) == OK
        stored = await store.load(portal.oauth.member_id)
        assert stored is not None
        assert stored.client_endpoint == f"https://{portal.domain}/rest/"
        assert await post(endpoint, deal(portal, "3")) == OK
    assert deals == ["3"]


async def test_an_install_without_tokens_is_a_clear_4xx(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, deals: list[str]
) -> None:
    pinned = BitrixEvents(application_tokens={portal.oauth.member_id: fake_app.application_token})
    tokenless = portal.events.body("ONAPPINSTALL", {"VERSION": "1"}, user_id=None)
    async with served(make_app(portal, fake_app, store, deals, pinned)) as endpoint:
        assert await post(endpoint, tokenless) == (
            400,
            "bad request: the install carries no OAuth tokens",
        )
    async with served(make_app(portal, fake_app, store, deals)) as endpoint:
        assert await post(endpoint, tokenless) == (
            400,
            "bad request: the install carries no OAuth tokens",
        )
    assert await store.load(portal.oauth.member_id) is None


# ------------------------------------------------------------------ item 8 (inbound)
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("client_endpoint", "https://169.254.169.254/rest/"),
        ("client_endpoint", "http://127.0.0.1:8080/rest/"),
        ("client_endpoint", "https://10.1.2.3/rest/"),
        ("client_endpoint", "https://user:pass@portal.example.com/rest/"),
        ("client_endpoint", "http://portal.example.com/rest/"),
        ("client_endpoint", "https://localhost/rest/"),
        ("server_endpoint", "https://[::1]/rest/"),
        ("domain", "169.254.169.254"),
        ("domain", "127.1"),
    ],
)
async def test_a_post_pointing_the_app_at_a_private_or_plain_url_is_refused(
    portal: FakePortal, fake_app: FakeApp, store: MemoryTokenStore, key: str, value: str
) -> None:
    transport, sent = host_log(portal)
    form = parse_str(portal.events.install().decode())
    form["auth"][key] = value
    events = BitrixEvents(verify_install=False)
    app = oauth_app(portal, fake_app, events, transport=transport, store=store)
    async with served(app) as endpoint:
        assert await post(endpoint, http_build_query(form).encode()) == FORBIDDEN
    assert await store.load(portal.oauth.member_id) is None
    assert sent == []


async def test_a_bot_block_pointing_at_a_private_url_is_refused(
    portal: FakePortal, endpoint: WebClient
) -> None:
    assert await post(endpoint, portal.events.install()) == OK
    chat = portal.add_chat()
    bot = portal.add_bot(1000)
    form = parse_str(portal.events.bot_message(bot.id, "hi", dialog_id=chat.dialog_id).decode())
    form["data"]["BOT"][str(bot.id)]["client_endpoint"] = "https://169.254.169.254/rest/"
    assert await post(endpoint, http_build_query(form).encode()) == FORBIDDEN
    assert portal.messages == []
    genuine = portal.events.bot_message(bot.id, "hi", dialog_id=chat.dialog_id)
    assert await post(endpoint, genuine) == OK


async def test_a_fake_portal_on_127_0_0_1_needs_the_loopback_opt_in(
    fake_app: FakeApp, portal: FakePortal, store: MemoryTokenStore, deals: list[str]
) -> None:
    transport = AiohttpTransport()
    async with portal.serve() as base:
        authority = f"{base.host}:{base.port}"
        for events, expected in (
            (BitrixEvents(), FORBIDDEN),
            (BitrixEvents(allow_loopback=True), OK),
        ):
            app = oauth_app(
                portal,
                fake_app,
                events,
                transport=transport,
                store=store,
                oauth_servers={authority},
            )
            async with served(app) as endpoint:
                assert await post(endpoint, portal.events.install(base=base)) == expected
        stored = await store.load(portal.oauth.member_id)
        assert stored is not None
        assert stored.client_endpoint == f"{base}/rest/"
    await transport.aclose()
