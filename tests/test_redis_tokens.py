"""RedisTokenStore against a real redis-server: pairs, compare-and-set, the lease lock.

Each "worker" is its own Redis client and store, as a separate process would have;
tests/test_redis_workers.py runs real processes (and kills one holding the lock).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
import redis as sync_redis
import redis.asyncio

from bitrix_dialog import Client, OAuthAuth, OAuthToken, TokenConflictError, TokenStoreError
from bitrix_dialog.abc import TokenStore
from bitrix_dialog.redis import RedisTokenStore
from bitrix_dialog.testing import FakePortal

from .redis_kit import (
    WORKER_PASSWORD,
    Connect,
    blocked_on_a_lock,
    unreachable_redis,
    until,
)

MEMBER = "a223c6b3710f85df22e9377d6c4f7553"


def pair(access: str, refresh: str | None = "r") -> OAuthToken:
    return OAuthToken(
        access_token=access,
        refresh_token=refresh,
        expires_at=1_900_000_000,
        expires_in=3600,
        member_id=MEMBER,
        client_endpoint="https://portal.example.com/rest/",
        server_endpoint="https://oauth.bitrix.info/rest/",
        scope="im,imbot",
        application_token="app-secret",
    )


async def test_pairs_round_trip_and_are_deleted(connect: Connect) -> None:
    store = RedisTokenStore(connect())
    assert isinstance(store, TokenStore)
    assert await store.load(MEMBER) is None
    token = pair("a0", "r0")
    await store.save(token)
    assert await store.load(MEMBER) == token  # every field, through to_dict/from_dict
    other_worker = RedisTokenStore(connect())
    assert await other_worker.load(MEMBER) == token
    await other_worker.delete(MEMBER)
    assert await store.load(MEMBER) is None
    assert await RedisTokenStore(connect(), prefix="other-app").load(MEMBER) is None


async def test_compare_and_set_refuses_a_replaced_or_missing_pair(connect: Connect) -> None:
    store = RedisTokenStore(connect())
    first, second, third = pair("a0", "r0"), pair("a1", "r1"), pair("a2", "r2")
    with pytest.raises(TokenConflictError):
        await store.save(second, replaces=first)  # nothing stored yet
    await store.save(first)
    await store.save(second, replaces=first)
    with pytest.raises(TokenConflictError, match="replaced by another writer"):
        await store.save(third, replaces=first)  # first is spent: never stored again
    assert await store.load(MEMBER) == second
    with pytest.raises(TokenConflictError):
        await store.save(third, replaces=pair("a1", None))  # same access token, not the pair
    await store.save(third, replaces=pair("a1", "r1"))  # the same pair, even as a new object
    assert await store.load(MEMBER) == third


async def test_a_late_worker_whose_lease_ran_out_cannot_overwrite_a_newer_pair(
    connect: Connect, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Leases a busy machine's late renewals cannot lapse (renewed every third of one):
    # only the stall below lets the late worker's run out, and the prompt one's never does.
    late = RedisTokenStore(connect(), lock_lease=1.0)
    prompt = RedisTokenStore(connect(), lock_lease=3.0, lock_wait=5.0)
    watcher = connect()
    await late.save(pair("a0", "r0"))
    prompt_saved = asyncio.Event()
    prompt_may_leave = asyncio.Event()

    async def prompt_worker() -> None:
        async with prompt.refresh_lock(MEMBER):
            loaded = await prompt.load(MEMBER)
            await prompt.save(pair("a1", "r1"), replaces=loaded)
            prompt_saved.set()
            await prompt_may_leave.wait()

    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        lock = late.refresh_lock(MEMBER)
        async with lock:
            loaded = await late.load(MEMBER)
            other = asyncio.create_task(prompt_worker())
            await until(lambda: _has_waiters(watcher, 1), what="the prompt worker waiting")
            # The late worker's process stalls (its loop blocked: no renewal runs) until
            # Redis lets its lease lapse; then the prompt worker takes the lock.
            _frozen_until_the_lease_lapses(redis_url)
            await asyncio.wait_for(prompt_saved.wait(), 10)
            with pytest.raises(TokenConflictError):
                await late.save(pair("a2", "r2"), replaces=loaded)
            assert await late.load(MEMBER) == pair("a1", "r1")
        assert lock.lost
        assert await late.is_locked(MEMBER)  # leaving did not delete the prompt one's lock
        prompt_may_leave.set()
        await other
    assert not await late.is_locked(MEMBER)
    assert "expired" in caplog.text


async def test_the_lock_admits_one_worker_at_a_time(connect: Connect) -> None:
    stores = [RedisTokenStore(connect(), lock_wait=10.0) for _ in range(3)]
    watcher = connect()
    inside = 0
    most = 0
    entered: list[int] = []

    async def refresh(index: int) -> None:
        nonlocal inside, most
        async with stores[index].refresh_lock(MEMBER) as held:
            assert held is not None
            inside += 1
            most = max(most, inside)
            entered.append(index)
            # Hold the lock until every worker still to come is waiting for it.
            waiting = len(stores) - len(entered)
            await until(lambda: _has_waiters(watcher, waiting), what=f"{waiting} waiting")
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(refresh(n) for n in range(3))), 10)
    assert most == 1
    assert sorted(entered) == [0, 1, 2]
    assert not await stores[0].is_locked(MEMBER)


async def test_a_slow_refresh_keeps_its_lease_and_others_give_up_waiting(
    connect: Connect,
) -> None:
    # A lease long enough that a renewal is never late on a busy machine: renewed every
    # second, it survives a two-second stall (0.6 s, renewed every 0.2 s, did not).
    holder = RedisTokenStore(connect(), lock_lease=3.0)
    impatient = RedisTokenStore(connect(), lock_wait=0.5)
    watcher = connect()
    async with holder.refresh_lock(MEMBER) as lock:
        # Held past its lease: four renewals (one every third of a lease) take four
        # seconds, each a script run that Redis counts.
        start = await _scripts_run(watcher)
        await until(lambda: _scripts_run_since(watcher, start, 4), what="four renewals", within=30)
        assert await impatient.is_locked(MEMBER)
        with pytest.raises(TokenStoreError, match="another worker still holds it"):
            async with impatient.refresh_lock(MEMBER):
                pass
    assert not lock.lost
    async with impatient.refresh_lock(MEMBER):  # free again at once
        pass


async def test_a_cancelled_waiter_leaves_the_lock_to_the_others(connect: Connect) -> None:
    holder, quitter, next_one = (RedisTokenStore(connect()) for _ in range(3))
    watcher = connect()

    async def wait_for_lock() -> None:
        async with quitter.refresh_lock(MEMBER):
            pytest.fail("the quitter was cancelled while waiting")

    async with holder.refresh_lock(MEMBER):
        waiting = asyncio.create_task(wait_for_lock())
        await until(lambda: _has_waiters(watcher, 1), what="the quitter waiting")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert not await holder.is_locked(MEMBER)
    async with next_one.refresh_lock(MEMBER):
        assert await holder.is_locked(MEMBER)


async def test_redis_failures_are_token_store_errors_without_secrets() -> None:
    down = unreachable_redis()
    store = RedisTokenStore(down)
    token = pair("access-secret", "refresh-secret")
    failures: list[TokenStoreError] = []
    for attempt in (
        store.load(MEMBER),
        store.save(token),
        store.save(token, replaces=token),
        store.delete(MEMBER),
        store.is_locked(MEMBER),
    ):
        with pytest.raises(TokenStoreError) as caught:
            await attempt
        failures.append(caught.value)
    with pytest.raises(TokenStoreError) as caught:
        async with store.refresh_lock(MEMBER):
            pass
    failures.append(caught.value)
    for failure in failures:
        assert f"member {MEMBER}" in str(failure)
        assert "ConnectionError" in str(failure)
        for secret in (WORKER_PASSWORD, "access-secret", "refresh-secret"):
            assert secret not in str(failure)
    assert WORKER_PASSWORD not in repr(store)
    await down.aclose()


async def test_a_corrupt_stored_pair_is_a_token_store_error(
    connect: Connect, redis_admin: redis.asyncio.Redis
) -> None:
    store = RedisTokenStore(connect())
    await redis_admin.hset(f"bitrix_dialog:token:{{{MEMBER}}}", "pair", json.dumps({"x": 1}))
    with pytest.raises(TokenStoreError, match="not a valid OAuthToken"):
        await store.load(MEMBER)


async def test_bad_options_are_refused(connect: Connect) -> None:
    with pytest.raises(TypeError, match="redis"):
        RedisTokenStore(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lock_lease"):
        RedisTokenStore(connect(), lock_lease=0)
    store = RedisTokenStore(connect())
    with pytest.raises(TypeError, match="token must be an OAuthToken"):
        await store.save({"access_token": "a"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="member_id must not be empty"):
        await store.load("")


async def test_two_workers_refresh_an_expired_pair_once(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Refresh")
    app = portal.register_app()
    portal.oauth.latency = 0.05  # let both workers pile up behind the one refresh
    stale = portal.issue_tokens(expires_in=0)
    await RedisTokenStore(connect()).save(stale)
    clients = []
    for _ in range(2):  # two workers: their own Redis connection, store, auth, client
        store = RedisTokenStore(connect())
        loaded = await store.load(stale.member_id)
        assert loaded is not None
        auth = OAuthAuth(
            loaded, client_id=app.client_id, client_secret=app.client_secret, store=store
        )
        clients.append(Client(auth, transport=portal.transport()))
    with caplog.at_level(logging.DEBUG, logger="bitrix_dialog"):
        calls = [
            client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            for client in clients
            for _ in range(5)
        ]
        await asyncio.wait_for(asyncio.gather(*calls), 20)
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    fresh = await RedisTokenStore(connect()).load(stale.member_id)
    assert fresh is not None
    assert not fresh.same_pair(stale)
    assert fresh.application_token == stale.application_token
    for client in clients:
        assert isinstance(client.auth, OAuthAuth)
        assert client.auth.token.same_pair(fresh)
        await client.aclose()
    for secret in (stale.access_token, stale.refresh_token, fresh.access_token):
        assert secret is not None
        assert secret not in caplog.text


async def _has_waiters(watcher: redis.asyncio.Redis, count: int) -> bool:
    return await blocked_on_a_lock(watcher) == count


def _frozen_until_the_lease_lapses(redis_url: str) -> None:
    """Block the event loop, as a stalled process would, until Redis has let the one
    lock held now lapse (its owner, frozen, renewed nothing)."""
    sync = sync_redis.Redis.from_url(redis_url)
    try:
        (key,) = sync.keys("*:lock")
        owner = sync.get(key)
        for _ in range(3000):  # at most ~30 s, then the assertion below fails
            if sync.get(key) != owner:
                return
            time.sleep(0.01)
        msg = "the stalled worker's lease never lapsed"
        raise AssertionError(msg)
    finally:
        sync.close()


async def _scripts_run(watcher: redis.asyncio.Redis) -> int:
    stats = await watcher.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def _scripts_run_since(watcher: redis.asyncio.Redis, start: int, count: int) -> bool:
    return await _scripts_run(watcher) - start >= count
