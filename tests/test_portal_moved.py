"""A portal that changes its address is followed only when the user agrees."""

from __future__ import annotations

import pytest
from yarl import URL

from bitrix_dialog import Client, PortalMove, PortalMovedError, WebhookAuth
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

from .oauth_kit import Event, OAuthSetting, RecordingTransport

NEW = "https://renamed.example.com"


class _Portal(OAuthSetting):
    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[Event] = []
        self.transport = RecordingTransport(self.portal.transport(), self.timeline)
        self.moves: list[PortalMove] = []

    def accept(self, move: PortalMove) -> bool:
        self.moves.append(move)
        return True

    def decline(self, move: PortalMove) -> bool:
        self.moves.append(move)
        return False

    async def call(self, client: Client) -> None:
        response = await client.call("im.dialog.get", {"DIALOG_ID": self.chat.dialog_id})
        assert response.result["id"] == self.chat.id

    def hosts_sent_a_token(self) -> set[str | None]:
        return {host for kind, _, host in self.timeline if kind == "sent"}


async def test_a_redirect_verified_by_the_oauth_server_and_accepted_switches() -> None:
    p = _Portal()
    p.portal.move_to(NEW)
    auth = p.auth(on_portal_moved=p.accept)
    async with Client(auth, transport=p.transport) as client:
        await p.call(client)
        await p.call(client)
    assert p.moves == [
        PortalMove(
            member_id=p.token.member_id,
            old_endpoint="https://portal.example.com/rest/",
            new_endpoint="https://renamed.example.com/rest/",
            location="https://renamed.example.com/rest/im.dialog.get",
        )
    ]
    assert auth.portal == URL(NEW)
    assert p.portal.refresh_count == 1  # the verification
    assert [h for _, _, h in p.timeline if h] == [
        "portal.example.com",  # answered 302
        "renamed.example.com",
        "renamed.example.com",
    ]


async def test_an_async_callback_is_awaited() -> None:
    p = _Portal()
    p.portal.move_to(NEW)

    async def accept(move: PortalMove) -> bool:
        return p.accept(move)

    auth = p.auth(on_portal_moved=accept)
    async with Client(auth, transport=p.transport) as client:
        await p.call(client)
    assert len(p.moves) == 1


async def test_a_declined_move_raises_and_keeps_the_tokens_from_the_new_host() -> None:
    p = _Portal()
    p.portal.move_to(NEW)
    auth = p.auth(on_portal_moved=p.decline)
    async with Client(auth, transport=p.transport) as client:
        for _ in range(2):
            with pytest.raises(PortalMovedError) as caught:
                await p.call(client)
            assert caught.value.location == "https://renamed.example.com/rest/"
    assert len(p.moves) == 1  # asked once per pair, not on every call
    assert p.hosts_sent_a_token() == {"portal.example.com"}
    assert auth.portal == URL("https://portal.example.com")
    stored = await p.store.load(p.token.member_id)
    assert stored is not None  # the refreshed pair is saved, not lost ...
    assert stored.client_endpoint == "https://renamed.example.com/rest/"
    assert auth.token.same_pair(stored)  # ... and simply not used
    assert p.portal.refresh_count == 1


async def test_without_a_callback_a_redirect_raises_at_once() -> None:
    p = _Portal()
    p.portal.move_to(NEW)
    auth = p.auth()
    async with Client(auth, transport=p.transport) as client:
        with pytest.raises(PortalMovedError) as caught:
            await p.call(client)
    assert caught.value.status == 302
    assert p.portal.refresh_count == 0
    assert p.hosts_sent_a_token() == {"portal.example.com"}


async def test_a_redirect_the_oauth_server_does_not_confirm_is_not_followed() -> None:
    p = _Portal()

    async def hijacked(request: HttpRequest) -> HttpResponse:
        # The old address redirects somewhere Bitrix24 knows nothing about.
        if request.url.path.startswith("/rest/"):
            location = "https://attacker.example.net" + request.url.path
            return HttpResponse(status=302, headers={"Location": location})
        return await p.portal.handle(request)

    p.transport.inner = MemoryTransport(hijacked)
    auth = p.auth(on_portal_moved=p.accept)
    async with Client(auth, transport=p.transport) as client:
        with pytest.raises(PortalMovedError) as caught:
            await p.call(client)
    assert caught.value.location == "https://attacker.example.net/rest/im.dialog.get"
    assert p.moves == []  # the authorization server still names the old address
    assert p.portal.refresh_count == 1
    assert p.hosts_sent_a_token() == {"portal.example.com"}


async def test_a_refresh_answer_naming_a_new_host_asks_before_any_call_goes_there() -> None:
    p = _Portal()
    p.portal.move_to(NEW)
    auth = p.auth(on_portal_moved=p.accept)
    p.clock.advance(3600)  # the next call refreshes first; the answer names the new host
    async with Client(auth, transport=p.transport) as client:
        await p.call(client)
    assert len(p.moves) == 1
    assert p.moves[0].location is None  # learned from the refresh answer, no redirect seen
    assert p.hosts_sent_a_token() == {"renamed.example.com"}


async def test_webhooks_never_follow_a_redirect() -> None:
    portal = FakePortal()
    portal.move_to(NEW)
    async with Client(WebhookAuth(portal.webhook_url()), transport=portal.transport()) as client:
        with pytest.raises(PortalMovedError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert caught.value.location is not None
    assert caught.value.location.startswith(NEW)
