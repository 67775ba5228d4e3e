"""Look a dialog up through the SDK against the embedded fake portal, twice:
once in memory and once over a real HTTP socket on 127.0.0.1.

    python examples/quickstart.py
"""

from __future__ import annotations

import asyncio

from bitrix_dialog import BitrixError, Client
from bitrix_dialog.testing import FakePortal


async def main() -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Mint chat No.3", owner=2)
    secret = portal.add_chat(name="Board room", members=frozenset({42}))

    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        print(f"in memory: {response.result['name']!r}, owner {response.result['owner']}")

    async with portal.serve() as base_url, Client(portal.webhook_url(base_url)) as client:
        response = await client.call("imbot.dialog.get", {"DIALOG_ID": chat.dialog_id})
        print(f"over {base_url}: {response.result['name']!r}")
        try:
            await client.call("im.dialog.get", {"DIALOG_ID": secret.dialog_id})
        except BitrixError as error:
            print(f"typed error: {type(error).__name__} {error.code} (HTTP {error.status})")


if __name__ == "__main__":
    asyncio.run(main())
