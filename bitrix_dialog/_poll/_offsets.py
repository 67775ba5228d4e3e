"""Where a fetch-mode bot's ``offset`` is kept between polls, and who may poll.

``imbot.v2.Event.get`` confirms every event below the ``offset`` it is sent; the portal
keeps no other cursor an SDK could read. So the offset a poller has reached is state
that must outlive the process (or a restart starts over from whatever the portal last
saw confirmed), and with several workers, only one may poll a bot at a time (two would
each get the same page). An :class:`OffsetStore` holds both:

- ``load(key)`` / ``save(key, offset)``: the offset reached; ``save`` never moves it
  back, so a late worker cannot undo a newer one's progress;
- ``lease(key)``: an async context manager held while polling; the :class:`Lease` it
  yields says when it was ``lost`` (another worker may hold it now), and the poller then
  stops, re-takes it and re-loads the offset before polling again.

:class:`MemoryOffsetStore` (one process; the default) and :class:`FileOffsetStore`
(survives restarts; atomic writes) lease within the process only; with several
workers use ``bitrix_dialog.redis.RedisOffsetStore``. A store raises
:class:`~bitrix_dialog.OffsetStoreError` for a failure that may pass (an unreachable
Redis, a full disk); the stream then waits and tries again.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, Protocol, runtime_checkable

from .._errors import OffsetStoreError

__all__ = ["FileOffsetStore", "Lease", "MemoryOffsetStore", "OffsetStore", "check_offset"]


def check_offset(offset: object) -> int:
    """An offset as stored: an ``int`` of 0 or more."""
    if isinstance(offset, bool) or not isinstance(offset, int):
        msg = f"offset must be an int, not {type(offset).__name__}"
        raise TypeError(msg)
    if offset < 0:
        msg = f"offset must be 0 or more, got {offset}"
        raise ValueError(msg)
    return offset


@runtime_checkable
class Lease(Protocol):
    """A held single-consumer lease."""

    @property
    def lost(self) -> bool:
        """True once the lease ran out while held (another worker may hold it now)."""
        ...


@runtime_checkable
class OffsetStore(Protocol):
    """Keeps each bot's offset and its single-consumer lease (see the module docs)."""

    async def load(self, key: str) -> int | None:
        """The offset saved for ``key``, or ``None`` (never polled: no ``offset`` is sent)."""
        ...

    async def save(self, key: str, offset: int) -> None:
        """Store ``offset`` for ``key`` unless a larger one is stored already."""
        ...

    def lease(self, key: str) -> AbstractAsyncContextManager[Lease]:
        """Hold the right to poll ``key``; waits while another consumer holds it."""
        ...


class _Held:
    lost: Final = False


class _LocalLeases:
    """One consumer per key within this process (an ``asyncio.Lock`` each)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def lease(self, key: str) -> AsyncIterator[Lease]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield _Held()


class MemoryOffsetStore(_LocalLeases):
    """Offsets in memory: one process, gone when it ends (the portal then re-delivers
    whatever it never saw confirmed). The lease keeps one consumer per key in-process."""

    def __init__(self) -> None:
        super().__init__()
        self._offsets: dict[str, int] = {}

    async def load(self, key: str) -> int | None:
        """The offset saved for ``key``, or ``None``."""
        return self._offsets.get(key)

    async def save(self, key: str, offset: int) -> None:
        """Store ``offset`` for ``key`` unless a larger one is stored already."""
        offset = check_offset(offset)
        if offset > self._offsets.get(key, -1):
            self._offsets[key] = offset

    def __repr__(self) -> str:
        return f"MemoryOffsetStore({len(self._offsets)} keys)"


class FileOffsetStore(_LocalLeases):
    """Offsets in one JSON file (``{"key": offset, ...}``), surviving restarts.

    Every save writes a temporary file in the same directory, flushes it to disk and
    renames it over ``path`` (atomic on POSIX and Windows), so a crash leaves the old
    offsets or the new ones, never a torn file. The lease is per process: for several
    processes polling the same bots use ``bitrix_dialog.redis.RedisOffsetStore``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = pathlib.Path(path)
        self._lock = asyncio.Lock()

    def _read(self) -> dict[str, int]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        loaded = json.loads(text) if text.strip() else {}
        if not isinstance(loaded, dict):
            msg = f"{self.path} does not hold an object of offsets"
            raise ValueError(msg)
        return {str(key): int(value) for key, value in loaded.items()}

    def _write(self, key: str, offset: int) -> None:
        offsets = self._read()
        if offset <= offsets.get(key, -1):
            return
        offsets[key] = offset
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(offsets, file, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            pathlib.Path(temporary).replace(self.path)
        except BaseException:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise

    async def load(self, key: str) -> int | None:
        """The offset saved for ``key``, or ``None``."""
        async with self._lock:
            try:
                return (await asyncio.to_thread(self._read)).get(key)
            except OSError as exc:  # a file that is there but cannot be read now
                msg = f"reading the offsets in {self.path} failed ({type(exc).__name__})"
                raise OffsetStoreError(msg) from exc

    async def save(self, key: str, offset: int) -> None:
        """Store ``offset`` for ``key`` unless a larger one is stored already."""
        offset = check_offset(offset)
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, key, offset)
            except OSError as exc:  # a full disk, a directory made read-only
                msg = f"saving the offsets in {self.path} failed ({type(exc).__name__})"
                raise OffsetStoreError(msg) from exc

    def __repr__(self) -> str:
        return f"FileOffsetStore({str(self.path)!r})"
