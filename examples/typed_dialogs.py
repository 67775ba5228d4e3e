"""The typed dialog methods against the embedded fake portal, in two generations.

    python examples/typed_dialogs.py

The same code reads a 2026 "rich" portal and a flat 2017 one: fields the older portal
does not send are simply ``None``.
"""

from __future__ import annotations

import asyncio
import json

from bitrix_dialog import Client, DialogId, dialog_to_json
from bitrix_dialog.testing import FakePortal, PayloadStyle


async def show(style: PayloadStyle) -> None:
    portal = FakePortal(payload_style=style)
    team = portal.add_chat(name="Team", members=frozenset({1, 7}), message_count=4)
    portal.add_openline_chat("livechat|1|1363|203", session_ids=(1743,), operator_id=1)
    portal.add_bot(456, token="my_bot_token", chats=(team.id,))
    deal = portal.add_chat(name="Deal 1663", entity_type="CRM", entity_id="DEAL|1663")

    async with Client(
        portal.webhook_url(), transport=portal.transport(), bot_id=456, bot_token="my_bot_token"
    ) as client:
        chat = await client.im.dialog.get(DialogId.chat(team.id))
        same = await client.imbot.dialog.get(team.dialog_id)
        line = await client.imopenlines.dialog.get(user_code="imol|livechat|1|1363|203")
        bot_view = await client.imbot.v2.chat.get(team.dialog_id)
        deal_chat_id = await client.im.chat.get(entity_type="CRM", entity_id="DEAL|1663")

    print(f"[{style}] {chat.name!r} owner={chat.owner} type={chat.type} same={chat == same}")
    if chat.restrictions is not None:  # only rich portals say what is restricted
        print(f"[{style}]   members may post: {chat.restrictions.send}")
    else:
        print(f"[{style}]   this portal does not send restrictions")
    print(f"[{style}]   open line {line.entity_id} operators={line.manager_ids}")
    print(f"[{style}]   the bot sees {bot_view.name!r} as {bot_view.role}")
    print(f"[{style}]   the chat of deal 1663 is chat{deal_chat_id} ({deal_chat_id == deal.id})")
    print(f"[{style}]   as JSON: {json.dumps(dialog_to_json(chat))[:72]}...")


async def main() -> None:
    for style in ("rich", "legacy"):
        await show(style)


if __name__ == "__main__":
    asyncio.run(main())
