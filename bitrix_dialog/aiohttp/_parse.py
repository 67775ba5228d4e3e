"""From a parsed event post to its typed event: one field reader per documented event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .._auth import EventAuth
from .._auth._events import FormData, as_form
from ._events import (
    AppInstallEvent,
    AppUninstallEvent,
    AppUpdateEvent,
    BitrixEvent,
    BotDeleteEvent,
    BotJoinChatEvent,
    BotMessageEvent,
    EventBot,
    EventUser,
    RawEvent,
)
from ._wire import field, flag, integer, mapping, message_type, text, timestamp

__all__ = ["event_class", "parse_event"]


def _bot_common(data: Mapping[str, Any]) -> dict[str, Any]:
    params = field(data, "PARAMS", mapping, "data")
    bots = EventBot.parse_all(field(data, "BOT", mapping, "data"))
    where = "data[PARAMS]"
    bot_id = field(params, "BOT_ID", integer, where)
    return {
        "bots": bots,
        "bot_id": bot_id if bot_id is not None else (bots[0].bot_id if bots else None),
        "dialog_id": field(params, "DIALOG_ID", text, where) or "",
        "chat_type": field(params, "CHAT_TYPE", message_type, where),
        "message_type": field(params, "MESSAGE_TYPE", message_type, where),
        "chat_author_id": field(params, "CHAT_AUTHOR_ID", integer, where),
        "chat_entity_type": field(params, "CHAT_ENTITY_TYPE", text, where),
        "chat_entity_id": field(params, "CHAT_ENTITY_ID", text, where),
        "from_user_id": field(params, "FROM_USER_ID", integer, where),
        "to_user_id": field(params, "TO_USER_ID", integer, where),
        "language": field(params, "LANGUAGE", text, where),
        "user": EventUser.parse(field(data, "USER", mapping, "data")),
        "params": params,
    }


def _mentioned(value: object) -> frozenset[int]:
    ids = set()
    for key, item in mapping(value).items():
        number = integer(item) or integer(key)
        if number:
            ids.add(number)
    return frozenset(ids)


def _message_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _bot_common(data)
    params = fields["params"]
    where = "data[PARAMS]"
    chat_id = field(params, "TO_CHAT_ID", integer, where)
    if chat_id is None:
        chat_id = field(params, "CHAT_ID", integer, where)
    return fields | {
        "message_id": field(params, "MESSAGE_ID", integer, where),
        "message": field(params, "MESSAGE", text, where) or "",
        "message_original": field(params, "MESSAGE_ORIGINAL", text, where),
        "chat_id": chat_id,
        "chat_title": field(params, "CHAT_TITLE", text, where),
        "author_id": field(params, "AUTHOR_ID", integer, where),
        "system": field(params, "SYSTEM", flag, where),
        "mentioned_ids": field(params, "MENTIONED_LIST", _mentioned, where),
        "command_context": field(params, "COMMAND_CONTEXT", text, where),
        "platform_context": field(params, "PLATFORM_CONTEXT", text, where),
    }


def _join_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _bot_common(data)
    params = fields["params"]
    where = "data[PARAMS]"
    return fields | {
        "chat_id": field(params, "CHAT_ID", integer, where),
        "user_id": field(params, "USER_ID", integer, where),
        "access_history": field(params, "ACCESS_HISTORY", flag, where),
        "silent_join": field(params, "SILENT_JOIN", flag, where),
    }


def _delete_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    bot_id = field(data, "BOT_ID", integer, "data")
    if bot_id is None:
        msg = "data[BOT_ID] is missing"
        raise ValueError(msg)
    return {"bot_id": bot_id, "bot_code": field(data, "BOT_CODE", text, "data")}


def _install_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": field(data, "VERSION", text, "data"),
        "active": field(data, "ACTIVE", flag, "data"),
        "installed": field(data, "INSTALLED", flag, "data"),
        "language_id": field(data, "LANGUAGE_ID", text, "data"),
    }


def _update_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": field(data, "VERSION", text, "data"),
        "previous_version": field(data, "PREVIOUS_VERSION", text, "data"),
        "language_id": field(data, "LANGUAGE_ID", text, "data"),
    }


def _uninstall_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "language_id": field(data, "LANGUAGE_ID", text, "data"),
        "clean": field(data, "CLEAN", flag, "data"),
    }


_Fields = Callable[[Mapping[str, Any]], dict[str, Any]]
_PARSERS: Final[dict[str, tuple[type[BitrixEvent], _Fields]]] = {
    BotMessageEvent.NAME: (BotMessageEvent, _message_fields),
    BotJoinChatEvent.NAME: (BotJoinChatEvent, _join_fields),
    BotDeleteEvent.NAME: (BotDeleteEvent, _delete_fields),
    AppInstallEvent.NAME: (AppInstallEvent, _install_fields),
    AppUpdateEvent.NAME: (AppUpdateEvent, _update_fields),
    AppUninstallEvent.NAME: (AppUninstallEvent, _uninstall_fields),
    # The on-app-uninstall page's example spells it ONAPPSUNINSTALL; accept both.
    "ONAPPSUNINSTALL": (AppUninstallEvent, _uninstall_fields),
}


def event_class(name: str) -> type[BitrixEvent]:
    """The class an event code parses into (:class:`RawEvent` for codes without one)."""
    entry = _PARSERS.get(name.upper())
    return RawEvent if entry is None else entry[0]


def parse_event(form: FormData, auth: EventAuth) -> BitrixEvent:
    """Build the typed event from a post (the raw body, or a parsed mapping) and its auth.

    A raw body is read as the portal's PHP form (``data[PARAMS][MESSAGE]=...``), with
    the event endpoint's default limits; a mapping is taken as already parsed.

    Raises ``ValueError`` naming the wire key when the post is not an event
    (no ``event``) or a typed field does not hold what the docs say it holds.
    """
    form = as_form(form, "form")
    name = field(form, "event", text, "form")
    if name is None:
        msg = "the post has no 'event' field: not a Bitrix24 event"
        raise ValueError(msg)
    name = name.upper()
    data = field(form, "data", mapping, "form")
    common: dict[str, Any] = {
        "event": name,
        "event_handler_id": field(form, "event_handler_id", integer, "form"),
        "ts": field(form, "ts", timestamp, "form"),
        "auth": auth,
        "data": data,
    }
    entry = _PARSERS.get(name)
    if entry is None:
        return RawEvent(**common)
    cls, fields = entry
    return cls(**common, **fields(data))
