"""Our own concurrency is never the bottleneck of a bulk lookup (#14).

The default number of batch requests in flight follows the bucket (as many as the
limiter admits at once), bounded by a memory budget for the answers in flight.
Virtual time, answers that take 0.8 s, as real batches of 50 do.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bitrix_dialog import Client, Dialog, LeakyBucket, Plan
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

from .bulk_kit import count_in_flight, seed

LATENCY = 0.8


def test_5000_dialogs_on_an_enterprise_bucket_take_one_round_trip() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.ENTERPRISE, faults=Faults(latency=LATENCY))
        seeded = seed(portal, readable=5000, forbidden=0)
        peak = count_in_flight(portal)
        async with Client(
            portal.webhook_url(), transport=portal.transport(), limiter=Plan.ENTERPRISE
        ) as client:
            started = loop.time()
            results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
            elapsed = loop.time() - started
        assert len(results.dialogs) == 5000
        assert all(isinstance(d, Dialog) for d in results.dialogs.values())
        assert peak() == 100  # every batch at once: all within the bucket's burst of 250
        assert portal.counters.rejected_query_limit == 0
        # One round trip for all (16 at a time took 7 of them, 5.6 s).
        assert elapsed < 2 * LATENCY

    run_in_virtual_time(scenario())


def test_the_memory_budget_bounds_the_default_width() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.ENTERPRISE, faults=Faults(latency=LATENCY))
        seeded = seed(portal, readable=2000, forbidden=0)
        peak = count_in_flight(portal)
        async with Client(
            portal.webhook_url(), transport=portal.transport(), limiter=Plan.ENTERPRISE
        ) as client:
            ids = [f"chat{n}" for n in seeded.readable]
            results = await client.dialogs.get_all(ids, memory_budget=10 * 2**20)
        assert len(results.dialogs) == 2000
        assert peak() == 10 * 2**20 // client.dialogs.ANSWER_MEMORY  # 20 answers of 0.5 MiB

    run_in_virtual_time(scenario())


def test_an_explicit_width_wins_and_a_bad_budget_is_refused() -> None:
    async def scenario() -> None:
        portal = FakePortal(faults=Faults(latency=0.01))
        seeded = seed(portal, readable=500, forbidden=0)
        peak = count_in_flight(portal)
        async with Client(
            portal.webhook_url(), transport=portal.transport(), limiter=LeakyBucket(100, 100.0)
        ) as client:
            ids = [f"chat{n}" for n in seeded.readable]
            await client.dialogs.get_all(ids, max_in_flight=3, memory_budget=1)
            assert peak() == 3
            for bad in (0, -1, True, 1.5):
                with pytest.raises((TypeError, ValueError), match="memory_budget"):
                    client.dialogs.get_many(ids, memory_budget=bad)  # type: ignore[arg-type]

    run_in_virtual_time(scenario())


async def test_the_default_transport_lets_a_whole_enterprise_burst_out() -> None:
    """More batch requests than aiohttp's usual 100 connections go out at once, over HTTP."""
    portal = FakePortal(bucket=Plan.ENTERPRISE, payload_style="legacy")
    seeded = seed(portal, readable=120 * 50, forbidden=0)
    portal.record_calls = False
    # Every request is held until more than aiohttp's usual 100 are in the portal at once
    # (or a minute has passed, and the assertion below says why): a fixed latency let the
    # first answers go before the last requests had connected on a busy machine.
    in_flight = peak = 0
    past_100 = asyncio.Event()
    answer = portal.handle

    async def held(request: HttpRequest) -> HttpResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight > 100:
            past_100.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(past_100.wait(), 60)
            return await answer(request)
        finally:
            in_flight -= 1

    portal.handle = held  # type: ignore[method-assign]
    async with (
        portal.serve() as base,
        Client(portal.webhook_url(base), limiter=Plan.ENTERPRISE) as client,
    ):
        results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
    assert len(results.dialogs) == 120 * 50
    assert peak > 100  # more than aiohttp's usual 100 connections at once
