"""The portals an OAuth app is installed on: one client per portal, tokens in the store.

A marketplace app serves many portals. Each portal (``member_id``) has its own
OAuth pair in the :class:`~bitrix_dialog.TokenStore`, saved at install and kept
fresh by ``OAuthAuth``; :class:`Portals` builds one :class:`~bitrix_dialog.Client`
per portal on first use and reuses it for every later request, so a burst of
events from one portal shares one auth (one refresh at a time) and one
connection pool. Every client shares the app's transport and is closed by
:meth:`Portals.aclose`.

Where refreshes go. ``OAuthAuth`` refreshes at the pair's ``server_endpoint``,
sending the app's ``client_secret``. A pair comes from a post to a public URL, so
its ``server_endpoint`` must name one of the Bitrix24 authorization servers
(``oauth_servers``, by default ``oauth.bitrix.info`` and ``oauth.bitrix24.tech``)
before it is stored or used: a forged install can never make the app send its
secret elsewhere.

Confirming an install (:meth:`Portals.install` with ``verify=True``) is
``_install.py``'s: a refresh at the authorization server, then, for a portal
already installed, ``user.admin`` on the refreshed pair. A stored pair is replaced
only by a newer one or one a refresh confirms, so a late or replayed post cannot
put a spent pair back. At most ``max_clients`` clients are kept (LRU).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

import attrs

from .._auth import Auth, EventAuth, MemoryTokenStore, OAuthAuth, OAuthToken, TokenStore
from .._auth._moves import PortalMoveCallback
from .._auth._oauth_server import DEFAULT_OAUTH_SERVERS, check_oauth_servers, server_problem
from .._auth._options import check_app_credentials
from .._auth._stored import load_pair
from .._client import Client
from .._errors import TokenConflictError, TokenStoreError
from .._transports import Transport
from .._wire._redact import safe_cause
from ._install import Installer, InstallRefusedError

__all__ = [
    "DEFAULT_MAX_CLIENTS",
    "DEFAULT_OAUTH_SERVERS",
    "InstallRefusedError",
    "PortalNotInstalledError",
    "Portals",
    "check_app_options",
    "check_max_clients",
]

logger: Final = logging.getLogger("bitrix_dialog")

DEFAULT_MAX_CLIENTS: Final = 1024
"""Portal clients kept at most; the least recently used one is dropped first."""


class PortalNotInstalledError(LookupError):
    """No token pair is stored for this portal: the app was never installed there
    (or was uninstalled)."""

    def __init__(self, member_id: str) -> None:
        super().__init__(f"no tokens are stored for member {member_id!r}; install the app first")
        self.member_id = member_id


ClientFactory = Callable[[Auth, Transport], Client]
"""Builds a client for an auth on the shared transport: how apps configure their clients."""


def default_client(auth: Auth, transport: Transport) -> Client:
    """``Client(auth, transport=transport)``: the SDK's defaults (a local leaky bucket)."""
    return Client(auth, transport=transport)


def check_max_clients(max_clients: object) -> None:
    """Refuse a ``max_clients`` that is not a positive int."""
    if isinstance(max_clients, bool) or not isinstance(max_clients, int):
        msg = f"max_clients must be an int, not {type(max_clients).__name__}"
        raise TypeError(msg)
    if max_clients < 1:
        msg = f"max_clients must be at least 1, got {max_clients}"
        raise ValueError(msg)


def check_app_options(
    client_id: object, client_secret: object, store: object, oauth_servers: object
) -> None:
    """Refuse bad OAuth app options with a ``ValueError``/``TypeError`` naming them."""
    check_app_credentials(client_id, client_secret, store)
    check_oauth_servers(oauth_servers)


@runtime_checkable
class _Deletes(Protocol):
    async def delete(self, member_id: str) -> None: ...


@attrs.define
class _PortalLock:
    """One portal's build lock, kept only while someone holds or waits for it."""

    lock: asyncio.Lock = attrs.Factory(asyncio.Lock)
    users: int = 0


