"""mypy sees precise types on every public field (checked by ``mypy --strict``, never run).

``typing.assert_type`` is a no-op at run time; under mypy it fails unless the
expression has exactly the stated type, so ``Any`` leaking from a model fails the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, assert_type

from bitrix_dialog import (
    ChatType,
    Client,
    Dialog,
    DialogId,
    EntityLink,
    LastMessageViews,
    MessageType,
    Permissions,
    PublicLink,
    Reader,
    Restrictions,
    Role,
    Viewer,
    decode_dialog,
    dialog_to_json,
)
from bitrix_dialog.testing import FakePortal


def check_dialog_fields_have_precise_types() -> None:
    dialog = decode_dialog({"id": 1}, method="im.dialog.get")
    assert_type(dialog, Dialog)
    assert_type(dialog.id, int)
    assert_type(dialog.dialog_id, str | None)
    assert_type(dialog.name, str | None)
    assert_type(dialog.owner, int | None)
    assert_type(dialog.type, ChatType | str | None)
    assert_type(dialog.message_type, MessageType | str | None)
    assert_type(dialog.role, Role | str | None)
    assert_type(dialog.extranet, bool | None)
    assert_type(dialog.date_create, datetime | None)
    assert_type(dialog.entity_link, EntityLink | None)
    assert_type(dialog.muted_user_ids, tuple[int, ...] | None)
    assert_type(dialog.manager_ids, tuple[int, ...] | None)
    assert_type(dialog.readers, tuple[Reader, ...] | None)
    assert_type(dialog.last_message_views, LastMessageViews | None)
    assert_type(dialog.restrictions, Restrictions | None)
    assert_type(dialog.permissions, Permissions | None)
    assert_type(dialog.public, PublicLink | None)
    assert_type(dialog.text_field_enabled, bool | None)
    assert_type(dialog.background_id, int | str | None)
    assert_type(dialog.extra, Mapping[str, Any])
    assert_type(dialog_to_json(dialog), dict[str, Any])


def check_nested_fields_have_precise_types() -> None:
    assert_type(Restrictions().send, bool | None)
    assert_type(Restrictions().path, str | None)
    assert_type(Permissions().can_post, Role | str | None)
    assert_type(Reader().date, datetime | None)
    assert_type(LastMessageViews().first_viewers, tuple[Viewer, ...])
    assert_type(LastMessageViews().count_of_viewers, int | None)
    assert_type(Viewer().user_id, int | None)
    assert_type(PublicLink().link, str | None)


async def check_typed_client_methods_return_dialogs() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    portal.add_bot(456, token="t")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        assert_type(await client.im.dialog.get(DialogId.chat(chat.id)), Dialog)
        assert_type(await client.imbot.dialog.get(chat.dialog_id), Dialog)
        assert_type(await client.imopenlines.dialog.get(chat_id=chat.id), Dialog)
        v2 = await client.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="t")
        assert_type(v2, Dialog)
        chat_id = await client.im.chat.get(entity_type="CRM", entity_id="DEAL|1")
        assert_type(chat_id, int | None)
        bot_chat_id = await client.imbot.chat.get(entity_type="CRM", entity_id=1)
        assert_type(bot_chat_id, int | None)
