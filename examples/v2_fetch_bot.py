"""A fetch-mode echo bot: no public URL needed, it polls ``imbot.v2.Event.get``.

    python examples/v2_fetch_bot.py                 # against an embedded fake portal

With no settings it starts an embedded fake portal with a chat and a bot registered
in fetch mode, has a user write three messages to the bot, and runs the bot: an
``EventPoller`` receives each ``ONIMBOTV2MESSAGEADD`` as a typed ``V2MessageAddEvent``
and answers with ``imbot.v2.Chat.Message.send``; it prints what the portal received,
then stops.

On a real portal, register the bot with ``imbot.v2.Bot.register`` and
``fields.eventMode = "fetch"`` (EN ``api-reference/chat-bots/chat-bots-v2/``), then run

    BITRIX_WEBHOOK=https://YOUR.bitrix24.com/rest/1/CODE/ BITRIX_BOT_ID=456 \\
    BITRIX_BOT_TOKEN=... python examples/v2_fetch_bot.py --offsets offsets.json

from the same user's webhook that registered the bot (only the registering app may read
its events). It polls at once while events keep coming and every 5-30 s while none do,
confirms each event only after the handler answered it, and keeps the offset in
``offsets.json`` so a restart goes on where it stopped (for several workers use
``bitrix_dialog.redis.RedisOffsetStore``: exactly one of them polls). Ctrl+C stops it
cleanly. The event carries the chat (``event.chat``, a ``Dialog``), so the answer needs
no lookup.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Sequence

from bitrix_dialog import Client, FileOffsetStore, MemoryOffsetStore, V2MessageAddEvent
from bitrix_dialog.abc import OffsetStore
from bitrix_dialog.aiohttp import EventPoller
from bitrix_dialog.testing import FakePortal

SEND = "imbot.v2.Chat.Message.send"


def make_poller(bot_id: int, bot_token: str | None, offsets: OffsetStore) -> EventPoller:
    """The bot: one handler, for new messages."""
    poller = EventPoller(bot_id=bot_id, bot_token=bot_token, offsets=offsets)

    @poller.on(V2MessageAddEvent)
    async def echo(event: V2MessageAddEvent, client: Client) -> None:
        if event.message is None or event.chat is None or event.bot is None:
            return
        params = {
            "botId": event.bot.id,
            "dialogId": event.chat.dialog_id,
            "fields": {"message": f'"{event.chat.name}" heard you: {event.message.text}'},
        }
        if bot_token is not None:
            params["botToken"] = bot_token  # webhook calls name the bot's token
        await client.call(SEND, params)

    return poller


async def demo(count: int = 3) -> None:
    """Run the bot against an embedded fake portal until it answered ``count`` messages."""
    portal = FakePortal()
    chat = portal.add_chat(name="Release planning", members=frozenset({1, 7, 456}))
    chat.user_names[7] = "Anna Petrova"
    portal.add_bot(456, token="demo-bot-token", chats=(chat.id,), name="Echo")
    texts = ["Hello, bot!", "Are you there?", "Bye"][:count]
    for text in texts:
        portal.queue_message(456, chat.id, text, author_id=7)
        print(f'Anna Petrova writes in "{chat.name}": {text}')
    poller = make_poller(456, "demo-bot-token", MemoryOffsetStore())
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        task = asyncio.create_task(poller.run(client))
        while len(portal.messages) < len(texts):  # noqa: ASYNC110 - the portal's state
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    for message in portal.messages:
        print(f"the bot answers in {message.dialog_id}: {message.text}")


async def serve(webhook: str, bot_id: int, bot_token: str | None, offsets: OffsetStore) -> None:
    """Poll a real portal until cancelled."""
    async with Client(webhook) as client:
        await make_poller(bot_id, bot_token, offsets).run(client)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offsets", help="a JSON file keeping the offset between runs")
    args = parser.parse_args(argv)
    webhook = os.environ.get("BITRIX_WEBHOOK")
    if not webhook:
        asyncio.run(demo())
        return
    store: OffsetStore = FileOffsetStore(args.offsets) if args.offsets else MemoryOffsetStore()
    bot_id = int(os.environ["BITRIX_BOT_ID"])
    token = os.environ.get("BITRIX_BOT_TOKEN")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(webhook, bot_id, token, store))


if __name__ == "__main__":
    main()
