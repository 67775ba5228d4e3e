"""Fetch-mode bots: ``client.imbot.v2.events(...)`` and ``EventPoller`` against the fake portal.

Every event is handled exactly once and in order, confirmed only after its handler
returned; a consumer that dies mid-page comes back to that page only; an idle bot is
polled within the idle window, in virtual time; final errors end the poller after one
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pathlib
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bitrix_dialog import (
    AccessDeniedError,
    BadRequestError,
    BitrixError,
    Client,
    DialogCache,
    FileOffsetStore,
    InsufficientScopeError,
    MemoryOffsetStore,
    NotFoundError,
    OffsetStoreError,
    Plan,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
    V2MessageDeleteEvent,
)
from bitrix_dialog.abc import Lease
from bitrix_dialog.aiohttp import BitrixEvents, EventPoller, setup
from bitrix_dialog.testing import CallContext, FakePortal, VirtualTimeLoop, run_in_virtual_time

from .conftest import QUICK_RETRY

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOT = 456
TOKEN = "fetch-bot-token"
METHOD = "imbot.v2.Event.get"


def _portal(**kwargs: Any) -> FakePortal:
    portal = FakePortal(**kwargs)
    chat = portal.add_chat(5, name="Support", members=frozenset({1, BOT}))
    portal.add_bot(BOT, token=TOKEN, chats=(chat.id,))
    return portal


def _client(portal: FakePortal, **kwargs: Any) -> Client:
    return Client(
        portal.webhook_url(),
        transport=portal.transport(),
        bot_id=BOT,
        bot_token=TOKEN,
        retry=QUICK_RETRY,
        **kwargs,
    )


def _queue(portal: FakePortal, count: int) -> list[int]:
    return [
        portal.queue_event(BOT, "ONIMBOTV2MESSAGEDELETE", {"messageId": n}) for n in range(count)
    ]


def _polls(portal: FakePortal) -> list[dict[str, Any]]:
    return [dict(call.params) for call in portal.calls if call.method == METHOD]


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (polling, in whatever time the loop keeps) until ``condition()`` holds."""
    while not condition():  # noqa: ASYNC110 - the conditions are the portal's state
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _running(poller: EventPoller, client: Client) -> AsyncIterator[asyncio.Task[None]]:
    """``poller.run(client)`` as a task for the block; then cancelled, which must end it."""
    task = asyncio.create_task(poller.run(client))
    try:
        yield task
    finally:
        task.cancel()
        [ended] = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(ended, asyncio.CancelledError), ended


def test_2500_events_come_once_in_order_in_26_requests() -> None:
    async def scenario() -> None:
        portal = _portal()
        ids = _queue(portal, 2500)
        seen: list[int] = []
        poller = EventPoller(limit=100)

        @poller.on(V2MessageDeleteEvent)
        async def record(event: V2MessageDeleteEvent, client: Client) -> None:
            assert event.event_id is not None
            seen.append(event.event_id)

        async with _client(portal) as client, _running(poller, client):
            await _until(lambda: portal.bots[BOT].confirmed_offset > ids[-1])
        assert seen == ids
        polls = _polls(portal)
        assert len(polls) == 26  # 25 pages, then the call that confirms the last one
        assert "offset" not in polls[0]
        assert [poll["offset"] for poll in polls[1:]] == [*ids[100::100], ids[-1] + 1]
        assert {poll["limit"] for poll in polls} == {100}
        assert poller.handled == 2500

    run_in_virtual_time(scenario())


async def test_a_consumer_killed_mid_page_gets_only_that_page_again(
    tmp_path: pathlib.Path,
) -> None:
    portal = _portal()
    ids = _queue(portal, 350)
    path = tmp_path / "offsets.json"
    first: list[int] = []
    async with _client(portal) as client:
        events = client.imbot.v2.events(offsets=FileOffsetStore(path), limit=100)
        async for event in events:
            assert event.event_id is not None
            first.append(event.event_id)
            if len(first) == 250:  # mid third page: the process dies, nothing is closed
                break
    # A new process: a new store on the same file, a new client.
    second: list[int] = []
    async with (
        _client(portal) as client,
        client.imbot.v2.events(offsets=FileOffsetStore(path), limit=100) as events,
    ):
        async for event in events:
            assert event.event_id is not None
            second.append(event.event_id)
            if event.event_id == ids[-1]:
                break
    assert first == ids[:250]
    assert second == ids[200:]  # the unconfirmed third page again, from its start
    assert sorted(set(first) & set(second)) == ids[200:250]


