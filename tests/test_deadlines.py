"""The overall deadline of a call: limiter waits, requests and backoff all fit inside it."""

from __future__ import annotations

import math
import random

import pytest

from bitrix_dialog import (
    Client,
    DeadlineExceededError,
    LeakyBucket,
    OperatingBudget,
    QueryLimitExceededError,
    RequestTimeoutError,
    RestResponse,
    RetryPolicy,
    Timeout,
)
from bitrix_dialog.testing import (
    FakePortal,
    Faults,
    OperatingModel,
    VirtualTimeLoop,
    run_in_virtual_time,
)


def test_a_1s_deadline_against_a_saturated_portal_fails_within_1s() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=(1, 0.01))  # drains one per 100 s
        chat = portal.add_chat()
        assert portal.limits.bucket is not None
        assert portal.limits.bucket.admit()  # someone else filled it
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            deadline=1.0,
            retry=RetryPolicy(random=random.Random(6).random),
        ) as client:
            started = loop.time()
            with pytest.raises(RequestTimeoutError) as caught:
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            elapsed = loop.time() - started
        assert isinstance(caught.value, DeadlineExceededError)
        assert isinstance(caught.value.__cause__, QueryLimitExceededError)
        assert caught.value.method == "im.dialog.get"
        assert elapsed <= 1.0
        assert portal.counters.rejected_query_limit >= 1

    run_in_virtual_time(scenario())


def test_a_limiter_wait_longer_than_the_deadline_fails_at_once() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        chat = portal.add_chat()
        bucket = LeakyBucket(1, 0.1)  # after one call, the next waits 10 s
        async with Client(
            portal.webhook_url(), transport=portal.transport(), limiter=bucket
        ) as client:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            started = loop.time()
            with pytest.raises(DeadlineExceededError, match="rate limiter"):
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}, deadline=2.0)
            assert loop.time() == started  # no sleeping through a hopeless wait
            # Lifting the deadline for one call waits the 10 s.
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}, deadline=math.inf)
            assert loop.time() == pytest.approx(started + 10.0)

    run_in_virtual_time(scenario())


def test_a_slow_answer_is_cut_off_at_the_deadline() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, faults=Faults(latency=20.0))
        chat = portal.add_chat()
        async with Client(
            portal.webhook_url(), transport=portal.transport(), timeout=Timeout(read=8.0)
        ) as client:
            started = loop.time()
            with pytest.raises(RequestTimeoutError):
                await client.call("im.message.add", {"DIALOG_ID": chat.dialog_id}, deadline=3.0)
            assert loop.time() - started == pytest.approx(3.0)
            # Without a deadline the client's read timeout applies; a read is retried
            # three times, so four attempts of 8 s plus short backoffs.
            started = loop.time()
            with pytest.raises(RequestTimeoutError):
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            assert 32.0 <= loop.time() - started <= 32.0 + 0.5 + 1.0 + 2.0

    run_in_virtual_time(scenario())


def test_the_call_deadline_overrides_the_client_default() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        chat = portal.add_chat()
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            deadline=0.3,
            retry=RetryPolicy(random=lambda: 1.0),  # the first backoff is 0.5 s
        ) as client:
            portal.fail_next("QUERY_LIMIT_EXCEEDED")
            with pytest.raises(DeadlineExceededError, match=r"retry after 0\.50 s"):
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            portal.fail_next("QUERY_LIMIT_EXCEEDED")
            response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}, deadline=5)
        assert response.result["id"] == chat.id

    run_in_virtual_time(scenario())


