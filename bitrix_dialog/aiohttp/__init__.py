"""bitrix_dialog in aiohttp apps: clients that live with the app, and a verified event endpoint.

    from aiohttp import web
    from bitrix_dialog import Client
    from bitrix_dialog.aiohttp import BitrixEvents, BotMessageEvent, setup

    events = BitrixEvents()

    @events.on(BotMessageEvent)
    async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
        dialog = await client.imbot.dialog.get(event.dialog_id)
        await client.call("imbot.message.add", {
            "BOT_ID": event.bot_id, "DIALOG_ID": event.dialog_id, "MESSAGE": dialog.name})

    app = web.Application()
    setup(app, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, store=my_token_store)
    events.add_route(app, "/bitrix/events")

A fetch-mode bot (``imbot.v2``, no public URL) polls instead: ``EventPoller`` runs in
``app.cleanup_ctx`` (or as a plain task) and hands each typed v2 event to its handler.

Import it as ``bitrix_dialog.aiohttp``; the core package does not import it.
"""

from __future__ import annotations

from .._public import publish
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
from ._parse import parse_event
from ._poller import EventPoller, PollHandler, V2Dispatcher
from ._portals import (
    DEFAULT_OAUTH_SERVERS,
    ClientFactory,
    InstallRefusedError,
    PortalNotInstalledError,
    Portals,
)
from ._router import BitrixEvents, EventHandler
from ._setup import CLIENT_KEY, PORTALS_KEY, setup

__all__ = [
    "CLIENT_KEY",
    "DEFAULT_OAUTH_SERVERS",
    "PORTALS_KEY",
    "AppInstallEvent",
    "AppUninstallEvent",
    "AppUpdateEvent",
    "BitrixEvent",
    "BitrixEvents",
    "BotDeleteEvent",
    "BotJoinChatEvent",
    "BotMessageEvent",
    "ClientFactory",
    "EventBot",
    "EventHandler",
    "EventPoller",
    "EventUser",
    "InstallRefusedError",
    "PollHandler",
    "PortalNotInstalledError",
    "Portals",
    "RawEvent",
    "V2Dispatcher",
    "parse_event",
    "setup",
]

publish(globals(), __all__, "bitrix_dialog.aiohttp")
del publish
