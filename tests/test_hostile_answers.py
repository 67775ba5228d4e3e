"""Answers a portal should never send, and what the client makes of them (#14).

Echoed secrets are masked before any error holds them; oversized, deeply nested and
garbage answers become typed errors (garbage 200s are retried like a 500); hostile
parameters fail before anything is sent.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    AiohttpTransport,
    BitrixError,
    Client,
    InvalidClientError,
    InvalidCredentialsError,
    LeakyBucket,
    PortalMovedError,
    RequestTimeoutError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
    Timeout,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse, RetryState
from bitrix_dialog.testing import FakePortal, Faults, MemoryTransport

from .conftest import QUICK_RETRY
from .oauth_kit import ManualClock, make_auth

Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]
HTML = {"Content-Type": "text/html"}


def echo_page(status: int) -> Handler:
    """An Apache-style error page naming the request path: webhook code and all."""

    async def handle(request: HttpRequest) -> HttpResponse:
        page = f"<html><h1>{status}</h1><p>The requested URL {request.url.path} was not found"
        return HttpResponse(status=status, headers=HTML, body=page.encode())

    return handle


def shown(error: BaseException) -> str:
    """Everything an error shows: message, repr, body, preview and a formatted traceback."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if isinstance(error, BitrixError):
        parts += [error.description, error.body_preview, repr(error.body), error.code]
    return "\n".join(parts)


