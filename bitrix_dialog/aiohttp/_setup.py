"""``setup(app, ...)``: the SDK's clients live as long as the aiohttp application.

One portal (a webhook, or any ``Auth``)::

    setup(app, "https://portal.bitrix24.com/rest/1/CODE/")
    client = request.config_dict[CLIENT_KEY]

An OAuth app installed on many portals::

    setup(app, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, store=my_store)
    client = await request.config_dict[PORTALS_KEY].client(member_id)

Everything is made in the app's ``cleanup_ctx`` when it starts (inside the running
loop) and closed when it stops. All clients share one transport: the one passed
in (yours, never closed here), one over the ``ClientSession`` your app already
owns (``session=``, never closed here), or one the SDK makes and closes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Final

import aiohttp
import attrs
from aiohttp import web
from yarl import URL

from .._auth import Auth, TokenStore, WebhookAuth
from .._auth._moves import PortalMoveCallback
from .._client import Client
from .._transports import AiohttpTransport, Transport
from ._portals import (
    DEFAULT_MAX_CLIENTS,
    DEFAULT_OAUTH_SERVERS,
    ClientFactory,
    Portals,
    check_app_options,
    check_max_clients,
    default_client,
)

__all__ = ["CLIENT_KEY", "PORTALS_KEY", "setup"]

CLIENT_KEY: Final = web.AppKey("client", Client)
"""The shared :class:`~bitrix_dialog.Client` of ``setup(app, auth)``."""
PORTALS_KEY: Final = web.AppKey("portals", Portals)
"""The per-portal clients of ``setup(app, client_id=..., client_secret=...)``."""
_SET_UP: Final = web.AppKey("set_up", bool)


def setup(
    app: web.Application,
    auth: Auth | str | URL | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    store: TokenStore | None = None,
    session: aiohttp.ClientSession | web.AppKey[aiohttp.ClientSession] | None = None,
    transport: Transport | None = None,
    oauth_servers: Collection[str] = DEFAULT_OAUTH_SERVERS,
    on_portal_moved: PortalMoveCallback | None = None,
    clock: Callable[[], float] = time.time,
    client_factory: ClientFactory | None = None,
    max_clients: int = DEFAULT_MAX_CLIENTS,
) -> None:
    """Give ``app`` Bitrix24 clients, made at startup and closed at cleanup.

    Pass either ``auth`` (a webhook URL or any ``Auth``: one client, under
    :data:`CLIENT_KEY`) or ``client_id`` and ``client_secret`` (an OAuth app: one
    client per portal from ``store``, a :class:`Portals` under :data:`PORTALS_KEY`).

    ``session`` reuses your ``ClientSession``: the session itself, or the
    ``web.AppKey`` your own ``cleanup_ctx`` stores it under (append that context
    before calling ``setup``, so the session exists first and outlives the clients).
    ``transport`` replaces the HTTP layer altogether (``portal.transport()`` in
    tests). ``oauth_servers``, ``on_portal_moved`` and ``clock`` apply to the OAuth
    clients (see :class:`Portals`). ``client_factory(auth, transport)`` builds every
    client, to set its limiter, retry policy, hooks or deadline (default:
    ``Client(auth, transport=transport)``). ``max_clients`` bounds the OAuth clients
    kept (least recently used dropped first). Bad arguments raise here, before the app runs.
    """
    if not isinstance(app, web.Application):
        msg = f"app must be an aiohttp web.Application, not {type(app).__name__}"
        raise TypeError(msg)
    if _SET_UP in app:
        msg = "setup() was already called for this application"
        raise RuntimeError(msg)
    oauth = client_id is not None or client_secret is not None
    if (auth is None) == (not oauth):
        msg = "pass either auth (a webhook URL or Auth) or client_id and client_secret"
        raise ValueError(msg)
    if isinstance(auth, str | URL):
        auth = WebhookAuth(auth)
    elif auth is not None and not isinstance(auth, Auth):
        msg = f"auth must be an Auth strategy or a webhook URL, not {type(auth).__name__}"
        raise TypeError(msg)
    if oauth:
        if client_id is None or client_secret is None:
            msg = "an OAuth app needs both client_id and client_secret"
            raise ValueError(msg)
        check_app_options(client_id, client_secret, store, oauth_servers)
        check_max_clients(max_clients)
    elif store is not None:
        msg = "store= is for OAuth apps (client_id/client_secret); pass the store to OAuthAuth"
        raise ValueError(msg)
    _check_http(session, transport)
    lifetime = _Lifetime(
        auth=auth,
        client_id=client_id or "",
        client_secret=client_secret or "",
        store=store,
        session=session,
        transport=transport,
        oauth_servers=oauth_servers,
        on_portal_moved=on_portal_moved,
        clock=clock,
        client_factory=client_factory or default_client,
        max_clients=max_clients,
    )
    app[_SET_UP] = True
    app.cleanup_ctx.append(lifetime)


def _check_http(session: object, transport: object) -> None:
    if session is not None and transport is not None:
        msg = "pass session or transport, not both"
        raise ValueError(msg)
    if session is not None and not isinstance(session, aiohttp.ClientSession | web.AppKey):
        msg = f"session must be a ClientSession or a web.AppKey, not {type(session).__name__}"
        raise TypeError(msg)
    if transport is not None and not isinstance(transport, Transport):
        msg = f"transport must implement Transport, not {type(transport).__name__}"
        raise TypeError(msg)


@attrs.frozen(kw_only=True)
class _Lifetime:
    """The app's ``cleanup_ctx``: make the clients at startup, close them at cleanup."""

    auth: Auth | None
    client_id: str
    client_secret: str = attrs.field(repr=False)
    store: TokenStore | None
    session: aiohttp.ClientSession | web.AppKey[aiohttp.ClientSession] | None
    transport: Transport | None
    oauth_servers: Collection[str]
    on_portal_moved: PortalMoveCallback | None
    clock: Callable[[], float]
    client_factory: ClientFactory
    max_clients: int

    async def __call__(self, app: web.Application) -> AsyncIterator[None]:
        shared = self.transport
        if shared is None:
            session = self.session
            borrowed = app[session] if isinstance(session, web.AppKey) else session
            shared = AiohttpTransport(session=borrowed)
        client: Client | None = None
        portals: Portals | None = None
        try:
            if self.auth is not None:
                client = self.client_factory(self.auth, shared)
                app[CLIENT_KEY] = client
            else:
                portals = Portals(
                    client_id=self.client_id,
                    client_secret=self.client_secret,
                    transport=shared,
                    store=self.store,
                    oauth_servers=self.oauth_servers,
                    on_portal_moved=self.on_portal_moved,
                    clock=self.clock,
                    client_factory=self.client_factory,
                    max_clients=self.max_clients,
                )
                app[PORTALS_KEY] = portals
            yield
        finally:
            if client is not None:
                await client.aclose()
            if portals is not None:
                await portals.aclose()
            if self.transport is None:
                await shared.aclose()  # ours; a borrowed session stays open
