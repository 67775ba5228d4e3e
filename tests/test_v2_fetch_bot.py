"""``examples/v2_fetch_bot.py`` runs as documented; the fake's ``imbot.v2.Chat.Message.send``."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from bitrix_dialog import AccessDeniedError, BadRequestError, Client
from bitrix_dialog.testing import FakePortal

EXAMPLE = Path(__file__).parent.parent / "examples" / "v2_fetch_bot.py"


async def test_the_fetch_bot_example_answers_every_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = runpy.run_path(str(EXAMPLE), run_name="v2_fetch_bot")["demo"]
    await demo()
    out = capsys.readouterr().out
    assert 'Anna Petrova writes in "Release planning": Hello, bot!' in out
    for text in ("Hello, bot!", "Are you there?", "Bye"):
        assert f'the bot answers in chat1: "Release planning" heard you: {text}' in out


async def test_message_send_checks_the_bot_the_chat_and_the_text() -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Ours", members=frozenset({1, 456}))
    closed = portal.add_chat(name="Theirs", members=frozenset({1}))
    portal.add_bot(456, token="tok", chats=(chat.id,))

    def send(dialog_id: str, **fields: Any) -> dict[str, Any]:
        return {"botId": 456, "botToken": "tok", "dialogId": dialog_id, "fields": fields}

    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        answer = await client.call("imbot.v2.Chat.Message.send", send("chat1", message="hi"))
        assert answer.result == {"id": portal.messages[0].id, "uuidMap": {}}
        with pytest.raises(AccessDeniedError):
            await client.call("imbot.v2.Chat.Message.send", send(closed.dialog_id, message="x"))
        with pytest.raises(BadRequestError, match="EMPTY_MESSAGE"):
            await client.call("imbot.v2.Chat.Message.send", send("chat1", message="  "))
    assert [(m.bot_id, m.dialog_id, m.text) for m in portal.messages] == [(456, "chat1", "hi")]
