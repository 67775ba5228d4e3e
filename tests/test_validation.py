"""Bad input fails before any request, with an error naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from bitrix_dialog import AccessTokenAuth, Client, WebhookAuth
from bitrix_dialog.testing import FakePortal


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://portal.example.com/rest/1/code/", "https"),
        ("ftp://portal.example.com/rest/1/code/", "https"),
        ("https://portal.example.com/rest/code/", "USER_ID"),
        ("https://portal.example.com/rest/1/", "USER_ID"),
        ("https://portal.example.com/rest/x/code/", "user id"),
        ("https://portal.example.com/rest/0/code/", "user id"),
        ("https://portal.example.com/1/code/", "USER_ID"),
        ("portal.example.com/rest/1/code/", "absolute"),
        ("", "absolute"),
    ],
)
def test_bad_webhook_urls(url: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="webhook_url") as info:
        WebhookAuth(url)
    assert fragment in str(info.value)


def test_webhook_url_type_is_checked() -> None:
    with pytest.raises(TypeError, match="webhook_url"):
        WebhookAuth(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/rest/1/code/",
        "http://localhost/rest/1/code/",
        "http://[::1]:9000/rest/1/code/",
        "https://portal.example.com/rest/1/code",
        "https://portal.example.com/rest/1/code/",
    ],
)
def test_good_webhook_urls(url: str) -> None:
    auth = WebhookAuth(url)
    assert auth.user_id == 1
    assert "code" not in repr(auth)


def test_access_token_auth_validates() -> None:
    with pytest.raises(ValueError, match="client_endpoint"):
        AccessTokenAuth("http://portal.example.com/rest/", "t")
    with pytest.raises(ValueError, match="access_token"):
        AccessTokenAuth("https://portal.example.com/rest/", "  ")


def test_client_rejects_what_is_not_auth() -> None:
    with pytest.raises(TypeError, match="auth"):
        Client(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transport"):
        Client("https://portal.example.com/rest/1/c/", transport=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "params", "error", "fragment"),
    [
        ("", {}, ValueError, "empty"),
        ("im dialog", {}, ValueError, "method"),
        ("/rest/im.dialog.get", {}, ValueError, "method"),
        (None, {}, TypeError, "method"),
        ("im.dialog.get", ["DIALOG_ID"], TypeError, "params"),
        ("im.dialog.get", {1: "x"}, TypeError, "str keys"),
        ("im.dialog.get", {"DIALOG_ID": object()}, TypeError, "JSON"),
    ],
)
async def test_bad_calls_fail_before_sending(
    portal: FakePortal, method: Any, params: Any, error: type[Exception], fragment: str
) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(error, match=fragment):
            await client.call(method, params)
    assert portal.calls == []
