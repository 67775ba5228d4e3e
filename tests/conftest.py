"""Shared fixtures: a fake portal and clients talking to it in memory or over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio
from hypothesis import HealthCheck, settings

from bitrix_dialog import Backoff, Client, MemoryTokenStore, RetryPolicy
from bitrix_dialog.testing import FakeApp, FakePortal

from .oauth_kit import START, ManualClock
from .redis_kit import Connect, allow, redis_server_or_skip, worker_client

# Property tests judge behaviour, never speed: no per-example deadline and no health
# check on slow generation, which a loaded CI machine trips for every test that does not
# turn them off itself.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

# Retries as the client makes them, with millisecond backoff so error tests stay fast.
QUICK_RETRY = RetryPolicy(backoff=Backoff(base=0.001, cap=0.01))


@pytest.fixture
def portal() -> FakePortal:
    return FakePortal()


@pytest.fixture
def fake_app(portal: FakePortal) -> FakeApp:
    """An OAuth app registered on ``portal`` (the one a test overrides, if it does)."""
    return portal.register_app()


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def clock() -> ManualClock:
    """Unix time that moves only when a test says so, from :data:`START`."""
    return ManualClock(START)


@pytest.fixture(params=["memory", "socket"])
async def client(request: pytest.FixtureRequest, portal: FakePortal) -> AsyncIterator[Client]:
    """A webhook client for ``portal``, once in memory and once over a real socket."""
    if request.param == "memory":
        async with Client(
            portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY
        ) as client:
            yield client
    else:
        async with (
            portal.serve() as base_url,
            Client(portal.webhook_url(base_url), retry=QUICK_RETRY) as client,
        ):
            yield client


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The suite's own redis-server on 127.0.0.1 (skipped without one, failed under CI)."""
    yield from redis_server_or_skip()


@pytest.fixture
async def redis_admin(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of that server, emptied for each test."""
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def connect(redis_url: str, redis_admin: redis.asyncio.Redis) -> AsyncIterator[Connect]:
    """Make clients of the test server (one per simulated worker); all closed after the test."""
    made: list[redis.asyncio.Redis] = []

    def make() -> redis.asyncio.Redis:
        made.append(redis.asyncio.Redis.from_url(redis_url))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def flaky(
    redis_url: str, redis_admin: redis.asyncio.Redis
) -> AsyncIterator[redis.asyncio.Redis]:
    """A worker's client whose Redis the test can take away (``deny``) and give back."""
    client = await worker_client(redis_admin, redis_url)
    yield client
    await allow(redis_admin)
    await client.aclose()
