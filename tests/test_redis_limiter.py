"""RedisLeakyBucket against a real redis-server: one bucket, many workers' clients.

Each "worker" here is its own Redis client and bucket object, as a separate process
would have; tests/test_redis_workers.py runs real processes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import subprocess
import sys

import pytest
import redis.asyncio

from bitrix_dialog import Client, LeakyBucket, LimiterUnavailableError, Plan, RetryPolicy
from bitrix_dialog.abc import Limiter, Slot
from bitrix_dialog.redis import RedisBucketState, RedisLeakyBucket
from bitrix_dialog.testing import FakePortal

from .redis_kit import (
    WORKER_PASSWORD,
    Connect,
    LosesCancels,
    allow,
    deny,
    unreachable_redis,
    until,
)

KEY = "https://portal.example.com|oauth:app"


async def test_workers_share_one_bucket(connect: Connect) -> None:
    one, two = connect(), connect()
    a = RedisLeakyBucket(one, KEY, 3, 1.0)
    b = RedisLeakyBucket(two, KEY, 3, 1.0)
    other_app = RedisLeakyBucket(two, "https://portal.example.com|oauth:other", 3, 1.0)
    taken = [await a.acquire(), await a.acquire(), await b.acquire()]
    assert all(slot.waited == 0 for slot in taken)
    with pytest.raises(TimeoutError):
        await b.acquire(max_wait=0)  # a's two slots count for b too
    assert await a.state() == RedisBucketState(level=3.0, in_flight=3, reserved=0, queued=0)
    await other_app.acquire(max_wait=0)  # another key is another bucket


async def test_a_slot_drains_only_once_its_answer_is_back(connect: Connect) -> None:
    one = connect()
    bucket = RedisLeakyBucket(one, KEY, 2, 1000.0)  # drains 1000 per second ...
    first, _second = await bucket.acquire(), await bucket.acquire()
    with pytest.raises(TimeoutError):
        await bucket.acquire(max_wait=0.2)  # ... but requests in flight do not drain
    assert (await bucket.state()).in_flight == 2
    await bucket.release(first)
    third = await bucket.acquire(max_wait=5)
    assert third.waited >= 0
    assert (await bucket.state()).in_flight == 2


async def test_a_queued_waiter_is_woken_by_another_workers_answer(connect: Connect) -> None:
    one, two = connect(), connect()
    holder = RedisLeakyBucket(one, KEY, 1, 100.0)
    waiter = RedisLeakyBucket(two, KEY, 1, 100.0)
    slot = await holder.acquire()
    waiting = asyncio.create_task(waiter.acquire(max_wait=10))
    await until(lambda: _queued(holder, 1), what="the waiter queueing")
    assert not waiting.done()
    await holder.release(slot)
    granted = await asyncio.wait_for(waiting, 10)
    assert granted.waited > 0
    assert (await holder.state()).queued == 0


async def _queued(bucket: RedisLeakyBucket, count: int) -> bool:
    return (await bucket.state()).queued == count


async def test_waiters_of_different_workers_are_served_first_come_first_served(
    connect: Connect,
) -> None:
    clients = connect(), connect(), connect(), connect()
    buckets = [RedisLeakyBucket(client, KEY, 1, 50.0) for client in clients]
    held = await buckets[0].acquire()
    order: list[int] = []

    async def take(index: int) -> None:
        slot = await buckets[index].acquire(max_wait=10)
        order.append(index)
        await buckets[index].release(slot)

    tasks = []
    for index in (3, 1, 2):  # queue in this order, each from its own worker
        tasks.append(asyncio.create_task(take(index)))
        queued = len(tasks)
        await until(functools.partial(_queued, buckets[0], queued), what=f"{queued} queued")
    await buckets[0].release(held)
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert order == [3, 1, 2]


async def test_callers_in_one_worker_are_served_in_order(connect: Connect) -> None:
    one = connect()
    bucket = RedisLeakyBucket(one, KEY, 2, 100.0)
    order: list[int] = []

    async def call(index: int) -> None:
        slot = await bucket.acquire(max_wait=10)
        order.append(index)
        await asyncio.sleep(0)  # the request: the others run meanwhile
        await bucket.release(slot)

    await asyncio.wait_for(asyncio.gather(*(call(n) for n in range(8))), 10)
    assert order == list(range(8))


async def test_query_limit_exceeded_fills_the_bucket_for_every_worker(connect: Connect) -> None:
    one, two = connect(), connect()
    # Standard's capacity with a tenth of its drain: a free slot is five seconds away,
    # far more than a busy machine spends between the calls below.
    a = RedisLeakyBucket(one, KEY, 50, 0.2)
    b = RedisLeakyBucket(two, KEY, 50, 0.2)
    slot = await a.acquire()
    loop = asyncio.get_running_loop()
    before = loop.time()
    await a.saturate()
    state = await b.state()
    drained = (loop.time() - before) * 0.2  # at most this much since it filled
    assert 50 - drained - 0.01 <= state.level <= 50 + 1e-6
    assert state.in_flight == 1
    with pytest.raises(TimeoutError):
        await b.acquire(max_wait=0.1)  # a slot needs five seconds of draining
    await a.release(slot)


async def test_saturate_moves_reservations_back_in_order(connect: Connect) -> None:
    one, two, three = connect(), connect(), connect()
    # Slow enough that b is still waiting when c's reservation is seen, on a busy machine:
    # b's reservation matures a whole second after the bucket filled (at 4/s it was a
    # quarter of one, which a loaded machine spends on the two round trips in between).
    a = RedisLeakyBucket(one, KEY, 2, 1.0)
    b = RedisLeakyBucket(two, KEY, 2, 1.0)
    c = RedisLeakyBucket(three, KEY, 2, 1.0)
    for slot in [await a.acquire(), await a.acquire()]:
        await a.release(slot)  # full, draining: the next slots are a second apart
    order: list[str] = []

    async def take(name: str, bucket: RedisLeakyBucket) -> None:
        await bucket.release(await bucket.acquire(max_wait=10))
        order.append(name)

    first = asyncio.create_task(take("b", b))
    await until(lambda: _reserved(a, 1), what="b's reservation")
    second = asyncio.create_task(take("c", c))
    await until(lambda: _reserved(a, 2), what="c's reservation")
    await a.saturate()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert order == ["b", "c"]


async def _reserved(bucket: RedisLeakyBucket, count: int) -> bool:
    return (await bucket.state()).reserved == count


async def test_a_dead_workers_slots_drain_after_their_lease(connect: Connect) -> None:
    dead, live = connect(), connect()
    crashed = RedisLeakyBucket(dead, KEY, 2, 100.0, slot_lease=0.3)
    await crashed.acquire()
    await crashed.acquire()
    await dead.aclose()  # never releases: the worker is gone
    bucket = RedisLeakyBucket(live, KEY, 2, 100.0, slot_lease=0.3)
    slot = await bucket.acquire(max_wait=10)
    assert slot.waited > 0
    assert (await bucket.state()).in_flight == 1


async def test_a_dead_waiters_place_is_dropped_after_its_lease(
    connect: Connect, flaky: redis.asyncio.Redis, redis_admin: redis.asyncio.Redis
) -> None:
    one = connect()
    doomed = flaky
    holder = RedisLeakyBucket(one, KEY, 1, 100.0, waiter_lease=0.5)
    dying = RedisLeakyBucket(doomed, KEY, 1, 100.0, waiter_lease=0.5)
    slot = await holder.acquire()
    waiting = asyncio.create_task(dying.acquire(max_wait=10))
    await until(lambda: _queued(holder, 1), what="the doomed waiter queueing")
    await deny(redis_admin)  # its Redis goes away: it can neither renew nor clean up
    with pytest.raises(LimiterUnavailableError):
        await asyncio.wait_for(waiting, 10)
    await holder.release(slot)  # the dead waiter's place becomes an unclaimed reservation
    assert (await holder.acquire(max_wait=10)).waited > 0


async def test_a_cancelled_or_timed_out_waiter_leaves_no_trace(connect: Connect) -> None:
    one, two = connect(), connect()
    # A slow drain: the slot released below is ten seconds from draining, so however
    # busy the machine, the waiter's half-second max_wait can never be enough.
    holder = RedisLeakyBucket(one, KEY, 1, 0.1)
    waiter = RedisLeakyBucket(two, KEY, 1, 0.1)
    slot = await holder.acquire()
    waiting = asyncio.create_task(waiter.acquire())
    await until(lambda: _queued(holder, 1), what="the waiter queueing")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await holder.release(slot)
    with pytest.raises(TimeoutError):
        await waiter.acquire(max_wait=0.5)  # the drain needs 10 s: no reservation is kept
    state = await holder.state()
    assert (state.in_flight, state.reserved, state.queued) == (0, 0, 0)


async def test_a_waiter_stops_when_cancelled_though_redis_lost_the_cancel(
    connect: Connect,
) -> None:
    one, two = connect(), connect()
    lossy = LosesCancels(two)
    holder = RedisLeakyBucket(one, KEY, 1, 0.1)
    waiter = RedisLeakyBucket(two, KEY, 1, 0.1)
    slot = await holder.acquire()
    waiting = asyncio.create_task(waiter.acquire())
    await until(lambda: _queued(holder, 1), what="the waiter queueing")

    async def blocking() -> bool:
        return lossy.waits > 0

    await until(blocking, what="the waiter blocking on Redis")
    waiting.cancel()
    done, _ = await asyncio.wait([waiting], timeout=10)
    assert done, "the waiter went on waiting for a slot after it was cancelled"
    assert waiting.cancelled()
    await holder.release(slot)
    state = await holder.state()
    assert (state.in_flight, state.queued) == (0, 0)  # its place in line was given up


async def test_a_client_paces_its_calls_through_the_shared_bucket(connect: Connect) -> None:
    portal = FakePortal(bucket=(5, 50.0))
    chat = portal.add_chat(name="Shared")
    one, two = connect(), connect()
    clients = [
        Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=RedisLeakyBucket(redis, KEY, 5, 50.0),
            retry=RetryPolicy.never(),
        )
        for redis in (one, two)
    ]
    calls = [
        client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        for client in clients
        for _ in range(15)
    ]
    results = await asyncio.wait_for(asyncio.gather(*calls), 30)
    assert len(results) == 30
    assert portal.counters.rejected_query_limit == 0
    for client in clients:
        await client.aclose()


async def test_unreachable_redis_raises_a_typed_error_and_sends_nothing() -> None:
    portal = FakePortal()
    down = unreachable_redis()
    bucket = RedisLeakyBucket(down, KEY)
    with pytest.raises(LimiterUnavailableError, match=r"redis://127\.0\.0\.1:\d+/0") as caught:
        await bucket.acquire()
    assert WORKER_PASSWORD not in str(caught.value)
    assert WORKER_PASSWORD not in repr(bucket)
    async with Client(portal.webhook_url(), transport=portal.transport(), limiter=bucket) as client:
        with pytest.raises(LimiterUnavailableError, match="not sent"):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert portal.calls == []
    await down.aclose()


async def test_the_fallback_paces_while_redis_is_down_and_hands_back_after(
    flaky: redis.asyncio.Redis, redis_admin: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    local = LeakyBucket(2, 10.0)
    bucket = RedisLeakyBucket(flaky, KEY, 5, 10.0, fallback=local, recheck_after=0.05)
    assert bucket.fallback is local
    await deny(redis_admin)
    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        first = await bucket.acquire()
        second = await bucket.acquire()
        assert local.in_flight == 2
        with pytest.raises(TimeoutError):
            await bucket.acquire(max_wait=0)  # the fallback's own share is spent
        await bucket.release(first)
        await bucket.release(second)
        assert local.in_flight == 0
        await allow(redis_admin)
        held: list[Slot] = []

        async def back_on_the_shared_bucket() -> bool:
            # Each acquire asks Redis again once recheck_after has passed.
            slot = await bucket.acquire(max_wait=1.0)
            if local.in_flight:
                await bucket.release(slot)
                return False
            held.append(slot)
            return True

        await until(back_on_the_shared_bucket, what="the shared bucket in use again")
        (shared,) = held
    assert (await bucket.state()).in_flight == 1
    assert local.in_flight == 0
    await bucket.release(shared)
    messages = [record.getMessage() for record in caplog.records]
    assert sum("local fallback" in message for message in messages) == 1  # once per outage
    assert any("answers again" in message for message in messages)
    assert not any(WORKER_PASSWORD in message for message in messages)


async def test_handing_back_a_slot_while_redis_is_down_is_logged_not_raised(
    flaky: redis.asyncio.Redis, redis_admin: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = RedisLeakyBucket(flaky, KEY, 2, 10.0, slot_lease=60.0)
    slot = await bucket.acquire()
    await deny(redis_admin)
    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        await bucket.release(slot)
        await bucket.saturate()
    assert "its lease frees it within 60 s" in caplog.text
    assert "QUERY_LIMIT_EXCEEDED" in caplog.text
    await allow(redis_admin)
    assert (await bucket.state()).in_flight == 1  # counted until its lease ends


async def test_bad_options_are_refused_before_anything_is_sent(
    redis_admin: redis.asyncio.Redis,
) -> None:
    with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        RedisLeakyBucket(object(), KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key must not be empty"):
        RedisLeakyBucket(redis_admin, " ")
    with pytest.raises(ValueError, match="capacity"):
        RedisLeakyBucket(redis_admin, KEY, 0)
    with pytest.raises(ValueError, match="drain_rate"):
        RedisLeakyBucket(redis_admin, KEY, 5, 0.0)
    with pytest.raises(ValueError, match="slot_lease"):
        RedisLeakyBucket(redis_admin, KEY, slot_lease=-1)
    with pytest.raises(TypeError, match="fallback"):
        RedisLeakyBucket(redis_admin, KEY, fallback=Plan.STANDARD)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plan"):
        RedisLeakyBucket.for_plan(redis_admin, KEY, (50, 2.0))  # type: ignore[arg-type]
    bucket = RedisLeakyBucket(redis_admin, KEY)
    assert isinstance(bucket, Limiter)
    with pytest.raises(TypeError, match="did not hand out"):
        await bucket.release(Slot())


def test_the_core_does_not_import_redis() -> None:
    # The redis module's __all__ is checked with every public package's, in test_public_api.
    code = "import sys, bitrix_dialog, bitrix_dialog.testing; print('redis' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
