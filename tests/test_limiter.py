"""The client-side leaky bucket on its own: capacity, drain, holding, fairness, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from bitrix_dialog import LeakyBucket, Plan
from bitrix_dialog.abc import Limiter, Slot
from bitrix_dialog.testing import VirtualTimeLoop, run_in_virtual_time


class ManualTime:
    """A clock that only moves when ``sleep`` is awaited; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def test_plans_are_the_documented_sizes() -> None:
    assert (Plan.STANDARD.capacity, Plan.STANDARD.drain_rate) == (50, 2.0)
    assert (Plan.ENTERPRISE.capacity, Plan.ENTERPRISE.drain_rate) == (250, 5.0)
    bucket = LeakyBucket.for_plan(Plan.ENTERPRISE)
    assert (bucket.capacity, bucket.drain_rate) == (250, 5.0)
    assert isinstance(bucket, Limiter)


@pytest.mark.parametrize(
    ("capacity", "drain_rate", "error"),
    [
        (0, 1.0, ValueError),
        (True, 1.0, ValueError),
        (1.5, 1.0, ValueError),
        (5, 0, ValueError),
        (5, -2.0, ValueError),
        (5, "2", TypeError),
    ],
)
def test_bad_sizes_are_refused(
    capacity: object, drain_rate: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"capacity|drain_rate"):
        LeakyBucket(capacity, drain_rate)  # type: ignore[arg-type]


async def test_a_burst_fits_then_the_next_waits_exactly_one_drain() -> None:
    time = ManualTime()
    bucket = LeakyBucket(3, 2.0, clock=time.clock, sleep=time.sleep)
    slots = [await bucket.acquire() for _ in range(3)]
    assert time.sleeps == []
    for slot in slots:
        await bucket.release(slot)
    slot = await bucket.acquire()
    assert time.sleeps == [pytest.approx(0.5)]
    assert slot.waited == pytest.approx(0.5)


def test_requests_in_flight_do_not_drain() -> None:
    """An unanswered request keeps its place however long it takes: the portal may
    have received it only now."""

    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        bucket = LeakyBucket(1, 10.0)
        first = await bucket.acquire()
        second = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(100)
        assert not second.done()
        await bucket.release(first)
        # Answered now: it drains from here, a tenth of a second.
        slot = await second
        assert loop.time() == pytest.approx(100.1)
        assert slot.waited == pytest.approx(100.1)

    run_in_virtual_time(scenario())


def test_waiters_are_served_first_come_first_served() -> None:
    async def scenario() -> None:
        bucket = LeakyBucket(2, 1.0)
        order: list[int] = []

        async def take(index: int) -> None:
            slot = await bucket.acquire()
            order.append(index)
            await asyncio.sleep(0.01)
            await bucket.release(slot)

        tasks = []
        for index in range(12):
            tasks.append(asyncio.create_task(take(index)))
            await asyncio.sleep(0)  # arrive one after another
        await asyncio.gather(*tasks)
        assert order == list(range(12))
        assert bucket.waiting == 0

    run_in_virtual_time(scenario())


async def test_saturate_makes_the_bucket_full() -> None:
    time = ManualTime()
    bucket = LeakyBucket(4, 2.0, clock=time.clock, sleep=time.sleep)
    await bucket.saturate()
    assert bucket.level == pytest.approx(4)
    await bucket.acquire()
    assert time.sleeps == [pytest.approx(0.5)]


async def test_a_drain_longer_than_max_wait_fails_at_once() -> None:
    time = ManualTime()
    bucket = LeakyBucket(1, 0.5, clock=time.clock, sleep=time.sleep)
    await bucket.release(await bucket.acquire())  # full; draining takes 2 s
    with pytest.raises(TimeoutError):
        await bucket.acquire(max_wait=1.0)
    assert time.sleeps == []  # no sleeping through a wait known to be too long
    assert bucket.waiting == 0
    await bucket.acquire(max_wait=2.5)
    assert time.sleeps == [pytest.approx(2.0)]


def test_waiting_for_an_answer_is_bounded_by_max_wait() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        bucket = LeakyBucket(1, 1.0)
        await bucket.acquire()  # never answered
        with pytest.raises(TimeoutError):
            await bucket.acquire(max_wait=3.0)
        assert loop.time() == pytest.approx(3.0)
        assert bucket.waiting == 0

    run_in_virtual_time(scenario())


def test_a_cancelled_waiter_does_not_block_the_queue() -> None:
    async def scenario() -> None:
        bucket = LeakyBucket(1, 1.0)
        held = await bucket.acquire()
        head = asyncio.create_task(bucket.acquire())
        behind = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(1)
        head.cancel()
        await bucket.release(held)
        slot = await behind
        assert isinstance(slot, Slot)
        assert head.cancelled()
        assert bucket.in_flight == 1

    run_in_virtual_time(scenario())


async def test_release_without_acquire_is_a_bug() -> None:
    with pytest.raises(RuntimeError, match="release"):
        await LeakyBucket(1, 1.0).release(Slot())
