"""The overall deadline of a call: limiter waits, requests and backoff all fit inside it."""

from __future__ import annotations

import math
import random

import pytest

from bitrix_dialog import (
    Client,
    DeadlineExceededError,
    LeakyBucket,
    QueryLimitExceededError,
    RequestTimeoutError,
    RetryPolicy,
    Timeout,
)
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time


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
