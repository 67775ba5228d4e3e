"""``DialogId`` accepts what the portal accepts and refuses the rest before any request."""

from __future__ import annotations

import pickle

import pytest

from bitrix_dialog import Client, DialogId, InvalidDialogIdError
from bitrix_dialog.testing import FakePortal


@pytest.mark.parametrize(
    ("value", "wire", "kind", "number"),
    [
        ("chat29", "chat29", "chat", 29),
        ("CHAT29", "chat29", "chat", 29),
        ("Chat29", "chat29", "chat", 29),
        ("sg12", "sg12", "sg", 12),
        ("SG12", "sg12", "sg", 12),
        ("crm7", "crm7", "crm", 7),
        ("256", "256", "user", 256),
        (256, "256", "user", 256),
        ("007", "7", "user", 7),
        ("chat0001", "chat1", "chat", 1),
    ],
)
def test_accepts_every_form_the_portal_accepts(
    value: str | int, wire: str, kind: str, number: int
) -> None:
    dialog_id = DialogId.parse(value)
    assert str(dialog_id) == wire
    assert dialog_id.kind == kind
    assert dialog_id.number == number
    assert DialogId(value) == dialog_id


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "chat",
        "chatx",
        "chat-1",
        "chat 29",
        " chat29",
        "chat29 ",
        "29\n",
        "\t",
        0,
        "0",
        "chat0",
        -1,
        -256,
        "-5",
        True,
        False,
        1.0,
        "1.5",
        "user29",
        "sg",
        "chat٣",  # a non-ASCII digit: the portal's [0-9] refuses it
        b"chat29",
        ["chat29"],
    ],
)
def test_refuses_what_the_portal_would_refuse(value: object) -> None:
    with pytest.raises(InvalidDialogIdError, match="dialog_id"):
        DialogId.parse(value)  # type: ignore[arg-type]


def test_the_error_is_both_a_value_error_and_a_type_error() -> None:
    with pytest.raises(ValueError, match="not a dialog id"):
        DialogId.parse("chatx")
    with pytest.raises(TypeError, match="NoneType"):
        DialogId.parse(None)  # type: ignore[arg-type]


def test_constructors_for_chats_and_users() -> None:
    assert str(DialogId.chat(29)) == "chat29"
    assert str(DialogId.user(256)) == "256"
    assert DialogId.chat(29).chat_id == 29
    assert DialogId.chat(29).user_id is None
    assert DialogId.user(256).user_id == 256
    assert DialogId.user(256).chat_id is None
    for bad in (0, -3, True, "29"):
        with pytest.raises(InvalidDialogIdError):
            DialogId.chat(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidDialogIdError):
            DialogId.user(bad)  # type: ignore[arg-type]


def test_is_a_hashable_immutable_value() -> None:
    lookups = {DialogId.parse("CHAT29"): "a", DialogId.user(7): "b"}
    assert lookups[DialogId.chat(29)] == "a"
    assert lookups[DialogId.parse("7")] == "b"
    assert DialogId.parse("chat7") != DialogId.parse("7")
    assert DialogId.parse("sg7") != DialogId.parse("crm7")
    assert DialogId.parse("chat7") != "chat7"
    assert repr(DialogId.parse("chat7")) == "DialogId('chat7')"
    dialog_id = DialogId.parse("sg12")
    assert DialogId.parse(dialog_id) is dialog_id
    with pytest.raises(AttributeError):
        dialog_id._number = 3
    assert pickle.loads(pickle.dumps(dialog_id)) == dialog_id


def test_the_error_names_the_parameter_it_was_given_as() -> None:
    with pytest.raises(InvalidDialogIdError, match="dialogId"):
        DialogId.parse("nope", parameter="dialogId")


async def test_a_bad_id_never_reaches_the_portal() -> None:
    portal = FakePortal()
    async with Client(portal.webhook_url(), transport=portal.transport(), bot_id=5) as client:
        with pytest.raises(InvalidDialogIdError):
            await client.im.dialog.get("chat")
        with pytest.raises(InvalidDialogIdError):
            await client.imbot.dialog.get(0)
        with pytest.raises(InvalidDialogIdError):
            await client.imbot.v2.chat.get(" chat5")
        with pytest.raises(InvalidDialogIdError):
            await client.imopenlines.dialog.get(dialog_id="chatx")
    assert portal.calls == []
