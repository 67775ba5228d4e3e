"""OAuth token pairs and where they are kept between refreshes.

A Bitrix24 refresh token is single-use: every refresh returns a new pair and the
old refresh token dies. So the pair is state that must outlive the process and be
shared by every worker that talks to the same portal, and that is what a
:class:`TokenStore` is for.

The protocol is shaped for several processes sharing one store (Redis, a
database). Before refreshing, ``OAuthAuth``:

1. enters ``store.refresh_lock(member_id)``: one refresher per portal at a time;
2. re-loads the pair: when another process already refreshed, it adopts that pair
   and sends no refresh at all;
3. refreshes, then ``save(new, replaces=loaded)``: a compare-and-set that stores
   ``new`` only if ``loaded`` is still the stored pair, else raises
   :class:`~bitrix_dialog.TokenConflictError`.

The lock keeps refreshes single-flight; the compare-and-set is what keeps a late
worker (one whose lock lease ran out mid-refresh) from overwriting a newer pair.
The replaced pair *is* the fencing token: refresh tokens are never reissued, so a
pair cannot come back (no ABA).

    store = MemoryTokenStore()
    await store.save(token)                       # unconditional (install, events)
    await store.save(new, replaces=token)         # compare-and-set (refresh)
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from .._errors import TokenConflictError
from .._wire._redact import MASK

__all__ = ["MemoryTokenStore", "OAuthToken", "TokenStore"]

_REQUIRED: Final = ("access_token", "member_id", "client_endpoint")


def _mask(value: object) -> str:
    return MASK if value else repr(value)


def _non_empty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"{attribute.name} must be a non-empty string, got {type(value).__name__}"
        raise ValueError(msg)


def _optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{attribute.name} must be a str or None, not {type(value).__name__}"
        raise TypeError(msg)


# The Unix times a datetime can hold (years 1 to 9999): ``expires_at_datetime`` never overflows.
_MIN_UNIX: Final = -62135596800.0
_MAX_UNIX: Final = 253402300799.0


def _finite(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not math.isfinite(value) or not _MIN_UNIX <= value <= _MAX_UNIX:
        msg = f"{attribute.name} must be a Unix time within the years 1 to 9999, got {value!r}"
        raise ValueError(msg)


def _to_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"expires_at must be a Unix time (int, float or numeric str), not {value!r}"
        raise TypeError(msg)
    return float(value)


def _to_optional_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"expected an integer, not {value!r}"
        raise TypeError(msg)
    try:
        return int(float(value))
    except OverflowError:  # "inf", "1e400": ValueError like any other unreadable number
        msg = f"expected an integer, not {value!r}"
        raise ValueError(msg) from None


@attrs.frozen(kw_only=True)
class OAuthToken:
    """One OAuth pair for one portal, with everything the authorization server said.

    ``repr`` masks ``access_token``, ``refresh_token`` and ``application_token``.
    ``expires_at`` is a Unix time in seconds (see :attr:`expires_at_datetime`).

    >>> OAuthToken(access_token="a", refresh_token="r", expires_at=0, member_id="m1",
    ...            client_endpoint="https://b24.example/rest/")  # doctest: +ELLIPSIS
    OAuthToken(access_token=***, refresh_token=***, expires_at=0.0, ...)
    """

    access_token: str = attrs.field(validator=_non_empty, repr=_mask)
    """The token sent as ``auth`` with every REST call (lives one hour)."""
    refresh_token: str | None = attrs.field(default=None, validator=_optional_str, repr=_mask)
    """Single-use token that buys the next pair (lives 180 days); absent in most events."""
    expires_at: float = attrs.field(converter=_to_float, validator=_finite)
    """Unix time (seconds) the access token stops working."""
    expires_in: int | None = attrs.field(default=None, converter=_to_optional_int)
    """The lifetime the server announced, in seconds (3600 in the cloud)."""
    member_id: str = attrs.field(validator=_non_empty)
    """The portal's permanent id; it survives address changes. Stores key pairs by it."""
    client_endpoint: str = attrs.field(validator=_non_empty)
    """The portal's REST base, ``https://PORTAL/rest/``: every call goes there."""
    server_endpoint: str | None = attrs.field(default=None, validator=_optional_str)
    """The authorization server's REST base (``https://oauth.bitrix.info/rest/``)."""
    domain: str | None = attrs.field(default=None, validator=_optional_str)
    """As sent: the OAuth server in refresh answers, the portal in events. Informational."""
    scope: str | None = attrs.field(default=None, validator=_optional_str)
    """Comma-separated scopes granted to the app (``"im,imbot"``)."""
    user_id: int | None = attrs.field(default=None, converter=_to_optional_int)
    """The Bitrix24 user the tokens act for, when the server said."""
    status: str | None = attrs.field(default=None, validator=_optional_str)
    """The app's status on the portal (``L`` local, ``F`` free, ``P`` paid, ``T`` trial...)."""
    application_token: str | None = attrs.field(default=None, validator=_optional_str, repr=_mask)
    """The secret Bitrix24 signs events with (events and placements only)."""

    @property
    def expires_at_datetime(self) -> datetime:
        """:attr:`expires_at` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, UTC)

    @property
    def scopes(self) -> frozenset[str]:
        """:attr:`scope` split into a set (empty when unknown)."""
        return frozenset(s.strip() for s in (self.scope or "").split(",") if s.strip())

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """True when the access token is expired or will be within ``seconds`` of ``now``."""
        return now >= self.expires_at - seconds

    def same_pair(self, other: OAuthToken | None) -> bool:
        """True when ``other`` carries the same access and refresh tokens.

        This is the identity :meth:`TokenStore.save`'s compare-and-set compares.
        """
        return (
            other is not None
            and other.access_token == self.access_token
            and other.refresh_token == self.refresh_token
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (secrets included): for your store."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthToken:
        """Rebuild a token from :meth:`to_dict`'s output; unknown keys are an error."""
        if not isinstance(data, Mapping):
            msg = f"data must be a mapping, not {type(data).__name__}"
            raise TypeError(msg)
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"unknown OAuthToken fields: {', '.join(unknown)}"
            raise ValueError(msg)
        return cls(**data)

    @classmethod
    def from_response(cls, payload: Mapping[str, Any], *, received_at: float) -> OAuthToken:
        """Build a token from an authorization-server answer (or an event's ``auth`` block).

        ``expires`` (absolute) wins over ``expires_in`` (relative to ``received_at``);
        with neither, the token counts as expiring at ``received_at``, so it is
        refreshed before use rather than trusted blindly. Raises ``ValueError``
        naming the first missing required field.
        """
        for name in _REQUIRED:
            value = payload.get(name)
            if not isinstance(value, str) or not value.strip():
                msg = f"the token answer lacks {name!r}"
                raise ValueError(msg)
        expires_in = _to_optional_int(payload.get("expires_in"))
        expires = payload.get("expires")
        if expires not in (None, ""):
            expires_at = _to_float(expires)
        elif expires_in is not None:
            expires_at = received_at + expires_in
        else:
            expires_at = received_at
        return cls(
            access_token=payload["access_token"],
            refresh_token=_text(payload.get("refresh_token")),
            expires_at=expires_at,
            expires_in=expires_in,
            member_id=payload["member_id"],
            client_endpoint=payload["client_endpoint"],
            server_endpoint=_text(payload.get("server_endpoint")),
            domain=_text(payload.get("domain")),
            scope=_text(payload.get("scope")),
            user_id=_to_optional_int(payload.get("user_id")),
            status=_text(payload.get("status")),
            application_token=_text(payload.get("application_token")),
        )


