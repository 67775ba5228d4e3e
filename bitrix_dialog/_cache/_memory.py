"""The in-process dialog cache: :class:`DialogCache`, an LRU with a TTL per entry.

    client = Client(url, cache=DialogCache(ttl=60, max_entries=10_000))

Entries expire by the injected ``clock`` (``time.monotonic`` by default); past
``max_entries`` the least recently used one goes. One instance may be shared by several
clients: entries are kept apart per credential identity (see :mod:`._keys`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

import attrs

from .._types import Clock
from ._backend import CacheLookup, check_count, check_optional_ttl, check_ttl
from ._entry import CacheEntry

__all__ = ["DialogCache"]

_Key = tuple[str, str]  # (scope, entry key)


@attrs.define
class _Slot:
    entry: CacheEntry
    expires_at: float
    dialog_ids: tuple[str, ...]


class DialogCache:
    """Dialog lookups kept in this process for ``ttl`` seconds, at most ``max_entries``.

    - ``ttl``: seconds an answer (a ``Dialog``, a chat id) is served without asking the
      portal (default 60);
    - ``max_entries``: entries kept at most; the least recently used is dropped first;
    - ``negative_ttl``: seconds a "not found"-like refusal (``CHAT_NOT_FOUND``,
      ``BOT_NOT_FOUND``, ``ACCESS_ERROR``, ...) or a ``None`` answer of ``im.chat.get``
      is kept; ``None`` (the default): refusals are never cached, every caller asks
      again (an ``ACCESS_ERROR`` may be fixed a second later). Keep it short;
    - ``clock``: monotonic seconds, injectable for tests.
    """

    DEFAULT_TTL: Final = 60.0
    DEFAULT_MAX_ENTRIES: Final = 10_000

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        negative_ttl: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._ttl = check_ttl("ttl", ttl)
        self._negative_ttl = check_optional_ttl("negative_ttl", negative_ttl)
        self._max_entries = check_count("max_entries", max_entries)
        if clock is not None and not callable(clock):
            msg = "clock must be a callable returning monotonic seconds"
            raise TypeError(msg)
        self._clock: Clock = clock or time.monotonic
        self._slots: OrderedDict[_Key, _Slot] = OrderedDict()
        self._index: dict[tuple[str, str], set[str]] = {}
        self._versions: dict[str, int] = {}

    @property
    def ttl(self) -> float:
        return self._ttl

    @property
    def negative_ttl(self) -> float | None:
        return self._negative_ttl

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def __len__(self) -> int:
        """Entries held now (expired ones included until they are next looked at)."""
        return len(self._slots)

    async def lookup(self, scope: str, key: str) -> CacheLookup:
        version = self._versions.get(scope, 0)
        slot = self._slots.get((scope, key))
        if slot is None:
            return CacheLookup(None, version)
        if self._clock() >= slot.expires_at:
            self._drop((scope, key))
            return CacheLookup(None, version)
        self._slots.move_to_end((scope, key))
        return CacheLookup(slot.entry, version)

    async def store(
        self, scope: str, key: str, entry: CacheEntry, dialog_ids: Sequence[str], version: object
    ) -> None:
        if version != self._versions.get(scope, 0):
            return  # invalidated while the lookup was being sent
        ttl = self._negative_ttl if entry.negative else self._ttl
        if ttl is None:
            return
        self._drop((scope, key))
        ids = tuple(dialog_ids)
        self._slots[scope, key] = _Slot(entry, self._clock() + ttl, ids)
        for dialog_id in ids:
            self._index.setdefault((scope, dialog_id), set()).add(key)
        while len(self._slots) > self._max_entries:
            self._drop(next(iter(self._slots)))

    async def invalidate(self, scope: str, dialog_id: str) -> None:
        self._versions[scope] = self._versions.get(scope, 0) + 1
        for key in tuple(self._index.get((scope, dialog_id), ())):
            self._drop((scope, key))

    async def invalidate_all(self, scope: str) -> None:
        self._versions[scope] = self._versions.get(scope, 0) + 1
        for slot_key in [slot_key for slot_key in self._slots if slot_key[0] == scope]:
            self._drop(slot_key)

    def _drop(self, slot_key: _Key) -> None:
        slot = self._slots.pop(slot_key, None)
        if slot is None:
            return
        scope, key = slot_key
        for dialog_id in slot.dialog_ids:
            keys = self._index.get((scope, dialog_id))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._index[scope, dialog_id]

    def __repr__(self) -> str:
        return (
            f"DialogCache(ttl={self._ttl!r}, max_entries={self._max_entries!r}, "
            f"negative_ttl={self._negative_ttl!r})"
        )
