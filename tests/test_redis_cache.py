"""RedisDialogCache against a real redis-server: one cache for every worker's client.

Each "worker" in the first tests is its own Redis connection and ``Client``; the last
ones run real worker processes (``python -m tests.redis_worker``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis.asyncio

from bitrix_dialog import (
    AccessDeniedError,
    CacheEvent,
    Client,
    Hooks,
    NotFoundError,
    dialog_from_json,
    dialog_to_json,
)
from bitrix_dialog.redis import RedisDialogCache
from bitrix_dialog.testing import FakePortal

from .redis_kit import (
    WORKER_PASSWORD,
    Connect,
    allow,
    deny,
    start_workers,
    unreachable_redis,
)


def rich_chat(portal: FakePortal, chat_id: int = 5, **fields: Any) -> None:
    portal.add_chat(
        chat_id,
        name="Support",
        members=frozenset({1, 456}),
        managers=(1,),
        **fields,
    )


async def test_a_dialog_one_worker_looked_up_is_a_hit_for_the_others(
    connect: Connect, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal()
    rich_chat(portal)
    portal.add_bot(456, token="bot-secret-token")
    url = portal.webhook_url()
    events: list[CacheEvent] = []
    hooks = Hooks(on_cache=events.append)
    first = Client(url, transport=portal.transport(), cache=RedisDialogCache(connect()))
    second = Client(
        url,
        transport=portal.transport(),
        cache=RedisDialogCache(connect()),
        hooks=hooks,
        bot_id=456,
        bot_token="bot-secret-token",
    )
    async with first, second:
        looked_up = await first.im.dialog.get("chat5")
        as_bot = await first.imbot.v2.chat.get("chat5", bot_id=456, bot_token="bot-secret-token")
        assert await second.im.dialog.get("chat5") == looked_up
        assert await second.imbot.v2.chat.get("chat5") == as_bot
    assert [call.method for call in portal.calls] == ["im.dialog.get", "imbot.v2.Chat.get"]
    assert [event.hit for event in events] == [True, True]
    keys = [k.decode() if isinstance(k, bytes) else k for k in await redis_admin.keys("*")]
    assert keys
    for secret in ("bot-secret-token", portal.webhook_url().split("/")[-2]):
        assert not any(secret in key for key in keys)
        for key in keys:
            if key.endswith(":gen") or ":d:" in key:
                continue
            assert secret.encode() not in (await redis_admin.get(key) or b"")


async def test_entries_expire_by_redis_and_dialogs_decode_equal(
    connect: Connect, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal()
    rich_chat(portal)
    cache = RedisDialogCache(connect(), ttl=30, prefix="t")
    async with Client(portal.webhook_url(), transport=portal.transport(), cache=cache) as client:
        dialog = await client.im.dialog.get("chat5")
    (key,) = await redis_admin.keys("t:dialog:*:e:*")
    assert 0 < await redis_admin.pttl(key) <= 30_000
    (index,) = await redis_admin.keys("t:dialog:*:d:chat5")
    assert 0 < await redis_admin.pttl(index) <= 30_000
    assert dialog_from_json(dialog_to_json(dialog)) == dialog
    await redis_admin.delete(key)  # what expiry does
    async with Client(portal.webhook_url(), transport=portal.transport(), cache=cache) as client:
        assert await client.im.dialog.get("chat5") == dialog
    assert len(portal.calls) == 2


async def test_invalidation_in_one_worker_drops_the_dialog_for_all(connect: Connect) -> None:
    portal = FakePortal()
    rich_chat(portal, session_ids=(77,))
    portal.add_chat(6)
    portal.add_bot(456, token="bot-secret-token")
    url = portal.webhook_url()
    reader = Client(
        url,
        transport=portal.transport(),
        cache=RedisDialogCache(connect()),
        bot_id=456,
        bot_token="bot-secret-token",
    )
    other = Client(url, transport=portal.transport(), cache=RedisDialogCache(connect()))

    async def everything() -> None:
        await reader.im.dialog.get("chat5")
        await reader.imbot.v2.chat.get("chat5")
        await reader.imopenlines.dialog.get(session_id=77)
        await reader.im.dialog.get("chat6")

    async with reader, other:
        await everything()
        portal.calls.clear()
        await other.dialogs.invalidate("chat5")
        await everything()
        assert [call.method for call in portal.calls] == [
            "im.dialog.get",
            "imbot.v2.Chat.get",
            "imopenlines.dialog.get",
        ]
        portal.calls.clear()
        await other.dialogs.invalidate_all()
        await everything()
        assert len(portal.calls) == 4


async def test_refusals_are_kept_only_with_a_negative_ttl(
    connect: Connect, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal()
    portal.add_bot(456, token="bot-secret-token")
    url = portal.webhook_url()
    plain = Client(url, transport=portal.transport(), cache=RedisDialogCache(connect()))
    negative = Client(
        url,
        transport=portal.transport(),
        cache=RedisDialogCache(connect(), negative_ttl=5, prefix="neg"),
        bot_id=456,
        bot_token="bot-secret-token",
    )
    async with plain, negative:
        for _ in range(2):
            with pytest.raises(AccessDeniedError):
                await plain.im.dialog.get("chat404")
        assert len(portal.calls) == 2
        for _ in range(2):
            with pytest.raises(AccessDeniedError, match=r"im\.dialog\.get: ACCESS_ERROR"):
                await negative.im.dialog.get("chat404")
            with pytest.raises(NotFoundError, match="CHAT_NOT_FOUND"):
                await negative.imbot.v2.chat.get("chat404")
        assert len(portal.calls) == 4
    entries = await redis_admin.keys("neg:dialog:*:e:*")
    assert len(entries) == 2
    for key in entries:
        assert 0 < await redis_admin.pttl(key) <= 5_000


async def test_a_redis_that_is_down_is_a_miss_never_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    portal = FakePortal()
    rich_chat(portal)
    down = unreachable_redis()
    cache = RedisDialogCache(down)
    assert WORKER_PASSWORD not in repr(cache)
    with caplog.at_level(logging.DEBUG, logger="bitrix_dialog"):
        async with Client(portal.webhook_url(), transport=portal.transport(), cache=cache) as c:
            assert (await c.im.dialog.get("chat5")).name == "Support"
            assert (await c.im.dialog.get("chat5")).name == "Support"
            await c.dialogs.invalidate("chat5")
            await c.dialogs.invalidate_all()
    assert len(portal.calls) == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once, not at every lookup
    assert "going on without the cache" in warnings[0].getMessage()
    assert WORKER_PASSWORD not in caplog.text
    await down.aclose()


async def test_a_redis_that_fails_mid_way_degrades_and_recovers(
    flaky: redis.asyncio.Redis, redis_admin: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    portal = FakePortal()
    rich_chat(portal)
    cache = RedisDialogCache(flaky)
    async with Client(portal.webhook_url(), transport=portal.transport(), cache=cache) as client:
        await client.im.dialog.get("chat5")
        await deny(redis_admin)
        with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
            assert (await client.im.dialog.get("chat5")).id == 5  # a miss: sent
            await allow(redis_admin)
            assert (await client.im.dialog.get("chat5")).id == 5  # a hit again
    assert len(portal.calls) == 2
    assert "answers again" in caplog.text


async def test_an_unreadable_entry_is_a_miss_and_is_replaced(
    connect: Connect, redis_admin: redis.asyncio.Redis
) -> None:
    portal = FakePortal()
    rich_chat(portal)
    cache = RedisDialogCache(connect())
    async with Client(portal.webhook_url(), transport=portal.transport(), cache=cache) as client:
        await client.im.dialog.get("chat5")
        (key,) = await redis_admin.keys("bitrix_dialog:dialog:*:e:*")
        for junk in (
            b"not json",
            b'{"v": 1, "kind": "error", "code": "INTERNAL_SERVER_ERROR",'
            b' "description": "", "status": 500, "method": "im.dialog.get"}',
        ):
            await redis_admin.set(key, junk)
            assert (await client.im.dialog.get("chat5")).id == 5
            assert (await client.im.dialog.get("chat5")).id == 5
    assert len(portal.calls) == 3


def test_bad_options_are_refused(connect: Connect) -> None:
    with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        RedisDialogCache("redis://localhost")  # type: ignore[arg-type]
    for kwargs, error in (
        ({"ttl": 0}, ValueError),
        ({"negative_ttl": "5"}, TypeError),
        ({"prefix": ""}, ValueError),
        ({"timeout": -1}, ValueError),
    ):
        with pytest.raises(error):
            RedisDialogCache(connect(), **kwargs)


async def test_worker_processes_share_entries_and_invalidations(redis_url: str) -> None:
    portal = FakePortal()
    rich_chat(portal, description="shared")
    async with portal.serve() as base:
        config: dict[str, Any] = {
            "redis": redis_url,
            "cache": {"ttl": 60, "prefix": "workers"},
            "auth": {"webhook": portal.webhook_url(base)},
        }
        steps = [
            {**config, "lookups": ["chat5"]},
            {**config, "lookups": ["chat5", "CHAT5"]},
            {**config, "invalidate": ["chat5"]},
            {**config, "lookups": ["chat5"]},
        ]
        async with start_workers(steps) as workers:
            results = []
            for worker in workers:  # one after the other
                worker.go()
                results.append(await worker.result())
                results[-1]["sent"] = len(portal.calls)
    first, second, _, fourth = results
    assert (first["hits"], first["misses"], first["sent"]) == (0, 1, 1)
    assert (second["hits"], second["misses"], second["sent"]) == (2, 0, 1)
    assert (fourth["hits"], fourth["misses"], fourth["sent"]) == (0, 1, 2)
    dialogs = [dialog_from_json(d) for r in (first, second, fourth) for d in r["dialogs"]]
    assert all(dialog == dialogs[0] for dialog in dialogs)
    assert dialogs[0].description == "shared"
