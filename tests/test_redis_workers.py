"""Many worker processes, one portal: the shared bucket and token store end to end.

Every worker is a real process (``python -m tests.redis_worker``) with its own
event loop, Redis connection and ``Client``, calling one fake portal served on
127.0.0.1 by this test, through one redis-server started by the suite.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio

from bitrix_dialog.redis import RedisTokenStore
from bitrix_dialog.testing import BucketBound, FakePortal

from .redis_kit import start_workers

KEY = "portal-under-test|app"


async def test_four_workers_stay_inside_the_portals_bucket(
    redis_url: str, redis_admin: redis.asyncio.Redis
) -> None:
    capacity, drain_rate, workers, calls = 10, 40.0, 4, 30
    portal = FakePortal(bucket=(capacity, drain_rate))
    chat = portal.add_chat(name="Busy")
    async with portal.serve() as base:
        config: dict[str, Any] = {
            "redis": redis_url,
            "key": KEY,
            "bucket": [capacity, drain_rate],
            "auth": {"webhook": portal.webhook_url(base)},
            "dialog_id": chat.dialog_id,
            "calls": calls,
            "concurrency": 8,
        }
        async with start_workers([config] * workers) as running:
            started = time.monotonic()
            for worker in running:
                worker.go()
            results = [await worker.result() for worker in running]
            elapsed = time.monotonic() - started
    bound = BucketBound(requests=workers * calls, capacity=capacity, drain_rate=drain_rate)
    print(f"4 workers: {bound.describe(elapsed)}; 503s: {portal.counters.rejected_query_limit}")
    assert [result["errors"] for result in results] == [[]] * workers
    assert sum(result["ok"] for result in results) == workers * calls
    assert portal.counters.succeeded == workers * calls
    assert portal.counters.rejected_query_limit == 0


def oauth_config(portal: FakePortal, redis_url: str, **extra: Any) -> dict[str, Any]:
    app = next(iter(portal.oauth.apps.values()))
    return {
        "redis": redis_url,
        "key": KEY,
        "bucket": [10, 40.0],
        "auth": {
            "oauth": {
                "member_id": portal.oauth.member_id,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            }
        },
        **extra,
    }


async def test_workers_refresh_once_across_an_expiry(
    redis_url: str, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal(bucket=(10, 40.0))
    chat = portal.add_chat(name="Expiring")
    portal.register_app()
    store = RedisTokenStore(redis_admin)
    config = oauth_config(portal, redis_url, dialog_id=chat.dialog_id, duration=4.0, concurrency=4)
    async with portal.serve() as base, start_workers([config] * 3) as running:
        # Issued once the workers are up, so that it expires 2-3 s into their run.
        token = portal.issue_tokens(base=base, expires_in=3)
        await store.save(token)
        for worker in running:
            worker.go()
        results = [await worker.result() for worker in running]
    assert [result["errors"] for result in results] == [[]] * 3
    assert all(result["ok"] > 0 for result in results)
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    stored = await store.load(token.member_id)
    assert stored is not None
    assert not stored.same_pair(token)
    assert portal.counters.rejected_query_limit == 0


async def test_killing_the_worker_holding_the_refresh_lock_does_not_stop_the_others(
    redis_url: str, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Orphaned lock")
    portal.register_app()
    lease = 2.0  # renewed every 0.67 s: a loaded machine's late renewal keeps it
    store = RedisTokenStore(redis_admin, lock_lease=lease)
    config = oauth_config(
        portal, redis_url, dialog_id=chat.dialog_id, calls=3, concurrency=3, lock_lease=lease
    )
    hanging = {**config, "hang_refresh": True}
    async with portal.serve() as base, start_workers([hanging, config, config]) as running:
        doomed, *survivors = running
        token = portal.issue_tokens(base=base, expires_in=0)  # every call refreshes first
        await store.save(token)
        doomed.go()
        await doomed.expect("refreshing")  # it holds the lock, its refresh is in the air
        assert await store.is_locked(token.member_id)
        await doomed.kill()
        assert await store.is_locked(token.member_id)  # orphaned, until its lease ends
        for worker in survivors:
            worker.go()
        results = [await worker.result() for worker in survivors]
    assert [result["errors"] for result in results] == [[], []]
    assert [result["ok"] for result in results] == [3, 3]
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    assert not await store.is_locked(token.member_id)
