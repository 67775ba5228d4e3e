"""Helpers for the bulk lookup tests: a portal seeded with readable and forbidden chats."""

from __future__ import annotations

import asyncio
import os

import attrs

from bitrix_dialog import (
    AccessDeniedError,
    BitrixError,
    Dialog,
    DialogId,
    DialogKey,
    DialogOutcome,
    DialogStream,
)
from bitrix_dialog.testing import FakePortal

CALLER = 1
"""The user the portal's default webhook acts as."""


@attrs.frozen
class Seeded:
    """Chat ids by what the caller may do with them."""

    readable: tuple[int, ...]
    forbidden: tuple[int, ...]
    unknown: tuple[int, ...]


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