def secrets_of(*tokens: OAuthToken | None) -> list[str | None]:
    """The secret strings of ``tokens``, for masking them in foreign messages and chains."""
    return [
        secret
        for token in tokens
        if token is not None
        for secret in (token.access_token, token.refresh_token, token.application_token)
    ]


def _text(value: object) -> str | None:
    """A string field from a form or JSON answer; ``""`` (PHP's null) becomes None."""
    if value is None or value == "":
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    msg = f"expected a string, not {type(value).__name__}"
    raise TypeError(msg)


@runtime_checkable
class TokenStore(Protocol):
    """Where OAuth pairs live between refreshes, keyed by portal (``member_id``).

    Implement these three methods over your database to survive restarts and to
    share pairs between processes (see the README for a dozen-line example).
    Exceptions a store raises reach the caller as ``TokenStoreError``.
    """

    async def load(self, member_id: str) -> OAuthToken | None:
        """The stored pair for ``member_id``, or None when there is none."""
        ...

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        """Store ``token`` under ``token.member_id``.

        ``replaces=None``: store unconditionally (a pair from an install event).
        ``replaces=old``: compare-and-set, atomically: store only if the stored pair
        is ``old``'s (same ``access_token`` and ``refresh_token``, see
        :meth:`OAuthToken.same_pair`); if another pair or none is stored, store
        nothing and raise :class:`~bitrix_dialog.TokenConflictError`.
        """
        ...

    def refresh_lock(self, member_id: str) -> AbstractAsyncContextManager[object]:
        """An async context manager held while one refresher refreshes ``member_id``.

        Across processes it should be a lease (a lock that expires if its holder
        dies); correctness never depends on it, since ``save(replaces=...)``
        refuses stale writes, but without it concurrent workers each spend a
        refresh and all but one get ``invalid_grant``.
        """
        ...


class MemoryTokenStore:
    """The default store: pairs in a dict, one ``asyncio.Lock`` per portal.

    Shared by every ``OAuthAuth`` (and client) in one process that is given it;
    nothing survives a restart, so production services pass their own store.

    >>> store = MemoryTokenStore()
    """

    def __init__(self, tokens: Iterable[OAuthToken] = ()) -> None:
        self._tokens: dict[str, OAuthToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        for token in tokens:
            if not isinstance(token, OAuthToken):
                msg = f"tokens must hold OAuthToken values, not {type(token).__name__}"
                raise TypeError(msg)
            self._tokens[token.member_id] = token

    async def load(self, member_id: str) -> OAuthToken | None:
        return self._tokens.get(member_id)

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        if not isinstance(token, OAuthToken):
            msg = f"token must be an OAuthToken, not {type(token).__name__}"
            raise TypeError(msg)
        if replaces is not None and not replaces.same_pair(self._tokens.get(token.member_id)):
            msg = f"the stored pair for member {token.member_id} was replaced by another writer"
            raise TokenConflictError(msg)
        self._tokens[token.member_id] = token

    def refresh_lock(self, member_id: str) -> asyncio.Lock:
        return self._locks.setdefault(member_id, asyncio.Lock())

    async def delete(self, member_id: str) -> None:
        """Forget the pair of ``member_id`` (the app was uninstalled there)."""
        self._tokens.pop(member_id, None)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(portals={len(self._tokens)})"