class Portals:
    """One OAuth :class:`~bitrix_dialog.Client` per portal, built from the token store.

    >>> portals = Portals(client_id=ID, client_secret=SECRET, store=store,
    ...                   transport=transport)                    # doctest: +SKIP
    >>> client = await portals.client(member_id)                  # doctest: +SKIP

    ``setup(app, client_id=..., client_secret=...)`` makes one and keeps it under
    ``PORTALS_KEY``. ``oauth_servers`` lists the authorization-server hosts
    (``host`` or ``host:port``) a pair may name; ``on_portal_moved`` and ``clock``
    are passed to each ``OAuthAuth``. ``client_factory(auth, transport)`` builds each
    portal's client (default: ``Client(auth, transport=transport)``); pass one to give
    the clients a limiter (e.g. a ``RedisLeakyBucket`` keyed by ``auth.identity``),
    retry policy, hooks or deadline.

    At most ``max_clients`` clients are kept: past that the least recently used one
    is dropped (not closed, since a handler may still be using it; it holds nothing
    of its own, the transport being shared) and built again from the store when its
    portal posts next. A portal's build lock lives only while a request waits for it.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        transport: Transport,
        store: TokenStore | None = None,
        oauth_servers: Collection[str] = DEFAULT_OAUTH_SERVERS,
        on_portal_moved: PortalMoveCallback | None = None,
        clock: Callable[[], float] = time.time,
        client_factory: ClientFactory | None = None,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        check_app_options(client_id, client_secret, store, oauth_servers)
        check_max_clients(max_clients)
        self._make_client: ClientFactory = client_factory or default_client
        self._client_id = client_id
        self._client_secret = client_secret
        self._transport = transport
        self._store: TokenStore = store if store is not None else MemoryTokenStore()
        self._servers = frozenset(host.lower() for host in oauth_servers)
        self._on_portal_moved = on_portal_moved
        self.clock: Final = clock
        self._max_clients = max_clients
        self._clients: OrderedDict[str, Client] = OrderedDict()
        self._locks: dict[str, _PortalLock] = {}
        self._closed = False
        self._installs = Installer(
            store=self._store,
            transport=transport,
            client_id=client_id,
            client_secret=client_secret,
            servers=self._servers,
            clock=clock,
        )

    @property
    def store(self) -> TokenStore:
        """Where every portal's pair lives."""
        return self._store

    @property
    def clients(self) -> Mapping[str, Client]:
        """The clients kept now, by ``member_id`` (a read-only view)."""
        return MappingProxyType(self._clients)

    async def client(self, member_id: str) -> Client:
        """The client for ``member_id``: built from the stored pair on first use, then reused.

        Raises :class:`PortalNotInstalledError` when no pair is stored.
        """
        if not isinstance(member_id, str) or not member_id:
            msg = "member_id must be a non-empty string"
            raise ValueError(msg)
        client = self._cached(member_id)
        if client is not None:
            return client
        entry = self._locks.setdefault(member_id, _PortalLock())
        entry.users += 1
        try:
            async with entry.lock:
                return await self._build(member_id)
        finally:
            entry.users -= 1
            if not entry.users:
                del self._locks[member_id]

    async def application_token(self, member_id: str) -> str | None:
        """The application token stored at install for ``member_id``, or None."""
        token = await self._load(member_id)
        return None if token is None else token.application_token

    async def install(
        self,
        auth: EventAuth,
        *,
        verify: bool = True,
        trusted: bool = False,
        allow_loopback: bool = False,
    ) -> OAuthToken | None:
        """Store the pair and application token of an ``ONAPPINSTALL``/``ONAPPUPDATE`` post.

        A post whose application token is the stored one (or that the caller
        already verified: ``trusted``) is authentic. Its pair replaces the stored
        pair only when it is newer (a later expiry) or a refresh confirms it, and,
        with ``verify``, only when ``user.admin`` says its user is an administrator;
        otherwise the stored pair stays. A *new* application token (first install,
        reinstall, an update that changes it) is accepted only when ``verify``
        confirms the post's pair with the authorization server, and, for a portal
        already installed, ``user.admin`` on the confirmed pair answers true; with
        ``verify=False`` it is accepted on trust for a portal with nothing stored
        (trust on first install) and refused for a known portal. Every URL the post
        and the authorization server name must be https to a public host
        (``allow_loopback``: loopback hosts too, for a fake portal on 127.0.0.1).
        Raises :class:`InstallRefusedError`; returns the pair stored now (None when
        an authentic post brought no pair).
        """
        token, saved = await self._installs.accept(
            auth, verify=verify, trusted=trusted, allow_loopback=allow_loopback
        )
        if not saved:
            return token
        member_id = auth.member_id
        assert member_id  # accept refuses a post that names none
        await self._drop(member_id)  # the next request builds a client on the new pair
        logger.info("Bitrix24: app installed on member %r (pair saved)", member_id[:64])
        return token

    async def offer_pair(self, token: OAuthToken) -> bool:
        """Store ``token`` (a bot's pair from a verified ``imbot.v2`` post) as its
        portal's pair when it is the same user's as the stored one and newer; True if so.

        It must carry a refresh token and name one of ``oauth_servers`` (the caller has
        checked its URLs). The stored application token stays (a pair never changes
        it); the save is a compare-and-set, so a pair stored meanwhile wins; the
        portal's client adopts the new pair at its next refresh. A store failure is
        logged (its type only) and the stored pair stays.
        """
        if not token.refresh_token or self._server_problem(token) is not None:
            return False
        stored = await self._load(token.member_id)
        if (
            stored is None
            or stored.user_id is None
            or stored.user_id != token.user_id
            or token.expires_at <= stored.expires_at
        ):
            return False
        new = attrs.evolve(token, application_token=stored.application_token)
        try:
            await self._store.save(new, replaces=stored)
        except TokenConflictError:
            return False
        except Exception as exc:
            logger.warning(
                "Bitrix24: saving a bot's pair of member %r failed (%s); the stored one stays",
                token.member_id[:64],
                type(exc).__name__,
            )
            return False
        return True

    async def forget(self, member_id: str) -> None:
        """Close the portal's client and delete its pair, if the store can (``delete``)."""
        await self._drop(member_id)
        if isinstance(self._store, _Deletes):
            failure: TokenStoreError | None = None
            try:
                await self._store.delete(member_id)
            except Exception as exc:
                msg = f"deleting the pair of member {member_id} failed ({type(exc).__name__})"
                failure, cause = TokenStoreError(msg), safe_cause(exc)
            if failure is not None:
                raise failure from cause
        else:
            logger.info("Bitrix24: the store has no delete(); member %r's pair stays", member_id)

    async def aclose(self) -> None:
        """Close every client kept (the shared transport belongs to whoever made it)."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()

    # ---------------------------------------------------------------- private
    def _cached(self, member_id: str) -> Client | None:
        client = self._clients.get(member_id)
        if client is not None:
            self._clients.move_to_end(member_id)
        return client

    async def _build(self, member_id: str) -> Client:
        client = self._cached(member_id)
        if client is not None:
            return client
        if self._closed:
            msg = "the portals are closed (the app has stopped)"
            raise RuntimeError(msg)
        token = await self._load(member_id)
        if token is None:
            raise PortalNotInstalledError(member_id)
        problem = self._server_problem(token)
        if problem is not None:
            msg = f"refusing the stored pair of member {member_id}: {problem}"
            raise ValueError(msg)
        auth = OAuthAuth(
            token,
            client_id=self._client_id,
            client_secret=self._client_secret,
            store=self._store,
            oauth_servers=self._servers,
            on_portal_moved=self._on_portal_moved,
            clock=self.clock,
        )
        client = self._make_client(auth, self._transport)
        self._clients[member_id] = client
        while len(self._clients) > self._max_clients:
            self._clients.popitem(last=False)
        return client

    def _server_problem(self, token: OAuthToken) -> str | None:
        """Why ``token``'s ``server_endpoint`` may not receive the client secret, or None."""
        return server_problem(token.server_endpoint, self._servers)

    async def _load(self, member_id: str) -> OAuthToken | None:
        return await load_pair(self._store, member_id)

    async def _drop(self, member_id: str) -> None:
        client = self._clients.pop(member_id, None)
        if client is not None:
            await client.aclose()

    def __repr__(self) -> str:
        return f"Portals(client_id={self._client_id!r}, clients={len(self._clients)})"
