"""``imbot.v2`` webhook posts at the event endpoint: which portal, which tokens, which event.

A v2 post carries two ``auth`` blocks (EN ``api-reference/chat-bots/chat-bots-v2/
imbot.v2/events/events.md``, "Webhook Notification Structure"):

- the **top-level** ``auth`` (``domain``, ``application_token``, often ``member_id``
  and the endpoints): the proof, checked like every classic event's;
- ``data[bot][auth]``: the bot's OAuth pair for calling back. Never a proof: its
  ``application_token`` is ignored.

When the top-level block names no ``member_id``, the portal is looked up by the
bot's ``member_id`` (:func:`with_bot_member`); the top-level ``application_token``
must still match the one stored (or pinned) for that portal, so naming another
portal there gains nothing. Once the post is verified, the bot's pair must name only
trusted URLs (https to a public host, as the classic path requires of a bot's
tokens: **403** otherwise), and (:func:`keep_bot_pair`) it replaces the portal's
stored pair only when it is the same user's, newer, carries a refresh token and names
one of ``oauth_servers``; else it stays on ``event.bot_auth`` for the handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .._auth import EventAuth
from .._errors import ModelDecodeError
from .._events._decode import decode_event_post
from .._events._types import V2Event
from ._guard import RefusedError, check_urls, cut
from ._portals import Portals

__all__ = ["check_bot_auth", "decode_post", "keep_bot_pair", "with_bot_member"]

logger: Final = logging.getLogger("bitrix_dialog")


def _bot_auth_block(form: Mapping[str, Any]) -> Mapping[str, Any]:
    data = form.get("data")
    bot = data.get("bot") if isinstance(data, Mapping) else None
    block = bot.get("auth") if isinstance(bot, Mapping) else None
    return block if isinstance(block, Mapping) else {}


def with_bot_member(auth: EventAuth, form: Mapping[str, Any]) -> EventAuth:
    """``auth`` (the top-level block), naming the bot's ``member_id`` if it names none."""
    if auth.member_id:
        return auth
    member_id = _bot_auth_block(form).get("member_id")
    if not isinstance(member_id, str) or not member_id:
        return auth
    return attrs.evolve(auth, member_id=member_id)


def decode_post(form: Mapping[str, Any], clock: Callable[[], float]) -> V2Event:
    """The verified post as its typed event; a field that does not fit: **400**, named.
    ``clock`` dates the bot's pair (the clock given to ``setup``)."""
    try:
        return decode_event_post(form, clock=clock)
    except ModelDecodeError as exc:
        # Verified by now: the sender is the portal, so it hears what was wrong.
        reason = f"malformed event: {cut(str(exc))}"
        raise RefusedError(400, reason, reason) from None


def check_bot_auth(event: V2Event, *, allow_loopback: bool) -> None:
    """The bot's tokens may name only trusted URLs (**403**), like a classic bot's."""
    if event.bot_auth is not None:
        check_urls(event.bot_auth, allow_loopback=allow_loopback, where="the bot's auth")


async def keep_bot_pair(portals: Portals, event: V2Event, auth: EventAuth) -> None:
    """Offer the bot's pair of a verified post to the store (see the module docs)."""
    bot_auth = event.bot_auth
    token = None if bot_auth is None else bot_auth.token
    if token is None:
        return
    if token.member_id != auth.member_id:
        logger.info(
            "Bitrix24 event %s: the bot's pair names another portal; not stored",
            event.type[:64],
        )
        return
    if await portals.offer_pair(token):
        logger.info(
            "Bitrix24 event %s: the bot's newer pair of member %r was stored",
            event.type[:64],
            token.member_id[:64],
        )
