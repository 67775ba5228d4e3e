"""Observability: events for requests, retries and limiter waits; redacted debug logs."""

from __future__ import annotations

import logging

import pytest

from bitrix_dialog import (
    Backoff,
    Client,
    Hooks,
    LeakyBucket,
    LimiterWaitEvent,
    RequestEvent,
    RetryEvent,
    RetryPolicy,
    TransportError,
)
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time


def test_every_request_retry_and_wait_is_reported() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, faults=Faults(latency=0.2))
        chat = portal.add_chat()
        requests: list[RequestEvent] = []
        retries: list[RetryEvent] = []
        waits: list[LimiterWaitEvent] = []

        async def on_retry(event: RetryEvent) -> None:  # coroutine hooks are awaited
            retries.append(event)

        hooks = Hooks(on_request=requests.append, on_retry=on_retry, on_limiter_wait=waits.append)
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(1, 2.0),
            retry=RetryPolicy(random=lambda: 0.5),
            hooks=hooks,
        ) as client:
            portal.fail_next("INTERNAL_SERVER_ERROR")
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

        assert [(e.attempt, e.status, e.error is None) for e in requests] == [
            (1, 500, False),
            (2, 200, True),
        ]
        assert requests[0].error is not None
        assert requests[0].error.code == "INTERNAL_SERVER_ERROR"
        assert all(
            e.method == "im.dialog.get" and e.elapsed == pytest.approx(0.2) for e in requests
        )
        assert [(e.attempt, e.reason, e.delay) for e in retries] == [
            (1, "INTERNAL_SERVER_ERROR", 0.25)
        ]
        # The answer came back at 0.2 s and drains for 0.5 s; the backoff used 0.25 of it.
        assert [e.kind for e in waits] == ["bucket"]
        assert waits[0].waited == pytest.approx(0.25)

    run_in_virtual_time(scenario())


async def test_a_request_without_an_answer_is_reported_with_no_status() -> None:
    portal = FakePortal(faults=Faults(dropped=1.0))
    chat = portal.add_chat()
    requests: list[RequestEvent] = []
    async with Client(
        portal.webhook_url(),
        transport=portal.transport(),
        retry=RetryPolicy.never(),
        hooks=Hooks(on_request=requests.append),
    ) as client:
        with pytest.raises(TransportError):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert [(e.status, type(e.error).__name__) for e in requests] == [(None, "TransportError")]


async def test_a_failing_hook_never_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    portal = FakePortal()
    chat = portal.add_chat()

    def broken(event: RequestEvent) -> None:
        raise ZeroDivisionError

    async with Client(
        portal.webhook_url(), transport=portal.transport(), hooks=Hooks(on_request=broken)
    ) as client:
        with caplog.at_level(logging.ERROR, logger="bitrix_dialog"):
            response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id
    assert "hook raised on RequestEvent" in caplog.text


def test_debug_logs_tell_retries_and_waits_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    portal.fail_next("QUERY_LIMIT_EXCEEDED")

    async def scenario() -> None:  # virtual time: the 10 ms drain is waited for on any machine
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(5, 100.0),  # after the 503: a 10 ms drain to wait
            retry=RetryPolicy(backoff=Backoff(base=0.001, cap=0.001)),
        ) as client:
            with caplog.at_level(logging.DEBUG, logger="bitrix_dialog"):
                await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

    run_in_virtual_time(scenario())
    assert "retry im.dialog.get after attempt 1 (QUERY_LIMIT_EXCEEDED)" in caplog.text
    assert "im.dialog.get waited" in caplog.text
    assert "for the bucket limit" in caplog.text
    assert "<- im.dialog.get HTTP 503" in caplog.text
    assert "<- im.dialog.get HTTP 200" in caplog.text
    assert portal.webhook_code not in caplog.text
