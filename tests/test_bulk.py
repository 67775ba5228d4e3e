"""Bulk dialog lookups through the public client: one outcome per distinct id, streamed."""

from __future__ import annotations

import asyncio
import math
import runpy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    Client,
    Dialog,
    DialogId,
    DialogResults,
    InvalidDialogIdError,
    LeakyBucket,
    NotFoundError,
    RejectedInput,
)
from bitrix_dialog.abc import Slot
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

from .bulk_kit import check_outcome, count_in_flight, drain, errors_of, other_tasks, seed
from .conftest import QUICK_RETRY


def memory_client(portal: FakePortal, **options: object) -> Client:
    """An in-memory client whose bucket never fills (this portal does not meter)."""
    return Client(
        portal.webhook_url(),
        transport=portal.transport(),
        retry=QUICK_RETRY,
        limiter=LeakyBucket(1_000_000, 1_000_000.0),
        **options,  # type: ignore[arg-type]
    )


def batches(portal: FakePortal) -> int:
    return sum(1 for call in portal.calls if call.method == "batch")


def commands(portal: FakePortal) -> list[str]:
    """Every command the portal received inside a batch, as ``method?query``."""
    return [
        cmd
        for call in portal.calls
        if call.method == "batch"
        for cmd in call.params["cmd"].values()
    ]


async def test_1000_ids_with_forbidden_and_duplicates_give_one_right_outcome_each() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=900, forbidden=80, unknown=20)
    distinct = [*seeded.readable, *seeded.forbidden, *seeded.unknown]
    assert len(distinct) == 1000
    # The same ids again in every spelling the portal accepts for them.
    again = [f"CHAT{n}" for n in distinct[::7]] + [DialogId.chat(n) for n in distinct[::11]]
    ids = [f"chat{n}" for n in distinct] + again
    async with memory_client(portal) as client:
        pairs = await drain(client.dialogs.get_many(ids))

    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)) == 1000
    assert set(keys) == {DialogId.chat(n) for n in distinct}
    for key, outcome in pairs:
        check_outcome(portal, key, outcome)
    assert len(errors_of(pairs)) == 100
    assert batches(portal) == 20  # 1,000 distinct ids, 50 per request, nothing resent


async def test_user_ids_dedupe_across_int_and_string() -> None:
    portal = FakePortal()
    for other in (7, 8):
        portal.add_chat(message_type="P", type="private", members=frozenset({1, other}))
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all([7, "7", DialogId.user(7), "8", 8, 9])
    assert list(results) == [DialogId.user(7), DialogId.user(8), DialogId.user(9)]
    assert isinstance(results[7], Dialog)
    assert isinstance(results["8"], Dialog)
    assert isinstance(results[9], AccessDeniedError)  # no private chat with user 9


async def test_large_ids_dedupe_as_well_as_small_ones() -> None:
    portal = FakePortal()
    big_chat = portal.add_chat(20_000_000, name="Big", members=frozenset({1}))
    small_chat = portal.add_chat(3, name="Small", members=frozenset({1}))
    ids: list[object] = [
        *("chat20000000", "CHAT20000000", DialogId.chat(20_000_000)),
        *("chat3", "Chat3"),
        *(2**40, str(2**40)),  # a user id far past any bitmap
        *("sg3", "crm3", 3),  # the same number, other kinds: other dialogs
    ]
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all(ids)  # type: ignore[arg-type]
        stream = client.dialogs.get_many(iter(ids))  # type: ignore[arg-type]
        unsized = await drain(stream)
    expected = [
        DialogId.chat(20_000_000),
        DialogId.chat(3),
        DialogId.user(2**40),
        DialogId("sg3"),
        DialogId("crm3"),
        DialogId.user(3),
    ]
    assert list(results) == expected
    assert sorted(map(str, (key for key, _ in unsized))) == sorted(map(str, expected))
    assert stream.total == 6
    big, small = results[big_chat.dialog_id], results[small_chat.dialog_id]
    assert isinstance(big, Dialog)
    assert big.name == "Big"
    assert isinstance(small, Dialog)
    assert small.name == "Small"


