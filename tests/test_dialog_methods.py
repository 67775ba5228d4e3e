"""The typed client methods: what they send, what they check first, bot credentials."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bitrix_dialog import BadRequestError, Client, DialogId, InvalidDialogIdError
from bitrix_dialog._methods._dialogs import DIALOG_METHODS, openlines_params
from bitrix_dialog._wire._redact import redact_params
from bitrix_dialog.testing import FakePortal


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
def test_openlines_parameters(kwargs: dict[str, Any], params: dict[str, Any]) -> None:
    assert openlines_params(**kwargs) == params


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


def test_method_specs_by_rest_name() -> None:
    assert list(DIALOG_METHODS) == [
        "im.dialog.get",
        "imbot.dialog.get",
        "imopenlines.dialog.get",
        "imbot.v2.Chat.get",
    ]
    assert DIALOG_METHODS["imbot.v2.chat.get"] is DIALOG_METHODS["imbot.v2.Chat.get"]
    assert DIALOG_METHODS["imbot.v2.chat.get"].name == "imbot.v2.Chat.get"
    assert DIALOG_METHODS["IM.Dialog.Get"].name == "im.dialog.get"
    assert "imbot.v2.chat.get" in DIALOG_METHODS
    assert "im.chat.get" not in DIALOG_METHODS
    v2 = DIALOG_METHODS["imbot.v2.Chat.get"]
    assert v2.params(DialogId.user(7), bot_id=1) == {"botId": 1, "dialogId": "7"}
    assert DIALOG_METHODS["imopenlines.dialog.get"].params("chat3") == {"DIALOG_ID": "chat3"}
    with pytest.raises(ValueError, match="takes no bot credentials"):
        DIALOG_METHODS["im.dialog.get"].params("chat3", bot_id=1)
    dialog = v2.decode({"chat": {"id": "3"}}, b"{}")
    assert dialog.id == 3


def test_v2_parameters_keep_the_bot_token_out_of_redacted_logs() -> None:
    params = DIALOG_METHODS["imbot.v2.Chat.get"].params("chat5", bot_id=456, bot_token="s3cr3t")
    assert params["botToken"] == "s3cr3t"
    assert redact_params(params) == {"botId": 456, "dialogId": "chat5", "botToken": "***"}
