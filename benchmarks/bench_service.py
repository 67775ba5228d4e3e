"""Service: many single ``client.im.dialog.get`` awaits at once, as a busy bot makes them.

Two workloads, each on a Standard bucket (50 requests, draining 2 per second), the
SDK's limiter given the same numbers, and fixed seeds:

- **burst**: 1,000 concurrent awaits of ids drawn with repeats from 740 chats (about
  548 distinct). Target: ``ceil(distinct / 50)`` HTTP requests, 0 x 503, and over a
  real 127.0.0.1 socket (the portal in another process) a wall time within 1.05x of
  ``client.dialogs.get_many`` of the same ids, measured in the same run, in paired
  rounds (the median of the per-round ratios), once against a portal answering in 0.3 s
  (as a real one answers a batch) and once against an instant one; beside it, what 1,000
  gathered awaits of nothing (a coroutine and a future each) cost in the same process:
  the least a burst of single awaits adds to one ``get_many`` call, and the ratio of the
  client process's CPU time (steadier than wall time on a loaded machine). Each timed
  run starts after a full garbage collection (else one of the whole heap, 30-180 ms,
  lands in a random round). The same awaits with
  ``Client(coalesce=False)`` are run in virtual time (1,000 requests: the bucket
  needs 475 s for them; over the socket that figure is the bucket's bound, not run).
- **warm cache**: the burst twice through one ``Client(cache=DialogCache())``. Target:
  the second round sends 0 requests (every await a cache hit), in virtual time and
  over the socket.
- **sustained**: 2,000 lookups arriving at 100 a second (Poisson, ids with repeats
  from 1,500 chats). Targets: every one answered, the run ends within a second of the
  last arrival, p99 latency under 1.5 s, about 90 requests in all. In virtual time,
  and (not with ``--quick``) over the socket, where it takes 20 s.

Virtual time (``bitrix_dialog.testing.run_in_virtual_time``) runs the bucket's waits
without sleeping them: its figures are the SDK's decisions (requests, waits), not
the machine's speed.
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bitrix_dialog import CacheEvent, Client, Dialog, DialogCache, Hooks, LeakyBucket, RequestEvent
from bitrix_dialog.testing import BucketBound, FakePortal, VirtualTimeLoop, run_in_virtual_time

from ._server import served_portal
from ._table import Row

CAPACITY, DRAIN = 50, 2.0
AWAITS, POOL, SEED = 1_000, 740, 13
ARRIVALS, RATE, SUSTAINED_POOL = 2_000, 100.0, 1_500
GOAL = 1.05
ROUNDS, QUICK_ROUNDS = 5, 2
PORTAL_LATENCY = 0.3  # seconds a batch answer takes, as a real portal's


def _burst_ids(ids: list[str]) -> list[str]:
    rng = random.Random(SEED)
    pool = ids[:POOL]
    return [rng.choice(pool) for _ in range(AWAITS)]


def _arrivals(ids: list[str]) -> list[tuple[float, str]]:
    rng = random.Random(SEED)
    moment, plan = 0.0, []
    pool = ids[:SUSTAINED_POOL]
    for _ in range(ARRIVALS):
        moment += rng.expovariate(RATE)
        plan.append((moment, rng.choice(pool)))
    return plan


class _Count:
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


async def _awaits(client: Client, ids: list[str]) -> None:
    dialogs = await asyncio.gather(*(client.im.dialog.get(dialog_id) for dialog_id in ids))
    assert all(isinstance(dialog, Dialog) for dialog in dialogs)


async def _bulk(client: Client, ids: list[str]) -> None:
    results = await client.dialogs.get_all(ids)
    assert all(isinstance(outcome, Dialog) for outcome in results.values())


async def _sustained(
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


async def _warm(client: Client, ids: list[str], count: _Count) -> tuple[int, int, float]:
    """(requests of the cold round, of the warm round, the warm round's seconds)."""
    await _awaits(client, ids)
    cold = count.requests
    count.events.clear()
    count.lookups.clear()
    started = time.perf_counter()
    await _awaits(client, ids)
    assert count.hits == len(ids), "every await of the warm round is a cache hit"
    return cold, count.requests, time.perf_counter() - started


async def _bare_awaits(count: int) -> float:
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


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


# ------------------------------------------------------------------ virtual time
def _virtual(run: Callable[[Client], Awaitable[Any]], **options: Any) -> tuple[float, _Count, Any]:
    """(virtual seconds, the client's request count, run's result) against a fresh portal."""

    async def main() -> tuple[float, _Count, Any]:
        options.setdefault("hooks", None)
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=(CAPACITY, DRAIN))
        portal.record_calls = False
        for n in range(SUSTAINED_POOL):
            portal.add_chat(name=f"Chat {n}")
        count = _Count()
        if options["hooks"] is None:
            options["hooks"] = count.hooks
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(CAPACITY, DRAIN),
            **options,
        ) as client:
            started = loop.time()
            result = await run(client)
            return loop.time() - started, count, result

    return run_in_virtual_time(main())


