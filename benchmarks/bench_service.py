"""Service: many single ``client.im.dialog.get`` awaits at once, as a busy bot makes them.

Two workloads, each on a Standard bucket (50 requests, draining 2 per second), the
SDK's limiter given the same numbers, and fixed seeds:

- **burst**: 1,000 concurrent awaits of ids drawn with repeats from 740 chats (about
  548 distinct). Target: ``ceil(distinct / 50)`` HTTP requests, 0 x 503, and over a
  real 127.0.0.1 socket (the portal in another process) a wall time within 1.05x of
  ``client.dialogs.get_many`` of the same ids, measured in the same run, against
  portals answering in 0.8 s (as a real one answers a batch of 50 lookups; as in
  bench_bulk). Against instant portals too, without a goal: that row is the client's
  own CPU, which no real portal leaves bare. Loopback runs on a shared machine move by
  tens of percent from one moment to the next, so the two are timed in pairs, back to
  back in alternating order (11 pairs of each kind, 2 with ``--quick``), the kinds
  interleaved, and the figure is
  the median of the per-pair ratios (their range and middle half in the note). Three
  portal processes of each kind take turns, each pair on one whose bucket is empty, so
  that the buckets drain while the others serve. Beside it, what 1,000
  gathered awaits of nothing (a coroutine and a future each) cost in the same process:
  the least a burst of single awaits adds to one ``get_many`` call, and the ratio of the
  client process's CPU time (steadier than wall time on a loaded machine). Each timed
  run starts after a full garbage collection (else one of the whole heap, 30-180 ms,
  lands in a random round). The same awaits with
  ``Client(coalesce=False)`` are run in virtual time (1,000 requests: the bucket
  needs 475 s for them; over the socket that figure is the bucket's bound, not run).
  And in process, the portal's answers replayed (``_replay.Replay``): the burst's CPU
  time against ``get_many``'s, median of 31 interleaved pairs (7 with ``--quick``),
  no goal: the client's own cost, without the socket's noise.
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
import contextlib
import gc
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bitrix_dialog import Client, DialogCache, LeakyBucket
from bitrix_dialog.testing import BucketBound, FakePortal, VirtualTimeLoop, run_in_virtual_time

from . import _service_load as load
from ._replay import Replay
from ._server import served_portal
from ._service_load import (
    ARRIVALS,
    AWAITS,
    CAPACITY,
    DRAIN,
    POOL,
    RATE,
    SUSTAINED_POOL,
)
from ._table import Row

GOAL = 1.05
BUCKET = (CAPACITY, DRAIN)
PAIRS, QUICK_PAIRS = 11, 2  # paired runs of the burst and get_many, per kind of portal
PORTALS = 3  # portal processes of each kind, taking turns while their buckets drain
CPU_ROUNDS, QUICK_CPU_ROUNDS = 31, 7  # paired runs in process, answers replayed
LATENCY = 0.8  # seconds a batch answer takes, as in bench_bulk (see _socket_rows)


# ------------------------------------------------------------------ virtual time
def _virtual(
    run: Callable[[Client], Awaitable[Any]], **options: Any
) -> tuple[float, load.Count, Any]:
    """(virtual seconds, the client's request count, run's result) against a fresh portal."""

    async def main() -> tuple[float, load.Count, Any]:
        options.setdefault("hooks", None)
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=(CAPACITY, DRAIN))
        portal.record_calls = False
        for n in range(SUSTAINED_POOL):
            portal.add_chat(name=f"Chat {n}")
        count = load.Count()
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
    burst = load.burst_ids(ids)
    distinct = len(set(burst))
    needed = math.ceil(distinct / 50)
    on_time, on, _ = _virtual(lambda client: load.awaits(client, burst))
    bulk_time, bulk, _ = _virtual(lambda client: load.bulk(client, burst))
    off_time, off, _ = _virtual(lambda client: load.awaits(client, burst), coalesce=False)
    warm_count = load.Count()
    _, _, (cold, warm, _) = _virtual(
        lambda client: load.warm(client, burst, warm_count),
        cache=DialogCache(ttl=600),
        hooks=warm_count.hooks,
    )
    plan = load.arrivals(ids)
    sustained_time, count, (latencies, tail) = _virtual(
        lambda client: load.sustained(client, plan, asyncio.get_running_loop().time)
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
        _sustained("virtual time", latencies, tail, count, f" (run {sustained_time:.1f} s)"),
    ]


# ------------------------------------------------------------------- in process
async def _in_process_row(rounds: int) -> Row:
    """The burst's CPU against ``get_many``'s with the answers replayed (:class:`Replay`):
    the client's own work, free of the socket's and the other process's noise."""
    portal = FakePortal()
    portal.record_calls = False
    ids = [portal.add_chat(name=f"Chat {n}").dialog_id for n in range(POOL)]
    burst = load.burst_ids(ids)
    replay = Replay(portal)

    async def cpu(run: Callable[[Client, list[str]], Awaitable[None]]) -> float:
        async with Client(
            portal.webhook_url(), transport=replay, limiter=LeakyBucket(CAPACITY, DRAIN)
        ) as client:
            await client.call("im.dialog.get", {"DIALOG_ID": ids[0]})
            gc.collect()
            started = time.process_time()
            await run(client, burst)
            return time.process_time() - started

    for _ in range(2):  # record every answer, warm every path
        await cpu(load.awaits)
        await cpu(load.bulk)
    recorded = replay.misses
    ratios, ons, bulks, floors = [], [], [], []
    for index in range(rounds):
        on_first = index % 2 == 0
        first = await cpu(load.awaits if on_first else load.bulk)
        second = await cpu(load.bulk if on_first else load.awaits)
        on, off = (first, second) if on_first else (second, first)
        gc.collect()
        started = time.process_time()
        await load.bare_awaits(AWAITS)
        floors.append(time.process_time() - started)
        ratios.append(on / off)
        ons.append(on)
        bulks.append(off)
    assert replay.misses == recorded, "every request of a timed run was answered from the recording"
    bulk_median = statistics.median(bulks) * 1000
    floor = statistics.median(floors) * 1000
    return Row(
        benchmark="service",
        case=f"burst {AWAITS:,} awaits vs get_many, in process: CPU (median of {rounds} pairs)",
        value=bulk_median * statistics.median(ratios),
        baseline=bulk_median,
        unit="ms",
        note=(
            f"answers replayed, no socket; pairs' ratios {min(ratios):.2f}-{max(ratios):.2f}x; "
            f"{AWAITS:,} bare awaits alone take {floor:.1f} ms of CPU (get_many plus them: "
            f"{(bulk_median + floor) / bulk_median:.2f}x)"
        ),
    )


