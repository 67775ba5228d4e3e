"""The fake authorization server answers on the wire as the real one is documented to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from yarl import URL

from bitrix_dialog import AccessTokenAuth, Client, TokenExpiredError
from bitrix_dialog.abc import HttpRequest
from bitrix_dialog.testing import FakePortal

from .oauth_kit import START, ManualClock

TOKEN_URL = URL("https://oauth.bitrix.info/oauth/token/")


async def _refresh(portal: FakePortal, **query: str) -> tuple[int, dict[str, Any]]:
    request = HttpRequest(method="GET", url=TOKEN_URL.with_query(query))
    response = await portal.transport().send(request)
    return response.status, json.loads(response.body)


async def test_a_refresh_answers_every_documented_field_and_spends_the_token() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    app = portal.register_app()
    token = portal.issue_tokens(user_id=7, scope="im,imbot")
    assert token.refresh_token is not None
    query = {
        "grant_type": "refresh_token",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": token.refresh_token,
    }
    status, answer = await _refresh(portal, **query)
    assert status == 200
    assert set(answer) == {
        "access_token",
        "refresh_token",
        "expires",
        "expires_in",
        "client_endpoint",
        "server_endpoint",
        "domain",
        "member_id",
        "scope",
        "status",
        "user_id",
    }
    assert answer["client_endpoint"] == "https://portal.example.com/rest/"
    assert answer["server_endpoint"] == "https://oauth.bitrix.info/rest/"
    assert answer["domain"] == "oauth.bitrix.info"  # the OAuth server, not the portal
    assert answer["expires"] == int(START) + 3600
    assert (answer["member_id"], answer["user_id"]) == (token.member_id, 7)
    assert answer["refresh_token"] != token.refresh_token

    status, again = await _refresh(portal, **query)  # the same refresh token, again
    assert (status, again["error"]) == (400, "invalid_grant")
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 1


async def test_client_errors_answer_as_observed_live() -> None:
    portal = FakePortal(clock=ManualClock())
    app = portal.register_app()
    token = portal.issue_tokens()
    assert token.refresh_token is not None
    base = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
    wrong_client = await _refresh(
        portal, **base, client_id="app.nobody", client_secret=app.client_secret
    )
    assert wrong_client == (200, {"error": "wrong_client"})
    status, answer = await _refresh(portal, **base, client_id=app.client_id, client_secret="x")
    assert (status, answer["error"]) == (400, "invalid_client")
    status, answer = await _refresh(portal, client_id=app.client_id, grant_type="password")
    assert (status, answer["error"]) == (400, "invalid_request")
    assert portal.refresh_count == 0
    assert [r.error for r in portal.oauth.requests] == [
        "wrong_client",
        "invalid_client",
        "invalid_request",
    ]


async def test_issued_access_tokens_expire_on_the_portal_clock() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    chat = portal.add_chat()
    token = portal.issue_tokens(expires_in=60)
    auth = AccessTokenAuth(token.client_endpoint, token.access_token)
    async with Client(auth, transport=portal.transport()) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        clock.advance(60)
        with pytest.raises(TokenExpiredError):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})


async def test_served_tokens_point_at_the_served_base() -> None:
    portal = FakePortal()
    async with portal.serve() as base:
        token = portal.issue_tokens(base=base)
    assert token.client_endpoint == str(base / "rest") + "/"
    assert token.server_endpoint == str(base / "rest") + "/"


def test_issue_tokens_needs_a_client_id_once_several_apps_exist() -> None:
    portal = FakePortal()
    portal.register_app()
    portal.register_app()
    with pytest.raises(ValueError, match="client_id"):
        portal.issue_tokens()