def _virtual_rows() -> list[Row]:
    ids = [f"chat{n}" for n in range(1, SUSTAINED_POOL + 1)]
    burst = _burst_ids(ids)
    distinct = len(set(burst))
    needed = math.ceil(distinct / 50)
    on_time, on, _ = _virtual(lambda client: _awaits(client, burst))
    bulk_time, bulk, _ = _virtual(lambda client: _bulk(client, burst))
    off_time, off, _ = _virtual(lambda client: _awaits(client, burst), coalesce=False)
    warm_count = _Count()
    _, _, (cold, warm, _) = _virtual(
        lambda client: _warm(client, burst, warm_count),
        cache=DialogCache(ttl=600),
        hooks=warm_count.hooks,
    )
    plan = _arrivals(ids)
    sustained_time, count, (latencies, tail) = _virtual(
        lambda client: _sustained(client, plan, asyncio.get_running_loop().time)
    )
    assert len(latencies) == ARRIVALS
    return [
        Row(
            benchmark="service",
            case=f"burst {AWAITS:,} awaits, {distinct} distinct (virtual time)",
            value=on.requests,
            baseline=needed,
            unit="requests",
            goal=1.0,
            note=(
                f"{on.rejected} x 503, {on_time:.2f} s; get_many of the same ids: "
                f"{bulk.requests} requests, {bulk_time:.2f} s; coalescing off: "
                f"{off.requests} requests, {off.rejected} x 503, {off_time:.0f} s"
            ),
        ),
        Row(
            benchmark="service",
            case="burst again with the cache warm: requests (virtual time)",
            value=warm,
            baseline=cold,
            unit="requests",
            goal=0.0,
            note=f"{len(burst):,} awaits, all cache hits; the cold round sent {cold}",
        ),
        Row(
            benchmark="service",
            case=f"sustained {ARRIVALS:,} at {RATE:g}/s: p99 latency (virtual time)",
            value=_p99(latencies),
            baseline=1.5,
            unit="s",
            goal=1.0,
            note=(
                f"{count.requests} requests, {count.rejected} x 503, all {len(latencies)} "
                f"answered; ended {tail:.2f} s after the last arrival (run {sustained_time:.1f} s)"
            ),
        ),
    ]


# ---------------------------------------------------------------------- socket
async def _timed(
    url: str, run: Callable[[Client, list[str]], Awaitable[None]], ids: list[str]
) -> tuple[float, _Count, float]:
    """(wall seconds, the client's requests, the client process's CPU seconds)."""
    count = _Count()
    async with Client(url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})  # open a connection
        count.events.clear()
        # A full collection first, so that neither path pays one of the whole heap for
        # the allocations of what ran before it (30-180 ms here, in 1 round of 3 or so).
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        await run(client, ids)
        return time.perf_counter() - started, count, time.process_time() - cpu


# Each burst run sends 12 requests; the portal's bucket drains them in 6 s.
_REST = 12 / DRAIN + 0.5


