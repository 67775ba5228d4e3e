"""The fake portal answers all four dialog methods in every payload generation, faithfully."""

from __future__ import annotations

import json
import runpy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    BadRequestError,
    ChatType,
    Client,
    InvalidDialogIdError,
    NotFoundError,
    Role,
    decode_dialog,
)
from bitrix_dialog.abc import HttpRequest
from bitrix_dialog.testing import PAYLOAD_STYLES, FakePortal, PayloadStyle

from .payload_oracle import assert_mirrors

FIXTURES = Path(__file__).parent / "fixtures" / "payloads"
V2 = "imbot.v2.Chat.get"


def _fixture_result(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))["result"]
    return result


def _seed(portal: FakePortal) -> None:
    """A chat with members, readers and viewers; an open line; a bot in the chat."""
    portal.add_chat(
        10,
        name="Support",
        members=frozenset({1, 7, 8}),
        managers=(1,),
        message_count=3,
        last_message_id=99,
        viewers=(7, 8, 9),
        muted_by=frozenset({1}),
        public_code="sup",
        user_names={7: "Ann"},
        extra={"disappearing_time": 0} if portal.payload_style == "rich" else {},
    )
    portal.add_openline_chat(
        "livechat|1|1363|203", session_ids=(1743,), operator_id=1, name="Guest - Line"
    )
    portal.add_bot(456, token="secret", chats=(10,))


@pytest.fixture(params=PAYLOAD_STYLES)
def style(request: pytest.FixtureRequest) -> PayloadStyle:
    value: PayloadStyle = request.param
    return value


@pytest.fixture
def seeded(style: PayloadStyle) -> FakePortal:
    portal = FakePortal(payload_style=style)
    _seed(portal)
    return portal


@pytest.fixture
async def client(seeded: FakePortal) -> AsyncIterator[Client]:
    async with Client(
        seeded.webhook_url(), transport=seeded.transport(), bot_id=456, bot_token="secret"
    ) as client:
        yield client


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("im.dialog.get", {"DIALOG_ID": "chat10"}),
    ("imbot.dialog.get", {"DIALOG_ID": "chat10"}),
    ("imopenlines.dialog.get", {"USER_CODE": "imol|livechat|1|1363|203"}),
    (V2, {"botId": 456, "dialogId": "chat10", "botToken": "secret"}),
]


@pytest.mark.parametrize(("method", "params"), CALLS, ids=[m for m, _ in CALLS])
async def test_every_method_answers_in_every_generation_and_decodes_whole(
    client: Client, style: PayloadStyle, method: str, params: dict[str, Any]
) -> None:
    response = await client.call(method, params)
    dialog = decode_dialog(response.result, method=method)
    if method == V2:
        assert_mirrors(dialog, response.result["chat"], "camel")
    else:
        assert_mirrors(dialog, response.result, "snake")
    assert dialog.id in (10, 11)
    assert dialog.name in ("Support", "Guest - Line")


async def test_typed_methods_read_the_same_fields_in_every_generation(
    client: Client, style: PayloadStyle
) -> None:
    im = await client.im.dialog.get("chat10")
    bot = await client.imbot.dialog.get("chat10")
    lines = await client.imopenlines.dialog.get(session_id=1743)
    v2 = await client.imbot.v2.chat.get("chat10")
    assert im == bot
    assert (im.id, im.name, im.owner, im.type) == (10, "Support", 1, ChatType.CHAT)
    assert lines.id == 11
    assert lines.type is ChatType.OPEN_LINES
    assert (v2.id, v2.name, v2.role) == (10, "Support", Role.MEMBER)
    assert v2.dialog_id == "chat10"
    rich_only = im.restrictions is not None
    assert rich_only == (style in ("2024", "rich"))


