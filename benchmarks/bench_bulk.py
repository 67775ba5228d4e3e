"""Bulk: ``client.dialogs.get_many`` for N ids against the physical minimum the portal allows.

The fake portal runs in another process on 127.0.0.1 with a leaky bucket of
``CAPACITY`` requests draining ``DRAIN`` per second (small, so that N = 10,000 takes
seconds, not minutes; the SDK's limiter is given the same numbers). No client can
finish N lookups faster than either of two bounds, both measured in the same run:

- **the bucket**: ``ceil(N / 50)`` batch requests need ``max(0, ceil(N/50) - CAPACITY)
  / DRAIN`` seconds to be admitted, and the last one then needs one round trip;
- **the server**: a bare aiohttp client firing every batch request at once at an
  unmetered copy of the same portal (pre-encoded bodies, ``json.loads`` only) shows
  how fast the server can answer them at all.

The baseline is the larger of the two; the goal is a ratio of at most 1.05. The
requests the SDK sent and the 503s it received are counted with its own hooks.

A second case (#14) asks whether the SDK's own concurrency ever holds a burst back:
real batches of 50 take most of a second to answer, so the portal here answers every
request after ``SLOW_ANSWER`` seconds, behind an Enterprise bucket (250 draining 5 per
second), and N = 5,000 ids (100 batch requests, all within the burst) are looked up
with the SDK's defaults (``Client(url, limiter=Plan.ENTERPRISE)``, no
``max_in_flight``). The baseline is a bare aiohttp client pacing the same bucket
(request ``i`` leaves once ``i < capacity + drain_rate * t``) against its own copy of
the portal, in the same run; the goal is again 1.05.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time

import aiohttp

from bitrix_dialog import AiohttpTransport, Client, Dialog, Hooks, LeakyBucket, Plan, RequestEvent
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import BucketBound

from ._server import served_portal
from ._table import Row

CAPACITY = 50
DRAIN = 20.0
SIZES = (1_000, 10_000)
QUICK_SIZES = (1_000, 3_000)
GOAL = 1.05
REPEATS = 5
WARM = 20  # connections both clients open before they are timed
PER_BATCH = 50
SLOW_ANSWER = 0.8  # seconds a batch answer takes in the Enterprise case
SLOW_SIZE, QUICK_SLOW_SIZE = 5_000, 2_000


def _bodies(ids: list[str]) -> list[bytes]:
    """The batch bodies the SDK sends for ``ids``, pre-encoded for the bare client."""
    bodies = []
    for start in range(0, len(ids), PER_BATCH):
        chunk = ids[start : start + PER_BATCH]
        cmd = {f"d{start + n}": f"im.dialog.get?DIALOG_ID={id_}" for n, id_ in enumerate(chunk)}
        bodies.append(json.dumps({"cmd": cmd, "halt": 0}).encode())
    return bodies


async def _bare(url: str, ids: list[str]) -> tuple[float, float]:
    """(all batches at once, median single-batch round trip) with a bare aiohttp client."""
    bodies = _bodies(ids)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> None:
            async with session.post(url + "batch", data=body, headers=headers) as response:
                answer = json.loads(await response.read())
                assert not answer["result"]["result_error"], answer["result"]["result_error"]

        await asyncio.gather(*(post(body) for body in bodies[:WARM]))  # open connections
        trips = []
        for body in bodies[:7]:
            started = time.perf_counter()
            await post(body)
            trips.append(time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        return time.perf_counter() - started, statistics.median(trips)


async def _sdk(url: str, ids: list[str]) -> tuple[float, int, int, float]:
    """(seconds, HTTP requests, 503s, CPU seconds of this process) for ``get_many(ids)``
    with a bucket like the portal's."""
    events: list[RequestEvent] = []
    hooks = Hooks(on_request=events.append)
    async with Client(url, limiter=LeakyBucket(CAPACITY, DRAIN), hooks=hooks) as client:
        # Open as many connections as the bare client does, then let those requests drain.
        await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": ids[0]}) for _ in range(WARM))
        )
        await asyncio.sleep(WARM / DRAIN + 0.2)
        events.clear()
        started, cpu = time.perf_counter(), time.process_time()
        count = 0
        async with client.dialogs.get_many(ids) as results:
            async for _, outcome in results:
                assert isinstance(outcome, Dialog), outcome
                count += 1
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert count == len(ids)
    return elapsed, len(events), sum(1 for event in events if event.status == 503), cpu


