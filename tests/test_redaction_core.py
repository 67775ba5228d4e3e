"""Webhook codes and tokens stay out of reprs, logs and error messages."""

from __future__ import annotations

import logging

import pytest

from bitrix_dialog import AccessTokenAuth, BitrixError, Client, HttpRequest
from bitrix_dialog.testing import FakePortal


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