# ------------------------------------------------------------- item 6: echoed secrets
@pytest.mark.parametrize("status", [404, 500, 401, 200])
async def test_an_error_page_echoing_the_path_never_shows_the_webhook_code(status: int) -> None:
    portal = FakePortal()
    transport = MemoryTransport(echo_page(status))
    async with Client(portal.webhook_url(), transport=transport, retry=QUICK_RETRY) as client:
        with pytest.raises(ResponseDecodeError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert portal.webhook_code not in shown(caught.value)
    assert "/rest/1/***/im.dialog.get" in caught.value.body_preview  # the rest is kept


async def test_a_description_quoting_the_code_access_token_or_bot_token_is_masked() -> None:
    portal = FakePortal()
    token = portal.add_access_token()
    bot_token = "b0t-t0ken-0123456789"

    async def quoting(request: HttpRequest) -> HttpResponse:
        text = f"credentials {portal.webhook_code} / {token} / {bot_token} are refused"
        body = f'{{"error": "BOT_OWNERSHIP_ERROR", "error_description": "{text}"}}'
        return HttpResponse(status=400, body=body.encode())

    async with Client(
        portal.webhook_url(), transport=MemoryTransport(quoting), bot_id=5, bot_token=bot_token
    ) as client:
        with pytest.raises(AccessDeniedError) as by_webhook:
            await client.imbot.v2.chat.get("chat1")
        with pytest.raises(AccessDeniedError) as per_call:
            await client.imbot.v2.chat.get("chat1", bot_id=6, bot_token=bot_token + "x")
    auth = AccessTokenAuth(portal.client_endpoint(), token)
    async with Client(auth, transport=MemoryTransport(quoting)) as client:
        with pytest.raises(AccessDeniedError) as by_token:
            await client.call("imbot.v2.Chat.get", {"botId": 5, "botToken": bot_token})
    for caught, own in (
        (by_webhook, portal.webhook_code),
        (per_call, portal.webhook_code),
        (by_token, token),
    ):
        text = shown(caught.value)
        assert own not in text  # each client masks what it knows: its own credential
        assert bot_token not in text
        assert "are refused" in caught.value.description


async def test_an_oauth_error_description_quoting_the_client_secret_is_masked() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    app = portal.register_app()
    token = portal.issue_tokens(expires_in=0)

    async def quoting(request: HttpRequest) -> HttpResponse:
        if request.url.path == "/oauth/token/":
            text = f"client_secret {app.client_secret} for refresh {token.refresh_token} is wrong"
            body = f'{{"error": "invalid_client", "error_description": "{text}"}}'
            return HttpResponse(status=400, body=body.encode())
        return await portal.handle(request)

    auth = make_auth(portal, app, token, clock)
    async with Client(auth, transport=MemoryTransport(quoting)) as client:
        with pytest.raises(InvalidClientError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    text = shown(caught.value)
    assert app.client_secret not in text
    assert token.refresh_token is not None
    assert token.refresh_token not in text
    assert "is wrong" in caught.value.description


@asynccontextmanager
async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[URL]:
    """A tiny aiohttp server on 127.0.0.1 answering every request with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        yield URL.build(scheme="http", host="127.0.0.1", port=server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()


async def test_the_cli_never_prints_an_echoed_webhook_code() -> None:
    from .test_cli import cli

    async def apache(request: web.Request) -> web.Response:
        page = f"<h1>Not Found</h1><p>The requested URL {request.path} was not found</p>"
        return web.Response(status=404, text=page, content_type="text/html")

    async with serve(apache) as base:
        code = "c0de5ecret0123"
        run = await cli("get", "chat1", "--webhook", f"{base}/rest/1/{code}/")
    assert run.status != 0
    assert "ResponseDecodeError" in run.stdout
    assert code not in run.stdout
    assert code not in run.stderr


# --------------------------------------------------------- item 9: hostile answers
async def test_an_answer_past_max_body_is_a_typed_error_in_memory() -> None:
    portal = FakePortal()
    huge = b'{"result": "' + b"x" * (16 * 1024 * 1024) + b'"}'

    async def handle(request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=200, body=huge)

    async with Client(portal.webhook_url(), transport=MemoryTransport(handle)) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert caught.value.limit == 16 * 1024 * 1024
    assert isinstance(caught.value, ResponseDecodeError)


async def test_a_socket_answer_is_read_only_up_to_max_body() -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)  # chunked: no length to check up front
        await response.write(b'{"result": "')
        for _ in range(1000):  # 64 MiB if read whole
            await response.write(b"x" * 65536)
            sent.append(1)
        return response

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b'{"result": "' + b"x" * (2 << 20) + b'"}')

    for handler in (endless, declared):
        transport = AiohttpTransport(max_body=1 << 20)
        async with (
            serve(handler) as base,
            Client(f"{base}/rest/1/c0de5ecret0123/", transport=transport) as client,
        ):
            with pytest.raises(ResponseTooLargeError):
                await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
        await transport.aclose()
    assert len(sent) < 1000  # the endless answer was cut off, not read to its end


async def test_deeply_nested_answers_are_decode_errors_not_recursion_errors() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    app = portal.register_app()
    token = portal.issue_tokens(expires_in=0)
    deep = b"[" * 100_000 + b"]" * 100_000

    async def handle(request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=200, body=deep)

    async with Client(
        portal.webhook_url(), transport=MemoryTransport(handle), retry=QUICK_RETRY
    ) as client:
        with pytest.raises(ResponseDecodeError):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    auth = make_auth(portal, app, token, clock)
    async with Client(auth, transport=MemoryTransport(handle)) as client:
        with pytest.raises(ResponseDecodeError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert caught.value.method == "oauth/token"
    assert auth.token is token


def _circular() -> dict[str, Any]:
    loop: dict[str, Any] = {"a": 1}
    loop["self"] = loop
    return loop


def _deep() -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(100_000):
        value = {"a": value}
    return value


@pytest.mark.parametrize("make", [_circular, _deep], ids=["circular", "deep"])
async def test_deep_or_circular_params_fail_before_sending(
    portal: FakePortal, make: Callable[[], dict[str, Any]]
) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(TypeError):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1", "x": make()})
        with pytest.raises(TypeError):
            await client.batch([("im.dialog.get", {"DIALOG_ID": "chat1", "x": make()})])
    assert portal.calls == []


async def test_nan_is_refused_in_a_json_body(portal: FakePortal) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        for value in (float("nan"), float("inf")):
            with pytest.raises(TypeError, match="JSON"):
                await client.call("im.dialog.get", {"DIALOG_ID": "chat1", "x": value})
    assert portal.calls == []


@pytest.mark.parametrize("method", ["im.dialog.get\n", "im.dialog.get\nX: y"])
async def test_a_method_name_must_match_whole(portal: FakePortal, method: str) -> None:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(ValueError, match="REST method name"):
            await client.call(method, {"DIALOG_ID": "chat1"})
        with pytest.raises(ValueError, match="REST method name"):
            await client.batch([(method, {"DIALOG_ID": "chat1"})])
    assert portal.calls == []


async def test_a_timeout_without_a_connect_limit_still_bounds_the_whole_answer() -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(100):  # each byte within the read gap, the whole far beyond it
            await response.write(b" ")
            await asyncio.sleep(0.05)
        await response.write(b'{"result": 1}')
        return response

    transport = AiohttpTransport(timeout=Timeout(connect=None, read=0.5))
    async with (
        serve(drip) as base,
        Client(
            f"{base}/rest/1/c0de5ecret0123/", transport=transport, retry=RetryPolicy.never()
        ) as client,
    ):
        with pytest.raises(RequestTimeoutError):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    await transport.aclose()


# ------------------------------------------------------------ item 11: garbage 200s
async def test_garbage_200s_are_retried_and_every_dialog_of_a_bulk_lookup_comes_back() -> None:
    portal = FakePortal()
    portal.record_calls = False
    ids = [portal.add_chat(name=f"Chat {n}").dialog_id for n in range(5000)]
    portal.limits.faults = Faults(non_json=0.025, non_json_status=200, truncated=0.025, seed=14)
    # The test is about retries, not pacing: a bucket that holds every request.
    bucket = LeakyBucket(1000, 1000.0)
    async with Client(
        portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY, limiter=bucket
    ) as client:
        results = await client.dialogs.get_all(ids)
    assert results.errors == {}
    assert len(results.dialogs) == 5000
    assert portal.counters.injected_non_json > 0
    assert portal.counters.injected_truncated > 0


async def test_a_garbage_200_is_not_repeated_for_a_write(portal: FakePortal) -> None:
    portal.limits.faults = Faults(truncated=1.0)
    async with Client(
        portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY
    ) as client:
        with pytest.raises(ResponseDecodeError):
            await client.call("imbot.message.add", {"DIALOG_ID": "chat1", "MESSAGE": "hi"})
    assert portal.counters.injected_truncated == 1


def test_invalid_credentials_is_still_not_retried() -> None:
    # The retry change is about answers that are no envelope; an envelope's error stays final.
    state = RetryState(method="im.dialog.get", idempotent=True)
    assert QUICK_RETRY.decide(state, InvalidCredentialsError(status=401)) is None
    assert QUICK_RETRY.decide(state, ResponseDecodeError(status=200)) is not None
    assert QUICK_RETRY.decide(state, ResponseTooLargeError(status=200)) is None


async def test_a_redirect_repeating_the_webhook_code_is_masked_in_the_error() -> None:
    portal = FakePortal()

    async def redirect(request: HttpRequest) -> HttpResponse:
        location = f"https://new.example.com{request.url.path}"
        body = f"<a href='{location}'>moved</a>".encode()
        return HttpResponse(status=302, headers={"Location": location}, body=body)

    async with Client(portal.webhook_url(), transport=MemoryTransport(redirect)) as client:
        with pytest.raises(PortalMovedError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert caught.value.location == "https://new.example.com/rest/1/***/im.dialog.get"
    assert portal.webhook_code not in shown(caught.value)