async def _measure(sizes: tuple[int, ...]) -> list[Row]:
    rows = []
    chats = max(sizes)
    with (
        served_portal(chats, bucket=(CAPACITY, DRAIN)) as (metered_url, ids),
        served_portal(chats) as (free_url, _),
    ):
        await _sdk(free_url, ids[:200])  # warm up the client side on the unmetered copy
        for size in sizes:
            wanted = ids[:size]
            batches = math.ceil(size / PER_BATCH)
            # A run the bucket does not pace lasts a fraction of a second: take the
            # median of several, each starting with an empty bucket, to tame the noise.
            repeats = REPEATS if batches <= CAPACITY else 1
            bare_runs, trips, sdk_runs = [], [], []
            for _ in range(repeats):
                server_bound, trip = await _bare(free_url, wanted)
                bare_runs.append(server_bound)
                trips.append(trip)
                await asyncio.sleep(CAPACITY / DRAIN + 0.5)  # the portal's bucket is empty again
                sdk_runs.append(await _sdk(metered_url, wanted))
            server_bound, trip = statistics.median(bare_runs), statistics.median(trips)
            elapsed = statistics.median(run[0] for run in sdk_runs)
            requests = max(run[1] for run in sdk_runs)
            rejected = max(run[2] for run in sdk_runs)
            cpu = statistics.median(run[3] for run in sdk_runs)
            bound = BucketBound(requests=batches, capacity=CAPACITY, drain_rate=DRAIN)
            baseline = max(bound.minimum + trip, server_bound)
            rows.append(
                Row(
                    benchmark="bulk",
                    case=f"get_many N={size:,}"
                    + (f" (median of {repeats})" if repeats > 1 else ""),
                    value=elapsed,
                    baseline=baseline,
                    unit="s",
                    goal=GOAL,
                    note=(
                        f"{requests} requests ({batches} needed), {rejected} x 503 (most in "
                        f"a run); bucket ({CAPACITY}, {DRAIN:g}/s) min {bound.minimum:.2f} s "
                        f"+ round trip {trip * 1000:.0f} ms; server-bound {server_bound:.2f} s; "
                        f"SDK process CPU {cpu:.2f} s"
                    ),
                )
            )
    return rows


async def _bare_paced(url: str, ids: list[str], plan: Plan) -> tuple[float, int]:
    """(seconds, 503s) for a bare aiohttp client that paces ``plan``'s bucket by itself."""
    bodies = _bodies(ids)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    refused = 0
    connector = aiohttp.TCPConnector(limit=0)  # as many connections as the bucket admits
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()

        async def post(index: int, body: bytes) -> None:
            nonlocal refused
            leave = (index + 1 - plan.capacity) / plan.drain_rate
            if leave > 0:
                await asyncio.sleep(leave - (time.perf_counter() - started))
            async with session.post(url + "batch", data=body, headers=headers) as response:
                answer = json.loads(await response.read())
                if response.status == 503:
                    refused += 1
                    return
                assert not answer["result"]["result_error"], answer["result"]["result_error"]

        await asyncio.gather(*(post(n, body) for n, body in enumerate(bodies)))
        return time.perf_counter() - started, refused


class _Counting:
    """The SDK's default transport, counting the requests it has in flight."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.in_flight = self.peak = 0

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self.inner.send(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _sdk_defaults(
    url: str, ids: list[str], plan: Plan, max_in_flight: int | None = None
) -> tuple[float, int, int]:
    """(seconds, peak requests in flight, 503s) for ``get_many(ids)`` on the defaults."""
    events: list[RequestEvent] = []
    transport = _Counting()
    count = 0
    try:
        async with Client(
            url, transport=transport, limiter=plan, hooks=Hooks(on_request=events.append)
        ) as client:
            started = time.perf_counter()
            async with client.dialogs.get_many(ids, max_in_flight=max_in_flight) as results:
                async for _, outcome in results:
                    assert isinstance(outcome, Dialog), outcome
                    count += 1
            elapsed = time.perf_counter() - started
    finally:
        await transport.aclose()
    assert count == len(ids)
    return elapsed, transport.peak, sum(1 for event in events if event.status == 503)


async def _measure_slow(size: int) -> list[Row]:
    """The SDK on its defaults, and on the former fixed 16 in flight, vs the bare client;
    each against its own portal process, so each starts with an empty bucket."""
    plan = Plan.ENTERPRISE
    bucket = (plan.capacity, plan.drain_rate)
    with (
        served_portal(size, bucket=bucket, latency=SLOW_ANSWER) as (bare_url, ids),
        served_portal(size, bucket=bucket, latency=SLOW_ANSWER) as (sdk_url, _),
        served_portal(size, bucket=bucket, latency=SLOW_ANSWER) as (old_url, _),
        served_portal(WARM * PER_BATCH) as (warm_url, warm_ids),
    ):
        # Both clients' code paths warm (imports, first connections) before anything is timed.
        await _bare_paced(warm_url, warm_ids, plan)
        await _sdk_defaults(warm_url, warm_ids, plan)
        bare, bare_refused = await _bare_paced(bare_url, ids, plan)
        runs = {
            "defaults": await _sdk_defaults(sdk_url, ids, plan),
            "max_in_flight=16 (the former default)": await _sdk_defaults(
                old_url, ids, plan, max_in_flight=16
            ),
        }
    batches = math.ceil(size / PER_BATCH)
    return [
        Row(
            benchmark="bulk",
            case=f"get_many N={size:,}, answers {SLOW_ANSWER:g} s, Enterprise bucket, {label}",
            value=elapsed,
            baseline=bare,
            unit="s",
            note=(
                f"{batches} batch requests, at most {peak} in flight, {refused} x 503; "
                f"bare aiohttp client pacing ({plan.capacity}, {plan.drain_rate:g}/s): "
                f"{bare_refused} x 503"
            ),
        )
        for label, (elapsed, peak, refused) in runs.items()
    ]


async def _measure_all(quick: bool) -> list[Row]:
    rows = await _measure(QUICK_SIZES if quick else SIZES)
    rows.extend(await _measure_slow(QUICK_SLOW_SIZE if quick else SLOW_SIZE))
    return rows


def run(*, quick: bool = False) -> list[Row]:
    return asyncio.run(_measure_all(quick))
