"""Helpers for the bulk lookup tests: a portal seeded with readable and forbidden chats."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import attrs

from bitrix_dialog import (
    AccessDeniedError,
    BitrixError,
    Client,
    Dialog,
    DialogId,
    DialogKey,
    DialogOutcome,
    DialogStream,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import CallContext, FakePortal

CALLER = 1
"""The user the portal's default webhook acts as."""


@attrs.frozen
class Seeded:
    """Chat ids by what the caller may do with them."""

    readable: tuple[int, ...]
    forbidden: tuple[int, ...]
    unknown: tuple[int, ...]


def count_in_flight(portal: FakePortal) -> Callable[[], int]:
    """Wrap the portal's handler; returns a function giving the peak of requests in flight."""
    in_flight = peak = 0
    original: Callable[[HttpRequest], Awaitable[HttpResponse]] = portal.handle

    async def counting(request: HttpRequest) -> HttpResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(request)
        finally:
            in_flight -= 1

    portal.handle = counting  # type: ignore[method-assign]
    return lambda: peak


def seed(portal: FakePortal, readable: int, forbidden: int, unknown: int = 0) -> Seeded:
    """``readable`` chats the caller is in, ``forbidden`` ones it is not, and ids of no chat."""
    ok = tuple(
        portal.add_chat(name=f"Chat {n}", members=frozenset({CALLER, 7})).id
        for n in range(readable)
    )
    no = tuple(
        portal.add_chat(name=f"Secret {n}", members=frozenset({7})).id for n in range(forbidden)
    )
    start = max((*ok, *no), default=0) + 1000
    return Seeded(readable=ok, forbidden=no, unknown=tuple(range(start, start + unknown)))


def check_outcome(portal: FakePortal, key: DialogKey, outcome: DialogOutcome) -> None:
    """The outcome is the dialog ``key`` names, or the error the portal gives for it."""
    assert isinstance(key, DialogId)
    assert key.chat_id is not None
    chat = portal.chats.get(key.chat_id)
    if chat is not None and chat.readable_by(CALLER):
        assert isinstance(outcome, Dialog), outcome
        assert outcome.id == chat.id
        assert outcome.name == chat.name
    else:
        assert isinstance(outcome, AccessDeniedError), outcome
        assert outcome.code == "ACCESS_ERROR"
        assert outcome.method == "im.dialog.get"


async def drain(stream: DialogStream) -> list[tuple[DialogKey, DialogOutcome]]:
    """Every outcome of ``stream``, closing it afterwards."""
    async with stream:
        return [pair async for pair in stream]


def other_tasks() -> set[asyncio.Task[object]]:
    """Tasks of the running loop other than the current one."""
    return asyncio.all_tasks() - {asyncio.current_task()}


def open_fds() -> int:
    """File descriptors this process holds (Linux)."""
    return len(os.listdir("/proc/self/fd"))


def errors_of(pairs: list[tuple[DialogKey, DialogOutcome]]) -> dict[DialogKey, BitrixError]:
    """The failed keys of a drained stream."""
    return {key: value for key, value in pairs if isinstance(value, BitrixError)}


async def assert_every_connection_is_free(client: Client, portal: FakePortal, limit: int) -> None:
    """Hold ``limit`` requests at the portal at once: it answers none until all arrived.

    Over a transport capped at ``limit`` connections, that succeeds only if no earlier
    (cancelled or failed) request still holds a connection: one held back would leave
    the last request waiting for a connection forever, and the timeout fails the test.
    Each request must arrive exactly once: one that only got through after the client's
    own request timeout and a retry means a connection (or a limiter slot) was held.
    The client's limiter must let ``limit`` requests be in flight at once.
    """
    portal.limits.faults = None  # the check, not the scenario: no injected failures
    arrived = 0
    everyone = asyncio.Event()

    async def rendezvous(context: CallContext) -> bool:
        nonlocal arrived
        arrived += 1
        if arrived >= limit:
            everyone.set()
        await everyone.wait()
        return True

    portal.register_method("test.connections.get", rendezvous)
    try:
        async with asyncio.timeout(20):  # a deadlock fails here (before the 30 s request timeout)
            answers = await asyncio.gather(
                *(client.call("test.connections.get") for _ in range(limit))
            )
    except TimeoutError:
        msg = f"fewer than {limit} connections were free: one is still held"
        raise AssertionError(msg) from None
    assert [answer.result for answer in answers] == [True] * limit
    assert arrived == limit, f"{arrived - limit} requests were sent again after a timeout"