async def test_a_clean_stop_mid_page_saves_what_was_handled(tmp_path: pathlib.Path) -> None:
    portal = _portal()
    ids = _queue(portal, 150)
    store = FileOffsetStore(tmp_path / "offsets.json")
    started = asyncio.Event()
    handled: list[int] = []
    poller = EventPoller(offsets=store)

    @poller.fallback
    async def slow(event: V2Event, client: Client) -> None:
        assert event.event_id is not None
        if event.event_id == ids[120]:
            started.set()
            await asyncio.Event().wait()  # cancelled while handling this one
        handled.append(event.event_id)

    async with _client(portal) as client:
        async with _running(poller, client):
            await started.wait()
        assert handled == ids[:120]
        assert await store.load(f"{portal.domain}:{BOT}") == ids[120]
        again = FileOffsetStore(tmp_path / "offsets.json")
        async with client.imbot.v2.events(offsets=again) as events:
            event = await anext(events)
    assert event.event_id == ids[120]  # the interrupted one comes again; nothing before it


def test_an_idle_bot_is_polled_within_the_idle_window() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = _portal(clock=loop.wall)
        seen: list[float] = []
        poller = EventPoller(idle=(5, 30), random=lambda: 0.5)

        @poller.fallback
        async def record(event: V2Event, client: Client) -> None:
            seen.append(loop.time())

        async with _client(portal) as client, _running(poller, client):
            await asyncio.sleep(100)
            portal.queue_event(BOT, "ONIMBOTV2DELETE", {})
            await asyncio.sleep(60)
        at = [call.at - loop.epoch for call in portal.calls if call.method == METHOD]
        gaps = [round(later - earlier, 6) for earlier, later in itertools.pairwise(at)]
        # empty polls: 5 + (ceiling - 5) * 0.5 with the ceiling doubling from 10 up to 30
        assert gaps[:6] == [7.5, 12.5, 17.5, 17.5, 17.5, 17.5]
        arrival = next(i for i, t in enumerate(at) if t > 100)
        assert len(seen) == 1
        assert seen[0] == pytest.approx(at[arrival])
        # the poll that confirms it follows at once, then the window starts again
        assert gaps[arrival] == 0
        assert gaps[arrival + 1] == 7.5

    run_in_virtual_time(scenario())


def test_has_more_is_polled_again_at_once() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = _portal(clock=loop.wall)
        ids = _queue(portal, 30)
        async with _client(portal) as client, client.imbot.v2.events(limit=10) as events:
            got = [event.event_id async for event in _take(events, 30)]
        assert got == ids
        assert loop.time() == 0
        assert len(_polls(portal)) == 3

    run_in_virtual_time(scenario())


async def _take(events: Any, count: int) -> Any:
    taken = 0
    async for event in events:
        yield event
        taken += 1
        if taken == count:
            return


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("BOT_NOT_FOUND", NotFoundError),
        ("BOT_OWNERSHIP_ERROR", AccessDeniedError),
        ("SCOPE_ERROR", InsufficientScopeError),
        ("USER_NOT_SUBSCRIBED", BadRequestError),
        ("BOT_TOKEN_NOT_SPECIFIED", BadRequestError),
    ],
)
async def test_final_errors_end_the_poller_after_one_request(
    code: str, error: type[BitrixError]
) -> None:
    portal = _portal()
    portal.fail_next(code, "refused", method=METHOD)
    async with _client(portal) as client:
        with pytest.raises(error) as raised:
            await EventPoller().run(client)
    assert raised.value.code == code
    assert len(_polls(portal)) == 1


