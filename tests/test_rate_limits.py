"""Never rate-limited: bulk calls through the public Client against a metered fake portal.

These run in virtual time (``run_in_virtual_time``): minutes of the bucket's time
pass in a fraction of a second, and the elapsed time is exact, never wall time.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bitrix_dialog import (
    BitrixError,
    Client,
    Hooks,
    LeakyBucket,
    Plan,
    QueryLimitExceededError,
    RestResponse,
    RetryEvent,
    RetryPolicy,
)
from bitrix_dialog.abc import Slot
from bitrix_dialog.testing import (
    BucketBound,
    FakePortal,
    Faults,
    VirtualTimeLoop,
    run_in_virtual_time,
)

CAPACITY = 10
DRAIN = 5.0


async def _burst(
    portal: FakePortal, calls: int, *, seed: int
) -> list[RestResponse | BaseException]:
    """``calls`` reads of a new chat at once, through a bucket like the portal's and
    retries with jitter pinned by ``seed``; each call's answer or error."""
    chat = portal.add_chat()
    async with Client(
        portal.webhook_url(),
        transport=portal.transport(),
        limiter=LeakyBucket(CAPACITY, DRAIN),
        retry=RetryPolicy(random=random.Random(seed).random),
    ) as client:
        return await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for _ in range(calls)),
            return_exceptions=True,
        )


def test_2000_calls_from_200_coroutines_stay_under_the_bucket() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(
            clock=loop.wall,
            bucket=(CAPACITY, DRAIN),
            faults=Faults(latency=(0.02, 0.4), seed=5),  # answers take their time
        )
        portal.record_calls = False
        chats = [portal.add_chat() for _ in range(20)]
        escaped: list[BaseException] = []
        succeeded = 0

        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(CAPACITY, DRAIN),
        ) as client:

            async def worker(number: int) -> None:
                nonlocal succeeded
                for index in range(10):
                    chat = chats[(number + index) % len(chats)]
                    try:
                        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
                    except BaseException as error:
                        escaped.append(error)
                        continue
                    assert response.result["id"] == chat.id
                    succeeded += 1

            started = loop.time()
            await asyncio.gather(*(worker(n) for n in range(200)))
            elapsed = loop.time() - started

        bound = BucketBound(requests=2000, capacity=CAPACITY, drain_rate=DRAIN)
        rejected = portal.counters.rejected_query_limit
        print(f"\n503s sent: {rejected}; {bound.describe(elapsed)}")
        assert escaped == []
        assert succeeded == 2000
        assert rejected <= 2
        assert portal.counters.succeeded == 2000
        assert bound.ratio(elapsed) <= 1.10

    run_in_virtual_time(scenario())


class DrainFromSend:
    """The naive copy the issue warns about: a request drains from the moment it is sent."""

    def __init__(self, capacity: int, drain_rate: float) -> None:
        self._bucket = LeakyBucket(capacity, drain_rate)
        self.capacity = capacity

    async def acquire(self, *, max_wait: float | None = None) -> Slot:
        slot = await self._bucket.acquire(max_wait=max_wait)
        await self._bucket.release(slot)  # start draining at once
        return slot

    async def release(self, slot: Slot) -> None:
        return None

    async def saturate(self) -> None:
        await self._bucket.saturate()


def _concurrent_reads(limiter: LeakyBucket | DrainFromSend) -> int:
    """503s the portal sends for 300 reads from 60 coroutines through ``limiter``."""

    async def scenario() -> int:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(
            clock=loop.wall, bucket=(CAPACITY, DRAIN), faults=Faults(latency=(0.5, 3.0), seed=2)
        )
        chat = portal.add_chat()
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=limiter,
            retry=RetryPolicy(random=random.Random(1).random),
        ) as client:

            async def worker() -> None:
                for _ in range(5):
                    await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

            await asyncio.gather(*(worker() for _ in range(60)))
        assert portal.counters.succeeded == 300
        return portal.counters.rejected_query_limit

    return run_in_virtual_time(scenario())


def test_holding_in_flight_requests_is_what_keeps_the_portal_quiet() -> None:
    naive = _concurrent_reads(DrainFromSend(CAPACITY, DRAIN))
    held = _concurrent_reads(LeakyBucket(CAPACITY, DRAIN))
    print(f"\n503s: drain-from-send {naive}, drain-from-answer {held}")
    assert held == 0
    assert naive > 0


