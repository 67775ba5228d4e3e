"""Reading a token store and taking its refresh lock, with its failures made ours.

A :class:`~._tokens.TokenStore` is the user's code (Redis, a database, a file): it
may fail any way it likes, and its messages and tracebacks may quote the pair it was
reading. Whoever asks it (``OAuthAuth`` before each refresh, ``Portals`` before
building a portal's client) gets one :class:`~bitrix_dialog.TokenStoreError` instead,
chained to the store's own error only when nothing in that chain names a secret::

    stored = await load_pair(store, member_id, secrets=secrets_of(current))
    async with refresh_lock(store, member_id, secrets=secrets_of(current)):
        ...  # refresh and save while no other process does
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Final

from .._errors import TokenConflictError, TokenStoreError
from .._wire._redact import redact_text, safe_cause
from ._tokens import OAuthToken, TokenStore, secrets_of

__all__ = ["load_pair", "refresh_lock", "save_refreshed_pair"]

logger: Final = logging.getLogger("bitrix_dialog")


async def load_pair(
    store: TokenStore, member_id: str, *, secrets: Iterable[str | None] = ()
) -> OAuthToken | None:
    """The pair ``store`` holds for ``member_id`` (None: none); ``TokenStoreError`` on failure.

    ``secrets`` are masked out of the chained cause (the pairs the caller holds).
    """
    failure: TokenStoreError | None = None
    try:
        stored = await store.load(member_id)
    except Exception as exc:
        msg = f"loading the pair of member {member_id} failed ({type(exc).__name__})"
        failure, cause = TokenStoreError(msg), safe_cause(exc, secrets=secrets)
    if failure is not None:
        raise failure from cause  # outside the handler: a dropped cause is no __context__
    if stored is not None and not isinstance(stored, OAuthToken):
        msg = f"the store returned {type(stored).__name__} for member {member_id}"
        raise TokenStoreError(msg)
    return stored


async def save_refreshed_pair(
    store: TokenStore,
    new: OAuthToken,
    *,
    replaces: OAuthToken | None,
    also_masked: OAuthToken | None = None,
) -> None:
    """Save ``new`` in place of ``replaces`` (a compare-and-set) or raise ``TokenStoreError``.

    ``TokenConflictError`` (a newer pair is stored) passes through: the caller adopts
    that one. A store's message may quote the pairs it was writing, so every secret of
    ``new``, ``replaces`` and ``also_masked`` (the pair in use) is masked in ours.
    """
    failure: TokenStoreError | None = None
    try:
        await store.save(new, replaces=replaces)
    except TokenConflictError:
        raise
    except Exception as exc:
        secrets = secrets_of(new, replaces, also_masked)
        msg = (
            f"saving the refreshed pair of member {new.member_id} failed "
            f"({type(exc).__name__}: {redact_text(str(exc), secrets=secrets)}); the "
            "previous pair stays in use and the new one is saved before the next call"
        )
        failure, cause = TokenStoreError(msg), safe_cause(exc, secrets=secrets)
    if failure is not None:
        raise failure from cause


@asynccontextmanager
async def refresh_lock(
    store: TokenStore, member_id: str, *, secrets: Iterable[str | None] = ()
) -> AsyncIterator[None]:
    """Hold ``store.refresh_lock(member_id)``; failing to take it is a ``TokenStoreError``.

    Failing to release it is only logged: by then the new pair is saved, and a lost
    lease costs nothing but another process's wait.
    """
    failure: TokenStoreError | None = None
    try:
        lock = store.refresh_lock(member_id)
        await lock.__aenter__()
    except Exception as exc:
        msg = f"taking the refresh lock of member {member_id} failed"
        failure, cause = TokenStoreError(msg), safe_cause(exc, secrets=secrets)
    if failure is not None:
        raise failure from cause
    try:
        yield
    except BaseException as exc:
        await lock.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    try:
        await lock.__aexit__(None, None, None)
    except Exception as exc:
        logger.warning("OAuth: releasing the refresh lock failed: %s", type(exc).__name__)
