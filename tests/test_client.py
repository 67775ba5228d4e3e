"""The quick start, end to end: a webhook client against the fake portal."""

from __future__ import annotations

import json
from datetime import datetime

import aiohttp
import pytest

from bitrix_dialog import (
    AccessTokenAuth,
    AiohttpTransport,
    Client,
    MethodNotFoundError,
    RestResponse,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, MemoryTransport


async def test_call_returns_result_and_time(client: Client, portal: FakePortal) -> None:
    chat = portal.add_chat(name="Mint chat No.3", owner=2)

    response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

    assert isinstance(response, RestResponse)
    assert response.method == "im.dialog.get"
    assert response.result["id"] == chat.id
    assert response.result["name"] == "Mint chat No.3"
    assert response.result["dialog_id"] == chat.dialog_id
    assert response.time is not None
    assert isinstance(response.time.date_start, datetime)
    assert response.time.date_start.utcoffset() is not None
    assert response.time.operating == 0
    assert response.next is None
    assert response.total is None


async def test_legacy_portal_answers_the_flat_payload(portal: FakePortal) -> None:
    portal.payload_style = "legacy"
    chat = portal.add_chat(name="Mint chat No.3", owner=2)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        response = await client.call("imbot.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == str(chat.id)
    assert response.result["title"] == "Mint chat No.3"
    assert response.result["owner"] == "2"


async def test_body_is_json_with_exact_content_type_and_method_kept_verbatim() -> None:
    seen: list[HttpRequest] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse(status=200, body=b'{"result": {"chat": {"id": 1}}}')

    url = "https://portal.example.com/rest/1/secret/"
    async with Client(url, transport=MemoryTransport(handler)) as client:
        response = await client.call("imbot.v2.Chat.get", {"dialogId": "chat1", "botId": 7})

    assert response.result == {"chat": {"id": 1}}
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://portal.example.com/rest/1/secret/imbot.v2.Chat.get"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"dialogId": "chat1", "botId": 7}


async def test_unicode_params_travel_as_utf8_json(client: Client, portal: FakePortal) -> None:
    portal.add_chat(10, name="Чат поддержки")
    response = await client.call("im.dialog.get", {"DIALOG_ID": "chat10"})
    assert response.result["name"] == "Чат поддержки"


async def test_oauth_form_sends_auth_parameter_to_rest_base(portal: FakePortal) -> None:
    token = portal.add_access_token(user_id=1)
    chat = portal.add_chat()
    auth = AccessTokenAuth(portal.client_endpoint(), token)
    async with Client(auth, transport=portal.transport()) as client:
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id


async def test_oauth_over_a_real_socket(portal: FakePortal) -> None:
    token = portal.add_access_token(user_id=1)
    chat = portal.add_chat()
    async with portal.serve() as base_url:
        auth = AccessTokenAuth(portal.client_endpoint(base_url), token)
        async with Client(auth) as client:
            response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id


async def test_client_works_without_async_with(portal: FakePortal) -> None:
    chat = portal.add_chat()
    async with portal.serve() as base_url:
        client = Client(portal.webhook_url(base_url))
        try:
            response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            assert response.result["id"] == chat.id
        finally:
            await client.aclose()
        assert client.closed
        with pytest.raises(RuntimeError, match="closed"):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})


async def test_borrowed_session_is_left_open(portal: FakePortal) -> None:
    chat = portal.add_chat()
    async with portal.serve() as base_url, aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session=session)
        async with Client(portal.webhook_url(base_url), transport=transport) as client:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        await transport.aclose()
        assert not session.closed


async def test_owned_transport_is_closed_with_the_client(portal: FakePortal) -> None:
    chat = portal.add_chat()
    async with portal.serve() as base_url:
        client = Client(portal.webhook_url(base_url))
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        transport = client.transport
        assert isinstance(transport, AiohttpTransport)
        await client.aclose()
        assert transport.session is not None
        assert transport.session.closed


async def test_a_passed_transport_belongs_to_the_caller(portal: FakePortal) -> None:
    transport = portal.transport()
    async with Client(portal.webhook_url(), transport=transport):
        pass
    assert not transport.closed


async def test_an_unknown_methods_name_is_sent_in_the_case_given(portal: FakePortal) -> None:
    # PHPSDK keeps tasks.flow.Flow.* unaltered: some controller methods are case-sensitive.
    async def flow_get(context: object) -> object:
        return {"flow": {"id": 1}}

    portal.register_method("tasks.flow.Flow.get", flow_get, case_sensitive=True)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        assert (await client.call("tasks.flow.Flow.get")).result == {"flow": {"id": 1}}
        with pytest.raises(MethodNotFoundError):
            await client.call("tasks.flow.flow.get")


async def test_list_methods_expose_next_and_total() -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        body = {"result": [{"ID": 1}], "next": 50, "total": 120, "time": {"start": 1}}
        return HttpResponse(status=200, body=json.dumps(body).encode())

    async with Client(
        "https://portal.example.com/rest/1/code/", transport=MemoryTransport(handler)
    ) as client:
        response = await client.call("im.chat.user.list")
    assert (response.next, response.total) == (50, 120)
    assert response.time is not None
    assert response.time.start == 1
    assert response.time.operating is None
