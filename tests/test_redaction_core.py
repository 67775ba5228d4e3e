"""Webhook codes and tokens stay out of reprs, logs and error messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest

from bitrix_dialog import (
    AccessTokenAuth,
    BatchCall,
    BitrixError,
    Client,
    MemoryTokenStore,
    OAuthAuth,
    OAuthToken,
    RetryPolicy,
    TokenStoreError,
    TransportError,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

WEBHOOK = "https://p.example.bitrix24.com/rest/1/c0de/"


async def test_debug_log_has_one_record_per_request_and_response_and_no_secret(
    portal: FakePortal, caplog: pytest.LogCaptureFixture
) -> None:
    chat = portal.add_chat()
    token = portal.add_access_token()
    caplog.set_level(logging.DEBUG, logger="bitrix_dialog")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        text = repr(client)
    auth = AccessTokenAuth(portal.client_endpoint(), token)
    async with Client(auth, transport=portal.transport()) as client:
        with pytest.raises(BitrixError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat999"})
        text += repr(client) + str(info.value) + repr(info.value)

    records = [r for r in caplog.records if r.name == "bitrix_dialog"]
    assert len(records) == 4
    assert "im.dialog.get" in records[0].getMessage()
    assert "HTTP 200" in records[1].getMessage()
    everything = text + "\n".join(r.getMessage() for r in caplog.records)
    assert portal.webhook_code not in everything
    assert token not in everything


def test_request_repr_masks_webhook_code_and_query_tokens() -> None:
    from yarl import URL

    request = HttpRequest(
        method="POST", url=URL("https://p.example.com/rest/7/s3cr3t/im.dialog.get?auth=tok123")
    )
    shown = repr(request)
    assert "s3cr3t" not in shown
    assert "tok123" not in shown
    assert "/rest/7/***/" in shown


def test_params_are_masked_at_any_depth_in_a_batch_call_repr() -> None:
    params = {"botToken": "t0k", "cmd": {"a": "im.dialog.get?auth=abc"}, "list": [{"auth": "x"}]}
    shown = repr(BatchCall(method="imbot.v2.Chat.get", params=params))
    assert "t0k" not in shown
    assert "'auth': 'x'" not in shown
    assert "im.dialog.get?auth=abc" in shown  # a value is text, not a parameter name
    assert "imbot.v2.Chat.get" in shown


def _failing(text: str) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    async def handler(request: HttpRequest) -> HttpResponse:
        raise OSError(text)

    return handler


@pytest.mark.parametrize(
    ("text", "chained"),
    [
        ("database is down", True),
        ("GET https://p.example/rest/1/c0de/x failed", False),
        ("POST /oauth/token/?refresh_token=r1234567 failed", False),
    ],
)
async def test_a_cause_is_chained_only_when_nothing_in_it_needs_masking(
    text: str, chained: bool
) -> None:
    transport = MemoryTransport(_failing(text))
    async with Client(WEBHOOK, transport=transport, retry=RetryPolicy.never()) as client:
        with pytest.raises(TransportError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    error = info.value
    assert (error.__cause__ is not None) is chained
    assert "c0de" not in str(error)
    assert "r1234567" not in str(error)


async def test_the_whole_chain_of_a_cause_is_read() -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        error = OSError("outer")
        error.__context__ = OSError("?refresh_token=r1234567")
        raise error

    transport = MemoryTransport(handler)
    async with Client(WEBHOOK, transport=transport, retry=RetryPolicy.never()) as client:
        with pytest.raises(TransportError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert info.value.__cause__ is None  # its context named a secret


class _LeakyStore(MemoryTokenStore):
    """A store whose failure message quotes the pair it could not save."""

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        raise OSError(f"cannot write {token.refresh_token} to the database")


async def test_a_token_store_failure_never_shows_the_tokens() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    app = portal.register_app()
    token = portal.issue_tokens(app.client_id, expires_in=0)  # refreshed on the first call
    auth = OAuthAuth(
        token, client_id=app.client_id, client_secret=app.client_secret, store=_LeakyStore()
    )
    async with Client(auth, transport=portal.transport()) as client:
        with pytest.raises(TokenStoreError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    error = info.value
    refreshed = portal.oauth.requests[-1]
    assert error.__cause__ is None  # the store's message named a secret
    assert "cannot write *** to the database" in str(error)
    assert token.refresh_token is not None
    assert token.refresh_token not in str(error) + repr(error)
    assert refreshed.error is None