async def test_get_all_keeps_input_order_and_splits_dialogs_from_errors() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=120, forbidden=10)
    order = [*seeded.forbidden[:5], *seeded.readable, *seeded.forbidden[5:]]
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all(f"chat{n}" for n in reversed(order))
    assert isinstance(results, DialogResults)
    assert list(results) == [DialogId.chat(n) for n in reversed(order)]
    assert set(results.dialogs) == {DialogId.chat(n) for n in seeded.readable}
    assert set(results.errors) == {DialogId.chat(n) for n in seeded.forbidden}
    assert not results.ok
    assert f"chat{seeded.readable[0]}" in results
    assert "chatx" not in results
    with pytest.raises(AccessDeniedError):
        results.raise_first()
    assert repr(results) == "DialogResults(130 ids, 10 failed)"


async def test_invalid_inputs_are_their_own_outcomes_and_cost_nothing_else() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=60, forbidden=0)
    good = [f"chat{n}" for n in seeded.readable]
    bad: list[object] = ["chatx", None, 0, -4, "chat0", True, 2.5, "", "chatx"]
    ids = [*good[:30], *bad, *good[30:]]
    async with memory_client(portal) as client:
        pairs = await drain(client.dialogs.get_many(ids))  # type: ignore[arg-type]

    errors = errors_of(pairs)
    assert len(pairs) == 60 + len(bad)  # invalid inputs are not deduplicated: each is reported
    assert len(errors) == len(bad)
    for key, error in errors.items():
        assert isinstance(key, RejectedInput)
        assert isinstance(error, InvalidDialogIdError)
        assert error.code == "INVALID_DIALOG_ID"
        assert error.value is key.value
        assert ids[key.position] is key.value
        assert f"ids[{key.position}]" in error.description
        assert isinstance(error.__cause__, ValueError | TypeError)
    for key, outcome in pairs:
        if isinstance(key, DialogId):
            check_outcome(portal, key, outcome)
    # Never sent: the portal saw only the 60 good ids, in two batches.
    assert batches(portal) == 2
    assert len(commands(portal)) == 60


def test_results_stream_before_the_last_batch_is_answered() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        # Answers take 1-20 s each, so the 20 batches finish one by one.
        portal = FakePortal(clock=loop.wall, faults=Faults(latency=(1.0, 20.0), seed=3))
        seeded = seed(portal, readable=1000, forbidden=0)
        async with memory_client(portal) as client:
            stream = client.dialogs.get_many(f"chat{n}" for n in seeded.readable)
            async with stream:
                first_at: float | None = None
                answered_then = 0
                count = 0
                async for _ in stream:
                    if first_at is None:
                        first_at, answered_then = loop.time(), portal.counters.answered
                    count += 1
            assert count == 1000
            assert first_at is not None
            assert first_at < loop.time()
            assert answered_then < 20  # the first outcomes came while batches were in flight
            assert portal.counters.answered == 20

    run_in_virtual_time(scenario())


async def test_progress_counts_with_an_exact_total_for_a_sized_input() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=130, forbidden=20)
    ids = [f"chat{n}" for n in (*seeded.readable, *seeded.forbidden)] + ["CHAT1", "bad"]
    seen: list[tuple[int, int | None, int]] = []
    async with memory_client(portal) as client:
        stream = client.dialogs.get_many(ids, progress=lambda *args: seen.append(args))
        assert (stream.done, stream.total, stream.errors) == (0, 151, 0)
        await drain(stream)
    assert seen
    assert all(total == 151 for _, total, _ in seen)  # duplicates not counted; "bad" is
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)
    assert seen[-1] == (151, 151, 21)
    assert (stream.done, stream.total, stream.errors) == (151, 151, 21)