@pytest.mark.parametrize(
    ("style", "fixture"),
    [
        ("legacy", "im.dialog.get__b24restdocs-en__legacy-2017.json"),
        ("2020", "imopenlines.dialog.get__b24restdocs-en__2020.json"),
        ("2021", "im.dialog.get__synthetic__2021-server.json"),
        ("2024", "im.dialog.get__openintegrations__private-2024-07.json"),
        ("rich", "im.dialog.get__b24restdocs-en__rich-2026.json"),
    ],
)
async def test_each_generation_has_the_documented_keys_in_order(
    style: PayloadStyle, fixture: str
) -> None:
    portal = FakePortal(payload_style=style)
    chat = portal.add_chat(message_count=1, last_message_id=5)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert list(response.result) == list(_fixture_result(fixture))
    if style == "rich":
        documented = _fixture_result(fixture)
        for nested in ("restrictions", "permissions", "last_message_views"):
            assert response.result[nested].keys() <= documented[nested].keys() | {"path"}


@pytest.mark.parametrize(
    ("style", "fixture"),
    [
        ("2024", "imbot.v2.Chat.get__b24restdocs-en__2026-04-string-views.json"),
        ("rich", "imbot.v2.Chat.get__b24restdocs-en__2026-current.json"),
    ],
)
async def test_v2_generations_have_the_documented_keys_and_value_forms(
    style: PayloadStyle, fixture: str
) -> None:
    portal = FakePortal(payload_style=style)
    chat = portal.add_chat(message_count=2, last_message_id=5, viewers=(3,))
    portal.add_bot(456, token="t")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        response = await client.call(
            V2, {"botId": 456, "dialogId": chat.dialog_id, "botToken": "t"}
        )
    documented = _fixture_result(fixture)
    assert list(response.result) == list(documented)
    assert list(response.result["chat"]) == list(documented["chat"])
    views = response.result["chat"]["lastMessageViews"]
    if style == "rich":
        assert response.result["chat"]["textFieldEnabled"] is True
        assert views["firstViewers"][0]["userId"] == 3
    else:
        assert response.result["chat"]["textFieldEnabled"] == "Y"
        assert json.loads(views)["firstViewers"][0]["userId"] == 3


async def test_2024_answers_empty_views_as_a_list_for_a_chat_without_messages() -> None:
    portal = FakePortal(payload_style="2024")
    chat = portal.add_chat()
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        raw = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        dialog = await client.im.dialog.get(chat.dialog_id)
    assert raw.result["last_message_views"] == []
    assert dialog.last_message_views is None


# --- imopenlines.dialog.get: how the chat is found


@pytest.fixture
async def lines() -> AsyncIterator[tuple[FakePortal, Client]]:
    portal = FakePortal()
    portal.add_chat(5, name="Team", members=frozenset({1, 2}))
    portal.add_openline_chat("telegram|3|77|91", session_ids=(500, 501), operator_id=1)
    portal.add_openline_chat("livechat|1|1363|203", members=frozenset({9}))
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield portal, client


@pytest.mark.parametrize(
    "params",
    [
        {"CHAT_ID": 6},
        {"CHAT_ID": "6"},
        {"chat_id": 6},
        {"DIALOG_ID": "chat6"},
        {"SESSION_ID": 500},
        {"SESSION_ID": 501},
        {"USER_CODE": "telegram|3|77|91"},
        {"USER_CODE": "imol|telegram|3|77|91"},
        {"CHAT_ID": 6, "SESSION_ID": 999, "USER_CODE": "nope"},
    ],
)
async def test_openlines_finds_the_chat_the_server_would(
    lines: tuple[FakePortal, Client], params: dict[str, Any]
) -> None:
    _, client = lines
    response = await client.call("imopenlines.dialog.get", params)
    assert response.result["id"] == 6
    assert response.result["dialog_id"] == "chat6"
    assert response.result["entity_type"] == "LINES"
    assert response.result["entity_id"] == "telegram|3|77|91"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"DIALOG_ID": "6"},
        {"DIALOG_ID": "sg6"},
        {"CHAT_ID": 404},
        {"SESSION_ID": 404},
        {"USER_CODE": "telegram|3|77|00"},
        {"USER_CODE": "livechat|1|1363|203"},  # exists, but the caller is not a member
        {"DIALOG_ID": "chat6", "CHAT_ID": 404},  # CHAT_ID wins, and finds nothing
    ],
)
async def test_openlines_answers_access_error_when_nothing_resolves(
    lines: tuple[FakePortal, Client], params: dict[str, Any]
) -> None:
    portal, client = lines
    with pytest.raises(AccessDeniedError) as caught:
        await client.call("imopenlines.dialog.get", params)
    assert caught.value.code == "ACCESS_ERROR"
    assert caught.value.status == 400
    assert caught.value.description == "You do not have access to the specified dialog"
    assert portal.calls[-1].error == "ACCESS_ERROR"


