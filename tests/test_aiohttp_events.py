"""Typed events from the official examples, form-encoded as the portal posts them.

The payloads are the "What the Handler Receives" examples of EN
``api-reference/chat-bots/outdated/messages/events/on-imbot-message-add.md`` (group
chat), ``.../chats/events/on-imbot-join-chat.md`` (personal chat),
``.../events/on-imbot-delete.md``, ``api-reference/common/events/on-app-install.md``,
``on-app-update.md`` and ``on-app-uninstall.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bitrix_dialog import ChatType, EventAuth, MessageType
from bitrix_dialog.aiohttp import (
    AppInstallEvent,
    AppUninstallEvent,
    AppUpdateEvent,
    BotDeleteEvent,
    BotJoinChatEvent,
    BotMessageEvent,
    RawEvent,
    parse_event,
)
from bitrix_dialog.testing import FakePortal, http_build_query, parse_str

MEMBER = "bac1cd5c8940947a75e0d71b1a84e348"
APP_TOKEN = "831c76b092f9f135d9b6b36c3a720757"


def bot_block(bot_id: str, access: str, refresh: str) -> dict[str, Any]:
    auth = {
        "access_token": access,
        "expires": "1771943628",
        "expires_in": "3600",
        "scope": "imbot",
        "domain": "some-domain.bitrix24.com",
        "server_endpoint": "https://oauth.bitrix.info/rest/",
        "status": "F",
        "client_endpoint": "https://some-domain.bitrix24.com/rest/",
        "member_id": MEMBER,
        "refresh_token": refresh,
        "user_id": bot_id,
        "client_id": "a7eff906dd1d950269258a599214f69e",
        "application_token": APP_TOKEN,
    }
    return {bot_id: auth | {"AUTH": auth, "BOT_ID": bot_id, "BOT_CODE": "BOT1"}}


TOP_AUTH = {
    "access_token": "ccb69d690000071b000008440000001b0000078c69a6b996b744c26b73e80ddeda0052",
    "expires": "1771943628",
    "expires_in": "3600",
    "scope": "imbot",
    "domain": "some-domain.bitrix24.com",
    "server_endpoint": "https://oauth.bitrix.info/rest/",
    "status": "F",
    "client_endpoint": "https://some-domain.bitrix24.com/rest/",
    "member_id": MEMBER,
    "user_id": "27",
    "refresh_token": "bc35c5690000071b000008440000001b000007b7a839f68bc2cdd19de2677410425077",
    "application_token": APP_TOKEN,
}

USER = {
    "ID": "27",
    "NAME": "Svetlana Ivanova",
    "FIRST_NAME": "Svetlana",
    "LAST_NAME": "Ivanova",
    "WORK_POSITION": "",
    "GENDER": "F",
    "IS_BOT": "N",
    "IS_CONNECTOR": "N",
    "IS_NETWORK": "N",
    "IS_EXTRANET": "N",
}

GROUP_MESSAGE = {
    "event": "ONIMBOTMESSAGEADD",
    "event_handler_id": "403",
    "data": {
        "BOT": bot_block("567", "ccb69d69", "bc35c569"),
        "PARAMS": {
            "MESSAGE": ", how to set up the left menu",
            "TEMPLATE_ID": "6d0eef7c-12b4-41e7-b709-887ba410ded3",
            "MESSAGE_TYPE": "C",
            "FROM_USER_ID": "27",
            "DIALOG_ID": "chat1157",
            "TO_CHAT_ID": "1157",
            "AUTHOR_ID": "27",
            "SYSTEM": "N",
            "CHAT_ID": "1157",
            "CHAT_TITLE": "Brown Chat #18",
            "CHAT_AUTHOR_ID": "27",
            "CHAT_TYPE": "C",
            "CHAT_AVATAR": "0",
            "CHAT_COLOR": "BROWN",
            "CHAT_ENTITY_TYPE": "THREAD",
            "CHAT_ENTITY_ID": "",
            "CHAT_EXTRANET": "N",
            "CHAT_PREV_MESSAGE_ID": "80961",
            "CHAT_CAN_POST": "MEMBER",
            "RID": "27",
            "IS_MANAGER": "N",
            "PUSH": "Y",
            "COMMAND_CONTEXT": "TEXTAREA",
            "CHAT_USER_COUNT": "2",
            "MENTIONED_LIST": {"567": "567"},
            "PLATFORM_CONTEXT": "web",
            "MESSAGE_ORIGINAL": "[USER=567]NewBot[/USER] , how to set up the left menu",
            "TO_USER_ID": "567",
            "MESSAGE_ID": "84351",
            "LANGUAGE": "en",
        },
        "USER": USER,
    },
    "ts": "1771940028",
    "auth": TOP_AUTH,
}


def posted(payload: dict[str, Any]) -> tuple[dict[str, Any], EventAuth]:
    """The payload as the app receives it: form-encoded by the portal, parsed back."""
    form = parse_str(http_build_query(payload))
    return form, EventAuth.from_auth_block(form["auth"], clock=lambda: 1771940028.0)


def test_a_group_chat_message_has_every_documented_field_typed() -> None:
    event = parse_event(*posted(GROUP_MESSAGE))
    assert isinstance(event, BotMessageEvent)
    assert event.event == "ONIMBOTMESSAGEADD"
    assert event.event_handler_id == 403
    assert event.ts == datetime(2026, 2, 24, 13, 33, 48, tzinfo=UTC)
    assert event.member_id == MEMBER
    assert event.bot_id == 567
    assert event.dialog_id == "chat1157"
    assert event.chat_id == 1157
    assert event.chat_title == "Brown Chat #18"
    assert event.message == ", how to set up the left menu"
    assert event.message_original == "[USER=567]NewBot[/USER] , how to set up the left menu"
    assert event.message_id == 84351
    assert event.from_user_id == event.author_id == event.chat_author_id == 27
    assert event.to_user_id == 567
    assert event.message_type == event.chat_type == MessageType.CHAT
    assert not event.is_private
    assert event.chat_entity_type == "THREAD"
    assert event.chat_entity_id is None
    assert event.system is False
    assert event.mentioned_ids == {567}
    assert event.command_context == "TEXTAREA"
    assert event.platform_context == "web"
    assert event.language == "en"
    assert event.user is not None
    assert event.user.id == 27
    assert event.user.name == "Svetlana Ivanova"
    assert event.user.gender == "F"
    assert event.user.is_bot is False
    (bot,) = event.bots
    assert bot.bot_id == 567
    assert bot.bot_code == "BOT1"
    assert bot.client_id == "a7eff906dd1d950269258a599214f69e"
    assert bot.auth.user_id == 567
    assert bot.auth.token is not None
    assert bot.auth.token.refresh_token == "bc35c569"
    # Nothing lost: undocumented-in-the-model keys stay reachable.
    assert event.params["CHAT_COLOR"] == "BROWN"
    assert event.data["PARAMS"]["RID"] == "27"
    # Secrets stay out of reprs.
    assert "ccb69d69" not in repr(event)
    assert APP_TOKEN not in repr(event)


def test_a_personal_chat_message_has_no_group_fields() -> None:
    payload = GROUP_MESSAGE | {
        "data": {
            "BOT": bot_block("567", "a98b9d69", "990ac569"),
            "PARAMS": {
                "MESSAGE": "Hello",
                "MESSAGE_TYPE": "P",
                "FROM_USER_ID": "27",
                "DIALOG_ID": "27",
                "TO_CHAT_ID": "1407",
                "AUTHOR_ID": "27",
                "SYSTEM": "N",
                "TO_USER_ID": "567",
                "MESSAGE_ID": "84331",
                "CHAT_TYPE": "P",
                "LANGUAGE": "en",
            },
            "USER": USER,
        }
    }
    event = parse_event(*posted(payload))
    assert isinstance(event, BotMessageEvent)
    assert event.is_private
    assert event.dialog_id == "27"
    assert event.chat_id == 1407
    assert event.chat_title is None
    assert event.mentioned_ids == frozenset()
    assert event.message_original is None


def test_a_personal_join_and_an_open_line_chat_type() -> None:
    payload = {
        "event": "ONIMBOTJOINCHAT",
        "event_handler_id": "459",
        "data": {
            "BOT": bot_block("571", "e703a069", "d782c769"),
            "PARAMS": {
                "CHAT_TYPE": "P",
                "MESSAGE_TYPE": "P",
                "BOT_ID": "571",
                "USER_ID": "27",
                "TO_USER_ID": "27",
                "FROM_USER_ID": "571",
                "DIALOG_ID": "27",
                "LANGUAGE": "de",
            },
            "USER": {k: USER[k] for k in ("ID", "NAME", "FIRST_NAME", "LAST_NAME", "GENDER")},
        },
        "ts": "1772090839",
        "auth": {k: v for k, v in TOP_AUTH.items() if k != "refresh_token"},
    }
    event = parse_event(*posted(payload))
    assert isinstance(event, BotJoinChatEvent)
    assert event.bot_id == 571
    assert event.user_id == 27
    assert event.dialog_id == "27"
    assert event.chat_id is None
    assert event.access_history is None
    assert event.language == "de"
    assert event.user is not None
    assert event.user.is_bot is None
    assert event.auth.token is not None
    assert event.auth.token.refresh_token is None

    payload["data"]["PARAMS"] |= {  # type: ignore[index]
        "CHAT_TYPE": "J",
        "CHAT_ID": "1157",
        "ACCESS_HISTORY": "1",
    }
    event = parse_event(*posted(payload))
    assert isinstance(event, BotJoinChatEvent)
    assert event.chat_type == "J"  # a letter the enum does not know stays the string
    assert event.chat_id == 1157
    assert event.access_history is True


def test_bot_delete_and_the_app_lifecycle_events() -> None:
    auth = {k: TOP_AUTH[k] for k in ("domain", "server_endpoint", "client_endpoint", "member_id")}
    auth["application_token"] = APP_TOKEN
    deleted = parse_event(
        *posted(
            {
                "event": "ONIMBOTDELETE",
                "data": {"BOT_ID": "567", "BOT_CODE": "BOT"},
                "ts": "1",
                "auth": auth,
            }
        )
    )
    assert isinstance(deleted, BotDeleteEvent)
    assert (deleted.bot_id, deleted.bot_code) == (567, "BOT")

    data = {"VERSION": "1.0.0", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "de"}
    installed = parse_event(*posted({"event": "ONAPPINSTALL", "data": data, "auth": auth}))
    assert isinstance(installed, AppInstallEvent)
    assert installed.version == "1.0.0"
    assert installed.active is installed.installed is True
    assert installed.language_id == "de"
    assert installed.ts is None

    data = {"VERSION": "3", "PREVIOUS_VERSION": "2", "LANGUAGE_ID": "de"}
    updated = parse_event(*posted({"event": "ONAPPUPDATE", "data": data, "auth": auth}))
    assert isinstance(updated, AppUpdateEvent)
    assert (updated.version, updated.previous_version) == ("3", "2")

    # The uninstall page's example spells the code ONAPPSUNINSTALL; both are understood.
    for code in ("ONAPPUNINSTALL", "ONAPPSUNINSTALL", "OnAppUninstall"):
        data = {"LANGUAGE_ID": "en", "CLEAN": "1"}
        removed = parse_event(*posted({"event": code, "data": data, "auth": auth}))
        assert isinstance(removed, AppUninstallEvent)
        assert removed.clean is True
        assert removed.event == code.upper()


def test_an_unknown_event_keeps_its_data_as_sent() -> None:
    payload = {
        "event": "ONCRMDEALUPDATE",
        "event_handler_id": "7",
        "data": {"FIELDS": {"ID": "662"}},
        "ts": "1484646000",
        "auth": {"member_id": "xxx", "application_token": "xxx"},
    }
    event = parse_event(*posted(payload))
    assert type(event) is RawEvent
    assert event.data == {"FIELDS": {"ID": "662"}}
    assert event.event_handler_id == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event_handler_id": "x"}, r"form\[event_handler_id\]: expected an integer, got 'x'"),
        ({"data": "oops"}, r"form\[data\]: expected a nested mapping, got str"),
        ({"event": ""}, "the post has no 'event' field"),
    ],
)
def test_a_malformed_post_names_the_wire_key(change: dict[str, Any], message: str) -> None:
    form, auth = posted(GROUP_MESSAGE)
    with pytest.raises(ValueError, match=message):
        parse_event(form | change, auth)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("PARAMS", "MESSAGE_ID"), "84351.5", r"data\[PARAMS\]\[MESSAGE_ID\]: expected an integer"),
        (("PARAMS", "SYSTEM"), "maybe", r"data\[PARAMS\]\[SYSTEM\]: expected Y/N or 1/0"),
        (("USER", "IS_BOT"), "?", r"data\[USER\]\[IS_BOT\]: expected Y/N"),
        (("BOT", "567"), "flat", r"data\[BOT\]\[567\]\[BOT\]: expected a nested mapping"),
    ],
)
def test_a_malformed_field_names_its_wire_path(
    path: tuple[str, str], value: str, message: str
) -> None:
    form, auth = posted(GROUP_MESSAGE)
    form["data"][path[0]][path[1]] = value
    with pytest.raises(ValueError, match=message):
        parse_event(form, auth)


def test_the_fake_portals_posts_parse_into_what_they_describe(portal: FakePortal) -> None:
    fake_app = portal.register_app()
    chat = portal.add_chat(name="Ops", type="open", message_type="O", user_names={7: "Ann Lee"})
    portal.add_bot(1000, name="Echo")

    def parse(body: bytes) -> Any:
        form = parse_str(body.decode())
        return parse_event(form, EventAuth.from_auth_block(form["auth"]))

    message = parse(portal.events.bot_message(1000, "hi", dialog_id=chat.dialog_id, from_user_id=7))
    assert isinstance(message, BotMessageEvent)
    assert message.auth.verify(fake_app.application_token)
    assert message.member_id == portal.oauth.member_id
    assert (message.bot_id, message.dialog_id, message.chat_id) == (1000, "chat1", 1)
    assert message.message == "hi"
    assert message.message_original == "[USER=1000]Echo[/USER] hi"
    assert message.chat_type == MessageType.OPEN
    assert message.chat_title == "Ops"
    assert message.from_user_id == 7
    assert message.user is not None
    assert (message.user.first_name, message.user.last_name) == ("Ann", "Lee")
    assert message.message_id == chat.last_message_id
    assert message.bots[0].auth.token is not None
    assert message.bots[0].auth.user_id == 1000

    private = parse(portal.events.bot_message(1000, "psst", from_user_id=7))
    assert isinstance(private, BotMessageEvent)
    assert private.is_private
    assert private.dialog_id == "7"
    private_chat = portal.chats[private.chat_id or 0]
    assert private_chat.members == frozenset({7, 1000})
    assert private_chat.type == ChatType.PRIVATE

    joined = parse(portal.events.bot_join_chat(1000, dialog_id=chat.dialog_id, user_id=7))
    assert isinstance(joined, BotJoinChatEvent)
    assert (joined.chat_id, joined.user_id, joined.access_history) == (1, 7, True)
    assert joined.auth.token is not None
    assert joined.auth.token.refresh_token is None

    installed = parse(portal.events.install(user_id=3))
    assert isinstance(installed, AppInstallEvent)
    assert installed.auth.token is not None
    assert installed.auth.token.refresh_token
    assert installed.auth.user_id == 3

    removed = parse(portal.events.uninstall(clean=False))
    assert isinstance(removed, AppUninstallEvent)
    assert removed.clean is False
    assert removed.auth.token is None

    deleted = parse(portal.events.bot_delete(1000))
    assert isinstance(deleted, BotDeleteEvent)
    assert deleted.bot_id == 1000
    assert 1000 not in portal.bots

    with pytest.raises(ValueError, match="no bot 1000"):
        portal.events.bot_message(1000, "gone")
    portal.add_bot(1001)
    with pytest.raises(ValueError, match="seeded chat"):
        portal.events.bot_message(1001, "hi", dialog_id="chat99")
