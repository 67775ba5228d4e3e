"""An echo bot: answers every message with the name and type of the dialog it came from.

    python examples/echo_bot.py                 # against an embedded fake portal
    python examples/echo_bot.py --once          # the same, exits after one round

With no settings it starts an embedded fake portal, serves the bot on
http://127.0.0.1:8080/bitrix/events, installs itself the way Bitrix24 would (an
``ONAPPINSTALL`` post), has a user write to the bot (an ``ONIMBOTMESSAGEADD`` post
to the URL the bot registered) and prints the answer the portal received; then it
keeps serving until Ctrl+C.

On a real portal: add a local app with "Uses only API" and the ``imbot`` scope, and
give ``https://YOUR.HOST/bitrix/events`` as its handler path and "Path for initial
installation" (Bitrix24 posts the install with the installing user's tokens there;
EN ``settings/app-installation/local-apps/installation-callback.md``; it must reach
the URL over https). Run

    BITRIX_CLIENT_ID=local.xxx BITRIX_CLIENT_SECRET=... \\
    BITRIX_PUBLIC_URL=https://YOUR.HOST python examples/echo_bot.py --port 8080

with the app's credentials, and (re)install the app once it runs, so that its
``ONAPPINSTALL`` reaches the server. The bot registers itself then; write to it.
Tokens are kept in memory here: pass a persistent ``TokenStore`` in production.

Each message costs one dialog lookup and one answer. The lookup is coalesced (see
``docs/coalescing.md``): the app keeps one client per portal, so when messages arrive
faster than the portal's bucket drains (a Standard portal: 2 requests a second), the
lookups of every message that came in meanwhile ride in one ``batch`` request, up to
50, and messages in the same chat share one lookup. An idle bot's lookup goes out at
once as a plain ``imbot.dialog.get``. The answers (``imbot.message.add``, a write) are
never coalesced. ``--no-coalesce`` (``create_app(coalesce=False)``) sends every lookup
as its own request. ``--cache-ttl 60`` (``create_app(cache=DialogCache(ttl=60))``) keeps
each dialog for a minute (see ``docs/cache.md``): a chat's next messages cost no lookup
at all, and the bot joining a chat drops what was kept of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

import aiohttp
from aiohttp import web

from bitrix_dialog import Client, DialogCache
from bitrix_dialog.abc import Auth, TokenStore, Transport
from bitrix_dialog.aiohttp import AppInstallEvent, BitrixEvents, BotMessageEvent, setup
from bitrix_dialog.testing import FakePortal

EVENTS_PATH = "/bitrix/events"
BOT_CODE = "echo_bot"
PUBLIC_URL = web.AppKey("public_url", str)

events = BitrixEvents()


@events.on(AppInstallEvent)
async def register_bot(event: AppInstallEvent, client: Client, request: web.Request) -> None:
    """Register the bot; Bitrix24 then posts its messages to this app's endpoint."""
    response = await client.call(
        "imbot.register",
        {
            "CODE": BOT_CODE,
            "TYPE": "B",
            "EVENT_HANDLER": public_url(request) + EVENTS_PATH,
            "PROPERTIES": {"NAME": "Echo", "WORK_POSITION": "Tells you where you are"},
        },
    )
    print(f"installed on {event.auth.domain}: bot {response.result} registered")


def public_url(request: web.Request) -> str:
    """Where Bitrix24 reaches this app: configured, else the address the install came to."""
    return request.config_dict[PUBLIC_URL] or str(request.url.origin())


@events.on(BotMessageEvent)
async def echo(event: BotMessageEvent, client: Client, request: web.Request) -> None:
    """Look the dialog up and answer with its name and type.

    Under load this lookup shares a ``batch`` request with the other messages' lookups
    (coalescing); alone it is one plain ``imbot.dialog.get``.
    """
    dialog = await client.imbot.dialog.get(event.dialog_id)
    await client.call(
        "imbot.message.add",
        {
            "BOT_ID": event.bot_id,
            "DIALOG_ID": event.dialog_id,
            "MESSAGE": f'This is "{dialog.name}", a dialog of type {dialog.type}. '
            f"You wrote: {event.message}",
        },
    )


def create_app(
    *,
    client_id: str,
    client_secret: str,
    public_url: str = "",
    store: TokenStore | None = None,
    transport: Transport | None = None,
    coalesce: bool = True,
    cache: DialogCache | None = None,
) -> web.Application:
    """The bot's aiohttp app; ``transport=portal.transport()`` runs it against a fake portal.

    ``public_url`` is the https origin Bitrix24 posts to (a proxy's address); empty,
    the bot registers the address the install post came to. ``coalesce=False`` makes
    every portal's client send each dialog lookup as its own request; ``cache`` is the
    dialog cache every portal's client shares (entries are kept apart per portal).
    """

    def make_client(auth: Auth, transport: Transport) -> Client:
        return Client(auth, transport=transport, coalesce=coalesce, cache=cache)

    app = web.Application()
    app[PUBLIC_URL] = public_url.rstrip("/")
    setup(
        app,
        client_id=client_id,
        client_secret=client_secret,
        store=store,
        transport=transport,
        client_factory=make_client,
    )
    events.add_route(app, EVENTS_PATH)
    return app


async def demo(host: str, port: int, *, once: bool) -> None:
    """Serve the bot against an embedded fake portal and play one install and one message."""
    portal = FakePortal("demo.bitrix24.example")
    app_credentials = portal.register_app()
    chat = portal.add_chat(name="Release planning", user_names={7: "Anna Petrova"})
    app = create_app(
        client_id=app_credentials.client_id,
        client_secret=app_credentials.client_secret,
        transport=portal.transport(),
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # the bound socket tells the port the OS chose for --port 0
    assert isinstance(server, asyncio.base_events.Server)
    public_url = f"http://{host}:{server.sockets[0].getsockname()[1]}"
    print(f"echo bot serving on {public_url}{EVENTS_PATH} (fake portal {portal.domain})")
    try:
        async with aiohttp.ClientSession(headers=portal.events.headers) as http:
            async with http.post(public_url + EVENTS_PATH, data=portal.events.install()) as r:
                r.raise_for_status()
            bot = next(b for b in portal.bots.values() if b.code == BOT_CODE)
            body = portal.events.bot_message(
                bot.id, "Hello, bot!", dialog_id=chat.dialog_id, from_user_id=7
            )
            print(f'Anna Petrova writes in "{chat.name}": Hello, bot!')
            async with http.post(bot.event_handlers["EVENT_MESSAGE_ADD"], data=body) as r:
                r.raise_for_status()
        print(f"the bot answers: {portal.messages[-1].text}")
        if not once:
            print("serving until Ctrl+C")
            await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--once", action="store_true", help="fake portal: exit after the demo")
    parser.add_argument(
        "--no-coalesce", action="store_true", help="send every dialog lookup as its own request"
    )
    parser.add_argument(
        "--cache-ttl",
        type=float,
        default=0.0,
        help="keep each looked-up dialog this many seconds (0: no cache)",
    )
    args = parser.parse_args(argv)
    client_id = os.environ.get("BITRIX_CLIENT_ID")
    if not client_id:
        asyncio.run(demo(args.host, args.port, once=args.once))
        return
    app = create_app(
        client_id=client_id,
        client_secret=os.environ["BITRIX_CLIENT_SECRET"],
        public_url=os.environ["BITRIX_PUBLIC_URL"],
        coalesce=not args.no_coalesce,
        cache=DialogCache(ttl=args.cache_ttl) if args.cache_ttl > 0 else None,
    )
    web.run_app(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
