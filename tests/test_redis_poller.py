"""Several workers, one fetch-mode bot: ``RedisOffsetStore`` lets exactly one poll it.

Each worker is an ``EventPoller`` with its own client (its own webhook, so the portal
can tell them apart) and its own Redis connection; the portal records which worker
sent each ``imbot.v2.Event.get`` and whether another one was in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio

from bitrix_dialog import Client, OffsetStoreError, V2Event
from bitrix_dialog.aiohttp import EventPoller
from bitrix_dialog.redis import RedisOffsetStore
from bitrix_dialog.testing import CallContext, FakePortal

from .redis_kit import WORKER_PASSWORD, LosesCancels, unreachable_redis

BOT = 456
TOKEN = "fetch-bot-token"
METHOD = "imbot.v2.Event.get"
IDLE = (0.02, 0.05)


class _Recorder:
    """Wraps the fake's ``Event.get``: who polled, in order, and any overlap."""

    def __init__(self, portal: FakePortal) -> None:
        self.by: list[str] = []
        self.overlaps = 0
        self._in_flight = 0
        self._serve = portal.method_handler(METHOD)  # the fake's own, wrapped
        portal.register_method(METHOD, self)

    async def __call__(self, context: CallContext) -> Any:
        self._in_flight += 1
        if self._in_flight > 1:
            self.overlaps += 1
        try:
            self.by.append(context.caller.credential)
            await asyncio.sleep(0.001)
            return await self._serve(context)
        finally:
            self._in_flight -= 1


def _worker(
    portal: FakePortal, code: str, store: RedisOffsetStore, seen: list[tuple[str, int]]
) -> tuple[Client, EventPoller]:
    client = Client(
        portal.webhook_url(code=code), transport=portal.transport(), bot_id=BOT, bot_token=TOKEN
    )
    poller = EventPoller(client, offsets=store, idle=IDLE, limit=10)

    @poller.fallback
    async def record(event: V2Event, _: Client) -> None:
        assert event.event_id is not None
        seen.append((code, event.event_id))

    return client, poller


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110 - the conditions are the portal's state
            await asyncio.sleep(0.01)


async def test_two_workers_never_both_poll_and_one_takes_over(
    redis_admin: redis.asyncio.Redis, connect: Callable[[], redis.asyncio.Redis]
) -> None:
    portal = FakePortal()
    chat = portal.add_chat(5, members=frozenset({1, BOT}))
    portal.add_bot(BOT, token=TOKEN, chats=(chat.id,))
    recorder = _Recorder(portal)
    codes = [portal.webhook_code, portal.add_webhook(1)]
    seen: list[tuple[str, int]] = []
    first = _worker(portal, codes[0], RedisOffsetStore(connect(), lease=1.0), seen)
    second = _worker(portal, codes[1], RedisOffsetStore(connect(), lease=1.0), seen)
    ids = [portal.queue_event(BOT, "ONIMBOTV2DELETE", {}) for _ in range(45)]
    tasks = [asyncio.create_task(first[1].run())]
    await _until(lambda: bool(recorder.by))
    tasks.append(asyncio.create_task(second[1].run()))
    await _until(lambda: len(seen) == 45)
    await asyncio.sleep(0.3)  # the second worker waits on the lease, polling nothing
    assert set(recorder.by) == {codes[0]}
    tasks[0].cancel()  # the first stops cleanly; the second takes over at once
    await asyncio.gather(tasks[0], return_exceptions=True)
    more = [portal.queue_event(BOT, "ONIMBOTV2DELETE", {}) for _ in range(15)]
    await _until(lambda: len(seen) == 60)
    tasks[1].cancel()
    await asyncio.gather(tasks[1], return_exceptions=True)
    for client, _ in (first, second):
        await client.aclose()
    switch = recorder.by.index(codes[1])
    assert set(recorder.by[:switch]) == {codes[0]}
    assert set(recorder.by[switch:]) == {codes[1]}  # never both, never back
    assert recorder.overlaps == 0
    assert [event_id for _, event_id in seen] == ids + more  # each once, in order
    assert {code for code, event_id in seen if event_id in more} == {codes[1]}


async def test_a_dead_workers_lease_runs_out_and_another_polls(
    redis_admin: redis.asyncio.Redis, connect: Callable[[], redis.asyncio.Redis]
) -> None:
    portal = FakePortal()
    portal.add_bot(BOT, token=TOKEN)
    recorder = _Recorder(portal)
    store = RedisOffsetStore(connect(), lease=1.0)
    key = f"{portal.domain}:{BOT}"
    # What a worker killed while polling leaves behind: its lease, still running.
    # Long enough that a busy machine is still inside it at the check below.
    await redis_admin.set(f"bitrix_dialog:events:{key}:lease", "dead-owner", px=1500)
    ids = [portal.queue_event(BOT, "ONIMBOTV2DELETE", {}) for _ in range(10)]
    await store.save(key, ids[7])  # it had handled the first seven
    seen: list[tuple[str, int]] = []
    client, poller = _worker(portal, portal.webhook_code, store, seen)
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.2)
    assert recorder.by == []  # still held by the dead one
    await _until(lambda: len(seen) == 3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.aclose()
    assert [event_id for _, event_id in seen] == ids[7:]
    assert portal.calls[0].params["offset"] == ids[7]  # it went on from the stored offset
    assert await store.load(key) == ids[-1] + 1


async def test_an_unreachable_redis_is_an_offset_store_error_without_its_password() -> None:
    down = unreachable_redis()
    store = RedisOffsetStore(down)
    failures: list[OffsetStoreError] = []
    for attempt in (store.load("portal:1"), store.save("portal:1", 5)):
        with pytest.raises(OffsetStoreError) as caught:
            await attempt
        failures.append(caught.value)
    with pytest.raises(OffsetStoreError) as caught:
        async with store.lease("portal:1"):
            pass
    failures.append(caught.value)
    for failure in failures:
        assert "portal:1" in str(failure)
        assert "ConnectionError" in str(failure)
        assert WORKER_PASSWORD not in str(failure)
    await down.aclose()


async def test_a_worker_waiting_for_the_lease_stops_when_cancelled_though_redis_lost_it(
    redis_admin: redis.asyncio.Redis, connect: Callable[[], redis.asyncio.Redis]
) -> None:
    portal = FakePortal()
    portal.add_bot(BOT, token=TOKEN)
    recorder = _Recorder(portal)
    key = f"{portal.domain}:{BOT}"
    # Another worker polls this bot, and keeps polling.
    await redis_admin.set(f"bitrix_dialog:events:{key}:lease", "live-owner", px=60_000)
    waiting_redis = connect()
    lossy = LosesCancels(waiting_redis)
    seen: list[tuple[str, int]] = []
    client, poller = _worker(portal, portal.webhook_code, RedisOffsetStore(waiting_redis), seen)
    task = asyncio.create_task(poller.run())
    await _until(lambda: lossy.waits > 0)  # it waits on Redis for the lease
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=10)
    await client.aclose()
    assert done, "the worker went on waiting for the lease after it was cancelled"
    assert task.cancelled()
    assert recorder.by == []
    assert await redis_admin.get(f"bitrix_dialog:events:{key}:lease") == b"live-owner"