@pytest.mark.parametrize(
    ("failures", "count"),
    [
        pytest.param(2, 5, id="transient-failures-are-retried"),
        pytest.param(20, 3, id="what-the-retry-policy-gave-up-on-is-polled-again-later"),
    ],
)
def test_failing_polls_lose_nothing(failures: int, count: int) -> None:
    async def scenario() -> None:
        portal = _portal()
        ids = _queue(portal, count)
        portal.fail_next("INTERNAL_SERVER_ERROR", method=METHOD, times=failures)
        async with _client(portal) as client, client.imbot.v2.events() as events:
            got = [event.event_id async for event in _take(events, count)]
        assert got == ids

    run_in_virtual_time(scenario())


async def test_a_page_answered_twice_is_handled_once() -> None:
    portal = _portal()
    ids = _queue(portal, 4)
    served: list[Any] = []
    serve = portal.method_handler(METHOD)  # the fake's own, wrapped

    async def stutter(context: CallContext) -> Any:
        answer = await serve(context)
        if not served:
            served.append(answer)
            return {**answer, "nextOffset": ids[0]}  # confirms nothing: page 1 comes again
        return answer

    portal.register_method(METHOD, stutter)
    async with _client(portal) as client, client.imbot.v2.events(limit=2) as events:
        got = [event.event_id async for event in _take(events, 4)]
    assert got == ids


async def test_handlers_by_code_class_and_fallback(caplog: pytest.LogCaptureFixture) -> None:
    portal = _portal()
    join = portal.queue_event(BOT, "ONIMBOTV2JOINCHAT", {"dialogId": "chat5"})
    message = portal.queue_message(BOT, 5, "hi")
    boom = portal.queue_message(BOT, 5, "boom")
    other = portal.queue_event(BOT, "ONIMBOTV2SOMETHINGNEW", {})
    calls: list[tuple[str, int | None]] = []
    poller = EventPoller()

    @poller.on("onimbotv2joinchat")
    async def joined(event: V2Event, client: Client) -> None:
        calls.append(("code", event.event_id))

    @poller.on(V2MessageAddEvent)
    async def added(event: V2MessageAddEvent, client: Client) -> None:
        assert event.message is not None
        if event.message.text == "boom":
            raise RuntimeError("handler bug")
        calls.append(("class", event.event_id))

    @poller.fallback
    async def rest(event: V2Event, client: Client) -> None:
        calls.append(("fallback", event.event_id))

    with pytest.raises(ValueError, match="already has a handler"):
        poller.add(V2MessageAddEvent, added)
    assert poller.handler_for(V2JoinChatEvent(type="ONIMBOTV2JOINCHAT")) is joined
    async with _client(portal) as client, _running(poller, client):
        with caplog.at_level(logging.ERROR, logger="bitrix_dialog"):
            await _until(lambda: poller.handled == 4)
    assert calls == [("code", join), ("class", message), ("fallback", other)]
    assert poller.failed == 1
    assert "handler bug" in caplog.text
    assert str(boom) in caplog.text


async def test_the_poller_runs_in_an_aiohttp_app() -> None:
    portal = _portal()
    ids = _queue(portal, 3)
    seen: list[int | None] = []
    poller = EventPoller(bot_id=BOT, bot_token=TOKEN, offsets=MemoryOffsetStore())

    @poller.fallback
    async def record(event: V2Event, client: Client) -> None:
        seen.append(event.event_id)

    app = web.Application()
    setup(app, portal.webhook_url(), transport=portal.transport())
    app.cleanup_ctx.append(poller.cleanup_ctx)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await _until(lambda: len(seen) == 3)
    finally:
        await runner.cleanup()
    assert seen == ids


