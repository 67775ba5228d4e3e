"""The per-method operating budget: tracked from answers, paced, and honoured when blocked."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bitrix_dialog import (
    Client,
    DeadlineExceededError,
    Hooks,
    LimiterWaitEvent,
    OperatingBudget,
    OperationTimeLimitError,
    RestResponse,
)
from bitrix_dialog.testing import (
    FakeChat,
    FakePortal,
    OperatingModel,
    VirtualTimeLoop,
    run_in_virtual_time,
)


def _portal(model: OperatingModel) -> tuple[VirtualTimeLoop, FakePortal, FakeChat]:
    """A portal on the running virtual loop's wall clock, charging per ``model``, with a chat."""
    loop = VirtualTimeLoop.running()
    portal = FakePortal(clock=loop.wall, operating=model)
    return loop, portal, portal.add_chat()


def _client(
    portal: FakePortal, *, hooks: Hooks | None = None, operating: OperatingBudget | None = None
) -> Client:
    return Client(
        portal.webhook_url(), transport=portal.transport(), hooks=hooks, operating=operating
    )


async def _get(
    client: Client, chat: FakeChat, method: str = "im.dialog.get", deadline: float | None = None
) -> RestResponse:
    """One call of ``method`` (the one the budgets here charge) for ``chat``."""
    return await client.call(method, {"DIALOG_ID": chat.dialog_id}, deadline=deadline)


def test_usage_is_reported_per_method() -> None:
    async def scenario() -> None:
        _, portal, chat = _portal(OperatingModel(cost={"im.dialog.get": 10.0}))
        async with _client(portal) as client:
            assert client.operating_usage("im.dialog.get").used is None
            for _ in range(3):
                response = await _get(client, chat)
            await _get(client, chat, "imbot.dialog.get")
            usage = client.operating_usage("im.dialog.get")
            other = client.operating_usage("imbot.dialog.get")
        assert response.time is not None
        assert response.time.operating == 30.0
        assert usage.used == 30.0
        assert usage.limit == 480.0
        assert usage.fraction == pytest.approx(30 / 480)
        assert usage.resets_in is not None
        assert 540 <= usage.resets_in <= 600
        assert usage.blocked_for == 0
        assert other.used == 0.0  # separate budget, no cost configured

    run_in_virtual_time(scenario())


def test_portals_that_omit_the_fields_are_not_paced() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(report=False))
        async with _client(portal) as client:
            response = await _get(client, chat)
            assert client.operating_usage("im.dialog.get").used is None
            assert client.operating_usage("im.dialog.get").fraction is None
        assert response.time is not None
        assert response.time.operating is None
        assert response.time.operating_reset_at is None
        assert loop.time() == 0

    run_in_virtual_time(scenario())


def test_a_method_is_held_before_it_exhausts_its_budget() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(cost={"im.dialog.get": 100.0}))
        waits: list[LimiterWaitEvent] = []
        async with _client(portal, hooks=Hooks(on_limiter_wait=waits.append)) as client:
            for _ in range(6):
                await _get(client, chat)
        # 4 calls use 400 s; a fifth (100 s more) would pass 480: held until the reset.
        assert portal.counters.rejected_operating == 0
        starts = [call.at - loop.epoch for call in portal.calls]
        assert starts[:4] == [0.0, 0.0, 0.0, 0.0]
        assert starts[4] >= 600.0
        assert [w.kind for w in waits] == ["operating"]

    run_in_virtual_time(scenario())


def test_calls_are_spaced_once_a_method_nears_its_budget() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(limit=100.0, cost={"im.dialog.get": 10.0}))
        budget = OperatingBudget(limit=100.0, slow_down_at=0.5)
        async with _client(portal, operating=budget) as client:
            await asyncio.gather(*(_get(client, chat) for _ in range(5)))
            for _ in range(3):
                await _get(client, chat)
        starts = [call.at - loop.epoch for call in portal.calls]
        # Past half the budget, a 10 s call may start every 10 * 600 / 100 = 60 s.
        gaps = [b - a for a, b in itertools.pairwise(starts[5:])]
        assert starts[:5] == [0.0] * 5
        assert starts[5] == 0.0
        assert gaps == [pytest.approx(60.0)] * 2
        assert portal.counters.rejected_operating == 0

    run_in_virtual_time(scenario())