async def test_progress_total_is_none_until_an_unsized_input_ends() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=120, forbidden=0)
    seen: list[tuple[int, int | None, int]] = []

    def ids() -> Iterator[str]:
        for n in seeded.readable:
            yield f"chat{n}"
            yield f"chat{n}"  # each twice

    async with memory_client(portal) as client:
        stream = client.dialogs.get_many(
            ids(), progress=lambda *args: seen.append(args), max_in_flight=1
        )
        await drain(stream)
    assert seen[0] == (50, None, 0)  # answered before the input was read to its end
    assert seen[-1] == (120, 120, 0)


async def test_async_iterables_are_read_lazily() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=75, forbidden=0)

    async def ids() -> AsyncIterator[str]:
        for n in seeded.readable:
            yield f"chat{n}"

    async with memory_client(portal) as client:
        pairs = await drain(client.dialogs.get_many(ids()))
    assert {key for key, _ in pairs} == {DialogId.chat(n) for n in seeded.readable}
    assert all(isinstance(outcome, Dialog) for _, outcome in pairs)


def test_a_stalled_async_source_holds_back_neither_answers_nor_the_ids_it_gave() -> None:
    """A queue that gives 60 ids, then nothing for 100 s, then 10 more: the first 60
    are sent (50, then the 10 waiting) and handed over long before the source resumes."""

    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        chats = [portal.add_chat() for _ in range(70)]
        arrived: list[float] = []

        async def ids() -> AsyncIterator[str]:
            for chat in chats[:60]:
                yield chat.dialog_id
            await asyncio.sleep(100)
            for chat in chats[60:]:
                yield chat.dialog_id

        async with memory_client(portal) as client:
            async for _, outcome in client.dialogs.get_many(ids()):
                assert isinstance(outcome, Dialog)
                arrived.append(loop.time())
        assert len(arrived) == 70
        assert max(arrived[:60]) < 1  # not at 100 s, when the source gave more
        assert min(arrived[60:]) >= 100
        sizes = [len(_batch_commands(call)) for call in portal.calls]
        assert sizes == [50, 10, 10]

    run_in_virtual_time(scenario())


def test_leaving_a_lookup_while_its_source_stalls_leaves_no_task_behind() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        chats = [portal.add_chat() for _ in range(10)]
        closed = False

        async def ids() -> AsyncIterator[str]:
            nonlocal closed
            try:
                for chat in chats:
                    yield chat.dialog_id
                await asyncio.sleep(3600)  # then nothing for an hour
                yield "chat1"
            finally:
                closed = True

        async with memory_client(portal) as client:
            got = []
            async with client.dialogs.get_many(ids()) as results:
                async for pair in results:
                    got.append(pair)
                    if len(got) == 10:
                        break  # while the source waits for its next id
            assert len(got) == 10
            assert other_tasks() == set()
        assert closed  # the source was stopped, not left waiting

    run_in_virtual_time(scenario())


def test_a_fast_async_source_still_fills_batches_of_fifty() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        chats = [portal.add_chat() for _ in range(230)]

        async def ids() -> AsyncIterator[str]:
            for number, chat in enumerate(chats):
                if number % 7 == 0:
                    await asyncio.sleep(0.001)  # a cursor fetching its next rows
                yield chat.dialog_id

        async with memory_client(portal) as client:
            pairs = await drain(client.dialogs.get_many(ids()))
        assert len(pairs) == 230
        assert [len(_batch_commands(call)) for call in portal.calls] == [50, 50, 50, 50, 30]

    run_in_virtual_time(scenario())


def _batch_commands(call: Any) -> list[str]:
    assert call.method == "batch"
    return list(call.params["cmd"])


async def test_input_is_read_only_as_far_as_the_requests_in_flight() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=50, forbidden=0)
    read = 0

    def endless() -> Iterator[str]:
        nonlocal read
        for number in range(1, 10**9):
            read += 1
            yield f"chat{seeded.readable[number % 50]}" if number <= 50 else f"chat{number}"

    async with memory_client(portal) as client:
        stream = client.dialogs.get_many(endless(), max_in_flight=3)
        async with stream:
            taken = 0
            async for _ in stream:
                taken += 1
                if taken == 120:
                    break
    # Three chunks in flight plus the one being filled, never the endless rest.
    assert read <= 120 + 4 * 50
    assert batches(portal) <= 120 // 50 + 4


