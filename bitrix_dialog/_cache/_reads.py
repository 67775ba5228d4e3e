"""The cache in the typed read path: :class:`CachedReads`, in front of the coalescer.

    client -> CachedReads -> coalescer -> executor

A typed lookup of a cached method (:data:`CACHED_METHODS`) asks the backend first; a
hit returns the stored value (or raises a fresh copy of a stored refusal) and sends
nothing. A miss is sent as usual; its answer is stored for the backend's ``ttl``. An
error is stored only when the backend has a ``negative_ttl`` and the error is a
"not found"-like refusal (:data:`NEGATIVE_ERRORS`); anything else (an auth failure,
a rate limit, a server error) is never cached. Each lookup is reported to
``Hooks.on_cache`` and counted in :attr:`hits`/:attr:`misses`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._call._hooks import CacheEvent, Hooks
from .._errors import BitrixError
from .._methods._endpoint import Read
from .._methods._spec import MethodSpec, Params
from .._models import Dialog
from ._backend import CacheLookup, DialogCacheBackend
from ._entry import CacheEntry, is_negative
from ._keys import CACHED_METHODS, canonical_dialog_id, dialog_ids, entry_key

__all__ = ["CachedReads"]


class CachedReads:
    """A :data:`Read` answering cached methods from ``backend`` before calling ``read``.

    ``scope`` is the hashed credential identity entries are kept under (see
    :func:`._keys.scope_of`).
    """

    def __init__(
        self, backend: DialogCacheBackend, read: Read, *, scope: str, hooks: Hooks
    ) -> None:
        self.backend = backend
        self._read = read
        self._scope = scope
        self._hooks = hooks
        self.hits = 0
        """Lookups answered from the cache."""
        self.misses = 0
        """Lookups of cached methods that were sent."""

    async def __call__(self, spec: MethodSpec[..., Any], params: Params) -> Any:
        if spec.name not in CACHED_METHODS:
            return await self._read(spec, params)
        key = entry_key(spec, params)
        found = await self.backend.lookup(self._scope, key)
        if found.entry is not None:
            self.hits += 1
            await self._hooks.cache(
                CacheEvent(method=spec.name, hit=True, negative=found.entry.negative)
            )
            return found.entry.outcome()
        self.misses += 1
        await self._hooks.cache(CacheEvent(method=spec.name, hit=False))
        try:
            value = await self._read(spec, params)
        except BitrixError as error:
            if self.backend.negative_ttl is not None and is_negative(error):
                await self._store(found, key, CacheEntry.refusal(error), params, None)
            raise
        entry = CacheEntry.answer(value)
        if not entry.negative or self.backend.negative_ttl is not None:
            await self._store(found, key, entry, params, value)
        return value

    async def _store(
        self,
        found: CacheLookup,
        key: str,
        entry: CacheEntry,
        params: Mapping[str, Any],
        value: object,
    ) -> None:
        if found.version is None:
            return  # the backend could not tell what it holds: store nothing
        ids = dialog_ids(params, value)
        await self.backend.store(self._scope, key, entry, ids, found.version)

    async def prime(
        self,
        spec: MethodSpec[..., Any],
        params: Params,
        value: Dialog,
        merge: Callable[[Dialog], Dialog],
    ) -> None:
        """Store ``value`` as the answer of ``spec`` with ``params`` (from an event, not
        the portal): over a cached answer, ``merge(cached)`` is stored instead. An
        invalidation racing with it wins, as for a sent lookup."""
        key = entry_key(spec, params)
        found = await self.backend.lookup(self._scope, key)
        cached = None if found.entry is None else found.entry.value
        if isinstance(cached, Dialog):
            value = merge(cached)
        await self._store(found, key, CacheEntry.answer(value), params, value)

    async def invalidate(self, dialog_id: object) -> None:
        """Drop every cached lookup of ``dialog_id`` under this client's credentials."""
        await self.backend.invalidate(self._scope, canonical_dialog_id(dialog_id))

    async def invalidate_all(self) -> None:
        """Drop every cached lookup under this client's credentials."""
        await self.backend.invalidate_all(self._scope)

    def __repr__(self) -> str:
        return f"CachedReads({self.backend!r})"
