"""OAuth 2 auth that keeps its tokens alive, refreshing each spent pair exactly once.

When a refresh happens (never on a timer; the docs warn that timed refreshes get
apps blocked):

- **proactively**, when a call is about to go out with an access token that
  expires within ``skew`` seconds (by the injected ``clock``);
- **reactively**, once, when the portal answers ``expired_token`` or
  ``invalid_token``; the call is then repeated and a second refusal raises.

How it stays single-flight (after hikari's "refresh only if the token is still
the one I sent"): each attempt remembers the pair it sent. A coroutine whose pair
has already been replaced just retries with the current one. Otherwise it joins
the one refresh in flight, or starts it as a task of its own, so that a caller
being cancelled never abandons a half-saved pair. The flight itself:

1. enters ``store.refresh_lock(member_id)`` (other processes wait here);
2. re-loads the pair; if another process already refreshed, adopts that pair and
   stops;
3. sends one refresh to the authorization server;
4. saves the new pair with ``save(new, replaces=loaded)`` *before* any call uses
   it. A conflict means a newer pair is stored: that one is adopted. A failing
   store raises ``TokenStoreError``; the old pair stays in use, and the unsaved new
   pair is saved again before the next call goes out (its refresh token is the
   only live one now).

A refresh failure raises a typed ``OAuthError``/``TransportError`` and changes
nothing: the old pair stays in memory and in the store.

A refresh answer refused here (a pair for another ``member_id``, a
``client_endpoint`` that is not https to a public host, a ``server_endpoint``
outside ``oauth_servers``, an unreadable expiry) is never saved, and the refresh
token it replaced is spent: every waiting call gets one
``ReauthorizationRequiredError``, and so does every later call, without sending
that refresh token again, until the store holds a newer pair (a reinstall).

Where refreshes go: to ``oauth_server=`` when given; otherwise to the pair's
``server_endpoint`` only when it names one of ``oauth_servers`` (the documented
Bitrix24 authorization servers by default), checked for the constructor's pair,
for pairs adopted from the store and for every refresh answer.

Portal moves (decided in :mod:`._moves`). A pair whose ``client_endpoint`` names
another origin than the portal this auth serves (a refresh answer after the portal
changed its address, or a pair another process saved) is never used silently:
``on_portal_moved`` gets a ``PortalMove`` and returns True to switch; otherwise the
call raises ``PortalMovedError`` and the pair is kept, unused. A pair for another
``member_id`` is always refused. The refresh answer's ``domain`` is ignored: it
names the OAuth server today and named the portal in older answers.

A redirect from the portal (``PortalMovedError``, HTTP 302) is not trusted on its
own, since the token would follow it to whatever host it names. With an
``on_portal_moved`` callback, the auth asks the authorization server instead (it
refreshes, and the answer's ``client_endpoint`` is where Bitrix24 says the portal
lives); only when that names a new origin is the callback asked, with the
redirect's ``location`` for comparison. Without a callback the redirect raises.
The verifications are bounded: one in flight, and after one that names no new
origin, redirects raise for 60 s, doubling up to an hour while they go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager
from typing import Final, Literal

import attrs
from yarl import URL

from .._errors import (
    BitrixError,
    InvalidTokenError,
    PortalMovedError,
    ReauthorizationRequiredError,
    TokenConflictError,
    TokenExpiredError,
    TokenStoreError,
)
from .._transports import Transport
from .._wire._redact import redact_url
from ._answers import check_refresh_answer
from ._base import Authorization
from ._moves import PortalGuard, PortalMoveCallback, RedirectPause
from ._oauth_server import (
    DEFAULT_OAUTH_SERVERS,
    check_oauth_servers,
    normalise_token_url,
    request_refresh,
    server_problem,
    token_url,
)
from ._options import check_app_credentials, check_refresh_options
from ._stored import load_pair, refresh_lock, save_refreshed_pair
from ._tokens import MemoryTokenStore, OAuthToken, TokenStore, secrets_of

__all__ = ["OAuthAuth"]

logger: Final = logging.getLogger("bitrix_dialog")

_Reason = Literal["expiring", "rejected", "moved"]


def _consume(task: asyncio.Task[OAuthToken]) -> None:
    # Nobody may be left awaiting a flight (all callers cancelled): still read its
    # outcome so asyncio does not report "exception was never retrieved".
    if not task.cancelled():
        task.exception()


class OAuthAuth:
    """OAuth 2 auth for one portal and one app, refreshing its pair safely.

    >>> auth = OAuthAuth(token, client_id="app.5f1e...", client_secret=SECRET,
    ...                  store=my_store)                     # doctest: +SKIP
    >>> async with Client(auth) as client: ...               # doctest: +SKIP

    ``token`` must carry a ``refresh_token``. ``store`` (default: a
    :class:`MemoryTokenStore` holding ``token``) is where every new pair is saved
    before use. ``skew`` is how many seconds before expiry a call refreshes first
    (never more than half the token's lifetime). ``oauth_server`` overrides the
    token endpoint (default: the token's ``server_endpoint`` host when it is one of
    ``oauth_servers``, else ``https://oauth.bitrix.info/oauth/token/``).
    ``allow_loopback=True`` lets a portal move name a loopback http address
    (tests and demos against a fake portal on 127.0.0.1; never in production).
    ``clock`` returns Unix seconds.
    """

    def __init__(
        self,
        token: OAuthToken,
        *,
        client_id: str,
        client_secret: str,
        store: TokenStore | None = None,
        skew: float = 300.0,
        oauth_server: str | URL | None = None,
        oauth_servers: Collection[str] = DEFAULT_OAUTH_SERVERS,
        on_portal_moved: PortalMoveCallback | None = None,
        allow_loopback: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(token, OAuthToken):
            msg = f"token must be an OAuthToken, not {type(token).__name__}"
            raise TypeError(msg)
        if not token.refresh_token:
            msg = "token has no refresh_token (use AccessTokenAuth for a token you cannot refresh)"
            raise ValueError(msg)
        check_app_credentials(client_id, client_secret, store)
        self._skew = check_refresh_options(skew, on_portal_moved, clock, allow_loopback)
        self._allow_loopback = allow_loopback
        self._guard = PortalGuard(
            token.client_endpoint, on_portal_moved, allow_loopback=allow_loopback
        )
        self._oauth_server = normalise_token_url(oauth_server) if oauth_server else None
        self._servers = check_oauth_servers(oauth_servers)
        if self._oauth_server is None:
            problem = server_problem(token.server_endpoint, self._servers)
            if problem is not None:
                msg = f"token.server_endpoint is refused ({problem}); oauth_server= overrides it"
                raise ValueError(msg)
        self._token = token
        self._client_id = client_id
        self._client_secret = client_secret
        self._store: TokenStore = store if store is not None else MemoryTokenStore([token])
        self._clock = clock
        self._flight: asyncio.Task[OAuthToken] | None = None
        self._unsaved: tuple[OAuthToken, OAuthToken | None] | None = None
        self._spent: OAuthToken | None = None
        self._pause = RedirectPause()
        """A pair whose refresh token is known spent: never sent to the server again."""

    # ------------------------------------------------------------ properties
    @property
    def portal(self) -> URL:
        return self._guard.portal

    @property
    def identity(self) -> str:
        return f"{self._guard.portal}|oauth:{self._client_id}"

    @property
    def member_id(self) -> str:
        """The portal's permanent id: the key of this auth's pair in the store."""
        return self._token.member_id

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def token(self) -> OAuthToken:
        """The pair calls are signed with right now (saved in the store before first use)."""
        return self._token

    @property
    def store(self) -> TokenStore:
        return self._store

    # ------------------------------------------------------------------ Auth
    async def authorize(self, method: str, transport: Transport) -> Authorization:
        token = self._token
        if self._unsaved is not None or self._expiring(token):
            token = await self._fresh(token, transport, "expiring")
        base = await self._guard.base_for(token)
        return Authorization(
            url=base / method,
            params={"auth": token.access_token},
            credential=token,
            secrets=self._secrets_of(token),
        )

    async def recover(
        self, authorization: Authorization, error: BitrixError, transport: Transport
    ) -> bool:
        sent = authorization.credential
        if not isinstance(sent, OAuthToken):
            return False
        if isinstance(error, PortalMovedError):
            return await self._recover_moved(authorization, error, sent, transport)
        if not isinstance(error, TokenExpiredError | InvalidTokenError):
            return False
        token = await self._fresh(sent, transport, "rejected")
        return not token.same_pair(sent)

    def _secrets_of(self, token: OAuthToken) -> tuple[str, ...]:
        known = (token.access_token, token.refresh_token, token.application_token)
        return (self._client_secret, *(secret for secret in known if secret))

    # ----------------------------------------------------------- the flight
    def _expiring(self, token: OAuthToken) -> bool:
        skew = self._skew
        if token.expires_in:
            skew = min(skew, token.expires_in / 2)
        return token.expires_within(skew, now=self._clock())

    async def _fresh(self, seen: OAuthToken, transport: Transport, reason: _Reason) -> OAuthToken:
        """The pair that replaces ``seen``: already current, or from the one flight."""
        current = self._token
        if self._unsaved is None and not current.same_pair(seen):
            return current
        if self._flight is None:
            flight = asyncio.get_running_loop().create_task(self._fly(reason, transport))
            flight.add_done_callback(_consume)
            self._flight = flight
        return await asyncio.shield(self._flight)

    async def _fly(self, reason: _Reason, transport: Transport) -> OAuthToken:
        try:
            async with self._store_lock():
                if self._unsaved is not None:
                    return await self._commit(*self._unsaved)
                stored = await self._load()
                base = self._token
                if self._is_newer(stored, base):
                    assert stored is not None
                    logger.debug("OAuth: adopting the pair another worker saved (%s)", reason)
                    self._token = base = stored
                    if not self._must_refresh(base, reason):
                        return base
                if base.same_pair(self._spent):
                    msg = (
                        f"the refresh token of member {self.member_id} is spent and its "
                        "successor was refused or lost; the app must be authorised again"
                    )
                    raise ReauthorizationRequiredError(msg, code="REFRESH_TOKEN_SPENT")
                try:
                    new = await self._refresh(base, transport, reason)
                    check_refresh_answer(
                        new,
                        member_id=self.member_id,
                        portal=self._guard.portal,
                        allow_loopback=self._allow_loopback,
                        servers=None if self._oauth_server else self._servers,
                    )
                except ReauthorizationRequiredError:
                    # A worker whose lock lease ran out may have spent the token
                    # meanwhile; its pair, if stored, is the live one.
                    winner = await self._load()
                    if not self._is_newer(winner, base):
                        self._spent = base
                        raise
                    assert winner is not None
                    self._token = winner
                    return winner
                return await self._commit(new, stored)
        finally:
            self._flight = None

    def _is_newer(self, stored: OAuthToken | None, current: OAuthToken) -> bool:
        # Every pair lives the same hour from issue, so the later expiry is the
        # later issue: a pair someone saved from a fresh install event beats an
        # old stored one, and a stale pair passed to the constructor loses.
        return (
            stored is not None
            and not stored.same_pair(current)
            and stored.expires_at >= current.expires_at
        )

    def _must_refresh(self, candidate: OAuthToken, reason: _Reason) -> bool:
        if reason == "moved":
            # Only a fresh answer from the authorization server tells where the
            # portal lives, unless this pair already names a new address.
            return not self._guard.elsewhere(candidate)
        return self._expiring(candidate)

    async def _refresh(self, base: OAuthToken, transport: Transport, reason: _Reason) -> OAuthToken:
        if not base.refresh_token:
            msg = "the stored pair has no refresh_token; the app must be authorised again"
            raise ReauthorizationRequiredError(msg)
        url = token_url(self._oauth_server, base.server_endpoint, self._servers)
        logger.debug(
            "OAuth: refreshing the pair of member %s at %s (%s)", self.member_id, url, reason
        )
        new = await request_refresh(
            transport,
            url,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=base.refresh_token,
            received_at=self._clock(),
        )
        if new.application_token is None and base.application_token is not None:
            # Refresh answers never carry it: it belongs to the install, not to the
            # pair, and events are checked against the stored one.
            new = attrs.evolve(new, application_token=base.application_token)
        return new

    async def _commit(self, new: OAuthToken, replaces: OAuthToken | None) -> OAuthToken:
        """Save ``new`` (compare-and-set on ``replaces``), then start using it."""
        try:
            await save_refreshed_pair(self._store, new, replaces=replaces, also_masked=self._token)
        except TokenConflictError:
            self._unsaved = None
            winner = await self._load()
            if winner is None:
                raise
            logger.debug("OAuth: a newer pair was stored meanwhile; adopting it")
            self._token = winner
            return winner
        except TokenStoreError:
            self._unsaved = (new, replaces)
            raise
        self._unsaved = None
        self._token = new
        logger.debug(
            "OAuth: new pair for member %s saved; valid until %s",
            self.member_id,
            new.expires_at_datetime.isoformat(),
        )
        return new

    async def _load(self) -> OAuthToken | None:
        secrets = secrets_of(self._token, *(self._unsaved or ()))
        stored = await load_pair(self._store, self.member_id, secrets=secrets)
        if stored is not None and stored.member_id != self.member_id:
            msg = f"the store returned {type(stored).__name__} for member {self.member_id}"
            raise TokenStoreError(msg)
        return stored

    def _store_lock(self) -> AbstractAsyncContextManager[None]:
        return refresh_lock(self._store, self.member_id, secrets=secrets_of(self._token))

    # --------------------------------------------------------- portal moves
    async def _recover_moved(
        self,
        authorization: Authorization,
        error: PortalMovedError,
        sent: OAuthToken,
        transport: Transport,
    ) -> bool:
        if self._guard.callback is None:
            return False
        if authorization.url.origin() != self._guard.portal:
            return True  # another call already switched
        if not self._pause.allows(self._clock()):
            return False  # a verification found no move lately: the redirect raises
        self._guard.redirect = error.location
        token = await self._fresh(sent, transport, "moved")
        if self._guard.elsewhere(token):
            self._pause.clear()
            return True
        gap = self._pause.found_no_move(self._clock())
        if gap is not None:
            logger.warning(
                "OAuth: the portal of member %s redirects, but the authorization server names "
                "no new address; redirects raise PortalMovedError for the next %.0f s",
                self.member_id,
                gap,
            )
        return False

    def __repr__(self) -> str:
        return (
            f"OAuthAuth({redact_url(self._guard.base)!r}, member_id={self.member_id!r}, "
            f"client_id={self._client_id!r})"
        )