# ---------------------------------------------------------------------- socket
async def _timed(
    url: str, run: Callable[[Client, list[str]], Awaitable[None]], ids: list[str]
) -> tuple[float, load.Count, float]:
    """(wall seconds, the client's requests, the client process's CPU seconds)."""
    count = load.Count()
    async with Client(url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})  # open a connection
        count.events.clear()
        # A full collection first, so that neither path pays one of the whole heap for
        # the allocations of what ran before it (30-180 ms here, in 1 round of 3 or so).
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        await run(client, ids)
        return time.perf_counter() - started, count, time.process_time() - cpu


# A burst run sends 12 requests (the connection's first call and 11 batches), a pair of
# runs 24, which a portal's bucket (50) holds and drains in 12 s. Each pair runs back to
# back on one portal whose bucket is empty; the portals of a kind take turns, so one
# drains while the others serve, and a pair's two runs are seconds apart, not minutes.
_PAIR = 24


class _Portal:
    """One portal process, and when its bucket will be empty again."""

    def __init__(self, url: str, ids: list[str]) -> None:
        self.url, self.ids = url, ids
        self._empty_at = 0.0

    async def drained(self) -> None:
        await asyncio.sleep(max(0.0, self._empty_at - time.monotonic()))

    def used(self, requests: int) -> None:
        self._empty_at = time.monotonic() + requests / DRAIN + 0.5


