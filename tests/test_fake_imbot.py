"""The fake portal's ``imbot.register`` and ``imbot.message.add`` answer as documented
(EN ``api-reference/chat-bots/outdated/bots/imbot-register.md``,
``.../messages/imbot-message-add.md``)."""

from __future__ import annotations

from typing import Any

import pytest

from bitrix_dialog import AccessDeniedError, AccessTokenAuth, BitrixError, Client
from bitrix_dialog.testing import FakePortal

REGISTER: dict[str, Any] = {
    "CODE": "echo",
    "TYPE": "B",
    "EVENT_HANDLER": "https://bot.example/events",
    "CLIENT_ID": "my-bot-client",
    "PROPERTIES": {"NAME": "Echo"},
}


async def test_register_copies_the_handler_and_is_idempotent_by_code(
    portal: FakePortal, client: Client
) -> None:
    bot_id = (await client.call("imbot.register", REGISTER)).result
    assert isinstance(bot_id, int)
    bot = portal.bots[bot_id]
    assert (bot.code, bot.name, bot.client_id) == ("echo", "Echo", "my-bot-client")
    assert set(bot.event_handlers) == {
        "EVENT_MESSAGE_ADD",
        "EVENT_MESSAGE_UPDATE",
        "EVENT_MESSAGE_DELETE",
        "EVENT_WELCOME_MESSAGE",
        "EVENT_BOT_DELETE",
    }
    assert set(bot.event_handlers.values()) == {"https://bot.example/events"}
    again = await client.call("imbot.register", REGISTER | {"PROPERTIES": {"NAME": "Other"}})
    assert again.result == bot_id
    assert len(portal.bots) == 1
    other = await client.call("imbot.register", REGISTER | {"CODE": "other"})
    assert other.result == bot_id + 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"CODE": ""}, "CODE_ERROR"),
        ({"PROPERTIES": {"COLOR": "RED"}}, "NAME_ERROR"),
        ({"EVENT_HANDLER": "not a url"}, "EVENT_MESSAGE_ADD_ERROR"),
        ({"EVENT_HANDLER": None}, "EVENT_MESSAGE_ADD_ERROR"),
        (
            {"EVENT_HANDLER": None, "EVENT_MESSAGE_ADD": "https://bot.example/add"},
            "EVENT_WELCOME_MESSAGE_ERROR",
        ),
    ],
)
async def test_register_refuses_what_the_docs_refuse(
    portal: FakePortal, client: Client, change: dict[str, Any], code: str
) -> None:
    with pytest.raises(BitrixError) as caught:
        await client.call("imbot.register", REGISTER | change)
    assert caught.value.code == code
    assert caught.value.status == 400
    assert portal.bots == {}


async def test_a_webhook_must_name_its_client_id(portal: FakePortal, client: Client) -> None:
    params = {k: v for k, v in REGISTER.items() if k != "CLIENT_ID"}
    with pytest.raises(AccessDeniedError, match="Client ID not specified"):
        await client.call("imbot.register", params)
    bot_id = (await client.call("imbot.register", REGISTER)).result
    message = {"BOT_ID": bot_id, "DIALOG_ID": "1", "MESSAGE": "hi"}
    with pytest.raises(AccessDeniedError, match="Client ID not specified"):
        await client.call("imbot.message.add", message)
    with pytest.raises(BitrixError) as caught:
        await client.call("imbot.message.add", message | {"CLIENT_ID": "someone-else"})
    assert caught.value.code == "APP_ID_ERROR"
    await client.call("imbot.message.add", message | {"CLIENT_ID": "my-bot-client"})
    assert len(portal.messages) == 1


async def test_messages_are_recorded_trimmed_and_counted_on_the_chat(portal: FakePortal) -> None:
    chat = portal.add_chat(name="Team", last_message_id=41)
    token = portal.add_access_token(user_id=1)
    async with Client(
        AccessTokenAuth(portal.client_endpoint(), token), transport=portal.transport()
    ) as client:
        bot_id = (await client.call("imbot.register", REGISTER)).result
        sent = await client.call(
            "imbot.message.add",
            {"DIALOG_ID": chat.dialog_id, "MESSAGE": "  hello \n", "KEYBOARD": {"BUTTONS": []}},
        )
        private = await client.call(
            "imbot.message.add",
            {"BOT_ID": bot_id, "FROM_USER_ID": 1, "TO_USER_ID": 7, "MESSAGE": "psst"},
        )
    first, second = portal.messages
    assert (sent.result, private.result) == (42, 43)
    assert (first.id, first.bot_id, first.dialog_id, first.text) == (42, bot_id, "chat1", "hello")
    assert first.system is False
    assert first.caller_user_id == 1
    assert first.params["KEYBOARD"] == {"BUTTONS": []}
    assert (chat.message_count, chat.last_message_id) == (1, 42)
    assert (second.dialog_id, second.system) == ("7", True)  # from/to mode forces SYSTEM=Y


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"BOT_ID": 999, "DIALOG_ID": "1", "MESSAGE": "x"}, "BOT_ID_ERROR"),
        ({"DIALOG_ID": "sg1", "MESSAGE": "x"}, "DIALOG_ID_EMPTY"),
        ({"DIALOG_ID": "", "MESSAGE": "x"}, "DIALOG_ID_EMPTY"),
        ({"DIALOG_ID": "chat1", "MESSAGE": "  "}, "MESSAGE_EMPTY"),
    ],
)
async def test_message_add_refuses_what_the_docs_refuse(
    portal: FakePortal, client: Client, params: dict[str, Any], code: str
) -> None:
    await client.call("imbot.register", REGISTER)
    with pytest.raises(BitrixError) as caught:
        await client.call("imbot.message.add", params | {"CLIENT_ID": "my-bot-client"})
    assert caught.value.code == code
    assert caught.value.status == 400
    assert portal.messages == []


async def test_message_add_without_any_bot_is_bot_id_error(client: Client) -> None:
    with pytest.raises(BitrixError, match="Bot not found") as caught:
        await client.call("imbot.message.add", {"DIALOG_ID": "1", "MESSAGE": "x"})
    assert caught.value.code == "BOT_ID_ERROR"