async def test_bad_arguments_fail_before_any_request() -> None:
    portal = _portal()
    async with _client(portal) as client:
        with pytest.raises(ValueError, match="limit"):
            client.imbot.v2.events(limit=1001)
        with pytest.raises(ValueError, match="idle"):
            client.imbot.v2.events(idle=(30, 5))
        with pytest.raises(TypeError, match="offsets"):
            client.imbot.v2.events(offsets={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idle"):
        EventPoller(idle=(0, 5))
    assert portal.calls == []


_KILLED_WORKER = """
import asyncio, os, signal, sys
from bitrix_dialog import Client, FileOffsetStore
from bitrix_dialog.aiohttp import EventPoller

webhook, path, log, stop_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

async def main():
    poller = EventPoller(bot_id=456, bot_token="fetch-bot-token", offsets=FileOffsetStore(path))

    @poller.fallback
    async def record(event, client):
        with open(log, "a") as file:
            file.write(f"{event.event_id}\\n")
        if event.event_id == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)  # mid-page, in the handler: no cleanup at all

    async with Client(webhook) as client:
        await poller.run(client)

asyncio.run(main())
"""


async def test_a_worker_killed_with_sigkill_mid_page_loses_nothing(
    tmp_path: pathlib.Path,
) -> None:
    portal = _portal()
    ids = _queue(portal, 300)
    path, log = tmp_path / "offsets.json", tmp_path / "handled.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    async with portal.serve() as base:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _KILLED_WORKER,
            portal.webhook_url(base),
            str(path),
            str(log),
            str(ids[149]),
            env=env,
        )
        async with asyncio.timeout(60):
            assert await process.wait() == -signal.SIGKILL
    first = [int(line) for line in log.read_text().split()]
    assert first == ids[:150]  # it died handling the 50th event of the second page
    second: list[int] = []
    async with (
        _client(portal) as client,
        client.imbot.v2.events(offsets=FileOffsetStore(path)) as events,
    ):
        async for event in events:
            assert event.event_id is not None
            second.append(event.event_id)
            if event.event_id == ids[-1]:
                break
    assert second == ids[100:]  # the unconfirmed second page again, and the rest


async def test_one_bitrix_events_serves_fetch_mode_and_the_cache_learns_from_its_events() -> None:
    """The handlers written for webhook mode run unchanged behind a poller (``request``
    is ``None``), and each event's ``chat`` answers the handler's lookup: nothing sent."""
    portal = _portal()
    first = portal.queue_message(BOT, 5, "hello")
    second = portal.queue_message(BOT, 5, "again")
    events = BitrixEvents()
    seen: list[tuple[int | None, str | None, object]] = []

    @events.on(V2MessageAddEvent)
    async def answer(event: V2MessageAddEvent, client: Client, request: web.Request | None) -> None:
        assert event.chat is not None
        assert event.chat.dialog_id is not None
        chat = await client.imbot.v2.chat.get(event.chat.dialog_id)
        seen.append((event.event_id, chat.name, request))

    poller = EventPoller(events=events)
    with pytest.raises(RuntimeError, match="register them there"):
        poller.on("ONIMBOTV2MESSAGEADD")(answer)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="dispatch"):
        EventPoller(events=object())  # type: ignore[arg-type]
    async with _client(portal, cache=DialogCache()) as client, _running(poller, client):
        await _until(lambda: poller.handled == 2)
    assert seen == [(first, "Support", None), (second, "Support", None)]
    assert not [call for call in portal.calls if call.method == "imbot.v2.Chat.get"]


async def test_a_pollers_own_handlers_find_the_events_chat_in_the_cache() -> None:
    portal = _portal()
    portal.queue_message(BOT, 5, "hello")
    poller = EventPoller()
    names: list[str | None] = []

    @poller.on(V2MessageAddEvent)
    async def answer(event: V2MessageAddEvent, client: Client) -> None:
        assert event.chat is not None
        assert event.chat.dialog_id is not None
        names.append((await client.imbot.v2.chat.get(event.chat.dialog_id)).name)

    async with _client(portal, cache=DialogCache()) as client, _running(poller, client):
        await _until(lambda: poller.handled == 1)
    assert names == ["Support"]
    assert not [call for call in portal.calls if call.method == "imbot.v2.Chat.get"]


def test_polls_go_through_the_clients_limiter() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = _portal(clock=loop.wall, bucket=Plan.STANDARD)
        ids = _queue(portal, 150)
        async with (
            _client(portal, limiter=Plan.STANDARD) as client,
            client.imbot.v2.events(limit=1) as events,
        ):
            got = [event.event_id async for event in _take(events, 150)]
        assert got == ids
        assert len(_polls(portal)) == 150
        assert portal.counters.rejected_query_limit == 0  # paced, never refused
        assert loop.time() > 40  # past the first 50, the bucket's 2 requests a second

    run_in_virtual_time(scenario())


