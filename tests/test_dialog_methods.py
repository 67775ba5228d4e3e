"""The typed client methods: what they send, what they check first, bot credentials."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bitrix_dialog import (
    BadRequestError,
    Client,
    DialogId,
    InvalidDialogIdError,
    MethodNotFoundError,
    ModelDecodeError,
)
from bitrix_dialog.testing import FakePortal

V2 = "imbot.v2.Chat.get"


@pytest.fixture
async def client(portal: FakePortal) -> AsyncIterator[Client]:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield client


async def test_each_method_is_sent_under_its_documented_name(
    portal: FakePortal, client: Client
) -> None:
    chat = portal.add_chat(members=frozenset({1, 456}))
    portal.add_bot(456, token="secret")
    await client.im.dialog.get(chat.dialog_id)
    await client.imbot.dialog.get(DialogId.chat(chat.id))
    await client.imopenlines.dialog.get(chat_id=chat.id)
    await client.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="secret")
    sent = [(call.method, dict(call.params)) for call in portal.calls]
    assert sent == [
        ("im.dialog.get", {"DIALOG_ID": f"chat{chat.id}"}),
        ("imbot.dialog.get", {"DIALOG_ID": f"chat{chat.id}"}),
        ("imopenlines.dialog.get", {"CHAT_ID": chat.id}),
        ("imbot.v2.Chat.get", {"botId": 456, "dialogId": f"chat{chat.id}", "botToken": "secret"}),
    ]


@pytest.mark.parametrize(
    ("kwargs", "params"),
    [
        ({"chat_id": 13}, {"CHAT_ID": 13}),
        ({"dialog_id": "chat29"}, {"DIALOG_ID": "chat29"}),
        ({"dialog_id": "CHAT29"}, {"DIALOG_ID": "chat29"}),
        ({"dialog_id": DialogId.chat(29)}, {"DIALOG_ID": "chat29"}),
        ({"session_id": 1743}, {"SESSION_ID": 1743}),
        ({"user_code": "livechat|1|1373|211"}, {"USER_CODE": "livechat|1|1373|211"}),
        ({"user_code": "imol|livechat|1|1373|211"}, {"USER_CODE": "imol|livechat|1|1373|211"}),
    ],
)
async def test_openlines_parameters(
    portal: FakePortal, client: Client, kwargs: dict[str, Any], params: dict[str, Any]
) -> None:
    portal.add_chat(13, session_ids=(1743,))
    portal.add_chat(29)
    portal.add_openline_chat("livechat|1|1373|211")
    await client.imopenlines.dialog.get(**kwargs)
    assert [dict(call.params) for call in portal.calls] == [params]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "exactly one of"),
        ({"chat_id": 1, "session_id": 2}, ValueError, "got chat_id, session_id"),
        ({"dialog_id": "256"}, InvalidDialogIdError, "only the chat form"),
        ({"dialog_id": "sg12"}, InvalidDialogIdError, "only the chat form"),
        ({"dialog_id": "chatx"}, InvalidDialogIdError, "not a dialog id"),
        ({"chat_id": 0}, ValueError, "chat_id must be a positive int"),
        ({"chat_id": "13"}, TypeError, "chat_id must be a positive int"),
        ({"session_id": True}, TypeError, "session_id"),
        ({"session_id": -4}, ValueError, "session_id"),
        ({"user_code": ""}, ValueError, "not an open-line user code"),
        ({"user_code": "livechat|x|1373|211"}, ValueError, "user_code"),
        ({"user_code": "livechat|1|1373"}, ValueError, "user_code"),
        ({"user_code": "livechat|1|13 73|211"}, ValueError, "user_code"),
        ({"user_code": 5}, TypeError, "user_code"),
    ],
)
async def test_openlines_arguments_are_checked_before_sending(
    portal: FakePortal, client: Client, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await client.imopenlines.dialog.get(**kwargs)
    assert portal.calls == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "needs bot_id"),
        ({"bot_id": 0}, ValueError, "bot_id"),
        ({"bot_id": "456"}, TypeError, "bot_id"),
        ({"bot_id": True}, TypeError, "bot_id"),
        ({"bot_id": 456, "bot_token": ""}, ValueError, "bot_token"),
        ({"bot_id": 456, "bot_token": " x"}, ValueError, "bot_token"),
        ({"bot_id": 456, "bot_token": 7}, TypeError, "bot_token"),
    ],
)
async def test_v2_bot_arguments_are_checked_before_sending(
    portal: FakePortal, client: Client, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await client.imbot.v2.chat.get("chat5", **kwargs)
    assert portal.calls == []


async def test_bot_credentials_set_once_on_the_client_are_sent_but_never_shown(
    portal: FakePortal, caplog: pytest.LogCaptureFixture
) -> None:
    chat = portal.add_chat()
    portal.add_bot(456, token="s3cr3t-token")
    caplog.set_level(logging.DEBUG, logger="bitrix_dialog")
    async with Client(
        portal.webhook_url(),
        transport=portal.transport(),
        bot_id=456,
        bot_token="s3cr3t-token",
    ) as client:
        dialog = await client.imbot.v2.chat.get(chat.dialog_id)
        assert "s3cr3t" not in repr(client)
    assert dialog.id == chat.id
    assert portal.calls[-1].params["botToken"] == "s3cr3t-token"
    assert "s3cr3t" not in caplog.text


async def test_a_call_for_another_bot_does_not_borrow_the_clients_token(
    portal: FakePortal,
) -> None:
    chat = portal.add_chat()
    portal.add_bot(456, token="t-456")
    portal.add_bot(789, token="t-789")
    async with Client(
        portal.webhook_url(), transport=portal.transport(), bot_id=456, bot_token="t-456"
    ) as client:
        await client.imbot.v2.chat.get(chat.dialog_id, bot_id=789, bot_token="t-789")
        assert portal.calls[-1].params["botToken"] == "t-789"
        await client.imbot.v2.chat.get(chat.dialog_id, bot_id=456)
        assert portal.calls[-1].params["botToken"] == "t-456"
        with pytest.raises(BadRequestError) as caught:
            await client.imbot.v2.chat.get(chat.dialog_id, bot_id=789)
    assert caught.value.code == "BOT_TOKEN_NOT_SPECIFIED"
    assert "botToken" not in portal.calls[-1].params


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"bot_id": 0}, ValueError),
        ({"bot_id": "5"}, TypeError),
        ({"bot_token": "x"}, ValueError),
        ({"bot_id": 5, "bot_token": ""}, ValueError),
    ],
)
def test_client_bot_credentials_are_checked(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Client("https://portal.example.com/rest/1/code/", **kwargs)


@pytest.mark.parametrize(
    "spelling", ["imbot.v2.chat.get", "IMBOT.V2.CHAT.GET", "imbot.v2.Chat.get"]
)
async def test_a_typed_methods_name_matches_in_any_case_and_is_sent_as_documented(
    portal: FakePortal, client: Client, spelling: str
) -> None:
    chat = portal.add_chat()
    portal.add_bot(456, token="secret", chats=(chat.id,))
    params = {"botId": 456, "dialogId": chat.dialog_id, "botToken": "secret"}
    response = await client.call(spelling, params)
    batched = await client.batch([(spelling, params)])
    assert response.method == "imbot.v2.Chat.get"
    assert batched.successes["c0"].method == "imbot.v2.Chat.get"
    assert [call.method for call in portal.calls] == ["imbot.v2.Chat.get", "batch"]
    assert portal.calls[-1].params["cmd"]["c0"].startswith("imbot.v2.Chat.get?")
    assert response.result["chat"]["id"] == chat.id


async def test_a_method_the_sdk_does_not_type_is_sent_as_given(
    portal: FakePortal, client: Client
) -> None:
    portal.add_chat(3)
    await client.call("IM.Dialog.Get", {"DIALOG_ID": "chat3"})
    with pytest.raises(MethodNotFoundError):
        await client.call("im.Custom.Thing")
    assert [call.method for call in portal.calls] == ["im.dialog.get", "im.Custom.Thing"]


async def test_an_answer_that_does_not_fit_names_the_documented_method(
    portal: FakePortal, client: Client
) -> None:
    portal.add_bot(456, token="secret")
    portal.register_method("imbot.v2.Chat.get", _chat_without_id)
    with pytest.raises(ModelDecodeError) as caught:
        await client.imbot.v2.chat.get("chat5", bot_id=456, bot_token="secret")
    assert caught.value.method == "imbot.v2.Chat.get"
    assert caught.value.path == "chat.id"
    assert caught.value.payload == {"chat": {"name": "x"}}


async def _chat_without_id(context: Any) -> Any:
    return {"chat": {"name": "x"}}


async def test_v2_bot_token_is_sent_but_redacted_in_logs(
    portal: FakePortal, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    chat = portal.add_chat()
    portal.add_bot(456, token="s3cr3t", chats=(chat.id,))
    caplog.set_level(logging.DEBUG, logger="bitrix_dialog")
    await client.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="s3cr3t")
    assert portal.calls[-1].params == {
        "botId": 456,
        "dialogId": chat.dialog_id,
        "botToken": "s3cr3t",
    }
    assert "s3cr3t" not in caplog.text
