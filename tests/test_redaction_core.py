"""Webhook codes and tokens stay out of reprs, logs and error messages."""

from __future__ import annotations

import logging

import pytest

from bitrix_dialog import AccessTokenAuth, BitrixError, Client
from bitrix_dialog.abc import HttpRequest
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


def test_params_are_masked_at_any_depth_and_known_secrets_anywhere() -> None:
    from bitrix_dialog._wire._redact import redact_params, redact_text

    params = {"botToken": "t0k", "cmd": {"a": "im.dialog.get?auth=abc"}, "list": [{"auth": "x"}]}
    assert redact_params(params) == {
        "botToken": "***",
        "cmd": {"a": "im.dialog.get?auth=abc"},  # a value is text: redact_text masks it
        "list": [{"auth": "***"}],
    }
    assert redact_text("writing 5f1e2d3c4b5a now", secrets=["5f1e2d3c4b5a", None, "ab"]) == (
        "writing *** now"
    )


def test_a_cause_is_chained_only_when_nothing_in_it_needs_masking() -> None:
    from bitrix_dialog._wire._redact import safe_cause

    plain = OSError("database is down")
    assert safe_cause(plain) is plain
    assert safe_cause(OSError("GET https://p.example/rest/1/c0de/x failed")) is None
    assert safe_cause(OSError("lost"), secrets=["lost-token"]) is not None
    assert safe_cause(OSError("writing lost-token"), secrets=["lost-token"]) is None
    outer = ValueError("outer")
    outer.__context__ = OSError("?refresh_token=r1234567")
    assert safe_cause(outer) is None  # the whole chain is read
