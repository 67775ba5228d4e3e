"""A worker process for the multi-worker tests: ``python -m tests.redis_worker CONFIG``.

CONFIG (JSON) says where Redis and the portal are and what to do::

    {"redis": URL, "key": bucket key, "bucket": [capacity, drain_rate],
     "auth": {"webhook": URL} | {"oauth": {"member_id", "client_id", "client_secret"}},
     "lock_lease": s, "dialog_id": id, "calls": n | "duration": s, "concurrency": n,
     "hang_refresh": bool}

or, with ``"cache": {"ttl": s, "prefix": str}``, shares a ``RedisDialogCache`` instead:
it invalidates the ids in ``"invalidate"``, then looks up each of ``"lookups"`` with
``client.im.dialog.get`` and prints ``{"dialogs": [dialog_to_json...], "hits": n,
"misses": n}``.

It prints ``ready``, waits for ``go`` on stdin, makes its calls through one
``Client`` sharing the Redis bucket (and, for OAuth, the Redis token store), and
prints ``{"ok": n, "errors": [...]}``. With ``hang_refresh`` its OAuth refreshes go
to a local server that never answers; the worker prints ``refreshing`` when its
refresh request arrives there (it then holds the refresh lock), for the test to
kill it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import redis.asyncio
from yarl import URL

from bitrix_dialog import (
    BitrixError,
    CacheEvent,
    Client,
    Hooks,
    OAuthAuth,
    WebhookAuth,
    dialog_to_json,
)
from bitrix_dialog.abc import Auth
from bitrix_dialog.redis import RedisDialogCache, RedisLeakyBucket, RedisTokenStore


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    print("refreshing", flush=True)
    await asyncio.Event().wait()


async def _auth(config: dict[str, Any], store: RedisTokenStore) -> Auth:
    if "webhook" in config["auth"]:
        return WebhookAuth(config["auth"]["webhook"])
    oauth = config["auth"]["oauth"]
    token = await store.load(oauth["member_id"])
    assert token is not None, "the test saves the pair before saying go"
    server = None
    if config.get("hang_refresh"):
        hole = await asyncio.start_server(_never_answer, "127.0.0.1", 0)
        port = hole.sockets[0].getsockname()[1]
        server = f"http://127.0.0.1:{port}/oauth/token/"
    elif token.server_endpoint is not None:
        # The fake portal on 127.0.0.1 is this test's authorization server.
        server = str(URL(token.server_endpoint).origin())
    return OAuthAuth(
        token,
        client_id=oauth["client_id"],
        client_secret=oauth["client_secret"],
        store=store,
        skew=0.0,  # refresh at expiry itself, so calls straddle it
        oauth_server=server,
    )


async def _cached(config: dict[str, Any]) -> dict[str, Any]:
    client_redis = redis.asyncio.Redis.from_url(config["redis"])
    cache = RedisDialogCache(client_redis, **config["cache"])
    await client_redis.ping()
    print("ready", flush=True)
    if not await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline):
        return {"errors": ["the test went away before saying go"]}
    events: list[CacheEvent] = []
    dialogs = []
    hooks = Hooks(on_cache=events.append)
    async with Client(config["auth"]["webhook"], cache=cache, hooks=hooks) as client:
        for dialog_id in config.get("invalidate", ()):
            await client.dialogs.invalidate(dialog_id)
        for dialog_id in config.get("lookups", ()):
            dialogs.append(dialog_to_json(await client.im.dialog.get(dialog_id)))
    await client_redis.aclose()
    hits = sum(event.hit for event in events)
    return {"dialogs": dialogs, "hits": hits, "misses": len(events) - hits}


async def _run(config: dict[str, Any]) -> dict[str, Any]:
    if "cache" in config:
        return await _cached(config)
    client_redis = redis.asyncio.Redis.from_url(config["redis"])
    store = RedisTokenStore(client_redis, lock_lease=config.get("lock_lease", 15.0))
    capacity, drain_rate = config["bucket"]
    bucket = RedisLeakyBucket(client_redis, config["key"], capacity, drain_rate)
    await client_redis.ping()  # connected before the start line
    print("ready", flush=True)
    if not await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline):
        return {"ok": 0, "errors": ["the test went away before saying go"]}
    auth = await _auth(config, store)
    ok = 0
    errors: list[str] = []
    deadline = time.monotonic() + config.get("duration", 0.0)
    remaining = config.get("calls")

    async with Client(auth, limiter=bucket) as client:

        async def loop() -> None:
            nonlocal ok, remaining
            while True:
                if remaining is not None:
                    if remaining <= 0:
                        return
                    remaining -= 1
                elif time.monotonic() >= deadline:
                    return
                try:
                    await client.call("im.dialog.get", {"DIALOG_ID": config["dialog_id"]})
                    ok += 1
                except BitrixError as error:
                    errors.append(f"{type(error).__name__}: {error}")

        await asyncio.gather(*(loop() for _ in range(config.get("concurrency", 1))))
    await client_redis.aclose()
    return {"ok": ok, "errors": errors}


def main() -> None:
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_run(config))), flush=True)


if __name__ == "__main__":
    main()
