"""What a dialog cache backend does, and the checks its options share.

A backend stores :class:`CacheEntry` values by ``(scope, key)`` (see :mod:`._keys`) and finds
them again by dialog id. The client's read path (:mod:`._reads`) drives it:

1. ``lookup(scope, key)`` gives the entry, or none, plus a ``version``: an opaque
   marker of the invalidations seen so far in that scope;
2. on a miss the lookup is sent; its outcome is stored with ``store(..., version)``,
   which stores nothing when an invalidation came in meanwhile, so an answer read
   before ``invalidate(dialog_id)`` can never be stored after it;
3. ``invalidate(scope, dialog_id)`` drops every entry standing for that dialog,
   whichever method cached it; ``invalidate_all(scope)`` drops the scope's entries.

A backend never raises for its own failures: a store that cannot answer gives a miss
(``version`` ``None``: nothing will be stored), so a lookup never fails because of
its cache.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs

from ._entry import CacheEntry

__all__ = ["CacheLookup", "DialogCacheBackend", "check_count", "check_optional_ttl", "check_ttl"]


@attrs.frozen
class CacheLookup:
    """What ``lookup`` found: the ``entry`` (``None``: a miss) and the scope's ``version``
    (``None``: the backend could not tell; nothing will be stored)."""

    entry: CacheEntry | None
    version: object = None


@runtime_checkable
class DialogCacheBackend(Protocol):
    """Where cached lookups live: :class:`DialogCache` (this process) or
    ``bitrix_dialog.redis.RedisDialogCache`` (every worker sharing one Redis)."""

    @property
    def ttl(self) -> float:
        """Seconds an answer is kept."""
        ...

    @property
    def negative_ttl(self) -> float | None:
        """Seconds a refusal (or a ``None`` answer) is kept; ``None``: never kept."""
        ...

    async def lookup(self, scope: str, key: str) -> CacheLookup:
        """The entry stored for ``key`` in ``scope`` (unexpired), and the scope's version."""
        ...

    async def store(
        self, scope: str, key: str, entry: CacheEntry, dialog_ids: Sequence[str], version: object
    ) -> None:
        """Keep ``entry`` (findable by each of ``dialog_ids``) unless ``scope`` was
        invalidated since ``version`` was read."""
        ...

    async def invalidate(self, scope: str, dialog_id: str) -> None:
        """Drop every entry of ``scope`` standing for ``dialog_id`` (canonical form)."""
        ...

    async def invalidate_all(self, scope: str) -> None:
        """Drop every entry of ``scope``."""
        ...


def check_ttl(name: str, value: object) -> float:
    """A finite number of seconds > 0, else a clear ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds, not {type(value).__name__}"
        raise TypeError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"{name} must be a finite number of seconds > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def check_optional_ttl(name: str, value: object) -> float | None:
    """``None``, or what :func:`check_ttl` accepts."""
    return None if value is None else check_ttl(name, value)


def check_count(name: str, value: object) -> int:
    """An int >= 1, else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int, not {type(value).__name__}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{name} must be >= 1, not {value}"
        raise ValueError(msg)
    return value
