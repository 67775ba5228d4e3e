"""Every error class is reachable through the public client, classified by code."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    AuthError,
    BadRequestError,
    BatchError,
    BitrixError,
    Client,
    InsufficientScopeError,
    InvalidClientError,
    InvalidCredentialsError,
    InvalidDialogIdError,
    InvalidTokenError,
    MethodNotFoundError,
    NotFoundError,
    OperationTimeLimitError,
    OverloadLimitError,
    PaymentRequiredError,
    PortalMovedError,
    PortalUnavailableError,
    QueryLimitExceededError,
    ReauthorizationRequiredError,
    RequestTimeoutError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    Timeout,
    TokenExpiredError,
    TransportError,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport

# These tests are about mapping answers to classes: no retries, so each answer is final.
# Retrying those same errors is tested with the rate-limit and fault tests.
NO_RETRY = RetryPolicy.never()


@pytest.fixture(params=["memory", "socket"])
async def client(request: pytest.FixtureRequest, portal: FakePortal) -> AsyncIterator[Client]:
    if request.param == "memory":
        async with Client(portal.webhook_url(), transport=portal.transport(), retry=NO_RETRY) as c:
            yield c
    else:
        async with (
            portal.serve() as base_url,
            Client(portal.webhook_url(base_url), retry=NO_RETRY) as c,
        ):
            yield c


# (code as the portal spells it, expected class, documented HTTP status)
INJECTED = [
    ("QUERY_LIMIT_EXCEEDED", QueryLimitExceededError, 503),
    ("query_limit_exceeded", QueryLimitExceededError, 503),
    ("OPERATION_TIME_LIMIT", OperationTimeLimitError, 429),
    ("OVERLOAD_LIMIT", OverloadLimitError, 503),
    ("INTERNAL_SERVER_ERROR", ServerError, 500),
    ("ERROR_UNEXPECTED_ANSWER", ServerError, 500),
    ("ERROR_BATCH_METHOD_NOT_ALLOWED", BatchError, 405),
    ("ERROR_BATCH_LENGTH_EXCEEDED", BatchError, 400),
    ("NO_AUTH_FOUND", InvalidCredentialsError, 401),
    ("INVALID_REQUEST", BadRequestError, 400),
    ("ACCESS_DENIED", AccessDeniedError, 403),
    ("ERROR_MANIFEST_IS_NOT_AVAILABLE", NotFoundError, 404),
    ("insufficient_scope", InsufficientScopeError, 403),
    ("expired_token", TokenExpiredError, 401),
    ("invalid_token", InvalidTokenError, 401),
    ("user_access_error", AccessDeniedError, 403),
    ("INVALID_CREDENTIALS", InvalidCredentialsError, 403),
    ("PORTAL_DELETED", PortalUnavailableError, 500),
    ("invalid_grant", ReauthorizationRequiredError, 400),
    ("invalid_client", InvalidClientError, 400),
    ("PAYMENT_REQUIRED", PaymentRequiredError, 400),
]


@pytest.mark.parametrize(("code", "cls", "status"), INJECTED)
async def test_documented_codes_map_to_classes(
    client: Client, portal: FakePortal, code: str, cls: type[BitrixError], status: int
) -> None:
    chat = portal.add_chat()
    portal.fail_next(code, "described", times=50)
    with pytest.raises(cls) as info:
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    error = info.value
    assert error.code == code
    assert error.description == "described"
    assert error.status == status
    assert error.method == "im.dialog.get"
    assert error.body is not None
    assert code.encode() in error.body


async def test_wrong_client_with_http_200_is_still_an_error(portal: FakePortal) -> None:
    portal.fail_next("wrong_client", "Wrong client", status=200)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(InvalidClientError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert info.value.status == 200


async def test_unknown_and_empty_codes_keep_what_the_portal_said(portal: FakePortal) -> None:
    portal.fail_next("SOMETHING_NEW", "a new failure", status=418)
    portal.fail_next("", "Unknown imbot.v2.Chat.foo")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(BitrixError) as first:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
        with pytest.raises(BitrixError) as second:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert type(first.value) is BitrixError
    assert (first.value.code, first.value.status) == ("SOMETHING_NEW", 418)
    assert type(second.value) is BitrixError
    assert second.value.code == ""
    assert second.value.description == "Unknown imbot.v2.Chat.foo"


async def test_real_portal_errors(client: Client, portal: FakePortal) -> None:
    private = portal.add_chat(members=frozenset({99}))
    with pytest.raises(InvalidDialogIdError) as empty:
        await client.call("im.dialog.get", {"DIALOG_ID": "chatx"})
    assert empty.value.status == 400
    with pytest.raises(AccessDeniedError) as denied:
        await client.call("im.dialog.get", {"DIALOG_ID": private.dialog_id})
    assert (denied.value.code, denied.value.status) == ("ACCESS_ERROR", 403)
    with pytest.raises(MethodNotFoundError):
        await client.call("im.dialog.nothing", {})


async def test_wrong_webhook_code_is_refused(portal: FakePortal) -> None:
    url = portal.webhook_url().replace(portal.webhook_code, "not-the-code")
    async with Client(url, transport=portal.transport()) as client:
        with pytest.raises(InvalidCredentialsError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert isinstance(info.value, AuthError)
    assert "not-the-code" not in str(info.value)


async def test_expired_and_unknown_tokens(portal: FakePortal) -> None:
    expired = portal.add_access_token(expires_in=-1)
    for token, cls in ((expired, TokenExpiredError), ("forged", InvalidTokenError)):
        auth = AccessTokenAuth(portal.client_endpoint(), token)
        async with Client(auth, transport=portal.transport()) as client:
            with pytest.raises(cls) as info:
                await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
        assert info.value.status == 401
        assert token not in str(info.value)


async def test_redirect_is_reported_not_followed(portal: FakePortal) -> None:
    portal.move_to("https://new-name.bitrix24.com")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(PortalMovedError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    error = info.value
    assert error.status == 302
    assert error.location is not None
    assert error.location.startswith("https://new-name.bitrix24.com/rest/")
    assert portal.webhook_code not in str(error)
    assert len(portal.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (502, b"<html>Bad gateway</html>", "not JSON"),
        (200, b"[1, 2]", "not an object"),
        (200, b'{"time": {}}', "neither"),
    ],
)
async def test_answers_that_are_not_envelopes(status: int, body: bytes, fragment: str) -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=status, body=body)

    async with Client(
        "https://portal.example.com/rest/1/code/",
        transport=MemoryTransport(handler),
        retry=NO_RETRY,
    ) as client:
        with pytest.raises(ResponseDecodeError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert info.value.status == status
    assert info.value.body == body
    assert fragment in str(info.value)
    assert body[:10].decode() in info.value.body_preview


async def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Client(f"http://127.0.0.1:{port}/rest/1/secretcode/", retry=NO_RETRY) as client:
        with pytest.raises(TransportError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert info.value.method == "im.dialog.get"
    assert info.value.status is None
    assert "secretcode" not in str(info.value)


async def test_slow_answer_is_a_timeout() -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(10)
        return HttpResponse(status=200, body=b'{"result": 1}')

    transport = MemoryTransport(handler, timeout=Timeout(read=0.01))
    async with Client(
        "https://portal.example.com/rest/1/code/", transport=transport, retry=NO_RETRY
    ) as client:
        with pytest.raises(RequestTimeoutError) as info:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert isinstance(info.value, TransportError)