def test_clients_sharing_one_limiter_share_the_budget() -> None:
    async def scenario() -> tuple[int, int]:
        loop = VirtualTimeLoop.running()
        results = []
        for shared in (True, False):
            portal = FakePortal(
                clock=loop.wall, bucket=(CAPACITY, DRAIN), faults=Faults(latency=0.05)
            )
            chat = portal.add_chat()
            one = LeakyBucket(CAPACITY, DRAIN)
            clients = [
                Client(
                    portal.webhook_url(),
                    transport=portal.transport(),
                    limiter=one if shared else LeakyBucket(CAPACITY, DRAIN),
                    retry=RetryPolicy(random=random.Random(2).random),
                )
                for _ in range(2)
            ]
            outcomes = await asyncio.gather(
                *(
                    client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
                    for client in clients
                    for _ in range(40)
                ),
                return_exceptions=True,  # two private buckets may run out of retries
            )
            for client in clients:
                await client.aclose()
            if shared:
                assert not [o for o in outcomes if isinstance(o, BaseException)]
            results.append(portal.counters.rejected_query_limit)
        return results[0], results[1]

    shared, separate = run_in_virtual_time(scenario())
    assert shared == 0
    assert separate > 0  # two private buckets each think they own the portal


def test_the_default_limiter_follows_the_plan() -> None:
    portal = FakePortal()
    standard = Client(portal.webhook_url(), transport=portal.transport())
    enterprise = Client(portal.webhook_url(), transport=portal.transport(), limiter=Plan.ENTERPRISE)
    assert isinstance(standard.limiter, LeakyBucket)
    assert standard.limiter.capacity == 50
    assert standard.limiter is standard.limiter  # one bucket per credentials
    assert isinstance(enterprise.limiter, LeakyBucket)
    assert (enterprise.limiter.capacity, enterprise.limiter.drain_rate) == (250, 5.0)
    with pytest.raises(TypeError, match="limiter"):
        Client(portal.webhook_url(), transport=portal.transport(), limiter=50)  # type: ignore[arg-type]


def test_query_limit_backs_off_with_pinned_jitter_and_fills_the_bucket() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        chat = portal.add_chat()
        retries: list[RetryEvent] = []
        levels: list[float] = []
        bucket = LeakyBucket(CAPACITY, DRAIN)

        def on_retry(event: RetryEvent) -> None:
            retries.append(event)
            levels.append(bucket.level)

        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=bucket,
            retry=RetryPolicy(random=lambda: 0.5),
            hooks=Hooks(on_retry=on_retry),
        ) as client:
            portal.fail_next("QUERY_LIMIT_EXCEEDED", "Too many requests", times=3)
            response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        assert response.result["id"] == chat.id
        assert [r.reason for r in retries] == ["QUERY_LIMIT_EXCEEDED"] * 3
        # Full jitter of base 0.5 s doubling, pinned at half: 0.25, 0.5, 1.0.
        assert [r.delay for r in retries] == [0.25, 0.5, 1.0]
        assert [call.status for call in portal.calls] == [503, 503, 503, 200]
        assert loop.time() == pytest.approx(0.25 + 0.5 + 1.0)
        # Each 503 filled the local bucket: every coroutine now waits for a drain.
        assert levels == [pytest.approx(CAPACITY)] * 3

    run_in_virtual_time(scenario())


def test_a_saturated_bucket_slows_every_coroutine_not_just_the_refused_one() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        # Another app on the same IP has just filled the portal's bucket; this client
        # starts out believing it is empty. The first 503s teach it the truth.
        portal = FakePortal(clock=loop.wall, bucket=(CAPACITY, DRAIN), faults=Faults(latency=0.05))
        assert portal.limits.bucket is not None
        for _ in range(CAPACITY):
            assert portal.limits.bucket.admit()
        outcomes = await _burst(portal, 200, seed=3)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        rejected = portal.counters.rejected_query_limit
        print(f"\n503s after a foreign burst: {rejected} for 200 calls")
        assert failures == []
        assert rejected <= CAPACITY + 2  # the first burst, then the bucket knows

    run_in_virtual_time(scenario())


def test_query_limit_retries_are_bounded() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        chat = portal.add_chat()
        portal.fail_next("QUERY_LIMIT_EXCEEDED", times=100)
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            with pytest.raises(QueryLimitExceededError) as caught:
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        assert caught.value.status == 503
        assert len(portal.calls) == 6  # the first try and five retries

    run_in_virtual_time(scenario())


def test_errors_escape_only_as_bitrix_errors_under_heavy_faults() -> None:
    async def scenario() -> None:
        portal = FakePortal(
            clock=VirtualTimeLoop.running().wall,
            bucket=(CAPACITY, DRAIN),
            faults=Faults(server_errors=0.4, dropped=0.2, latency=0.1, seed=11),
        )
        outcomes = await _burst(portal, 300, seed=4)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert errors  # 60% faults: some calls exhaust their three retries
        assert all(isinstance(e, BitrixError) for e in errors)
        assert portal.counters.rejected_query_limit == 0

    run_in_virtual_time(scenario())
