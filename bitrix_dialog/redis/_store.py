"""OAuth pairs in Redis, shared by every worker: a :class:`~bitrix_dialog.TokenStore`.

One hash per portal (``member_id``) holds the pair as JSON (``OAuthToken.to_dict``)
and its *fence*: a digest of the access and refresh tokens. ``save(new,
replaces=old)`` is a Lua compare-and-set on the fence, so it stores ``new`` only
while ``old`` is still the stored pair; refresh tokens are never reissued, so an
old pair never comes back and a worker that wakes late cannot overwrite a newer
pair. ``refresh_lock`` is a :class:`RedisLeaseLock` (one refresher per portal).

Pairs are stored as they are (Redis is your database here: protect it with
``AUTH``/TLS like one) and kept until :meth:`RedisTokenStore.delete`. Nothing here
logs or puts a secret into an error message.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

import redis.asyncio

from .._auth import OAuthToken
from .._errors import TokenConflictError, TokenStoreError
from ._common import REDIS_FAILURES, check_client, check_name, check_seconds, describe, text
from ._lock import RedisLeaseLock

__all__ = ["RedisTokenStore"]

# KEYS[1] the portal's hash; ARGV[1] expected fence, ARGV[2] new pair, ARGV[3] new fence.
_COMPARE_AND_SET: Final = """
if redis.call('HGET', KEYS[1], 'fence') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'pair', ARGV[2], 'fence', ARGV[3])
  return 1
end
return 0
"""


def _fence(token: OAuthToken) -> str:
    """What identifies a pair (see ``OAuthToken.same_pair``), without storing it twice."""
    pair = json.dumps([token.access_token, token.refresh_token])
    return hashlib.sha256(pair.encode()).hexdigest()


class RedisTokenStore:
    """OAuth pairs in Redis, with a cross-process refresh lock (see the module docs).

    >>> store = RedisTokenStore(redis.asyncio.Redis.from_url(url))   # doctest: +SKIP
    >>> auth = OAuthAuth(await store.load(member_id), client_id=..., client_secret=...,
    ...                  store=store)                                 # doctest: +SKIP

    ``prefix`` starts every key; ``lock_lease`` is how long a refresh lock outlives a
    worker that died holding it (renewed while its holder lives); ``lock_wait`` is
    how long to wait for another worker's refresh (None: no limit) before raising
    :class:`~bitrix_dialog.TokenStoreError`. Redis failures raise ``TokenStoreError``.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        prefix: str = "bitrix_dialog",
        lock_lease: float = 15.0,
        lock_wait: float | None = 60.0,
    ) -> None:
        self._redis = check_client(redis)
        self._prefix = check_name("prefix", prefix)
        self.lock_lease = check_seconds("lock_lease", lock_lease)
        self.lock_wait = None if lock_wait is None else check_seconds("lock_wait", lock_wait)
        self._compare_and_set = self._redis.register_script(_COMPARE_AND_SET)

    def _key(self, member_id: str) -> str:
        return f"{self._prefix}:token:{{{check_name('member_id', member_id)}}}"

    def _failed(self, doing: str, member_id: str, error: BaseException) -> TokenStoreError:
        msg = (
            f"{doing} of member {member_id} at {describe(self._redis)} failed "
            f"({type(error).__name__})"
        )
        return TokenStoreError(msg)

    async def load(self, member_id: str) -> OAuthToken | None:
        """The stored pair of ``member_id``, or None."""
        key = self._key(member_id)
        try:
            stored = await self._redis.hget(key, "pair")
        except REDIS_FAILURES as exc:
            raise self._failed("loading the pair", member_id, exc) from exc
        if stored is None:
            return None
        try:
            return OAuthToken.from_dict(json.loads(text(stored)))
        except (ValueError, TypeError) as exc:
            msg = f"the pair stored for member {member_id} is not a valid OAuthToken"
            raise TokenStoreError(msg) from exc

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        """Store ``token``; with ``replaces``, only if that pair is still stored (else
        :class:`~bitrix_dialog.TokenConflictError`)."""
        if not isinstance(token, OAuthToken):
            msg = f"token must be an OAuthToken, not {type(token).__name__}"
            raise TypeError(msg)
        if replaces is not None and not isinstance(replaces, OAuthToken):
            msg = f"replaces must be an OAuthToken or None, not {type(replaces).__name__}"
            raise TypeError(msg)
        key = self._key(token.member_id)
        pair = json.dumps(token.to_dict())
        try:
            if replaces is None:
                await self._redis.hset(key, mapping={"pair": pair, "fence": _fence(token)})
                return
            stored = await self._compare_and_set(
                keys=[key], args=[_fence(replaces), pair, _fence(token)]
            )
        except REDIS_FAILURES as exc:
            raise self._failed("saving the pair", token.member_id, exc) from exc
        if not stored:
            msg = f"the stored pair for member {token.member_id} was replaced by another writer"
            raise TokenConflictError(msg)

    def refresh_lock(self, member_id: str) -> RedisLeaseLock:
        """A lease lock: one refresher of ``member_id``'s pair at a time, across processes."""
        return RedisLeaseLock(
            self._redis,
            f"{self._key(member_id)}:lock",
            lease=self.lock_lease,
            wait=self.lock_wait,
            name=f"member {member_id}",
        )

    async def is_locked(self, member_id: str) -> bool:
        """True while some worker holds ``member_id``'s refresh lock (for monitoring)."""
        try:
            return bool(await self._redis.exists(f"{self._key(member_id)}:lock"))
        except REDIS_FAILURES as exc:
            raise self._failed("checking the refresh lock", member_id, exc) from exc

    async def delete(self, member_id: str) -> None:
        """Forget the pair of ``member_id`` (the app was uninstalled there)."""
        try:
            await self._redis.delete(self._key(member_id))
        except REDIS_FAILURES as exc:
            raise self._failed("deleting the pair", member_id, exc) from exc

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r}, redis={describe(self._redis)!r})"
