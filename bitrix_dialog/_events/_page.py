"""One answer of ``imbot.v2.Event.get`` as a typed :class:`EventPage`.

    {"events": [{"eventId": 1001, "type": "ONIMBOTV2MESSAGEADD", "date": ..., "data": {...}}],
     "nextOffset": 1002, "hasMore": false}

Each item becomes its typed event (:func:`decode_event`). An item that does not fit its
type is never dropped and never fails the page: it arrives as a plain :class:`V2Event`
with its ``type``, ``eventId`` and ``data`` as received (the bot's tokens taken out), and
a warning names the failing field. Only a page whose envelope is wrong (no ``events``
list, a ``nextOffset`` that is not a number) raises :class:`ModelDecodeError`, since
then nothing can be confirmed safely.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

import attrs

from .._decode._normalize import WireError, optional_bool, optional_int
from .._errors import ModelDecodeError
from ._decode import decode_event, raw_event
from ._types import V2Event

__all__ = ["EventPage", "decode_event_page"]

logger: Final = logging.getLogger("bitrix_dialog")

_METHOD: Final = "imbot.v2.Event.get"


@attrs.frozen(kw_only=True)
class EventPage:
    """One ``imbot.v2.Event.get`` answer: the events, oldest first, and where to go on."""

    events: tuple[V2Event, ...]
    """The events of this page, typed (a raw :class:`V2Event` for one that did not fit)."""
    next_offset: int | None
    """``nextOffset``: pass it as the next call's ``offset`` to confirm this page."""
    has_more: bool
    """``hasMore``: more events are waiting; ask again at once."""


def _fail(path: str, reason: str, payload: object, body: bytes | None) -> ModelDecodeError:
    where = f" at {path}" if path else ""
    return ModelDecodeError(
        f"the result does not fit an event page{where}: {reason}",
        path=path,
        payload=payload,
        method=_METHOD,
        body=body,
    )


def _item(index: int, item: object) -> V2Event:
    try:
        return decode_event(item)  # type: ignore[arg-type]  # checked inside
    except ModelDecodeError as failure:
        event = raw_event(item)
        logger.warning(
            "%s: event %s (%s) at events[%d] does not fit its type (%s); delivered raw",
            _METHOD,
            event.event_id,
            event.type,
            index,
            failure.path or "?",
        )
        return event


def decode_event_page(result: object, body: bytes | None = None) -> EventPage:
    """``result`` of ``imbot.v2.Event.get`` as an :class:`EventPage` (see the module docs)."""
    if not isinstance(result, Mapping):
        raise _fail("", f"expected an object, got {type(result).__name__}", result, body)
    items = result.get("events")
    if items is None or items == {}:
        items = []
    if not isinstance(items, list):
        raise _fail("events", f"expected a list, got {type(items).__name__}", result, body)
    try:
        next_offset = optional_int(result.get("nextOffset"))
    except WireError as failure:
        raise _fail("nextOffset", str(failure), result, body) from None
    try:
        has_more = bool(optional_bool(result.get("hasMore")))
    except WireError as failure:
        raise _fail("hasMore", str(failure), result, body) from None
    events = tuple(_item(index, item) for index, item in enumerate(items))
    return EventPage(events=events, next_offset=next_offset, has_more=has_more)
