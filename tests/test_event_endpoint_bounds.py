"""The event endpoint is reached before any authentication: what it spends on a post
(bytes, parse work, time, memory) is bounded before it knows who sent it, and what it
answers a refused post says nothing about the app (#14, items 1 and 4)."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import AsyncIterator

import pytest

from bitrix_dialog import MemoryTokenStore, OAuthToken, TransportError
from bitrix_dialog.abc import HttpRequest
from bitrix_dialog.aiohttp import PORTALS_KEY, BitrixEvents, Portals
from bitrix_dialog.testing import FakeApp, FakePortal, http_build_query

from .aiohttp_kit import EVENTS, FORBIDDEN, OK, WebClient, oauth_app, post, served, watched
from .oauth_kit import GatedRefreshes


class CountingStore(MemoryTokenStore):
    """A store that counts what the endpoint asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    async def load(self, member_id: str) -> OAuthToken | None:
        self.loads += 1
        return await super().load(member_id)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
async def endpoint(
    portal: FakePortal, fake_app: FakeApp, store: CountingStore
) -> AsyncIterator[WebClient]:
    async with served(oauth_app(portal, fake_app, store=store)) as client:
        yield client


def padded(body: bytes, pairs: int, pair: bytes = b"a%5B%5D=x") -> bytes:
    return body + b"&" + b"&".join([pair] * pairs)


async def test_more_than_1000_variables_are_refused_before_anything_is_looked_up(
    portal: FakePortal, store: CountingStore, endpoint: WebClient
) -> None:
    install = portal.events.install()
    pairs = len(install.split(b"&"))
    requests = len(portal.oauth.requests)
    assert await post(endpoint, padded(install, 1001 - pairs)) == (400, "bad request")
    assert store.loads == 0
    assert len(portal.oauth.requests) == requests
    assert await store.load(portal.oauth.member_id) is None
    # Exactly 1,000 is a form PHP would take whole: it is an install like any other.
    assert await post(endpoint, padded(install, 1000 - pairs)) == OK


async def test_nesting_deeper_than_64_levels_is_refused_before_anything_is_looked_up(
    portal: FakePortal, store: CountingStore, endpoint: WebClient
) -> None:
    install = portal.events.install()
    deep = b"x" + b"%5Ba%5D" * 65 + b"=1"
    assert await post(endpoint, install + b"&" + deep) == (400, "bad request")
    assert store.loads == 0
    ok = b"x" + b"%5Ba%5D" * 64 + b"=1"
    assert await post(endpoint, install + b"&" + ok) == OK


async def test_the_form_bounds_are_set_on_the_endpoint(
    portal: FakePortal, fake_app: FakeApp, store: CountingStore
) -> None:
    events = BitrixEvents(max_vars=5000, max_depth=3)
    async with served(oauth_app(portal, fake_app, events, store=store)) as client:
        install = portal.events.install()
        assert await post(client, padded(install, 3000)) == OK
        deep = b"x" + b"%5Ba%5D" * 4 + b"=1"
        assert await post(client, install + b"&" + deep) == (400, "bad request")
    with pytest.raises(ValueError, match="max_vars"):
        BitrixEvents(max_vars=0)
    with pytest.raises(ValueError, match="max_body_size"):
        BitrixEvents(max_body_size=-1)


async def test_a_body_over_the_size_bound_is_refused_unread(
    portal: FakePortal, fake_app: FakeApp, store: CountingStore
) -> None:
    events = BitrixEvents(max_body_size=4096)
    async with served(oauth_app(portal, fake_app, events, store=store)) as client:
        big = padded(portal.events.install(), 1, b"pad=" + b"x" * 4096)
        assert await post(client, big) == (413, "payload too large")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b"pad=" + b"x" * 1000 + b"&"

        response = await client.post(EVENTS, data=chunks(), headers=portal.events.headers)
        assert (response.status, await response.text()) == (413, "payload too large")
        assert store.loads == 0
        assert await post(client, portal.events.install()) == OK


async def test_a_compressed_body_is_refused_unread(
    portal: FakePortal, store: CountingStore, endpoint: WebClient
) -> None:
    # The portal never compresses its posts; a compressed body is a bomb until proven not.
    bomb = gzip.compress(b"a" * 8 * 1024 * 1024)
    headers = {**portal.events.headers, "Content-Encoding": "gzip"}
    response = await endpoint.post(EVENTS, data=bomb, headers=headers)
    assert (response.status, await response.text()) == (415, "unsupported media type")
    assert store.loads == 0


