"""Overhead: one ``im.dialog.get`` through the SDK vs a bare aiohttp POST to the same server.

Both run sequentially against the fake portal served on 127.0.0.1 by another
process (so the server's own cost does not dilute the client's), interleaved in
rounds so that machine noise hits both alike. Goal: at most 1.15x.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from bitrix_dialog import Client, LeakyBucket

from ._server import served_portal
from ._table import Row

CALLS = 3000
ROUNDS = 6
GOAL = 1.15


async def _measure(calls: int) -> tuple[float, float]:
    with served_portal() as (url, ids):
        params = {"DIALOG_ID": ids[0]}
        sdk_total = bare_total = 0.0
        # A bucket that never fills: the limiter's bookkeeping is measured, not its waits.
        unmetered = LeakyBucket(1_000_000, 1_000_000.0)
        async with aiohttp.ClientSession() as session, Client(url, limiter=unmetered) as client:
            body = json.dumps(params).encode()
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            target = url + "im.dialog.get"
            # warm both paths (connections, caches)
            for _ in range(50):
                await client.call("im.dialog.get", params)
                async with session.post(target, data=body, headers=headers) as response:
                    json.loads(await response.read())
            per_round = calls // ROUNDS
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for _ in range(per_round):
                    async with session.post(target, data=body, headers=headers) as response:
                        json.loads(await response.read())
                bare_total += time.perf_counter() - started
                started = time.perf_counter()
                for _ in range(per_round):
                    await client.call("im.dialog.get", params)
                sdk_total += time.perf_counter() - started
    return sdk_total / calls, bare_total / calls


def run(*, quick: bool = False) -> list[Row]:
    calls = 600 if quick else CALLS
    sdk, bare = asyncio.run(_measure(calls))
    return [
        Row(
            benchmark="overhead",
            case=f"im.dialog.get x{calls} sequential",
            value=sdk * 1e6,
            baseline=bare * 1e6,
            unit="us/call",
            goal=GOAL,
            note="baseline: bare aiohttp POST + json.loads",
        )
    ]
