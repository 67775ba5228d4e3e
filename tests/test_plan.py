"""The portal's real plan (#14): ``Plan.AUTO`` reads ``app.info``, and 503s correct a wrong plan.

Everything runs in virtual time against the fake portal, with answers that take
time (``Faults(latency=...)``), so that bursts really overlap.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bitrix_dialog import AccessTokenAuth, Client, LeakyBucket, Plan
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

LATENCY = 0.4


def _app_client(portal: FakePortal, **options: object) -> Client:
    auth = AccessTokenAuth(portal.client_endpoint(), portal.add_access_token(expires_in=1e9))
    return Client(auth, transport=portal.transport(), **options)  # type: ignore[arg-type]


async def _burst(client: Client, dialog_id: str, count: int) -> None:
    await asyncio.gather(
        *(client.call("im.dialog.get", {"DIALOG_ID": dialog_id}) for _ in range(count))
    )


def _app_info_calls(portal: FakePortal) -> int:
    return sum(1 for call in portal.calls if call.method == "app.info")


def test_auto_is_the_default_and_reads_an_enterprise_plan_once() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.ENTERPRISE, faults=Faults(latency=LATENCY))
        chat = portal.add_chat()
        async with _app_client(portal) as client:
            assert client.plan is Plan.AUTO
            await _burst(client, chat.dialog_id, 40)  # the plan does not matter yet
            assert _app_info_calls(portal) == 0
            started = loop.time()
            await _burst(client, chat.dialog_id, 200)
            elapsed = loop.time() - started
            await _burst(client, chat.dialog_id, 5)
            found: Plan = client.plan
            assert found is Plan.ENTERPRISE
            assert isinstance(client.limiter, LeakyBucket)
            assert (client.limiter.capacity, client.limiter.drain_rate) == (250, 5.0)
        assert _app_info_calls(portal) == 1  # once per portal, cached
        assert portal.counters.rejected_query_limit == 0
        # 240 requests within Enterprise's burst: one app.info round trip, then one
        # round trip for everyone (a Standard bucket would need (240 - 50) / 2 s).
        assert elapsed <= 3 * LATENCY

    run_in_virtual_time(scenario())


def test_a_standard_licence_keeps_the_standard_bucket() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.STANDARD, license="de_pro100")
        chat = portal.add_chat()
        async with _app_client(portal) as client:
            await _burst(client, chat.dialog_id, 80)
            assert client.plan is Plan.STANDARD
        assert _app_info_calls(portal) == 1
        assert portal.counters.rejected_query_limit == 0

    run_in_virtual_time(scenario())


def test_webhooks_never_send_app_info_and_pace_as_standard() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.STANDARD)
        chat = portal.add_chat()
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            assert client.plan is Plan.STANDARD
            await _burst(client, chat.dialog_id, 80)
        assert _app_info_calls(portal) == 0
        assert portal.counters.rejected_query_limit == 0

    run_in_virtual_time(scenario())


def test_the_fake_portal_answers_app_info_as_documented() -> None:
    async def scenario() -> None:
        portal = FakePortal(license="de_ent10000")
        async with _app_client(portal, limiter=Plan.STANDARD) as client:
            info = (await client.call("app.info")).result
        assert (info["LICENSE"], info["LICENSE_TYPE"], info["LICENSE_FAMILY"]) == (
            "de_ent10000",
            "ent10000",
            "ent",
        )
        assert info["INSTALLED"] is True
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            from bitrix_dialog import BitrixError

            with pytest.raises(BitrixError) as refused:
                await client.call("app.info")
        assert refused.value.code == "ACCESS_DENIED"
        assert refused.value.status == 400

    run_in_virtual_time(scenario())


@pytest.mark.parametrize("failure", ["error", "no licence"])
def test_a_failed_app_info_means_standard_and_says_why(
    failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.ENTERPRISE)
        chat = portal.add_chat()
        if failure == "error":
            portal.fail_next("ACCESS_DENIED", "Access denied!", method="app.info")
        else:

            async def bare_app_info(_: object) -> object:
                return {"ID": 1, "CODE": "local.app"}

            portal.register_method("app.info", bare_app_info)
        async with _app_client(portal) as client:
            await _burst(client, chat.dialog_id, 60)
            assert client.plan is Plan.STANDARD
            await _burst(client, chat.dialog_id, 10)
        assert _app_info_calls(portal) == 1  # not asked again

    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        run_in_virtual_time(scenario())
    reasons = [r.getMessage() for r in caplog.records if "app.info" in r.getMessage()]
    assert len(reasons) == 1
    assert "Standard" in reasons[0]
    assert ("ACCESS_DENIED" if failure == "error" else "no licence") in reasons[0]


def test_a_client_told_enterprise_on_a_standard_portal_converges() -> None:
    """Told Enterprise, on a Standard portal: a handful of 503s, then none at all."""

    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.STANDARD, faults=Faults(latency=0.2))
        chat = portal.add_chat()
        refused_at: list[float] = []
        async with _app_client(portal, limiter=Plan.ENTERPRISE) as client:
            bucket = client.limiter
            assert isinstance(bucket, LeakyBucket)
            gate = asyncio.Semaphore(20)

            async def one() -> None:
                async with gate:
                    await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

            await asyncio.gather(*(one() for _ in range(400)))
            refused_at = [c.at for c in portal.calls if c.status == 503]
            assert (bucket.capacity, bucket.drain_rate) == (50, 2.0)
            # Converged: a second run draws no 503 at all.
            before = portal.counters.rejected_query_limit
            await asyncio.gather(*(one() for _ in range(200)))
            assert portal.counters.rejected_query_limit == before
        # The first refusals hit requests already in flight (up to 20, sent before any
        # refusal was known); then at most a handful while the drain estimate comes down.
        first = [at for at in refused_at if at == refused_at[0]]
        assert 0 < len(first) <= 20
        assert len(refused_at) - len(first) <= 4

    run_in_virtual_time(scenario())


def test_a_burst_over_the_real_capacity_teaches_the_capacity() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.STANDARD, faults=Faults(latency=0.5))
        chat = portal.add_chat()
        async with _app_client(portal, limiter=Plan.ENTERPRISE) as client:
            bucket = client.limiter
            assert isinstance(bucket, LeakyBucket)
            await _burst(client, chat.dialog_id, 120)  # 70 over Standard, sent at once
            assert bucket.capacity == 50
            refused = portal.counters.rejected_query_limit
            await asyncio.sleep(60)  # everything drained on both sides
            await _burst(client, chat.dialog_id, 120)  # now paced: no 503
            assert portal.counters.rejected_query_limit == refused

    run_in_virtual_time(scenario())


def test_auto_cannot_size_a_bucket_by_itself() -> None:
    with pytest.raises(ValueError, match="AUTO"):
        LeakyBucket.for_plan(Plan.AUTO)
    with pytest.raises(ValueError, match="AUTO"):
        FakePortal(bucket=Plan.AUTO)
    assert (Plan.AUTO.capacity, Plan.AUTO.drain_rate) == (50, 2.0)  # paced as Standard first