async def test_openlines_typed_method_reaches_the_documented_error(
    lines: tuple[FakePortal, Client],
) -> None:
    _, client = lines
    with pytest.raises(AccessDeniedError, match="ACCESS_ERROR"):
        await client.imopenlines.dialog.get(user_code="livechat|1|1363|203")
    dialog = await client.imopenlines.dialog.get(dialog_id="chat6")
    assert dialog.manager_ids == (1,)
    assert dialog.entity_data_1 is not None
    assert dialog.entity_data_1.split("|")[5] == "501"


# --- im.dialog.get / imbot.dialog.get errors through the typed client


async def test_dialog_errors_reach_the_typed_client() -> None:
    portal = FakePortal()
    secret = portal.add_chat(members=frozenset({42}))
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(AccessDeniedError) as denied:
            await client.im.dialog.get(secret.dialog_id)
        with pytest.raises(AccessDeniedError) as missing:
            await client.imbot.dialog.get("chat999")
        with pytest.raises(InvalidDialogIdError) as empty:
            await client.call("imbot.dialog.get", {"DIALOG_ID": "chat"})
    assert (denied.value.code, denied.value.status) == ("ACCESS_ERROR", 403)
    assert (missing.value.code, missing.value.status) == ("ACCESS_ERROR", 400)
    assert (empty.value.code, empty.value.status) == ("DIALOG_ID_EMPTY", 400)


async def test_private_dialogs_by_user_id() -> None:
    portal = FakePortal()
    private = portal.add_chat(type="private", message_type="P", members=frozenset({1, 456}))
    portal.add_bot(456, token="t")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        dialog = await client.im.dialog.get(456)
        bot_view = await client.imbot.v2.chat.get(1, bot_id=456, bot_token="t")
    assert dialog.id == bot_view.id == private.id
    assert dialog.dialog_id == "456"
    assert bot_view.dialog_id == "1"
    assert dialog.type is ChatType.PRIVATE


# --- imbot.v2.Chat.get: bots and their documented errors


@pytest.fixture
async def bots() -> AsyncIterator[tuple[FakePortal, Client]]:
    portal = FakePortal()
    portal.add_chat(1, name="Team", members=frozenset({1, 2}))
    portal.add_chat(2, name="News", type="open", message_type="O", members=frozenset({2}))
    portal.add_chat(3, name="Closed", members=frozenset({2}))
    portal.add_bot(456, token="right", chats=(1,))
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield portal, client


@pytest.mark.parametrize(
    ("params", "error", "code"),
    [
        ({"dialogId": "chat1", "botToken": "right"}, BadRequestError, "BOT_ID_REQUIRED"),
        ({"botId": "x", "dialogId": "chat1"}, BadRequestError, "BOT_ID_REQUIRED"),
        ({"botId": 999, "dialogId": "chat1", "botToken": "right"}, NotFoundError, "BOT_NOT_FOUND"),
        ({"botId": 456, "dialogId": "chat1"}, BadRequestError, "BOT_TOKEN_NOT_SPECIFIED"),
        (
            {"botId": 456, "dialogId": "chat1", "botToken": "wrong"},
            AccessDeniedError,
            "BOT_OWNERSHIP_ERROR",
        ),
        (
            {"botId": 456, "dialogId": "chat404", "botToken": "right"},
            NotFoundError,
            "CHAT_NOT_FOUND",
        ),
        (
            {"botId": 456, "dialogId": "chat3", "botToken": "right"},
            AccessDeniedError,
            "ACCESS_DENIED",
        ),
    ],
)
async def test_v2_documented_errors(
    bots: tuple[FakePortal, Client],
    params: dict[str, Any],
    error: type[Exception],
    code: str,
) -> None:
    _, client = bots
    with pytest.raises(error) as caught:
        await client.call(V2, params)
    assert getattr(caught.value, "code", None) == code
    assert getattr(caught.value, "status", None) == 400


