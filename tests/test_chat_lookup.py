"""``client.im.chat.get`` / ``client.imbot.chat.get``: the chat id linked to an entity.

Both answer ``{"ID": 1437}`` for a linked chat and ``null`` for none (EN
``api-reference/chats/im-chat-get.md``, ``.../outdated/chats/imbot-chat-get.md``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bitrix_dialog import Client, ModelDecodeError, decode_dialog
from bitrix_dialog.testing import CallContext, FakePortal

LOOKUPS = ["im.chat.get", "imbot.chat.get"]


@pytest.fixture
async def client(portal: FakePortal) -> AsyncIterator[Client]:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield client


def _lookup(client: Client, method: str) -> Any:
    return client.im.chat.get if method == "im.chat.get" else client.imbot.chat.get


@pytest.mark.parametrize("method", LOOKUPS)
async def test_the_linked_chats_id_comes_back_as_an_int(
    portal: FakePortal, client: Client, method: str
) -> None:
    portal.add_chat(5, entity_type="CRM", entity_id="DEAL|7")
    deal = portal.add_chat(1437, entity_type="CRM", entity_id="DEAL|1663")
    chat_id = await _lookup(client, method)(entity_type="CRM", entity_id="DEAL|1663")
    assert chat_id == deal.id
    assert type(chat_id) is int
    assert [(call.method, dict(call.params)) for call in portal.calls] == [
        (method, {"ENTITY_TYPE": "CRM", "ENTITY_ID": "DEAL|1663"})
    ]


async def test_the_typed_methods_return_the_same_type_to_the_type_checker(
    portal: FakePortal, client: Client
) -> None:
    portal.add_chat(9, entity_type="TASKS", entity_id="8293")
    found: int | None = await client.im.chat.get(entity_type="TASKS", entity_id=8293)
    again: int | None = await client.imbot.chat.get(entity_type="TASKS", entity_id="8293")
    assert found == again == 9
    assert portal.calls[0].params["ENTITY_ID"] == "8293"  # an int id goes as its string


@pytest.mark.parametrize("method", LOOKUPS)
async def test_no_linked_chat_is_none(portal: FakePortal, client: Client, method: str) -> None:
    portal.add_chat(3, entity_type="CRM", entity_id="DEAL|1")
    lookup = _lookup(client, method)
    assert await lookup(entity_type="CRM", entity_id="DEAL|2") is None
    assert await lookup(entity_type="SONET_GROUP", entity_id="DEAL|1") is None
    assert [call.status for call in portal.calls] == [200, 200]


@pytest.mark.parametrize("method", LOOKUPS)
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"entity_type": "", "entity_id": "DEAL|1"}, ValueError, "entity_type must be a non-empty"),
        ({"entity_type": " CRM", "entity_id": "DEAL|1"}, ValueError, "entity_type"),
        ({"entity_type": 5, "entity_id": "DEAL|1"}, TypeError, "entity_type must be a str"),
        ({"entity_type": None, "entity_id": "DEAL|1"}, TypeError, "entity_type must be a str"),
        ({"entity_type": "CRM", "entity_id": ""}, ValueError, "entity_id must be a non-empty"),
        ({"entity_type": "CRM", "entity_id": "   "}, ValueError, "entity_id"),
        ({"entity_type": "CRM", "entity_id": 0}, ValueError, "entity_id must be a positive int"),
        ({"entity_type": "CRM", "entity_id": True}, TypeError, "entity_id must be a str"),
        ({"entity_type": "CRM", "entity_id": 1.5}, TypeError, "entity_id must be a str"),
        ({"entity_type": "CRM"}, TypeError, "entity_id"),
        ({"entity_id": "DEAL|1"}, TypeError, "entity_type"),
        ({"entity_type": "CRM", "entity_id": "1", "bot_id": 39}, TypeError, "bot_id"),
    ],
)
async def test_bad_arguments_raise_before_anything_is_sent(
    portal: FakePortal,
    client: Client,
    *,
    method: str,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await _lookup(client, method)(**kwargs)
    assert portal.calls == []


async def test_the_arguments_are_keywords(portal: FakePortal, client: Client) -> None:
    with pytest.raises(TypeError):
        await client.im.chat.get("CRM", "DEAL|1")  # type: ignore[call-arg]
    assert portal.calls == []


@pytest.mark.parametrize(
    ("answer", "path"),
    [({"ID": "x"}, "ID"), ({}, "ID"), ({"id": 5}, "ID"), (10, ""), ([], ""), ({"ID": None}, "ID")],
)
async def test_an_answer_that_is_not_a_chat_id_names_where(
    portal: FakePortal, client: Client, answer: object, path: str
) -> None:
    async def odd(context: CallContext) -> Any:
        return answer

    portal.register_method("im.chat.get", odd)
    with pytest.raises(ModelDecodeError) as caught:
        await client.im.chat.get(entity_type="CRM", entity_id="DEAL|1")
    assert caught.value.method == "im.chat.get"
    assert caught.value.path == path
    assert caught.value.payload == answer


async def test_a_numeric_string_id_is_read_as_an_int(portal: FakePortal, client: Client) -> None:
    async def stringly(context: CallContext) -> Any:
        return {"ID": "1437"}

    portal.register_method("imbot.chat.get", stringly)
    assert await client.imbot.chat.get(entity_type="CRM", entity_id="DEAL|1") == 1437


async def test_the_fake_answers_dialog_id_as_dialog_get_does(
    portal: FakePortal, client: Client
) -> None:
    chat = portal.add_chat(name="Support")
    by_chat = await client.call("im.chat.get", {"DIALOG_ID": chat.dialog_id})
    by_dialog = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert by_chat.result == by_dialog.result
    assert decode_dialog(by_chat.result, method="im.chat.get").name == "Support"
    nothing = await client.call("im.chat.get")
    assert nothing.result is None  # neither parameter: null, as the portal answers


async def test_in_a_batch_and_over_http(portal: FakePortal) -> None:
    portal.add_chat(77, entity_type="LINES", entity_id="telegrambot|2|209607941|744")
    params = {"ENTITY_TYPE": "LINES", "ENTITY_ID": "telegrambot|2|209607941|744"}
    async with portal.serve() as base, Client(portal.webhook_url(base)) as client:
        chat_id = await client.imbot.chat.get(
            entity_type="LINES", entity_id="telegrambot|2|209607941|744"
        )
        batched = await client.batch({"line": ("IM.CHAT.GET", params)})
    assert chat_id == 77
    assert batched.successes["line"].result == {"ID": 77}
    assert [call.method for call in portal.calls] == ["imbot.chat.get", "batch"]
    assert portal.calls[1].params["cmd"]["line"].startswith("im.chat.get?")


def test_the_typed_method_shows_its_arguments_and_name() -> None:
    client = Client("https://portal.example.com/rest/1/code/")
    signature = inspect.signature(client.im.chat.get)
    assert list(signature.parameters) == ["entity_type", "entity_id"]
    assert all(p.kind is p.KEYWORD_ONLY for p in signature.parameters.values())
    assert signature.return_annotation is inspect.Signature.empty
    assert repr(client.imbot.chat.get) == "<typed method imbot.chat.get>"
    assert "entity_type" in (client.im.chat.get.__doc__ or "")
