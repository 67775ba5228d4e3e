"""Reading ``imbot.v2`` events: an ``Event.get`` item or a webhook post -> a typed event.

One function per way in, one path underneath: each field of the event's class is read
from ``data`` under its camelCase name through the converter that reads ``Dialog`` (so
``chat`` is exactly what ``imbot.v2.Chat.get`` gives), with the hooks that already accept
the form posts' strings (``"1"``/``"0"``, ``""`` for null). The bot's ``auth`` block is
taken out of ``data`` before anything is kept, so its tokens live only in ``bot_auth``.

    event = decode_event({"eventId": 1001, "type": "ONIMBOTV2JOINCHAT", "data": {...}})
    event = decode_event_post(parse_query(body))   # a webhook post, already parsed
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import Any, Final, Union, get_args, get_origin

import attrs

from .._auth import EventAuth
from .._decode._converter import StructureError, structure
from .._decode._normalize import WireError, optional_datetime, optional_int
from .._errors import ModelDecodeError
from .._models import Dialog, V2Bot, V2Command, V2Message, V2User
from ._types import EVENT_CLASSES, V2Event

__all__ = ["decode_event", "decode_event_data", "decode_event_post", "raw_event"]

# Fields every event has that do not come from ``data``'s own keys by name.
_ENVELOPE: Final = frozenset({"type", "event_id", "date", "data", "bot_auth"})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_MODELS: Final = frozenset({Dialog, V2Bot, V2Command, V2Message, V2User})


def _target(kind: Any) -> Any:
    """The model a ``Model | None`` field holds (read in camelCase), else the type itself."""
    if get_origin(kind) in (Union, UnionType):
        args = [arg for arg in get_args(kind) if arg is not NoneType]
        if len(args) == 1 and args[0] in _MODELS:
            return args[0]
    return kind


def _fields(cls: type[V2Event]) -> tuple[tuple[str, str, Any], ...]:
    attrs.resolve_types(cls)
    return tuple(
        (field.name, _camel(field.name), _target(field.type))
        for field in attrs.fields(cls)
        if field.name not in _ENVELOPE
    )


def _empty(value: object) -> bool:
    """What a post leaves of a ``null`` or empty object: nothing, ``""``, ``{}`` or ``[]``."""
    return value is None or (type(value) in (str, dict, list) and not value)


_FIELDS: Final = {cls: _fields(cls) for cls in {*EVENT_CLASSES.values(), V2Event}}


def _error(kind: str, path: str, reason: str, payload: object) -> ModelDecodeError:
    where = f" at {path}" if path else ""
    return ModelDecodeError(
        f"the {kind} event does not fit its type{where}: {reason}",
        path=path,
        payload=payload,
    )


def decode_event_data(
    kind: str,
    data: Mapping[str, Any],
    *,
    event_id: int | None = None,
    date: Any = None,
    clock: Callable[[], float] = time.time,
) -> V2Event:
    """``data`` of an event of type ``kind`` as its class (:class:`V2Event` if unknown).

    ``clock`` (Unix time) dates the bot's pair in ``data.bot.auth``: its ``expires_in``
    counts from now. Raises :class:`~bitrix_dialog.ModelDecodeError` naming the failing field's path
    (``data.chat.id``) when a documented field does not fit.
    """
    kind = kind.upper()
    if not isinstance(data, Mapping):
        raise _error(kind, "data", f"expected an object, got {type(data).__name__}", data)
    cls = EVENT_CLASSES.get(kind, V2Event)
    kept, bot_auth = _without_bot_auth(data, clock)
    values: dict[str, Any] = {}
    for name, key, kind_of in _FIELDS[cls]:
        if key not in kept:
            continue
        value = kept[key]
        if kind_of in _MODELS and _empty(value):
            continue  # the field's default, None
        try:
            values[name] = structure(kind_of, value, style="camel")
        except StructureError as failure:
            path = ".".join(part for part in ("data", key, failure.path) if part)
            raise _error(kind, path, failure.reason, data) from None
    try:
        when = optional_datetime(date)
    except WireError as failure:
        raise _error(kind, "date", str(failure), data) from None
    return cls(type=kind, event_id=event_id, date=when, data=kept, bot_auth=bot_auth, **values)


def _without_bot_auth(
    data: Mapping[str, Any], clock: Callable[[], float] = time.time
) -> tuple[dict[str, Any], EventAuth | None]:
    """``data`` without ``bot.auth``, and that block read as :class:`EventAuth`."""
    kept = dict(data)
    bot = kept.get("bot")
    if not isinstance(bot, Mapping) or "auth" not in bot:
        return kept, None
    bot = dict(bot)
    block = bot.pop("auth")
    kept["bot"] = bot
    if not isinstance(block, Mapping) or not block:
        return kept, None
    try:
        return kept, EventAuth.from_auth_block(block, clock=clock)
    except (TypeError, ValueError):  # tokens that do not parse are not kept, nor shown
        return kept, None


def decode_event(item: Mapping[str, Any]) -> V2Event:
    """One item of ``Event.get``'s ``events``: ``eventId``, ``type``, ``date``, ``data``."""
    if not isinstance(item, Mapping):
        raise _error("?", "", f"expected an object, got {type(item).__name__}", item)
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise _error("?", "type", "missing or not a string", item)
    try:
        event_id = optional_int(item.get("eventId"))
    except WireError as failure:
        raise _error(kind, "eventId", str(failure), item) from None
    data = item.get("data")
    return decode_event_data(
        kind, {} if data is None else data, event_id=event_id, date=item.get("date")
    )


def raw_event(item: object) -> V2Event:
    """An ``Event.get`` item as a plain :class:`V2Event`, whatever it holds: its ``type``
    (``"?"`` if none), ``eventId`` if it is a number, and ``data`` without the bot's
    ``auth`` block. What an item that does not fit its type is delivered as."""
    if not isinstance(item, Mapping):
        return V2Event(type="?", data={"item": item})
    kind = item.get("type")
    try:
        event_id = optional_int(item.get("eventId"))
    except WireError:
        event_id = None
    try:
        date = optional_datetime(item.get("date"))
    except WireError:
        date = None
    data = item.get("data")
    kept, bot_auth = _without_bot_auth(data) if isinstance(data, Mapping) else ({}, None)
    return V2Event(
        type=kind.upper() if isinstance(kind, str) and kind else "?",
        event_id=event_id,
        date=date,
        data=kept,
        bot_auth=bot_auth,
    )


def decode_event_post(
    form: Mapping[str, Any], *, clock: Callable[[], float] = time.time
) -> V2Event:
    """A webhook-mode post, parsed from its PHP form (``event``, ``data[...]``, ``ts``, ``auth``).

    The post's own ``auth`` (the one to verify) is not read here: check it first.
    ``clock`` dates the bot's pair (see :func:`decode_event_data`).
    """
    kind = form.get("event")
    if not isinstance(kind, str) or not kind:
        raise _error("?", "event", "missing or not a string", None)
    data = form.get("data")
    if data is None or data == "":
        data = {}
    return decode_event_data(kind, data, clock=clock)
