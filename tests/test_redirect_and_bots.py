"""A portal that redirects everything, and imbot.v2's own rules (#14 items 10 and 14)."""

from __future__ import annotations

import asyncio

import pytest

from bitrix_dialog import (
    BadRequestError,
    BatchNotExecutedError,
    Client,
    InsufficientScopeError,
    InvalidCredentialsError,
    MemoryTokenStore,
    ModuleNotInstalledError,
    PortalMove,
    PortalMovedError,
    Role,
    ServerError,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

from .conftest import QUICK_RETRY
from .oauth_kit import ManualClock, make_auth


# ------------------------------------------------ item 10: redirects to everything
async def test_a_portal_redirecting_every_call_costs_a_bounded_number_of_refreshes() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    chat = portal.add_chat()
    app = portal.register_app()
    token = portal.issue_tokens()
    moves: list[PortalMove] = []

    async def redirecting(request: HttpRequest) -> HttpResponse:
        if request.url.path.startswith("/rest/"):  # a broken proxy: 302 to a login page
            return HttpResponse(status=302, headers={"Location": "https://sso.example.com/"})
        return await portal.handle(request)

    def accept(move: PortalMove) -> bool:
        moves.append(move)
        return True

    auth = make_auth(portal, app, token, clock, MemoryTokenStore([token]), on_portal_moved=accept)
    async with Client(auth, transport=MemoryTransport(redirecting)) as client:

        async def call() -> None:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

        burst = await asyncio.gather(*(call() for _ in range(20)), return_exceptions=True)
        for _ in range(20):
            with pytest.raises(PortalMovedError):
                await call()
        assert portal.refresh_count == 1  # one verification for 40 redirected calls
        clock.advance(61)  # the pause is over: one more verification, then a longer pause
        with pytest.raises(PortalMovedError):
            await call()
        clock.advance(61)
        with pytest.raises(PortalMovedError):
            await call()
    assert all(isinstance(outcome, PortalMovedError) for outcome in burst)
    assert portal.refresh_count == 2
    assert portal.refresh_token_reuse_count == 0
    assert moves == []  # the server never named another address


# ------------------------------------------------------------- item 14: imbot.v2
async def test_a_bot_token_longer_than_40_characters_is_refused_before_sending(
    portal: FakePortal,
) -> None:
    long_token = "t" * 41
    with pytest.raises(ValueError, match="40") as caught:
        Client(portal.webhook_url(), transport=portal.transport(), bot_id=5, bot_token=long_token)
    assert long_token not in str(caught.value)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(ValueError, match="BOT_TOKEN_INVALID_LENGTH"):
            await client.imbot.v2.chat.get("chat1", bot_id=5, bot_token=long_token)
        with pytest.raises(ValueError, match="40"):
            await client.dialogs.get_all(
                ["chat1"], client.imbot.v2.chat.get, bot_id=5, bot_token=long_token
            )
    assert portal.calls == []
    portal.add_chat(1)
    portal.add_bot(5, token="t" * 40, chats=(1,))
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        dialog = await client.imbot.v2.chat.get("chat1", bot_id=5, bot_token="t" * 40)
    assert dialog.id == 1


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("BOT_TOKEN_INVALID_LENGTH", BadRequestError),
        ("SCOPE_ERROR", InsufficientScopeError),
        ("USER_NOT_SUBSCRIBED", BadRequestError),
        ("AUTH_ERROR", InvalidCredentialsError),
        ("IM_NOT_INSTALLED", ModuleNotInstalledError),
    ],
)
async def test_imbot_v2_codes_map_to_their_classes(
    portal: FakePortal, code: str, kind: type[Exception]
) -> None:
    portal.fail_next(code, "as documented", status=400, times=5)
    async with Client(portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY) as c:
        with pytest.raises(kind) as caught:
            await c.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert not isinstance(caught.value, ServerError)
    assert len(portal.calls) == 1  # none of them is retried


async def test_a_portal_without_the_messenger_stops_a_bulk_lookup(portal: FakePortal) -> None:
    portal.fail_next("IM_NOT_INSTALLED", "Messenger is not installed.", status=400, times=100)
    ids = [portal.add_chat().dialog_id for _ in range(120)]
    async with Client(portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY) as c:
        results = await c.dialogs.get_all(ids, max_in_flight=1)
    assert len(results.errors) == 120
    for error in results.errors.values():  # the chunk sent, then every id never sent
        cause = error.cause if isinstance(error, BatchNotExecutedError) else error
        assert isinstance(cause, ModuleNotInstalledError)
    assert len(portal.calls) == 1  # the first refusal said the portal cannot serve this


@pytest.mark.parametrize("role", ["OWNER", "Manager", "member", "GUEST"])
async def test_roles_in_any_case_decode_to_the_role_members(portal: FakePortal, role: str) -> None:
    chat = portal.add_chat(role=role)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        dialog = await client.im.dialog.get(chat.dialog_id)
    assert dialog.role is Role(role.lower())