async def _burst_row(url: str, ids: list[str], rounds: int, where: str) -> Row:
    """The burst of single awaits against ``get_many`` of the same ids, in paired rounds."""
    burst = _burst_ids(ids)
    distinct = len(set(burst))
    ratios, cpu_ratios, ons, bulks, floors = [], [], [], [], []
    for index in range(rounds):
        order = ("on", "bulk") if index % 2 == 0 else ("bulk", "on")
        timed: dict[str, tuple[float, _Count, float]] = {}
        for name in order:
            await asyncio.sleep(_REST)
            timed[name] = await _timed(url, _awaits if name == "on" else _bulk, burst)
        ratios.append(timed["on"][0] / timed["bulk"][0])
        cpu_ratios.append(timed["on"][2] / timed["bulk"][2])
        floors.append(await _bare_awaits(AWAITS))
        ons.append(timed["on"])
        bulks.append(timed["bulk"])
    bulk_median = statistics.median(run[0] for run in bulks)
    ratio = statistics.median(ratios)
    floor = statistics.median(floors)
    off = BucketBound(requests=AWAITS, capacity=CAPACITY, drain_rate=DRAIN)
    return Row(
        benchmark="service",
        case=f"burst {AWAITS:,} awaits vs get_many, {where} (median of {rounds})",
        value=bulk_median * ratio,
        baseline=bulk_median,
        unit="s",
        goal=GOAL,
        note=(
            f"{max(run[1].requests for run in ons)} requests "
            f"({math.ceil(distinct / 50)} needed), "
            f"{max(run[1].rejected for run in ons)} x 503; get_many "
            f"{max(run[1].requests for run in bulks)} requests; client CPU "
            f"{statistics.median(cpu_ratios):.2f}x get_many's; {AWAITS:,} bare "
            f"awaits alone take {floor * 1000:.1f} ms (get_many plus them: "
            f"{(bulk_median + floor) / bulk_median:.2f}x); coalescing off "
            f"needs {AWAITS} requests, >= {off.minimum:.0f} s by the bucket"
        ),
    )


async def _socket_rows(rounds: int, sustained: bool) -> list[Row]:
    rows = []
    # As a real portal answers a batch of 50 dialogs (a few hundred ms), so that the
    # awaits' own cost is judged against the time a lookup really takes; the instant
    # server below shows that cost bare.
    with served_portal(POOL, bucket=(CAPACITY, DRAIN), latency=PORTAL_LATENCY) as (url, ids):
        rows.append(await _burst_row(url, ids, rounds, f"127.0.0.1, answers {PORTAL_LATENCY} s"))
    with served_portal(SUSTAINED_POOL, bucket=(CAPACITY, DRAIN)) as (url, ids):
        burst = _burst_ids(ids)
        rows.append(await _burst_row(url, ids, rounds, "127.0.0.1, instant answers"))
        await asyncio.sleep(_REST)
        count = _Count()
        async with Client(
            url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks, cache=DialogCache()
        ) as client:
            cold, warm, seconds = await _warm(client, burst, count)
        rows.append(
            Row(
                benchmark="service",
                case="burst again with the cache warm: requests, 127.0.0.1",
                value=warm,
                baseline=cold,
                unit="requests",
                goal=0.0,
                note=(
                    f"{len(burst):,} awaits, all cache hits, in {seconds * 1000:.1f} ms; "
                    f"the cold round sent {cold}"
                ),
            )
        )
        if sustained:
            await asyncio.sleep(_REST)
            plan = _arrivals(ids)
            loop = asyncio.get_running_loop()
            count = _Count()
            async with Client(
                url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks
            ) as client:
                latencies, tail = await _sustained(client, plan, loop.time)
            rows.append(
                Row(
                    benchmark="service",
                    case=f"sustained {ARRIVALS:,} at {RATE:g}/s: p99 latency, 127.0.0.1",
                    value=_p99(latencies),
                    baseline=1.5,
                    unit="s",
                    goal=1.0,
                    note=(
                        f"{count.requests} requests, {count.rejected} x 503, all "
                        f"{len(latencies)} answered; ended {tail:.2f} s after the last arrival"
                    ),
                )
            )
    return rows


def run(*, quick: bool = False) -> list[Row]:
    rows = _virtual_rows()
    rows += asyncio.run(_socket_rows(QUICK_ROUNDS if quick else ROUNDS, sustained=not quick))
    return rows
