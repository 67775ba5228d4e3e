"""Workers: 4 processes sharing one portal through ``RedisLeakyBucket`` vs the physical minimum.

A fake portal with a leaky bucket is served on 127.0.0.1 by this process; four
worker processes (``python -m benchmarks.bench_workers worker CONFIG``) each send
their share of ``im.dialog.get`` calls, ten at a time, through one ``Client`` whose
limiter is the bucket they all share in a throwaway ``redis-server``. The run's
time, from the first call sent to the last answer, is compared with the least time
the portal's bucket allows for that many requests (``BucketBound``); the 503s the
portal answered are counted in the note. The bucket drains faster than a real
portal's (50 per second instead of 2) so that the run takes seconds, not hours.
Skipped, with a message, when ``redis-server`` is not installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bitrix_dialog import Client
from bitrix_dialog.testing import BucketBound, FakePortal, redis_server_path, run_redis_server

from ._table import Row

WORKERS = 4
CONCURRENCY = 10
GOAL = 1.10
ROOT = Path(__file__).resolve().parents[1]


def _sizes(quick: bool) -> tuple[int, float, int]:
    """(capacity, drain rate, calls per worker)."""
    return (20, 50.0, 130) if quick else (50, 50.0, 500)


async def _worker(config: dict[str, Any]) -> dict[str, Any]:
    import redis.asyncio

    from bitrix_dialog.redis import RedisLeakyBucket

    connection = redis.asyncio.Redis.from_url(config["redis"])
    bucket = RedisLeakyBucket(connection, config["key"], config["capacity"], config["drain_rate"])
    await connection.ping()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    left = config["calls"]
    async with Client(config["webhook"], limiter=bucket) as client:
        first = time.time()

        async def loop() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await client.call("im.dialog.get", {"DIALOG_ID": config["dialog_id"]})

        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        last = time.time()
    await connection.aclose()
    return {"first": first, "last": last}


async def _measure(redis_url: str, quick: bool) -> tuple[float, BucketBound, int]:
    capacity, drain_rate, calls = _sizes(quick)
    portal = FakePortal(bucket=(capacity, drain_rate))
    portal.record_calls = False
    chat = portal.add_chat(name="Busy")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    async with portal.serve() as base:
        config = {
            "redis": redis_url,
            "key": "bench|workers",
            "capacity": capacity,
            "drain_rate": drain_rate,
            "calls": calls,
            "webhook": portal.webhook_url(base),
            "dialog_id": chat.dialog_id,
        }
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.bench_workers",
                "worker",
                json.dumps(config),
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            assert worker.stdout is not None
            assert (await worker.stdout.readline()).strip() == b"ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
        results = []
        for worker in workers:
            assert worker.stdout is not None
            results.append(json.loads(await worker.stdout.readline()))
            await worker.wait()
    elapsed = max(r["last"] for r in results) - min(r["first"] for r in results)
    bound = BucketBound(requests=WORKERS * calls, capacity=capacity, drain_rate=drain_rate)
    if portal.counters.succeeded != WORKERS * calls:
        msg = f"only {portal.counters.succeeded} of {WORKERS * calls} calls succeeded"
        raise RuntimeError(msg)
    return elapsed, bound, portal.counters.rejected_query_limit


def run(*, quick: bool = False) -> list[Row]:
    if redis_server_path() is None or importlib.util.find_spec("redis") is None:
        print(
            "workers: skipped: needs redis-server (apt-get install redis-server, or "
            ".ci/ensure-redis) and the redis extra (pip install -e '.[redis]')",
            file=sys.stderr,
        )
        return []
    with run_redis_server() as url:
        elapsed, bound, rejected = asyncio.run(_measure(url, quick))
    return [
        Row(
            benchmark="workers",
            case=(
                f"{WORKERS} processes x {bound.requests // WORKERS} calls, "
                f"bucket {bound.capacity} + {bound.drain_rate:g}/s"
            ),
            value=elapsed,
            baseline=bound.minimum,
            unit="s",
            goal=GOAL,
            note=f"baseline: BucketBound minimum; {rejected} x 503 QUERY_LIMIT_EXCEEDED",
        )
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        print(json.dumps(asyncio.run(_worker(json.loads(sys.argv[2])))), flush=True)