@pytest.mark.parametrize(
    ("deadline", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (math.nan, ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
async def test_bad_deadlines_are_refused_before_sending(
    deadline: object, error: type[Exception]
) -> None:
    portal = FakePortal()
    with pytest.raises(error, match="deadline"):
        Client(portal.webhook_url(), transport=portal.transport(), deadline=deadline)  # type: ignore[arg-type]
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(error, match="deadline"):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"}, deadline=deadline)  # type: ignore[arg-type]
    assert portal.counters.received == 0


def _paced_client(portal: FakePortal, **options: object) -> Client:
    """A client whose ``im.dialog.get`` must wait 60 s for its operating budget after one
    call, and whose bucket has its only slot back 110 s after that call."""
    return Client(
        portal.webhook_url(),
        transport=portal.transport(),
        limiter=LeakyBucket(1, 1 / 110),
        operating=OperatingBudget(limit=100.0, window=60.0),
        **options,  # type: ignore[arg-type]
    )


def _paced_portal(loop: VirtualTimeLoop) -> tuple[FakePortal, list[str]]:
    # Each lookup executes for 60 s of a 100 s budget per 60 s window: after one, the
    # next would cross the budget, so the client holds the method to the reset (60 s).
    portal = FakePortal(
        clock=loop.wall,
        operating=OperatingModel(limit=100.0, window=60.0, cost={"im.dialog.get": 60.0}),
    )
    ids = [portal.add_chat().dialog_id for _ in range(3)]
    return portal, ids


@pytest.mark.parametrize("path", ["batch", "get_all"])
def test_a_batch_request_spends_its_deadline_once(path: str) -> None:
    # The operating wait (60 s) and the limiter wait after it (50 s) come out of one
    # 100 s deadline: the request cannot be sent in time, and fails as soon as that is
    # certain instead of starting the deadline afresh after the operating wait.
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal, ids = _paced_portal(loop)
        async with _paced_client(portal, deadline=100.0) as client:
            await client.call("im.dialog.get", {"DIALOG_ID": ids[0]})
            outcomes: list[object]
            if path == "batch":
                result = await client.batch([("im.dialog.get", {"DIALOG_ID": i}) for i in ids])
                outcomes = list(result.values())
            else:
                outcomes = list((await client.dialogs.get_all(ids)).values())
        assert len(outcomes) == 3
        for outcome in outcomes:
            assert isinstance(outcome, DeadlineExceededError), outcome
        assert "rate limiter" in str(outcomes[0])
        assert [call.method for call in portal.calls] == ["im.dialog.get"]
        assert loop.time() == pytest.approx(60.0)

    run_in_virtual_time(scenario())


def test_batch_takes_a_deadline_like_call() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal, ids = _paced_portal(loop)
        calls = [("im.dialog.get", {"DIALOG_ID": ids[1]})]
        async with _paced_client(portal) as client:  # no default deadline
            await client.call("im.dialog.get", {"DIALOG_ID": ids[0]})
            result = await client.batch(calls, deadline=100.0)
            assert all(isinstance(o, DeadlineExceededError) for o in result.values())
            assert loop.time() == pytest.approx(60.0)
            # Lifting it waits the limiter out: sent at 110 s.
            result = await client.batch(calls, deadline=math.inf)
        assert result.ok
        assert [call.method for call in portal.calls] == ["im.dialog.get", "batch"]
        assert portal.calls[1].at - loop.epoch == pytest.approx(110.0)

    run_in_virtual_time(scenario())


def test_one_batch_deadline_covers_all_its_requests() -> None:
    # 120 commands are three requests, sent in order; the bucket frees a slot every
    # 10 s after the first. A 15 s deadline fits the first two, not the third.
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        chat = portal.add_chat()
        calls = [("im.dialog.get", {"DIALOG_ID": chat.dialog_id})] * 120
        async with Client(
            portal.webhook_url(), transport=portal.transport(), limiter=LeakyBucket(1, 0.1)
        ) as client:
            result = await client.batch(calls, deadline=15.0)
        outcomes = list(result.values())
        assert all(isinstance(o, RestResponse) for o in outcomes[:50])
        assert all(isinstance(o, RestResponse) for o in outcomes[50:100])
        assert all(isinstance(o, DeadlineExceededError) for o in outcomes[100:])
        assert [call.at - loop.epoch for call in portal.calls] == [0.0, 10.0]

    run_in_virtual_time(scenario())


async def test_bad_batch_deadlines_are_refused_before_sending() -> None:
    portal = FakePortal()
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        for deadline, error in ((0, ValueError), ("1", TypeError)):
            with pytest.raises(error, match="deadline"):
                await client.batch([("im.dialog.get", {"DIALOG_ID": "chat1"})], deadline=deadline)  # type: ignore[arg-type]
    assert portal.counters.received == 0
