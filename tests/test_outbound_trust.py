"""Where credentials may go: authorization servers, portal moves, webhook URLs (#14).

The client secret and the live refresh token go only to the documented Bitrix24
authorization servers unless ``oauth_server=`` says otherwise; an address that
arrives from outside (a refresh answer, a portal move) must be https to a public host
name; and an answer refused for any of these reasons is never saved, and its spent
predecessor never sent again.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
import pytest
from yarl import URL

from bitrix_dialog import (
    Client,
    MemoryTokenStore,
    OAuthAuth,
    PortalMove,
    ReauthorizationRequiredError,
    ResponseDecodeError,
    WebhookAuth,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

from .oauth_kit import ManualClock, make_auth

ATTACKER = "oauth.attacker.example"


class _Setup:
    """A portal whose authorization server's answers a test can rewrite, and a log of hosts."""

    def __init__(self, **rewrite: Any) -> None:
        self.clock = ManualClock()
        self.portal = FakePortal(clock=self.clock)
        self.chat = self.portal.add_chat()
        self.app = self.portal.register_app()
        self.token = self.portal.issue_tokens(expires_in=0)  # the first call refreshes
        self.store = MemoryTokenStore([self.token])
        self.rewrite = rewrite
        self.sent: list[URL] = []
        self.moves: list[PortalMove] = []

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request.url)
        response = await self.portal.handle(request)
        if request.url.path != "/oauth/token/" or not self.rewrite:
            return response
        payload = json.loads(response.body)
        if "access_token" in payload:
            payload.update(self.rewrite)
        return HttpResponse(
            status=response.status, headers=response.headers, body=json.dumps(payload).encode()
        )

    def transport(self) -> MemoryTransport:
        return MemoryTransport(self._handle)

    def auth(self, **options: object) -> OAuthAuth:
        return make_auth(self.portal, self.app, self.token, self.clock, self.store, **options)

    def accept(self, move: PortalMove) -> bool:
        self.moves.append(move)
        return True

    async def call(self, client: Client) -> None:
        await client.call("im.dialog.get", {"DIALOG_ID": self.chat.dialog_id})

    def refreshes(self) -> list[URL]:
        return [url for url in self.sent if url.path == "/oauth/token/"]


def test_a_pair_naming_a_foreign_authorization_server_is_refused_unless_configured() -> None:
    setup = _Setup()
    foreign = attrs.evolve(setup.token, server_endpoint=f"https://{ATTACKER}/rest/")
    with pytest.raises(ValueError, match="oauth_servers"):
        OAuthAuth(foreign, client_id="app", client_secret="s")
    # Said explicitly, the user's choice stands; and an app may list its own servers.
    OAuthAuth(foreign, client_id="app", client_secret="s", oauth_server=f"https://{ATTACKER}")
    OAuthAuth(foreign, client_id="app", client_secret="s", oauth_servers={ATTACKER})


async def test_a_refresh_answer_naming_a_foreign_server_is_refused_before_it_is_saved() -> None:
    setup = _Setup(server_endpoint=f"https://{ATTACKER}/rest/")
    auth = setup.auth()
    async with Client(auth, transport=setup.transport()) as client:
        with pytest.raises(ReauthorizationRequiredError, match="oauth_servers"):
            await setup.call(client)
        setup.clock.advance(7200)
        with pytest.raises(ReauthorizationRequiredError):
            await setup.call(client)
    assert [url.host for url in setup.refreshes()] == ["oauth.bitrix.info"]  # once, and there
    assert ATTACKER not in {url.host for url in setup.sent}
    assert await setup.store.load(setup.token.member_id) is setup.token  # nothing saved


