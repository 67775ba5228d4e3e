"""Helpers for the Redis tests: the server, clients, ACL switches and worker processes.

The suite starts its own ``redis-server`` (``run_redis_server``). Without the
binary the Redis tests are skipped with the reason, except under CI (the ``CI``
environment variable), where they fail: CI must never skip them silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bitrix_dialog.testing import redis_server_path, run_redis_server

ROOT: Final = Path(__file__).resolve().parents[1]
WORKER_USER: Final = "worker"
WORKER_PASSWORD: Final = "worker-password-never-shown"

Connect = Callable[[], redis.asyncio.Redis]
"""The ``connect`` fixture: a new client of the suite's server (one per simulated worker)."""


def redis_server_or_skip() -> Iterator[str]:
    """Yield a fresh server's URL; skip (fail under CI) when ``redis-server`` is missing."""
    if redis_server_path() is None:
        reason = (
            "redis-server is not installed; the multi-worker tests need it "
            "(run .ci/ensure-redis, or apt-get install redis-server)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    with run_redis_server() as url:
        yield url


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (a Redis that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unreachable_redis() -> redis.asyncio.Redis:
    """A client (with the worker's password) of a Redis that is down, failing at once:
    redis-py retries 10 times by default."""
    return redis.asyncio.Redis(
        host="127.0.0.1", port=closed_port(), password=WORKER_PASSWORD, retry=Retry(NoBackoff(), 0)
    )


class LosesCancels:
    """Makes ``client.blpop`` swallow a cancel and return ``None``, as redis-py under
    Python 3.11's ``asyncio.wait_for`` can; ``waits`` counts the blocking calls made."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.waits = 0
        self._blpop = client.blpop
        client.blpop = self._blpop_losing_cancels  # type: ignore[method-assign]

    async def _blpop_losing_cancels(self, *args: Any, **kwargs: Any) -> Any:
        self.waits += 1
        try:
            return await self._blpop(*args, **kwargs)
        except asyncio.CancelledError:
            return None


async def worker_client(admin: redis.asyncio.Redis, url: str) -> redis.asyncio.Redis:
    """A client logged in as a user whose commands ``deny``/``allow`` switch off and on."""
    await admin.acl_setuser(
        WORKER_USER,
        enabled=True,
        passwords=[f"+{WORKER_PASSWORD}"],
        keys=["*"],
        channels=["*"],
        categories=["+@all"],
        reset=True,
    )
    return redis.asyncio.Redis.from_url(url, username=WORKER_USER, password=WORKER_PASSWORD)


async def deny(admin: redis.asyncio.Redis) -> None:
    """Every command of the worker user now fails (NOPERM), as if Redis were gone."""
    await admin.acl_setuser(WORKER_USER, enabled=True, categories=["-@all"])


async def allow(admin: redis.asyncio.Redis) -> None:
    await admin.acl_setuser(WORKER_USER, enabled=True, categories=["+@all"])


async def until(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "a condition"
) -> None:
    """Wait (checking every 10 ms) until ``check()`` is true; fail after ``within`` s.

    For watching another client's effect in Redis, which has nothing to await on.
    """
    try:
        async with asyncio.timeout(within):
            while not await check():  # noqa: ASYNC110 - state in Redis, no event to wait on
                await asyncio.sleep(0.01)
    except TimeoutError:
        msg = f"{what} did not happen within {within} s"
        raise AssertionError(msg) from None


async def blocked_on_a_lock(watcher: redis.asyncio.Redis) -> int:
    """How many clients wait in ``BLPOP`` right now: lock waiters, as Redis sees them."""
    return sum(client.get("cmd") == "blpop" for client in await watcher.client_list())


class Worker:
    """One worker process (``python -m tests.redis_worker CONFIG``) driven over its pipes.

    The worker prints ``ready`` once set up, starts on a ``go`` line, may print
    progress lines (``refreshing``), and prints its result as the JSON last line.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, config: dict[str, Any]) -> Worker:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.redis_worker",
            json.dumps(config),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def line(self, within: float = 30.0) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), within)
        if not raw:
            code = await self.process.wait()
            msg = f"worker exited with {code} before answering"
            raise AssertionError(msg)
        return raw.decode().strip()

    async def expect(self, word: str) -> None:
        got = await self.line()
        assert got == word, f"worker said {got!r}, expected {word!r}"

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    async def result(self, within: float = 40.0) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(await self.line(within))
        await asyncio.wait_for(self.process.wait(), within)
        return answer

    async def kill(self) -> None:
        """SIGKILL: no cleanup code runs in the worker."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


@contextlib.asynccontextmanager
async def start_workers(configs: list[dict[str, Any]]) -> AsyncIterator[list[Worker]]:
    """Start every worker at once, wait until all are ready; kill any left at the end."""
    workers = list(await asyncio.gather(*(Worker.start(config) for config in configs)))
    try:
        await asyncio.gather(*(worker.expect("ready") for worker in workers))
        yield workers
    finally:
        for worker in workers:
            await worker.kill()