async def test_v2_errors_reach_the_typed_client(bots: tuple[FakePortal, Client]) -> None:
    _, client = bots
    with pytest.raises(NotFoundError, match="BOT_NOT_FOUND"):
        await client.imbot.v2.chat.get("chat1", bot_id=999, bot_token="right")
    with pytest.raises(BadRequestError, match="BOT_TOKEN_NOT_SPECIFIED"):
        await client.imbot.v2.chat.get("chat1", bot_id=456)
    with pytest.raises(AccessDeniedError, match="BOT_OWNERSHIP_ERROR"):
        await client.imbot.v2.chat.get("chat1", bot_id=456, bot_token="wrong")
    with pytest.raises(AccessDeniedError, match="ACCESS_DENIED"):
        await client.imbot.v2.chat.get("chat3", bot_id=456, bot_token="right")
    with pytest.raises(NotFoundError, match="CHAT_NOT_FOUND"):
        await client.imbot.v2.chat.get("chat404", bot_id=456, bot_token="right")


async def test_v2_open_chats_answer_a_bot_that_is_not_a_member_as_guest(
    bots: tuple[FakePortal, Client],
) -> None:
    _, client = bots
    dialog = await client.imbot.v2.chat.get("chat2", bot_id=456, bot_token="right")
    assert dialog.role is Role.GUEST
    assert dialog.type is ChatType.OPEN


async def test_v2_method_name_matches_in_any_case_as_on_the_portal(
    bots: tuple[FakePortal, Client],
) -> None:
    portal, client = bots
    params = {"botId": 456, "dialogId": "chat1", "botToken": "right"}
    response = await client.call("imbot.v2.chat.get", params)
    assert response.result["chat"]["id"] == 1
    assert portal.calls[-1].method == "imbot.v2.Chat.get"
    # The fake itself matches any case too, like the portal's lower-casing REST server.
    raw = await portal.handle(
        HttpRequest(
            method="POST",
            url=URL(portal.webhook_url()) / "IMBOT.V2.CHAT.GET",
            headers={"Content-Type": "application/json"},
            body=json.dumps(params).encode(),
        )
    )
    assert raw.status == 200
    assert portal.calls[-1].method == "IMBOT.V2.CHAT.GET"


async def test_v2_over_oauth_needs_no_token_but_must_be_the_owner() -> None:
    portal = FakePortal()
    portal.add_chat(1, members=frozenset({1, 2}))
    portal.add_bot(456, token="right", owner_user_id=1, chats=(1,))
    owner = portal.add_access_token(user_id=1)
    stranger = portal.add_access_token(user_id=2)
    endpoint = portal.client_endpoint()
    transport = portal.transport()
    async with Client(AccessTokenAuth(endpoint, owner), transport=transport) as client:
        dialog = await client.imbot.v2.chat.get("chat1", bot_id=456)
    assert dialog.id == 1
    async with Client(AccessTokenAuth(endpoint, stranger), transport=transport) as client:
        with pytest.raises(AccessDeniedError, match="BOT_OWNERSHIP_ERROR"):
            await client.imbot.v2.chat.get("chat1", bot_id=456)


def test_an_unknown_payload_style_is_refused() -> None:
    with pytest.raises(ValueError, match="payload_style must be one of legacy, 2020"):
        FakePortal(payload_style="2019")  # type: ignore[arg-type]


def test_the_typed_dialogs_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parent.parent / "examples" / "typed_dialogs.py"
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out
    assert "[rich]   members may post: True" in out
    assert "[legacy]   this portal does not send restrictions" in out