@pytest.mark.parametrize("payload_style", ["legacy", "rich"])
async def test_imbot_dialog_get_in_bulk(payload_style: str) -> None:
    portal = FakePortal(payload_style=payload_style)  # type: ignore[arg-type]
    seeded = seed(portal, readable=70, forbidden=5)
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all(
            [f"chat{n}" for n in (*seeded.readable, *seeded.forbidden)], client.imbot.dialog.get
        )
    assert len(results.dialogs) == 70
    assert {type(error) for error in results.errors.values()} == {AccessDeniedError}
    assert len(results.errors) == 5
    assert all(cmd.startswith("imbot.dialog.get?DIALOG_ID=chat") for cmd in commands(portal))
    assert results.dialogs[DialogId.chat(seeded.readable[3])].name == "Chat 3"


async def test_imopenlines_dialog_get_in_bulk_takes_only_chat_ids() -> None:
    portal = FakePortal()
    lines = [
        portal.add_openline_chat(f"livechat|1|{n}|{n + 100}", operator_id=1, name=f"Line {n}")
        for n in range(60)
    ]
    closed = portal.add_openline_chat("livechat|1|999|999", operator_id=5, members=frozenset({5}))
    ids: list[object] = [line.dialog_id for line in lines] + [closed.dialog_id, 256, "sg3"]
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all(ids, client.imopenlines.dialog.get)  # type: ignore[arg-type]
    assert len(results) == 63
    for line in lines:
        dialog = results[line.dialog_id]
        assert isinstance(dialog, Dialog)
        assert dialog.name == line.name
    assert isinstance(results[closed.dialog_id], AccessDeniedError)
    # Only the chatNNN form names an open-line chat: the others are refused unsent.
    for other in (256, "sg3"):
        error = results[other]
        assert isinstance(error, InvalidDialogIdError)
        assert "chatNNN" in error.description
    assert len(commands(portal)) == 61


async def test_imbot_v2_chat_get_in_bulk_with_the_clients_bot_or_the_calls() -> None:
    portal = FakePortal()
    member = [portal.add_chat(name=f"Team {n}", members=frozenset({1})) for n in range(55)]
    closed = portal.add_chat(name="Closed", members=frozenset({1}))
    portal.add_bot(456, token="bot-secret", chats=tuple(chat.id for chat in member))
    portal.add_bot(789, token="other-secret", chats=(closed.id,))
    ids = [chat.dialog_id for chat in (*member, closed)] + ["chat99999"]
    async with memory_client(portal, bot_id=456, bot_token="bot-secret") as client:
        results = await client.dialogs.get_all(ids, method=client.imbot.v2.chat.get)
        assert all(isinstance(results[chat.dialog_id], Dialog) for chat in member)
        assert isinstance(results[closed.dialog_id], AccessDeniedError)  # ACCESS_DENIED
        assert isinstance(results["chat99999"], NotFoundError)  # CHAT_NOT_FOUND
        other = await client.dialogs.get_all(
            [closed.dialog_id], client.imbot.v2.chat.get, bot_id=789, bot_token="other-secret"
        )
        assert isinstance(other[closed.dialog_id], Dialog)
    # The client's token went only with the client's bot.
    sent = commands(portal)
    assert sum("botId=456&" in cmd and "botToken=bot-secret" in cmd for cmd in sent) == 57
    assert sum("botId=789&" in cmd and "botToken=other-secret" in cmd for cmd in sent) == 1
    assert len(sent) == 58


async def test_a_result_that_does_not_fit_the_model_is_that_ids_own_error() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=10, forbidden=0)
    broken = seeded.readable[4]
    portal.chats[broken].extra = {"date_create": "not a date"}
    async with memory_client(portal) as client:
        results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
    assert list(results.errors) == [DialogId.chat(broken)]
    error = results.errors[DialogId.chat(broken)]
    assert error.code == "MODEL_DECODE_ERROR"
    assert len(results.dialogs) == 9


