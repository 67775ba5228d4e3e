"""Concurrent typed reads share ``batch`` requests, and each caller gets what it would alone.

Everything runs against the fake portal in virtual time, through the public API only;
what went over the wire is read from ``portal.calls``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    BitrixError,
    CallEndEvent,
    CallStartEvent,
    Client,
    ClientStats,
    Coalesce,
    Dialog,
    Hooks,
    InvalidDialogIdError,
    LeakyBucket,
    Plan,
    RestResponse,
    RetryPolicy,
)
from bitrix_dialog.testing import FakePortal, VirtualTimeLoop, run_in_virtual_time

Scenario = Callable[[FakePortal, Client], Awaitable[None]]


def _run(scenario: Scenario, **options: Any) -> FakePortal:
    """``scenario(portal, client)`` in virtual time, with a client of the given options."""

    async def main() -> FakePortal:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        options.setdefault("retry", RetryPolicy(random=lambda: 0.0))
        async with Client(portal.webhook_url(), transport=portal.transport(), **options) as client:
            await scenario(portal, client)
        return portal

    return run_in_virtual_time(main())


def _methods(portal: FakePortal) -> list[str]:
    return [call.method for call in portal.calls]


def _commands(portal: FakePortal, index: int) -> list[str]:
    """The ``cmd`` strings of the ``index``-th request, which must be a batch."""
    call = portal.calls[index]
    assert call.method == "batch"
    return list(call.params["cmd"].values())


async def _alone(portal: FakePortal, read: Callable[[Client], Awaitable[Any]]) -> Any:
    """What one call gets from a client that does not coalesce: the reference."""
    async with Client(portal.webhook_url(), transport=portal.transport(), coalesce=False) as client:
        try:
            return await read(client)
        except BitrixError as error:
            return error


def _get(dialog_id: str) -> Callable[[Client], Awaitable[Any]]:
    """``client.im.dialog.get(dialog_id)`` for :func:`_alone`."""
    return lambda client: client.im.dialog.get(dialog_id)


def _same_error(got: BaseException, alone: BaseException) -> None:
    assert type(got) is type(alone)
    assert isinstance(got, BitrixError)
    assert isinstance(alone, BitrixError)
    assert (got.code, got.description, got.method) == (alone.code, alone.description, alone.method)


def test_a_lone_call_goes_out_as_a_plain_call() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat(name="Support")
        dialog = await client.im.dialog.get(chat.dialog_id)
        assert dialog == await _alone(portal, lambda c: c.im.dialog.get(chat.dialog_id))
        assert _methods(portal) == ["im.dialog.get", "im.dialog.get"]
        assert portal.calls[0].params == {"DIALOG_ID": chat.dialog_id}
        assert client.stats() == ClientStats(requests=1, callers=1, commands=1)

    _run(scenario)


def test_calls_of_one_loop_iteration_share_a_batch_in_order() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat(name=f"Chat {n}") for n in range(5)]
        dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
        assert _methods(portal) == ["batch"]
        assert _commands(portal, 0) == [f"im.dialog.get?DIALOG_ID={c.dialog_id}" for c in chats]
        for chat, dialog in zip(chats, dialogs, strict=True):
            dialog_id = chat.dialog_id
            assert dialog == await _alone(portal, _get(dialog_id))
        assert client.stats() == ClientStats(requests=1, callers=5, commands=5, batched=1)

    _run(scenario)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.eager_task_factory: 3.12+")
def test_calls_of_eager_tasks_share_a_batch_too() -> None:
    """An eager task runs its first step inside ``create_task``: ``gather`` makes the next
    call right after the first yields, so the first must still wait for company."""

    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat(name=f"Chat {n}") for n in range(5)]
        loop = asyncio.get_running_loop()
        if sys.version_info >= (3, 12):
            loop.set_task_factory(asyncio.eager_task_factory)
        try:
            dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        finally:
            loop.set_task_factory(None)
        assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
        assert _methods(portal) == ["batch"]
        assert len(_commands(portal, 0)) == len(chats)

    _run(scenario)


def test_identical_lookups_in_flight_share_one_command_and_one_dialog() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat, other = portal.add_chat(), portal.add_chat()
        dialogs = await asyncio.gather(
            client.im.dialog.get(chat.dialog_id),
            client.im.dialog.get(chat.dialog_id),
            client.im.dialog.get(f"CHAT{chat.id}"),  # the same dialog, spelled otherwise
            client.imbot.dialog.get(chat.dialog_id),  # another method: its own command
            client.im.dialog.get(other.dialog_id),
        )
        assert dialogs[0] is dialogs[1] is dialogs[2]
        assert dialogs[3] == dialogs[0]
        assert dialogs[3] is not dialogs[0]
        assert len(_commands(portal, 0)) == 3
        stats = client.stats()
        assert (stats.callers, stats.commands, stats.shared) == (5, 3, 2)

    _run(scenario)


def test_errors_go_to_their_own_callers_as_they_would_alone() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat()
        hidden = portal.add_chat(members=frozenset({7}))
        outcomes = await asyncio.gather(
            client.im.dialog.get(chat.dialog_id),
            client.im.dialog.get(hidden.dialog_id),
            client.im.dialog.get("chat999"),
            return_exceptions=True,
        )
        assert isinstance(outcomes[0], Dialog)
        for got, dialog_id in ((outcomes[1], hidden.dialog_id), (outcomes[2], "chat999")):
            assert isinstance(got, AccessDeniedError)
            alone = await _alone(portal, _get(dialog_id))
            _same_error(got, alone)
        assert _methods(portal)[0] == "batch"

    _run(scenario)


def test_callers_sharing_a_refusal_each_get_an_exception_of_their_own() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        hidden = portal.add_chat(members=frozenset({7}))
        outcomes = await asyncio.gather(
            *(client.im.dialog.get(hidden.dialog_id) for _ in range(3)),
            return_exceptions=True,
        )
        assert len(portal.calls) == 1  # one command served all three
        first, *others = outcomes
        assert isinstance(first, AccessDeniedError)
        for other in others:
            assert isinstance(other, AccessDeniedError)
            assert other is not first  # one caller's traceback or notes never reach another
            _same_error(other, first)
            assert other.body == first.body

    _run(scenario)


def test_mixed_methods_and_bots_share_a_request_each_acting_as_itself() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat(members=frozenset({1, 456}))
        portal.add_bot(456, token="tok-a", chats=(chat.id,))
        portal.add_bot(789, token="tok-b")  # not a member of the chat
        outcomes = await asyncio.gather(
            client.im.dialog.get(chat.dialog_id),
            client.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="tok-a"),
            client.imbot.v2.chat.get(chat.dialog_id, bot_id=789, bot_token="tok-b"),
            client.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="wrong"),
            client.im.chat.get(entity_type="CRM", entity_id="DEAL|1"),
            return_exceptions=True,
        )
        assert _methods(portal) == ["batch"]
        commands = _commands(portal, 0)
        assert len(commands) == 5
        assert "botId=456&dialogId=" in commands[1]
        assert "botId=789&dialogId=" in commands[2]
        reads: list[Callable[[Client], Awaitable[Any]]] = [
            lambda c: c.im.dialog.get(chat.dialog_id),
            lambda c: c.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="tok-a"),
            lambda c: c.imbot.v2.chat.get(chat.dialog_id, bot_id=789, bot_token="tok-b"),
            lambda c: c.imbot.v2.chat.get(chat.dialog_id, bot_id=456, bot_token="wrong"),
            lambda c: c.im.chat.get(entity_type="CRM", entity_id="DEAL|1"),
        ]
        for got, read in zip(outcomes, reads, strict=True):
            alone = await _alone(portal, read)
            if isinstance(alone, BitrixError):
                assert isinstance(got, BaseException)
                _same_error(got, alone)
            else:
                assert got == alone
        assert isinstance(outcomes[1], Dialog)
        assert isinstance(outcomes[2], BitrixError)
        assert isinstance(outcomes[3], BitrixError)

    _run(scenario)


def test_more_than_fifty_pending_calls_fill_batches_of_fifty() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(120)]
        dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats]
        assert _methods(portal) == ["batch"] * 3
        assert [len(_commands(portal, n)) for n in range(3)] == [50, 50, 20]

    _run(scenario)


def test_max_batch_caps_the_commands_of_one_request() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(7)]
        await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        assert _methods(portal) == ["batch", "batch", "batch", "im.dialog.get"]

    _run(scenario, coalesce=Coalesce(max_batch=2))


def test_calls_waiting_for_a_limiter_slot_ride_in_the_request_that_gets_it() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        loop = VirtualTimeLoop.running()
        chats = [portal.add_chat() for _ in range(6)]
        first = await client.im.dialog.get(chats[0].dialog_id)  # fills the bucket of one

        async def later(delay: float, chat_index: int) -> Dialog:
            await asyncio.sleep(delay)
            return await client.im.dialog.get(chats[chat_index].dialog_id)

        dialogs = await asyncio.gather(*(later(n, n) for n in range(1, 6)))
        assert [dialog.id for dialog in [first, *dialogs]] == [chat.id for chat in chats]
        assert _methods(portal) == ["im.dialog.get", "batch"]
        assert len(_commands(portal, 1)) == 5
        assert portal.calls[1].at - portal.calls[0].at == pytest.approx(10.0)
        assert loop.time() > 0

    _run(scenario, limiter=LeakyBucket(1, 0.1))


def test_a_window_merges_calls_made_a_little_apart() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(3)]

        async def later(delay: float, chat_index: int) -> Dialog:
            await asyncio.sleep(delay)
            return await client.im.dialog.get(chats[chat_index].dialog_id)

        await asyncio.gather(later(0, 0), later(0.002, 1), later(0.004, 2))
        assert _methods(portal) == ["batch"]

    _run(scenario, coalesce=Coalesce(window=0.005))


def test_coalescing_off_sends_every_call_alone() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(3)]
        await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        await asyncio.gather(*(client.im.dialog.get(chats[0].dialog_id) for _ in range(2)))
        assert _methods(portal) == ["im.dialog.get"] * 5
        assert client.stats() == ClientStats(requests=5)

    _run(scenario, coalesce=False)


def test_client_call_coalesces_a_known_read_only_when_asked() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(2)]
        asked = await asyncio.gather(
            *(
                client.call("im.dialog.get", {"DIALOG_ID": c.dialog_id}, coalesce=True)
                for c in chats
            )
        )
        assert [response.result["id"] for response in asked] == [chat.id for chat in chats]
        assert all(isinstance(response, RestResponse) for response in asked)
        assert _methods(portal) == ["batch"]
        await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": c.dialog_id}) for c in chats)
        )
        assert _methods(portal) == ["batch", "im.dialog.get", "im.dialog.get"]
        with pytest.raises(ValueError, match="writes are never coalesced"):
            await client.call("imbot.message.add", {"BOT_ID": 1}, coalesce=True)

    _run(scenario)


def test_bad_input_raises_at_the_call_site_and_costs_the_others_nothing() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat()
        good = asyncio.ensure_future(client.im.dialog.get(chat.dialog_id))
        with pytest.raises(InvalidDialogIdError):
            await client.im.dialog.get("chat-1")
        with pytest.raises(ValueError, match="exactly one"):
            await client.imopenlines.dialog.get()
        assert isinstance(await good, Dialog)
        assert _methods(portal) == ["im.dialog.get"]

    _run(scenario)


def test_hooks_see_the_real_requests_and_how_many_callers_each_served() -> None:
    starts: list[CallStartEvent] = []
    ends: list[CallEndEvent] = []

    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(3)]
        await asyncio.gather(
            *(client.im.dialog.get(c.dialog_id) for c in chats),
            client.im.dialog.get(chats[0].dialog_id),
        )
        await client.im.dialog.get(chats[1].dialog_id)

    _run(scenario, hooks=Hooks(on_call_start=starts.append, on_call_end=ends.append))
    assert [(e.method, e.commands, e.coalesced_callers) for e in starts] == [
        ("batch", 3, 4),
        ("im.dialog.get", None, 1),
    ]
    assert [(e.method, e.coalesced_callers, e.error) for e in ends] == [
        ("batch", 4, None),
        ("im.dialog.get", 1, None),
    ]


def test_a_standard_bucket_takes_six_batches_for_three_hundred_calls() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(300)]
        await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in chats))
        assert _methods(portal) == ["batch"] * 6
        assert portal.counters.rejected_query_limit == 0

    _run(scenario, limiter=Plan.STANDARD)


def test_a_read_whose_params_cannot_ride_in_a_batch_goes_alone() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat()
        params = {"DIALOG_ID": chat.dialog_id, "x.y": 1}  # PHP would read "x_y" in a batch
        responses = await asyncio.gather(
            client.call("im.dialog.get", params, coalesce=True),
            client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}, coalesce=True),
        )
        assert [r.result["id"] for r in responses] == [chat.id, chat.id]
        assert _methods(portal) == ["im.dialog.get", "im.dialog.get"]

    _run(scenario)


def test_options_are_checked_when_the_client_is_made() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalesce(max_batch=51)
    with pytest.raises(ValueError, match="window"):
        Coalesce(window=-1)
    with pytest.raises(TypeError, match="coalesce must be"):
        Client("https://example.bitrix24.com/rest/1/x/", coalesce="yes")  # type: ignore[arg-type]
    stats = ClientStats()
    with pytest.raises(AttributeError):
        stats.requests = 5  # type: ignore[misc]


def test_sequential_calls_each_ask_the_portal_again() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chat = portal.add_chat(name="Before")
        assert (await client.im.dialog.get(chat.dialog_id)).name == "Before"
        chat.name = "After"
        assert (await client.im.dialog.get(chat.dialog_id)).name == "After"
        assert _methods(portal) == ["im.dialog.get", "im.dialog.get"]

    _run(scenario)


def test_a_burst_shares_answers_even_when_the_portal_answers_at_once() -> None:
    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(60)]
        wanted = [chat.dialog_id for chat in chats] * 3
        dialogs = await asyncio.gather(*(client.im.dialog.get(d) for d in wanted))
        assert [dialog.id for dialog in dialogs] == [chat.id for chat in chats] * 3
        assert [len(_commands(portal, n)) for n in range(len(portal.calls))] == [50, 10]
        assert client.stats().shared == 120

    _run(scenario)


def test_answers_are_freed_as_soon_as_their_callers_drop_them() -> None:
    """No reference cycle holds a coalesced answer (or its command and request) for the
    cyclic garbage collector: a busy service's lookups are freed as they complete, and
    cost no collector passes."""

    async def scenario(portal: FakePortal, client: Client) -> None:
        chats = [portal.add_chat() for _ in range(3)]
        wanted = [chat.dialog_id for chat in chats] * 2

        async def lookups(client: Client, ids: list[str]) -> list[weakref.ref[Dialog]]:
            dialogs = await asyncio.gather(*map(client.im.dialog.get, ids))
            return [weakref.ref(dialog) for dialog in dialogs]

        gc.collect()
        gc.disable()
        try:
            # In a task of their own: the loop's handle that resumes a task holds what
            # it awaited (here only the weak references) until the task yields again.
            lone = await asyncio.ensure_future(lookups(client, wanted[:1]))
            shared = await asyncio.ensure_future(lookups(client, wanted))
            async with Client(
                portal.webhook_url(), transport=portal.transport(), deadline=60
            ) as timed:  # each caller with a timer of its own
                bounded = await asyncio.ensure_future(lookups(timed, wanted))
                await asyncio.sleep(0)  # the cancelled timers finish
            got = [ref() for ref in lone + shared + bounded]
            assert got == [None] * (1 + 2 * len(wanted))
        finally:
            gc.enable()

    _run(scenario)
