"""The service benchmark's workloads: the burst's ids, the arrivals of the sustained
run, the two ways to look them up, and what 1,000 awaits of nothing cost.

Shared by its virtual-time, in-process and socket cases (``bench_service``).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable

from bitrix_dialog import CacheEvent, Client, Dialog, Hooks, RequestEvent

__all__ = [
    "ARRIVALS",
    "AWAITS",
    "CAPACITY",
    "DRAIN",
    "POOL",
    "RATE",
    "SEED",
    "SUSTAINED_POOL",
    "Count",
    "arrivals",
    "awaits",
    "bare_awaits",
    "bulk",
    "burst_ids",
    "p99",
    "sustained",
    "warm",
]

CAPACITY, DRAIN = 50, 2.0
AWAITS, POOL, SEED = 1_000, 740, 13
ARRIVALS, RATE, SUSTAINED_POOL = 2_000, 100.0, 1_500


def burst_ids(ids: list[str]) -> list[str]:
    rng = random.Random(SEED)
    pool = ids[:POOL]
    return [rng.choice(pool) for _ in range(AWAITS)]


def arrivals(ids: list[str]) -> list[tuple[float, str]]:
    rng = random.Random(SEED)
    moment, plan = 0.0, []
    pool = ids[:SUSTAINED_POOL]
    for _ in range(ARRIVALS):
        moment += rng.expovariate(RATE)
        plan.append((moment, rng.choice(pool)))
    return plan


class Count:
    """The client's own view of its requests: how many, and how many 503s."""

    def __init__(self) -> None:
        self.events: list[RequestEvent] = []
        self.lookups: list[CacheEvent] = []
        self.hooks = Hooks(on_request=self.events.append, on_cache=self.lookups.append)

    @property
    def hits(self) -> int:
        return sum(1 for event in self.lookups if event.hit)

    @property
    def requests(self) -> int:
        return len(self.events)

    @property
    def rejected(self) -> int:
        return sum(1 for event in self.events if event.status == 503)


async def awaits(client: Client, ids: list[str]) -> None:
    dialogs = await asyncio.gather(*(client.im.dialog.get(dialog_id) for dialog_id in ids))
    assert all(isinstance(dialog, Dialog) for dialog in dialogs)


async def bulk(client: Client, ids: list[str]) -> None:
    results = await client.dialogs.get_all(ids)
    assert all(isinstance(outcome, Dialog) for outcome in results.values())


async def sustained(
    client: Client, plan: list[tuple[float, str]], clock: Callable[[], float]
) -> tuple[list[float], float]:
    """(latencies, seconds from the last arrival to the last answer)."""
    latencies: list[float] = []
    start = clock()

    async def one(at: float, dialog_id: str) -> None:
        await asyncio.sleep(max(at - (clock() - start), 0.0))
        asked = clock()
        assert isinstance(await client.im.dialog.get(dialog_id), Dialog)
        latencies.append(clock() - asked)

    await asyncio.gather(*(one(at, dialog_id) for at, dialog_id in plan))
    return latencies, clock() - start - plan[-1][0]


async def warm(client: Client, ids: list[str], count: Count) -> tuple[int, int, float]:
    """(requests of the cold round, of the warm round, the warm round's seconds)."""
    await awaits(client, ids)
    cold = count.requests
    count.events.clear()
    count.lookups.clear()
    started = time.perf_counter()
    await awaits(client, ids)
    assert count.hits == len(ids), "every await of the warm round is a cache hit"
    return cold, count.requests, time.perf_counter() - started


async def bare_awaits(count: int) -> float:
    """Seconds ``count`` gathered awaits take with nothing behind them: each a coroutine
    awaiting a future of its own, all resolved at once. A burst of single awaits costs
    at least this more than one ``get_many`` call, whatever the SDK does."""
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[None]] = []

    def resolve() -> None:
        for future in futures:
            future.set_result(None)

    async def one() -> None:
        future: asyncio.Future[None] = loop.create_future()
        futures.append(future)
        if len(futures) == count:
            loop.call_soon(resolve)
        await future

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