async def test_a_body_that_never_finishes_is_given_up_on(
    portal: FakePortal, fake_app: FakeApp, store: CountingStore
) -> None:
    events = BitrixEvents(read_timeout=0.05)
    never = asyncio.Event()
    async with served(oauth_app(portal, fake_app, events, store=store)) as client:

        async def slow() -> AsyncIterator[bytes]:
            yield b"event=ONAPPINSTALL&"
            await never.wait()  # a client that stops sending (slowloris)
            yield b""

        response = await client.post(EVENTS, data=slow(), headers=portal.events.headers)
        assert (response.status, await response.text()) == (408, "request timeout")
        never.set()
    assert store.loads == 0


async def test_what_a_post_says_is_logged_cut_short(
    portal: FakePortal, endpoint: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    long_name = "ONAPPINSTALL" + "X" * 300_000
    long_member = "m" * 300_000
    body = http_build_query({"event": long_name, "auth": {"member_id": long_member}})
    with caplog.at_level(logging.DEBUG, logger="bitrix_dialog"):
        assert await post(endpoint, body.encode()) == FORBIDDEN
        malformed = http_build_query(
            {"event": "ONX", "auth": {"member_id": "m", "user_id": "u" * 300_000}}
        )
        assert await post(endpoint, malformed.encode()) == (400, "bad request")
    assert "refused" in caplog.text
    assert len(caplog.text) < 2000
    assert "XXXX" in caplog.text  # the start is kept, for the reader


async def test_a_refused_install_says_nothing_about_the_app_to_the_caller(
    portal: FakePortal, fake_app: FakeApp, store: CountingStore
) -> None:

    async def unreachable(request: HttpRequest) -> None:
        """The authorization server does not answer (its error names its URL)."""
        if request.url.path == "/oauth/token/":
            msg = f"Cannot connect to host {request.url.host}:443 ssl:default"
            raise TransportError(msg)

    app = oauth_app(portal, fake_app, transport=watched(portal, unreachable), store=store)
    async with served(app) as client:
        status, text = await post(client, portal.events.install())
    assert (status, text) == (503, "service unavailable")


async def test_the_client_cache_is_bounded_least_recently_used_first(fake_app: FakeApp) -> None:
    portals = [FakePortal(f"p{i}.example") for i in range(3)]
    store = MemoryTokenStore()
    for portal in portals:
        portal.register_app(fake_app.client_id, fake_app.client_secret)
        await store.save(portal.issue_tokens(fake_app.client_id))
    cache = Portals(
        client_id=fake_app.client_id,
        client_secret=fake_app.client_secret,
        transport=portals[0].transport(),
        store=store,
        max_clients=2,
    )
    first = await cache.client(portals[0].oauth.member_id)
    await cache.client(portals[1].oauth.member_id)
    assert await cache.client(portals[0].oauth.member_id) is first  # used last: kept
    await cache.client(portals[2].oauth.member_id)
    assert set(cache.clients) == {portals[0].oauth.member_id, portals[2].oauth.member_id}
    await cache.aclose()
    with pytest.raises(ValueError, match="max_clients"):
        Portals(client_id="a", client_secret="b", transport=portals[0].transport(), max_clients=0)


async def test_forged_posts_for_many_portals_build_no_clients(
    portal: FakePortal, endpoint: WebClient
) -> None:
    for index in range(50):
        body = http_build_query(
            {
                "event": "ONIMBOTMESSAGEADD",
                "ts": str(int(portal.clock())),
                "auth": {"member_id": f"{index:032x}", "application_token": "f" * 32},
            }
        )
        assert await post(endpoint, body.encode()) == FORBIDDEN
    assert len(endpoint.app[PORTALS_KEY].clients) == 0


async def test_installs_confirmed_at_once_are_bounded(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    gated = GatedRefreshes(portal)
    events = BitrixEvents(max_pending_installs=1)
    async with served(oauth_app(portal, fake_app, events, transport=gated.transport)) as client:
        first = asyncio.ensure_future(post(client, portal.events.install()))
        await gated.arrived.wait()
        # Another unconfirmed install while one is being confirmed: no request is sent.
        assert await post(client, portal.events.install()) == (503, "service unavailable")
        assert gated.refreshes == 1
        gated.release.set()
        assert await first == OK


async def test_an_install_the_authorization_server_does_not_confirm_in_time_is_503(
    portal: FakePortal, fake_app: FakeApp
) -> None:
    gated = GatedRefreshes(portal)  # never released
    events = BitrixEvents(verify_timeout=0.05)
    async with served(oauth_app(portal, fake_app, events, transport=gated.transport)) as client:
        assert await post(client, portal.events.install()) == (503, "service unavailable")