HOSTILE_ENDPOINTS = [
    "https://169.254.169.254/rest/",  # cloud metadata
    "https://10.0.0.5/rest/",
    "https://[::1]/rest/",
    "https://[::ffff:127.0.0.1]/rest/",
    "https://127.1/rest/",
    "https://0x7f000001/rest/",
    "https://localhost/rest/",
    "http://renamed.example.com/rest/",
    "https://user:pw@renamed.example.com/rest/",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("endpoint", HOSTILE_ENDPOINTS)
async def test_a_move_to_an_address_that_is_not_a_public_https_host_is_refused(
    endpoint: str,
) -> None:
    setup = _Setup(client_endpoint=endpoint)
    auth = setup.auth(on_portal_moved=setup.accept)
    async with Client(auth, transport=setup.transport()) as client:
        with pytest.raises(ReauthorizationRequiredError, match="client_endpoint"):
            await setup.call(client)
        with pytest.raises(ReauthorizationRequiredError):
            await setup.call(client)
    assert setup.moves == []  # never even offered to the callback
    assert {url.host for url in setup.sent} == {"oauth.bitrix.info"}  # no REST call went out
    assert len(setup.refreshes()) == 1
    assert await setup.store.load(setup.token.member_id) is setup.token


async def test_the_explicit_opt_in_lets_a_move_name_a_local_fake_portal() -> None:
    setup = _Setup(client_endpoint="http://127.0.0.1:8080/rest/")
    auth = setup.auth(on_portal_moved=setup.accept, allow_loopback=True)
    async with Client(auth, transport=setup.transport()) as client:
        await setup.call(client)
    assert [move.new_endpoint for move in setup.moves] == ["http://127.0.0.1:8080/rest/"]
    assert setup.sent[-1].host == "127.0.0.1"


@pytest.mark.parametrize(
    "rewrite",
    [
        {"member_id": "another-portal"},
        {"client_endpoint": "https://169.254.169.254/rest/"},
        {"client_endpoint": "javascript:alert(1)"},
        {"server_endpoint": "javascript:alert(1)"},
    ],
    ids=["member_id", "metadata-host", "javascript-portal", "javascript-server"],
)
async def test_every_waiting_call_gets_one_reauthorization_error_and_nothing_is_resent(
    rewrite: dict[str, Any],
) -> None:
    setup = _Setup(**rewrite)
    setup.portal.oauth.latency = 0.01  # the calls pile up behind the one refresh
    auth = setup.auth(on_portal_moved=setup.accept)
    async with Client(auth, transport=setup.transport()) as client:
        outcomes = await asyncio.gather(
            *(setup.call(client) for _ in range(10)), return_exceptions=True
        )
        later = await asyncio.gather(
            *(setup.call(client) for _ in range(5)), return_exceptions=True
        )
    assert all(isinstance(o, ReauthorizationRequiredError) for o in [*outcomes, *later])
    assert len(setup.refreshes()) == 1  # the spent refresh token went out once
    assert setup.portal.refresh_token_reuse_count == 0
    assert await setup.store.load(setup.token.member_id) is setup.token


async def test_an_expiry_no_datetime_can_hold_is_a_typed_error_before_anything_is_saved() -> None:
    setup = _Setup(expires=1e308)
    auth = setup.auth()
    async with Client(auth, transport=setup.transport()) as client:
        with pytest.raises(ResponseDecodeError, match="expires_at"):
            await setup.call(client)
    assert await setup.store.load(setup.token.member_id) is setup.token
    assert auth.token is setup.token


async def test_a_newer_pair_in_the_store_revives_a_refused_auth() -> None:
    setup = _Setup(member_id="another-portal")
    auth = setup.auth()
    async with Client(auth, transport=setup.transport()) as client:
        with pytest.raises(ReauthorizationRequiredError):
            await setup.call(client)
        setup.rewrite = {}
        reinstalled = setup.portal.issue_tokens()  # e.g. saved from a reinstall's event
        await setup.store.save(reinstalled)
        await setup.call(client)
    assert auth.token.same_pair(reinstalled)


def test_a_webhook_user_id_takes_ascii_digits_only() -> None:
    with pytest.raises(ValueError, match="user id"):
        WebhookAuth("https://portal.example.com/rest/\u0661/abcdef123456/")
    with pytest.raises(ValueError, match="user id"):
        WebhookAuth("https://portal.example.com/rest/\u00b2/abcdef123456/")


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example.com/api/1/s3cretc0de99/",  # not under /rest/
        "https://portal.example.com/rest/s3cretc0de99/1/",  # code and user id swapped
        "https://portal.example.com/rest/s3cretc0de99/",  # no user id
    ],
)
def test_a_malformed_webhook_url_is_refused_without_echoing_its_code(url: str) -> None:
    with pytest.raises(ValueError, match="webhook_url") as caught:
        WebhookAuth(url)
    assert "s3cretc0de99" not in str(caught.value)


def test_a_url_password_never_shows_in_a_repr() -> None:
    url = "https://user:hunter2secret@portal.example.com/rest/1/abcdef123456/"
    client = Client(url)
    shown = f"{client!r} {client.auth!r}"
    assert "hunter2secret" not in shown
    assert "abcdef123456" not in shown