async def test_bad_arguments_raise_before_anything_is_sent() -> None:
    portal = FakePortal()
    async with memory_client(portal) as client:
        dialogs = client.dialogs
        with pytest.raises(
            ValueError, match=r"im\.chat\.get does not look up a dialog.*im\.dialog"
        ):
            dialogs.get_many(["chat1"], client.im.chat.get)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="typed dialog method"):
            dialogs.get_many(["chat1"], 5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"typed dialog method.*'imbot\.v2\.Chat\.get'"):
            dialogs.get_many(["chat1"], "imbot.v2.Chat.get")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a single string"):
            dialogs.get_many("chat1")
        with pytest.raises(TypeError, match="iterable"):
            dialogs.get_many(5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="progress must be callable"):
            dialogs.get_many(["chat1"], progress=5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_in_flight must be >= 1"):
            dialogs.get_many(["chat1"], max_in_flight=0)
        with pytest.raises(ValueError, match="needs bot_id"):
            dialogs.get_many(["chat1"], client.imbot.v2.chat.get)
        with pytest.raises(ValueError, match="takes no bot credentials"):
            dialogs.get_many(["chat1"], client.im.dialog.get, bot_id=456)
        with pytest.raises(ValueError, match="bot_token"):
            dialogs.get_many(["chat1"], client.imbot.v2.chat.get, bot_id=456, bot_token=" ")
        with pytest.raises(ValueError, match="needs bot_id"):
            await dialogs.get_all(["chat1"], client.imbot.v2.chat.get.spec)
    with pytest.raises(RuntimeError, match="closed"):
        client.dialogs.get_many(["chat1"])
    assert portal.calls == []


async def test_an_empty_input_gives_nothing_and_sends_nothing() -> None:
    portal = FakePortal()
    seen: list[tuple[int, int | None, int]] = []
    async with memory_client(portal) as client:
        assert await drain(client.dialogs.get_many([], progress=lambda *a: seen.append(a))) == []
        assert len(await client.dialogs.get_all(iter(()))) == 0
    assert portal.calls == []


async def test_the_default_width_follows_the_limiter() -> None:
    portal = FakePortal(faults=Faults(latency=0.002))  # answers take a moment
    seeded = seed(portal, readable=500, forbidden=0)
    peak = count_in_flight(portal)
    async with Client(
        portal.webhook_url(), transport=portal.transport(), limiter=LeakyBucket(4, 1000.0)
    ) as client:
        assert len(await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)) == 500
    assert peak() == 4  # the bucket's capacity: as many as the limiter lets through at once
    assert math.ceil(500 / 50) == batches(portal)


class _Declared:
    """A limiter with room for all, declaring a capacity of 3 through the protocol."""

    capacity = 3

    def __init__(self) -> None:
        self._bucket = LeakyBucket(1000, 1000.0)

    async def acquire(self, *, max_wait: float | None = None) -> Slot:
        return await self._bucket.acquire(max_wait=max_wait)

    async def release(self, slot: Slot) -> None:
        await self._bucket.release(slot)

    async def saturate(self) -> None:
        await self._bucket.saturate()


async def test_the_default_width_is_the_capacity_a_limiter_declares() -> None:
    portal = FakePortal(faults=Faults(latency=0.002))
    seeded = seed(portal, readable=300, forbidden=0)
    peak = count_in_flight(portal)
    async with Client(
        portal.webhook_url(), transport=portal.transport(), limiter=_Declared()
    ) as client:
        assert len(await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)) == 300
    assert peak() == 3


def test_the_bulk_lookup_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parent.parent / "examples" / "bulk_lookup.py"
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out
    assert "saved 2970 dialogs; 31 failed: ['ACCESS_ERROR', 'INVALID_DIALOG_ID']" in out