class _FlakyStore(MemoryOffsetStore):
    """A store whose every operation fails once before it works (a Redis blip)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: list[str] = []

    def _once(self, what: str) -> None:
        if what not in self.failed:
            self.failed.append(what)
            msg = f"{what}: connection refused"
            raise OffsetStoreError(msg)

    async def load(self, key: str) -> int | None:
        self._once("load")
        return await super().load(key)

    async def save(self, key: str, offset: int) -> None:
        self._once("save")
        await super().save(key, offset)

    @contextlib.asynccontextmanager
    async def lease(self, key: str) -> AsyncIterator[Lease]:
        self._once("lease")
        async with super().lease(key) as held:
            yield held


def test_a_failing_offset_store_delays_the_bot_but_loses_and_repeats_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = _portal(clock=loop.wall)
        ids = _queue(portal, 250)
        store = _FlakyStore()
        seen: list[int] = []
        poller = EventPoller(offsets=store, idle=(5, 30), random=lambda: 0.0)

        @poller.on(V2MessageDeleteEvent)
        async def record(event: V2MessageDeleteEvent, client: Client) -> None:
            assert event.event_id is not None
            seen.append(event.event_id)

        async with _client(portal) as client, _running(poller, client) as task:
            await _until(lambda: task.done() or portal.bots[BOT].confirmed_offset > ids[-1])
            assert not task.done(), task.exception()  # the poller rode the failures out
        assert seen == ids  # each once, in order
        assert store.failed == ["lease", "load", "save"]
        assert await store.load(f"{portal.domain}:{BOT}") == ids[-1] + 1
        assert loop.time() >= 15  # an idle wait after each failure

    with caplog.at_level(logging.WARNING, logger="bitrix_dialog"):
        run_in_virtual_time(scenario())
    failures = [r.getMessage() for r in caplog.records if "offset store" in r.getMessage()]
    assert len(failures) == 3
    assert "trying again in 5.0 s" in failures[0]


def test_offset_stores_report_their_failures_as_offset_store_errors(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario() -> None:
        store = FileOffsetStore(tmp_path / "no-such-dir-is-a-file" / "offsets.json")
        (tmp_path / "no-such-dir-is-a-file").write_text("")  # its directory is a file
        with pytest.raises(OffsetStoreError, match="saving the offsets") as caught:
            await store.save("portal:1", 5)
        assert isinstance(caught.value.__cause__, OSError)
        with pytest.raises(OffsetStoreError, match="reading the offsets"):
            await store.load("portal:1")

    asyncio.run(scenario())


class _CancelLosingStore(MemoryOffsetStore):
    """Saves as a store on redis-py does under Python 3.11 when a cancel arrives just as
    Redis answers: ``asyncio.wait_for`` returns the answer and the cancel is lost."""

    def __init__(self) -> None:
        super().__init__()
        self.saving = asyncio.Event()

    async def save(self, key: str, offset: int) -> None:
        self.saving.set()
        with contextlib.suppress(asyncio.CancelledError):  # the library's bug, played
            await asyncio.sleep(3600)
        await super().save(key, offset)


def test_a_poller_stops_when_cancelled_even_if_a_library_lost_the_cancel() -> None:
    async def scenario() -> None:
        portal = _portal()
        _queue(portal, 3)
        store = _CancelLosingStore()
        poller = EventPoller(offsets=store, idle=(5, 30))
        poller.fallback(_ignore)
        async with _client(portal) as client:
            task = asyncio.create_task(poller.run(client))
            await store.saving.wait()  # the page is handled; its offset is being saved
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=600)
            assert done, "the poller went on polling after it was cancelled"
            assert task.cancelled()
        assert len(_polls(portal)) == 1  # it never polled again

    run_in_virtual_time(scenario())


async def _ignore(event: V2Event, client: Client) -> None:
    pass