class _Pairs:
    """The burst against ``get_many`` on one kind of portal, pair after pair."""

    def __init__(self, where: str, portals: list[_Portal], goal: float | None) -> None:
        self.where, self.portals, self.goal = where, portals, goal
        self.burst = load.burst_ids(portals[0].ids)
        self.ratios: list[float] = []
        self.cpu_ratios: list[float] = []
        self.ons: list[tuple[float, load.Count, float]] = []
        self.bulks: list[tuple[float, load.Count, float]] = []
        self.floors: list[float] = []

    async def pair(self, index: int) -> None:
        """Pair ``index``: both runs on the portal whose turn it is, in alternating order."""
        portal = self.portals[index % len(self.portals)]
        await portal.drained()
        order = ("on", "bulk") if index % 2 == 0 else ("bulk", "on")
        timed: dict[str, tuple[float, load.Count, float]] = {}
        for name in order:
            run = load.awaits if name == "on" else load.bulk
            timed[name] = await _timed(portal.url, run, self.burst)
        portal.used(_PAIR)
        self.ratios.append(timed["on"][0] / timed["bulk"][0])
        self.cpu_ratios.append(timed["on"][2] / timed["bulk"][2])
        self.floors.append(await load.bare_awaits(AWAITS))
        self.ons.append(timed["on"])
        self.bulks.append(timed["bulk"])

    def row(self) -> Row:
        distinct = len(set(self.burst))
        bulk_median = statistics.median(run[0] for run in self.bulks)
        ratio = statistics.median(self.ratios)
        low, _, high = statistics.quantiles(self.ratios, n=4, method="inclusive")
        floor = statistics.median(self.floors)
        off = BucketBound(requests=AWAITS, capacity=CAPACITY, drain_rate=DRAIN)
        pairs = len(self.ratios)
        return Row(
            benchmark="service",
            case=f"burst {AWAITS:,} awaits vs get_many, {self.where} (median of {pairs} pairs)",
            value=bulk_median * ratio,
            baseline=bulk_median,
            unit="s",
            goal=self.goal,
            note=(
                f"{max(run[1].requests for run in self.ons)} requests "
                f"({math.ceil(distinct / 50)} needed), "
                f"{max(run[1].rejected for run in self.ons)} x 503; get_many "
                f"{max(run[1].requests for run in self.bulks)} requests; pairs' ratios "
                f"{min(self.ratios):.2f}-{max(self.ratios):.2f}x, middle half "
                f"{low:.2f}-{high:.2f}x; client CPU {statistics.median(self.cpu_ratios):.2f}x "
                f"get_many's; {AWAITS:,} bare awaits alone take {floor * 1000:.1f} ms "
                f"(get_many plus them: {(bulk_median + floor) / bulk_median:.2f}x); "
                f"coalescing off needs {AWAITS} requests, >= {off.minimum:.0f} s by the bucket"
            ),
        )


async def _socket_rows(pairs: int, sustained: bool) -> list[Row]:
    each = min(pairs, PORTALS)  # portals of each kind (more would only wait idle)
    with contextlib.ExitStack() as stack:
        # As a real portal answers a batch of 50 dialogs, so that the awaits' own cost is
        # judged against the time a lookup really takes. The docs' example answers of one
        # dialog lookup took 0.04-0.93 s (their ``time.duration``), and a batch runs its 50
        # commands one after another: 0.8 s, as bench_bulk's slow portal, is on the quick
        # side of that. The instant portals show the client's own cost bare: no portal
        # answers in no time, so that row has no goal (the CPU rows say the same in process).
        slow = [
            _Portal(*stack.enter_context(served_portal(POOL, bucket=BUCKET, latency=LATENCY)))
            for _ in range(each)
        ]
        instant = [
            _Portal(*stack.enter_context(served_portal(SUSTAINED_POOL, bucket=BUCKET)))
            for _ in range(each)
        ]
        kinds = [
            _Pairs(f"127.0.0.1, answers {LATENCY} s", slow, GOAL),
            _Pairs("127.0.0.1, instant answers", instant, None),
        ]
        for index in range(pairs):  # the kinds interleaved, pair by pair
            for kind in kinds:
                await kind.pair(index)
        rows = [kind.row() for kind in kinds]
        portal = instant[0]
        burst = load.burst_ids(portal.ids)
        await portal.drained()
        count = load.Count()
        async with Client(
            portal.url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks, cache=DialogCache()
        ) as client:
            cold, warmed, seconds = await load.warm(client, burst, count)
        portal.used(cold + warmed)
        rows.append(
            Row(
                benchmark="service",
                case="burst again with the cache warm: requests, 127.0.0.1",
                value=warmed,
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
            await portal.drained()
            rows.append(await _sustained_row(portal))
    return rows


async def _sustained_row(portal: _Portal) -> Row:
    plan = load.arrivals(portal.ids)
    loop = asyncio.get_running_loop()
    count = load.Count()
    async with Client(
        portal.url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=count.hooks
    ) as client:
        latencies, tail = await load.sustained(client, plan, loop.time)
    return _sustained("127.0.0.1", latencies, tail, count)


def _sustained(
    where: str, latencies: list[float], tail: float, count: load.Count, more: str = ""
) -> Row:
    """The sustained case's row: p99 latency against 1.5 s, with requests and 503s."""
    return Row(
        benchmark="service",
        case=f"sustained {ARRIVALS:,} at {RATE:g}/s: p99 latency ({where})",
        value=load.p99(latencies),
        baseline=1.5,
        unit="s",
        goal=1.0,
        note=(
            f"{count.requests} requests, {count.rejected} x 503, all {len(latencies)} "
            f"answered; ended {tail:.2f} s after the last arrival{more}"
        ),
    )


def run(*, quick: bool = False) -> list[Row]:
    rows = _virtual_rows()
    rows.append(asyncio.run(_in_process_row(QUICK_CPU_ROUNDS if quick else CPU_ROUNDS)))
    rows += asyncio.run(_socket_rows(QUICK_PAIRS if quick else PAIRS, sustained=not quick))
    return rows
