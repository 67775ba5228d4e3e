"""``imbot.v2.Event.get``: the events of a fetch-mode bot, as a typed :class:`EventPage`.

EN ``api-reference/chat-bots/chat-bots-v2/imbot.v2/events/event-get.md``:

- ``botId`` (required), ``botToken`` (webhook auth only; the token given at registration);
- ``offset`` confirms every event whose id is below it; not passed on the first call;
- ``limit`` 1-1000, the portal's default 100; ``withUserEvents`` adds the ``ONIMV2*``
  events of the calling user (needs the ``im`` scope and ``im.v2.Event.subscribe``);
- the answer is ``{"events": [...], "nextOffset", "hasMore"}``;
- only the app that registered the bot may read its events: ``BOT_OWNERSHIP_ERROR``
  otherwise; ``BOT_NOT_FOUND``, ``SCOPE_ERROR``, ``USER_NOT_SUBSCRIBED``,
  ``AUTH_ERROR`` are final too (typed errors, never retried).
"""

from __future__ import annotations

from typing import Final, ParamSpec

import attrs

from .._events._page import EventPage, decode_event_page
from . import _checks as check
from ._spec import MethodSpec, Params

__all__ = ["IMBOT_V2_EVENT_GET", "MAX_EVENT_LIMIT", "v2_event_get"]

P = ParamSpec("P")

MAX_EVENT_LIMIT: Final = 1000
"""The most events one ``imbot.v2.Event.get`` call may ask for."""


def event_limit(value: object, parameter: str = "limit") -> int:
    """A page size: an ``int`` from 1 to 1000."""
    limit = check.positive_int(value, parameter)
    if limit > MAX_EVENT_LIMIT:
        msg = f"{parameter} must be at most {MAX_EVENT_LIMIT} (imbot.v2.Event.get), got {limit}"
        raise ValueError(msg)
    return limit


def event_offset(value: object, parameter: str = "offset") -> int:
    """An offset: an ``int`` of 0 or more (every event below it is confirmed)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{parameter} must be an int, not {type(value).__name__}"
        raise TypeError(msg)
    if value < 0:
        msg = f"{parameter} must be 0 or more, got {value}"
        raise ValueError(msg)
    return value


def v2_event_get(
    *,
    bot_id: int | None = None,
    bot_token: str | None = None,
    offset: int | None = None,
    limit: int | None = None,
    with_user_events: bool = False,
) -> Params:
    """The next events of the fetch-mode bot ``bot_id``, confirming every event below
    ``offset`` (leave it out on the very first call). ``limit``: 1-1000 (the portal's
    default is 100). ``with_user_events`` adds the calling user's ``ONIMV2*`` events.
    ``bot_token`` is needed when calling through a webhook.

    ``bot_id``/``bot_token`` default to the ones given to the client.
    """
    if bot_id is None:
        msg = "imbot.v2.Event.get needs bot_id (pass it to the call or to Client(bot_id=...))"
        raise ValueError(msg)
    params: Params = {"botId": check.bot_id(bot_id)}
    if bot_token is not None:
        params["botToken"] = check.bot_token(bot_token)
    if offset is not None:
        params["offset"] = event_offset(offset)
    if limit is not None:
        params["limit"] = event_limit(limit)
    if not isinstance(with_user_events, bool):
        msg = f"with_user_events must be a bool, not {type(with_user_events).__name__}"
        raise TypeError(msg)
    if with_user_events:
        params["withUserEvents"] = True
    return params


@attrs.frozen(kw_only=True)
class _PageSpec(MethodSpec[P, EventPage]):
    """A spec whose answer is a page of events rather than one model."""

    def decode(self, result: object, body: bytes | None = None) -> EventPage:
        return decode_event_page(result, body)


IMBOT_V2_EVENT_GET: Final = _PageSpec(
    name="imbot.v2.Event.get",
    build=v2_event_get,
    result=EventPage,
    style="camel",
    acts_as_bot=True,
)