def test_operation_time_limit_pauses_only_that_method() -> None:
    async def scenario() -> None:
        # The portal's limit is far below what the client assumes, so it does hit 429.
        loop, portal, chat = _portal(OperatingModel(limit=100.0, cost={"im.dialog.get": 60.0}))
        async with _client(portal) as client:
            for _ in range(2):
                await _get(client, chat)
            blocked = asyncio.create_task(_get(client, chat))
            await asyncio.sleep(1)
            assert portal.counters.rejected_operating == 1
            assert client.operating_usage("im.dialog.get").blocked_for > 500
            # Another method goes on at once.
            other = await _get(client, chat, "imbot.dialog.get")
            assert other.result["id"] == chat.id
            assert loop.time() == pytest.approx(1.0)
            assert not blocked.done()
            # The held call goes out when the oldest basket drops out, and succeeds.
            response = await blocked
        assert response.result["id"] == chat.id
        # Minute 0's basket drops out at 600 s: the retry went then, not before.
        assert portal.calls[-1].at - loop.epoch == pytest.approx(600.0)
        assert [c.status for c in portal.calls] == [200, 200, 429, 200, 200]
        assert portal.counters.rejected_operating == 1

    run_in_virtual_time(scenario())


def test_the_operating_pause_is_bounded_by_the_deadline() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(limit=100.0, cost={"im.dialog.get": 60.0}))
        async with _client(portal) as client:
            for _ in range(2):
                await _get(client, chat)
            with pytest.raises(DeadlineExceededError, match="operating"):
                await _get(client, chat, deadline=30)
            assert loop.time() == 0  # failed at once: the reset is ~600 s away
            # Later calls of the method fail fast too, without troubling the portal.
            with pytest.raises(DeadlineExceededError):
                await _get(client, chat, deadline=30)
        assert portal.counters.rejected_operating == 1

    run_in_virtual_time(scenario())


def test_operating_limit_with_no_known_reset_time_is_raised_at_once() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(limit=1.0, cost=5.0, report=False))
        async with _client(portal) as client:
            await _get(client, chat)
            with pytest.raises(OperationTimeLimitError) as caught:
                await _get(client, chat)
        assert caught.value.status == 429
        assert caught.value.resume_in is None
        assert portal.counters.rejected_operating == 1
        assert loop.time() == 0

    run_in_virtual_time(scenario())


def test_a_method_still_blocked_at_its_reset_waits_another_basket() -> None:
    async def scenario() -> None:
        loop, portal, chat = _portal(OperatingModel(limit=100.0, cost={"im.dialog.get": 1.0}))
        unknown = OperatingBudget(limit=10_000.0)  # the client does not know the limit
        async with _client(portal, operating=unknown) as client:
            await _get(client, chat)  # minute 0: 1 s
            portal.limits.operating.model = OperatingModel(
                limit=100.0, cost={"im.dialog.get": 60.0}
            )
            await asyncio.sleep(60)
            for _ in range(2):  # minute 1: 120 s, over the limit
                await _get(client, chat)
            response = await _get(client, chat)
        assert response.result["id"] == chat.id
        # Refused at 60 s; held to the reset at 600 s, when only minute 0 dropped out
        # and minute 1 still holds 120 s; refused again, held one more basket: 660 s.
        assert [c.status for c in portal.calls] == [200, 200, 200, 429, 429, 200]
        assert [c.at - loop.epoch for c in portal.calls][3:] == [60.0, 600.0, 660.0]

    run_in_virtual_time(scenario())


def test_bad_budgets_are_refused() -> None:
    with pytest.raises(ValueError, match="slow_down_at"):
        OperatingBudget(slow_down_at=1.5)
    with pytest.raises(ValueError, match="limit"):
        OperatingBudget(limit=0)
    portal = FakePortal()
    with pytest.raises(TypeError, match="operating"):
        Client(portal.webhook_url(), operating=480)  # type: ignore[arg-type]
