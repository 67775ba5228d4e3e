"""``imbot.v2`` events the two ways a user gets them, for tests that compare the modes.

- :func:`fetch_event`: queued at the fake portal and fetched by a client with
  ``client.imbot.v2.event.get()`` (fetch mode);
- :func:`post_event`: posted by the fake portal to the aiohttp event endpoint and handed
  to the fallback handler (webhook mode), after the app's install post.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bitrix_dialog import Client, MemoryTokenStore, V2Event
from bitrix_dialog.aiohttp import BitrixEvents
from bitrix_dialog.testing import FakePortal

from .aiohttp_kit import OK, installed, oauth_app, post

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "v2_events"
BOT = 456  # the bot of the documented examples
TOKEN = "v2-kit-bot-token"


def example(path: pathlib.Path) -> tuple[str, dict[str, Any]]:
    """A documented example's ``type`` and ``data``."""
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded["type"], loaded["data"]


def kit_portal() -> FakePortal:
    """A portal with the examples' bot (456) in their chat (5)."""
    portal = FakePortal()
    portal.add_chat(5, name="Support Chat", members=frozenset({1, BOT}))
    portal.add_bot(BOT, token=TOKEN, owner_user_id=1)
    return portal


async def fetch_event(
    kind: str, data: Mapping[str, Any], portal: FakePortal | None = None
) -> V2Event:
    """``kind`` with ``data`` as ``client.imbot.v2.event.get()`` delivers it."""
    portal = portal or kit_portal()
    portal.queue_event(BOT, kind, data)
    async with Client(
        portal.webhook_url(), transport=portal.transport(), bot_id=BOT, bot_token=TOKEN
    ) as client:
        page = await client.imbot.v2.event.get()
    [event] = page.events
    return event


async def post_event(
    body: Callable[[FakePortal], bytes], portal: FakePortal | None = None
) -> V2Event:
    """The event the endpoint's handler gets for the post ``body(portal)`` builds
    (``portal.events.v2(kind, data)``, a post made after the install)."""
    portal = portal or kit_portal()
    fake_app = portal.register_app()
    seen: list[V2Event] = []
    events = BitrixEvents()

    @events.fallback
    async def record(event: object, client: Client, request: web.Request | None) -> None:
        if isinstance(event, V2Event):  # not the install
            seen.append(event)

    app = oauth_app(portal, fake_app, events, store=MemoryTokenStore())
    async with installed(app, portal) as client:
        assert await post(client, body(portal)) == OK
        await events.join()
    [event] = seen
    return event
