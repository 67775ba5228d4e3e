"""The fake portal's limits and faults, spoken to without the SDK's protections."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from bitrix_dialog import Client, OverloadLimitError, Plan, RetryPolicy, TransportError
from bitrix_dialog.abc import HttpRequest
from bitrix_dialog.testing import (
    BucketBound,
    FakePortal,
    Faults,
    MemoryTransport,
    OperatingModel,
    PortalBucket,
    VirtualTimeLoop,
    run_in_virtual_time,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def _raw(portal: FakePortal, method: str = "im.dialog.get", **params: Any) -> tuple[int, Any]:
    """One bare HTTP request to the portal: no limiter, no retries."""
    transport = MemoryTransport(portal.handle)
    response = await transport.send(
        HttpRequest(
            method="POST",
            url=URL(portal.webhook_url()) / method,
            headers={"Content-Type": "application/json"},
            body=json.dumps(params or {"DIALOG_ID": "chat1"}).encode(),
        )
    )
    try:
        return response.status, json.loads(response.body)
    except ValueError:
        return response.status, response.body


async def test_the_bucket_refuses_past_capacity_and_drains_at_its_rate() -> None:
    clock = Clock()
    portal = FakePortal(clock=clock, bucket=(3, 2.0))
    portal.add_chat(1)
    assert [(await _raw(portal))[0] for _ in range(3)] == [200, 200, 200]
    status, body = await _raw(portal)
    assert (status, body["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    clock.now += 0.5  # one request drained
    assert (await _raw(portal))[0] == 200
    assert (await _raw(portal))[0] == 503  # refused requests were not counted ...
    clock.now += 0.5
    assert (await _raw(portal))[0] == 200  # ... so one drain frees one place again
    assert portal.counters.rejected_query_limit == 2
    assert portal.counters.succeeded == 5
    assert [c.error for c in portal.calls].count("QUERY_LIMIT_EXCEEDED") == 2


def test_bucket_specs() -> None:
    clock = Clock()
    bucket = PortalBucket.from_spec(Plan.ENTERPRISE, clock=clock)
    assert (bucket.capacity, bucket.drain_rate) == (250, 5.0)
    with pytest.raises(TypeError, match="bucket"):
        PortalBucket.from_spec((1, 2, 3), clock=clock)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="capacity"):
        FakePortal(bucket=(0, 1.0))
    portal = FakePortal(bucket=(1, 1.0))
    portal.limits.set_bucket(None)
    assert portal.limits.bucket is None


async def test_the_operating_limit_blocks_one_method_for_one_caller() -> None:
    clock = Clock()
    portal = FakePortal(clock=clock, operating=OperatingModel(limit=10.0, cost=6.0))
    portal.add_chat(1)
    other_hook = portal.add_webhook(user_id=1)
    status, first = await _raw(portal)
    assert status == 200
    assert first["time"]["operating"] == 6.0
    assert first["time"]["processing"] == 6.0
    minute = int(clock.now // 60)
    assert first["time"]["operating_reset_at"] == (minute + 10) * 60
    assert (await _raw(portal))[0] == 200  # 12 s used: over the limit from now on
    status, body = await _raw(portal)
    assert (status, body["error"]) == (429, "OPERATION_TIME_LIMIT")
    assert (await _raw(portal, "imbot.dialog.get"))[0] == 200  # another method
    async with Client(portal.webhook_url(code=other_hook), transport=portal.transport()) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})  # another webhook
    clock.now = (minute + 10) * 60  # minute 0 drops out
    assert (await _raw(portal))[0] == 200
    assert portal.counters.rejected_operating == 1


async def test_overload_toggle() -> None:
    portal = FakePortal()
    portal.add_chat(1)
    portal.limits.overloaded = True
    status, body = await _raw(portal)
    assert (status, body["error"]) == (503, "OVERLOAD_LIMIT")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(OverloadLimitError):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    portal.limits.overloaded = False
    assert (await _raw(portal))[0] == 200
    assert portal.counters.rejected_overload == 2


async def _fault_sequence(seed: int) -> list[object]:
    portal = FakePortal(faults=Faults(server_errors=0.3, dropped=0.2, non_json=0.1, seed=seed))
    portal.add_chat(1)
    seen: list[object] = []
    for _ in range(40):
        try:
            status, body = await _raw(portal)
        except TransportError:
            seen.append("dropped")
        else:
            seen.append(status if isinstance(body, dict) else ("html", status))
    return seen


async def test_faults_follow_the_seed() -> None:
    first = await _fault_sequence(4)
    assert first == await _fault_sequence(4)
    assert first != await _fault_sequence(5)
    assert {"dropped", 500, ("html", 502), 200} <= set(first)


async def test_a_dropped_connection_over_a_socket_gets_no_answer() -> None:
    portal = FakePortal(faults=Faults(dropped=1.0))
    portal.add_chat(1)
    async with portal.serve() as base_url:
        async with aiohttp.ClientSession() as session:
            url = URL(portal.webhook_url(base_url)) / "im.dialog.get"
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await session.post(url, json={"DIALOG_ID": "chat1"})
        async with Client(portal.webhook_url(base_url), retry=RetryPolicy.never()) as client:
            with pytest.raises(TransportError):
                await client.call("im.dialog.get", {"DIALOG_ID": "chat1"})
    assert portal.counters.dropped == 2
    assert portal.counters.answered == 0


def test_latency_is_spent_half_arriving_half_answering() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, faults=Faults(latency=3.0))
        portal.add_chat(1)
        status, body = await _raw(portal)
        assert status == 200
        assert body["time"]["start"] - loop.epoch == 1.5  # arrived after the way in
        assert loop.time() == 3.0

    run_in_virtual_time(scenario())


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="dropped"):
        Faults(dropped=1.5)
    with pytest.raises(ValueError, match="exceed 1"):
        Faults(server_errors=0.6, dropped=0.6)


def test_counters_reset() -> None:
    portal = FakePortal()
    portal.counters.received = 5
    portal.counters.reset()
    assert portal.counters.received == 0


def test_bucket_bound_is_the_physical_minimum() -> None:
    bound = BucketBound(requests=2000, capacity=50, drain_rate=2.0)
    assert bound.minimum == 975.0
    assert bound.ratio(1072.5) == pytest.approx(1.1)
    assert "ratio 1.100" in bound.describe(1072.5)
    assert BucketBound.for_plan(250, Plan.ENTERPRISE).minimum == 0.0
    assert BucketBound.for_plan(250, Plan.ENTERPRISE).ratio(0.0) == 1.0


def test_virtual_time_jumps_over_idle_waits() -> None:
    async def scenario() -> float:
        loop = VirtualTimeLoop.running()
        await asyncio.sleep(3600)
        async with asyncio.timeout(10):
            await asyncio.sleep(5)
        return loop.time()

    assert run_in_virtual_time(scenario()) == 3605.0


async def test_virtual_time_must_be_running() -> None:
    with pytest.raises(RuntimeError, match="virtual time"):
        VirtualTimeLoop.running()
