"""A fake portal served from its own process, so client-side costs are measured alone.

    with served_portal(chats=1) as (webhook_url, dialog_ids): ...

The child prints its webhook URL on stdout once listening and serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bitrix_dialog.testing import FakePortal


async def _serve(chats: int) -> None:
    portal = FakePortal()
    portal.record_calls = False
    ids = [portal.add_chat(name=f"Chat {n}").dialog_id for n in range(chats)]
    async with portal.serve() as base_url:
        print(json.dumps({"url": portal.webhook_url(base_url), "ids": ids}), flush=True)
        await asyncio.Event().wait()


@contextmanager
def served_portal(chats: int = 1) -> Iterator[tuple[str, list[str]]]:
    """Start the child, yield (webhook URL, dialog ids), kill it afterwards."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._server", str(chats)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        info = json.loads(line)
        yield info["url"], info["ids"]
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
