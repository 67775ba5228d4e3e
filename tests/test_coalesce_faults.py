"""Coalesced callers alone in trouble: cancellation, deadlines, retries and lost outcomes.

One caller's fate never reaches the others sharing its request; a whole request's
failure reaches all of them. Virtual time, the fake portal, the public API.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bitrix_dialog import (
    BatchResultMissingError,
    BitrixError,
    Client,
    Coalesce,
    DeadlineExceededError,
    Dialog,
    Hooks,
    InvalidCredentialsError,
    InvalidDialogIdError,
    LeakyBucket,
    MethodNotFoundError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    TransportError,
)
from bitrix_dialog.testing import (
    CallContext,
    FakePortal,
    Faults,
    PortalError,
    VirtualTimeLoop,
    run_in_virtual_time,
)


def _portal() -> FakePortal:
    return FakePortal(clock=VirtualTimeLoop.running().wall)


def _client(portal: FakePortal, **options: Any) -> Client:
    options.setdefault("retry", RetryPolicy(random=lambda: 0.0))
    return Client(portal.webhook_url(), transport=portal.transport(), **options)


def _methods(portal: FakePortal) -> list[str]:
    return [call.method for call in portal.calls]


def test_a_caller_cancelled_before_sending_drops_only_its_command() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        async with _client(portal) as client:
            tasks = [asyncio.ensure_future(client.im.dialog.get(c.dialog_id)) for c in chats]
            await asyncio.sleep(0)  # every call is queued
            tasks[1].cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            assert isinstance(done[1], asyncio.CancelledError)
            assert [d.id for d in (done[0], done[2]) if isinstance(d, Dialog)] == [
                chats[0].id,
                chats[2].id,
            ]
            sent = list(portal.calls[0].params["cmd"].values())
            assert sent == [f"im.dialog.get?DIALOG_ID={chats[n].dialog_id}" for n in (0, 2)]

    run_in_virtual_time(scenario())


def test_a_caller_cancelled_while_its_request_waits_leaves_the_others_their_answers() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        async with _client(portal, limiter=LeakyBucket(1, 0.1)) as client:
            await client.im.dialog.get(chats[0].dialog_id)  # the next slot frees at 10 s
            shared = [asyncio.ensure_future(client.im.dialog.get(c.dialog_id)) for c in chats]
            same = asyncio.ensure_future(client.im.dialog.get(chats[1].dialog_id))
            await asyncio.sleep(5)
            same.cancel()  # shares chats[1]'s command with shared[1], which stays
            shared[2].cancel()
            results = await asyncio.gather(*shared, same, return_exceptions=True)
            assert isinstance(results[0], Dialog)
            assert isinstance(results[1], Dialog)
            assert isinstance(results[2], asyncio.CancelledError)
            assert isinstance(results[3], asyncio.CancelledError)
            assert len(portal.calls[1].params["cmd"]) == 2

    run_in_virtual_time(scenario())


def test_a_request_nobody_waits_for_is_not_sent() -> None:
    async def scenario() -> None:
        portal = _portal()
        chat = portal.add_chat()
        async with _client(portal, limiter=LeakyBucket(1, 0.1)) as client:
            await client.im.dialog.get(chat.dialog_id)
            lonely = asyncio.ensure_future(client.im.dialog.get(chat.dialog_id))
            await asyncio.sleep(1)
            lonely.cancel()
            await asyncio.sleep(20)
            assert _methods(portal) == ["im.dialog.get"]
            assert client.stats().requests == 1

    run_in_virtual_time(scenario())


def test_a_retried_request_is_built_again_from_the_callers_still_waiting() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(2)]
        async with _client(portal, limiter=LeakyBucket(1, 0.1)) as client:
            portal.fail_next("QUERY_LIMIT_EXCEEDED")  # the bucket is full: the retry waits 10 s
            stays, leaves = (
                asyncio.ensure_future(client.im.dialog.get(c.dialog_id)) for c in chats
            )
            await asyncio.sleep(5)
            leaves.cancel()
            dialog = await stays
            assert dialog.id == chats[0].id
            assert leaves.cancelled()
            assert [(c.method, c.status) for c in portal.calls] == [
                ("batch", 503),
                ("im.dialog.get", 200),  # the one command left goes as a plain call
            ]
            assert portal.calls[1].params == {"DIALOG_ID": chats[0].dialog_id}

    run_in_virtual_time(scenario())


def test_one_callers_deadline_inside_a_shared_batch_fails_only_that_caller() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        async with _client(portal, limiter=LeakyBucket(1, 0.1)) as client:
            await client.im.dialog.get(chats[0].dialog_id)
            started = loop.time()
            hurried = client.call(
                "im.dialog.get", {"DIALOG_ID": chats[1].dialog_id}, coalesce=True, deadline=2
            )
            patient = [client.im.dialog.get(c.dialog_id) for c in (chats[1], chats[2])]
            results = await asyncio.gather(hurried, *patient, return_exceptions=True)
            assert isinstance(results[0], DeadlineExceededError)
            assert results[0].method == "im.dialog.get"
            assert [r.id for r in results[1:] if isinstance(r, Dialog)] == [
                chats[1].id,
                chats[2].id,
            ]
            assert loop.time() - started == pytest.approx(10.0)
            assert len(portal.calls[1].params["cmd"]) == 2

    run_in_virtual_time(scenario())


def test_a_lone_caller_past_its_deadline_gets_deadline_exceeded_and_nothing_is_sent() -> None:
    async def scenario() -> None:
        portal = _portal()
        chat = portal.add_chat()
        async with _client(portal, limiter=LeakyBucket(1, 0.1), deadline=3) as client:
            await client.im.dialog.get(chat.dialog_id)
            with pytest.raises(DeadlineExceededError):
                await client.im.dialog.get(chat.dialog_id)
            await asyncio.sleep(20)
            assert _methods(portal) == ["im.dialog.get"]

    run_in_virtual_time(scenario())


def test_a_command_failing_inside_a_batch_is_retried_alone() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        retries: list[RetryEvent] = []
        async with _client(portal, hooks=Hooks(on_retry=retries.append)) as client:
            portal.fail_next("INTERNAL_SERVER_ERROR", method="im.dialog.get")
            dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
            assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
            assert _methods(portal) == ["batch", "im.dialog.get"]
            assert portal.calls[1].params == {"DIALOG_ID": chats[0].dialog_id}
            assert [(event.method, event.reason) for event in retries] == [
                ("im.dialog.get", "INTERNAL_SERVER_ERROR")
            ]

    run_in_virtual_time(scenario())


def test_a_command_out_of_retries_gets_its_error_and_its_neighbours_their_dialogs() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(2)]
        async with _client(portal, retry=RetryPolicy.never()) as client:
            portal.fail_next("INTERNAL_SERVER_ERROR", method="im.dialog.get")
            results = await asyncio.gather(
                *(client.im.dialog.get(c.dialog_id) for c in chats), return_exceptions=True
            )
            assert isinstance(results[0], ServerError)
            assert results[0].method == "im.dialog.get"
            assert isinstance(results[1], Dialog)
            assert _methods(portal) == ["batch"]

    run_in_virtual_time(scenario())


def test_a_batch_answer_without_a_command_gives_that_caller_batch_result_missing() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        serve_batch = portal.method_handler("batch")

        async def forgetful(context: CallContext) -> Any:
            answer = await serve_batch(context)
            answer["result"].pop(next(iter(answer["result"])))
            return answer

        portal.register_method("batch", forgetful)
        async with _client(portal) as client:
            results = await asyncio.gather(
                *(client.im.dialog.get(c.dialog_id) for c in chats), return_exceptions=True
            )
            assert isinstance(results[0], BatchResultMissingError)
            assert results[0].method == "im.dialog.get"
            assert [type(r) for r in results[1:]] == [Dialog, Dialog]

    run_in_virtual_time(scenario())


def test_a_whole_request_is_retried_and_a_final_failure_reaches_every_caller() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(2)]
        async with _client(portal) as client:
            portal.fail_next("QUERY_LIMIT_EXCEEDED")
            dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
            assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
            assert [(c.method, c.status) for c in portal.calls] == [("batch", 503), ("batch", 200)]
            portal.fail_next("INVALID_CREDENTIALS")
            results = await asyncio.gather(
                *(client.im.dialog.get(c.dialog_id) for c in chats), return_exceptions=True
            )
            assert all(isinstance(r, InvalidCredentialsError) for r in results)

    run_in_virtual_time(scenario())


@pytest.mark.parametrize(
    "refusal",
    [
        PortalError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404),
        PortalError("", "Not Found", status=404),  # a gateway's own 404
    ],
)
def test_a_portal_without_batch_answers_each_lookup_as_a_plain_call(
    refusal: PortalError, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]

        def no_batch(context: CallContext) -> Any:
            raise refusal

        portal.register_method("batch", no_batch)
        async with _client(portal) as client:
            dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
            assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
            assert _methods(portal) == ["batch"] + ["im.dialog.get"] * 3
            portal.calls.clear()
            missing = await asyncio.gather(
                client.im.dialog.get(chats[0].dialog_id),
                client.im.dialog.get("chat999999"),
                return_exceptions=True,
            )  # the portal is not asked for batch again; each caller its own outcome
            assert isinstance(missing[0], Dialog)
            assert isinstance(missing[1], BitrixError)
            assert missing[1].method == "im.dialog.get"
            assert _methods(portal) == ["im.dialog.get"] * 2
        assert "refused batch" in caplog.text

    run_in_virtual_time(scenario())


def test_a_lone_lookup_of_a_method_the_portal_lacks_gets_that_error() -> None:
    async def scenario() -> None:
        portal = _portal()

        def gone(context: CallContext) -> Any:
            raise PortalError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404)

        portal.register_method("im.dialog.get", gone)
        async with _client(portal) as client:
            with pytest.raises(MethodNotFoundError) as caught:
                await client.im.dialog.get("chat1")
            assert caught.value.method == "im.dialog.get"
            results = await asyncio.gather(
                client.im.dialog.get("chat1"),
                client.im.dialog.get("chat2"),
                return_exceptions=True,
            )  # inside a batch the same error, per command: batch itself is there
            assert all(isinstance(r, MethodNotFoundError) for r in results)
            assert _methods(portal) == ["im.dialog.get", "batch"]

    run_in_virtual_time(scenario())


def test_closing_the_client_answers_every_waiting_caller() -> None:
    async def scenario() -> None:
        portal = _portal()
        chat = portal.add_chat()
        client = _client(portal, limiter=LeakyBucket(1, 0.1))
        await client.im.dialog.get(chat.dialog_id)
        waiting = asyncio.ensure_future(client.im.dialog.get(chat.dialog_id))
        await asyncio.sleep(1)
        await client.aclose()
        with pytest.raises(TransportError, match="closed"):
            await waiting
        with pytest.raises(RuntimeError, match="closed"):
            await client.im.dialog.get(chat.dialog_id)

    run_in_virtual_time(scenario())


@pytest.mark.parametrize("coalesce", [True, False])
def test_a_lookup_awaited_after_the_client_closed_raises_and_sends_nothing(
    coalesce: bool,
) -> None:
    async def scenario() -> None:
        portal = _portal()
        chat = portal.add_chat()
        client = _client(portal, coalesce=coalesce)
        early = client.im.dialog.get(chat.dialog_id)  # made while open, awaited after
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await early
        assert _methods(portal) == []

    run_in_virtual_time(scenario())


def test_a_bad_argument_raises_where_the_lookup_is_awaited() -> None:
    async def scenario() -> None:
        portal = _portal()
        async with _client(portal) as client:
            lookup = client.im.dialog.get("chat0")  # making it raises nothing
            with pytest.raises(InvalidDialogIdError):
                await lookup
            assert _methods(portal) == []

    run_in_virtual_time(scenario())


def test_the_caller_that_started_a_request_may_leave_before_it_is_sent() -> None:
    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        async with _client(portal, limiter=LeakyBucket(1, 0.1)) as client:
            await client.im.dialog.get(chats[0].dialog_id)  # the next slot frees at 10 s
            first = asyncio.ensure_future(client.im.dialog.get(chats[1].dialog_id))
            await asyncio.sleep(1)  # it leads the request that waits for the slot
            second = asyncio.ensure_future(client.im.dialog.get(chats[2].dialog_id))
            await asyncio.sleep(1)
            first.cancel()
            dialog = await second
            assert dialog.id == chats[2].id
            with pytest.raises(asyncio.CancelledError):
                await first
            assert _methods(portal) == ["im.dialog.get", "im.dialog.get"]
            assert portal.calls[1].params == {"DIALOG_ID": chats[2].dialog_id}

    run_in_virtual_time(scenario())


def test_the_caller_that_started_a_request_may_leave_while_it_is_in_flight() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall, faults=Faults(latency=4.0))
        chats = [portal.add_chat() for _ in range(3)]
        async with _client(portal) as client:
            tasks = [asyncio.ensure_future(client.im.dialog.get(c.dialog_id)) for c in chats]
            await asyncio.sleep(1)  # the batch is on its way
            tasks[0].cancel()  # the caller whose task sends it
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert isinstance(results[0], asyncio.CancelledError)
            assert [r.id for r in results[1:] if isinstance(r, Dialog)] == [
                chats[1].id,
                chats[2].id,
            ]
            assert list(portal.calls[-1].params["cmd"].values()) == [
                f"im.dialog.get?DIALOG_ID={chat.dialog_id}" for chat in chats[1:]
            ]

    run_in_virtual_time(scenario())


def test_a_lookup_shared_with_a_leaving_caller_still_gets_its_dialog() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall, faults=Faults(latency=4.0))
        chat = portal.add_chat()
        async with _client(portal) as client:
            leader = asyncio.ensure_future(client.im.dialog.get(chat.dialog_id))
            follower = asyncio.ensure_future(client.im.dialog.get(chat.dialog_id))
            await asyncio.sleep(1)
            leader.cancel()
            assert (await follower).id == chat.id
            assert client.stats().shared == 1

    run_in_virtual_time(scenario())


def test_a_request_handed_back_to_a_task_is_sent_by_that_task_alone() -> None:
    """A request its own task was to send, taken over by the caller who filled it, and
    handed back when that caller left: sent once, by the task it went back to (the
    first task, still in its window, must not send it too)."""

    async def scenario() -> None:
        portal = _portal()
        chats = [portal.add_chat() for _ in range(3)]
        coalesce = Coalesce(window=0.01, max_batch=2)
        async with _client(portal, limiter=LeakyBucket(2, 0.1), coalesce=coalesce) as client:
            await asyncio.gather(  # two plain calls: slots free again at 10 s and 20 s
                *(client.call("im.dialog.get", {"DIALOG_ID": c.dialog_id}) for c in chats[:2])
            )
            portal.limits.faults = Faults(latency=15.0)  # what is sent from now on is slow
            # A caller with a deadline never leads: its request gets a task of its own.
            timed = asyncio.ensure_future(
                client.call(
                    "im.dialog.get", {"DIALOG_ID": chats[1].dialog_id}, coalesce=True, deadline=90
                )
            )
            filler = asyncio.ensure_future(client.im.dialog.get(chats[2].dialog_id))
            await asyncio.sleep(0.005)  # the filler leads, waiting for the slot
            filler.cancel()
            answer = await timed
            assert answer.result["id"] == chats[1].id
            with pytest.raises(asyncio.CancelledError):
                await filler
            await asyncio.sleep(60)
            assert _methods(portal) == ["im.dialog.get"] * 3
            assert client.stats().requests == 3

    run_in_virtual_time(scenario())
