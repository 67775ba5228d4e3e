"""The optional dialog cache, in front of the coalescer in the typed read path.

    client = Client(url, cache=DialogCache(ttl=60, max_entries=10_000))
    await client.im.dialog.get("chat5")        # sent
    await client.im.dialog.get("chat5")        # answered from the cache, nothing sent
    await client.dialogs.invalidate("chat5")   # the next lookup is sent again

:mod:`._keys` names entries (per credential identity, method and canonical
parameters, secrets hashed), :mod:`._entry` says what is kept (answers; refusals only
with a ``negative_ttl``), :mod:`._backend` is what a store does,
:mod:`._memory` is the in-process LRU store and :mod:`._reads` drives a store from
the client's read path. ``bitrix_dialog.redis.RedisDialogCache`` is the shared store.
"""

from __future__ import annotations

from ._backend import CacheLookup, DialogCacheBackend
from ._entry import NEGATIVE_ERRORS, CacheEntry
from ._keys import CACHED_METHODS, scope_of
from ._memory import DialogCache
from ._reads import CachedReads

__all__ = [
    "CACHED_METHODS",
    "NEGATIVE_ERRORS",
    "CacheEntry",
    "CacheLookup",
    "CachedReads",
    "DialogCache",
    "DialogCacheBackend",
    "scope_of",
]
