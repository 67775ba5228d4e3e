"""The fake authorization server (``oauth.bitrix.info``) behind every :class:`FakePortal`.

Any request whose path is ``/oauth/token/`` reaches it, on whatever host: through
``portal.transport()`` that includes ``https://oauth.bitrix.info/oauth/token/``, and on
``portal.serve()`` the served base (tokens issued with ``base=`` name it as their
``server_endpoint``). It models the documented behaviour (EN
``settings/oauth/auto-renewal.md``, ``settings/oauth/error-codes.md``) and what
peers observed live:

- ``grant_type=refresh_token`` with ``client_id``, ``client_secret``,
  ``refresh_token`` (query or form body) returns a new pair; the answer carries
  ``access_token``, ``refresh_token``, ``expires``, ``expires_in``,
  ``client_endpoint`` (where the portal lives *now*, so after
  :meth:`FakePortal.move_to` the new address), ``server_endpoint``, ``domain`` (the
  OAuth server's host), ``member_id``, ``scope``, ``status``, ``user_id``;
- refresh tokens are single-use: a spent one answers ``invalid_grant`` and is counted
  in ``refresh_token_reuse_count``; they expire after 180 days;
- an unknown ``client_id`` answers ``{"error": "wrong_client"}`` with **HTTP 200**; a
  wrong ``client_secret`` answers ``invalid_client`` with 400;
- an app whose ``payment_required`` is set answers ``PAYMENT_REQUIRED`` (the docs show
  the body, not the status; 402 here, and the SDK reads only the code).

Issued access tokens are registered with the portal, which answers ``expired_token``
once the portal clock passes their lifetime.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
from yarl import URL

from .._auth import OAuthToken
from .._wire._http import HttpRequest, HttpResponse
from .._wire._redact import MASK
from ._php import parse_str

if TYPE_CHECKING:
    from ._portal import FakePortal

__all__ = ["TOKEN_PATH", "FakeApp", "FakeOAuthServer", "RecordedRefresh"]

TOKEN_PATH: Final = "/oauth/token/"
DEFAULT_SERVER: Final = URL("https://oauth.bitrix.info")
REFRESH_LIFETIME: Final = 180 * 24 * 3600.0
_JSON_HEADERS: Final[Mapping[str, str]] = {"Content-Type": "application/json; charset=utf-8"}


@attrs.define(kw_only=True)
class FakeApp:
    """An app registered with the fake authorization server. ``repr`` hides the secret."""

    client_id: str
    client_secret: str = attrs.field(repr=lambda _: MASK)
    payment_required: bool = False
    """Set to make every refresh answer ``PAYMENT_REQUIRED`` (trial or subscription over)."""
    status: str = "L"
    """The app status the answers report (``L`` local, ``F`` free, ``P`` paid, ``T`` trial)."""
    application_token: str = attrs.field(factory=lambda: secrets.token_hex(16), repr=lambda _: MASK)
    """The secret this portal signs the app's events with (``portal.events`` sends it);
    assign a new one to model a reinstall."""


@attrs.frozen(kw_only=True)
class RecordedRefresh:
    """One request the authorization server answered, for assertions in tests."""

    client_id: str | None
    error: str | None
    """The ``error`` code answered, or None for a new pair."""
    at: float


@attrs.define(kw_only=True)
class _Grant:
    client_id: str
    user_id: int
    scope: str
    portal_base: URL
    server_base: URL
    expires_at: float
    used: bool = False


class FakeOAuthServer:
    """Issues and refreshes token pairs for one :class:`FakePortal` (``portal.oauth``)."""

    def __init__(self, portal: FakePortal, *, member_id: str | None = None) -> None:
        self.portal = portal
        self.member_id = member_id or secrets.token_hex(16)
        """The portal's permanent id, in every answer."""
        self.access_lifetime = 3600.0
        """Seconds a newly refreshed access token lives (portal clock)."""
        self.latency = 0.0
        """Seconds each answer takes (``asyncio.sleep``), to let concurrent callers pile up."""
        self.apps: dict[str, FakeApp] = {}
        self.requests: list[RecordedRefresh] = []
        self.refresh_count = 0
        """Refreshes that issued a new pair."""
        self.refresh_token_reuse_count = 0
        """Refreshes that presented an already-spent refresh token."""
        self._grants: dict[str, _Grant] = {}

    def register_app(
        self, client_id: str | None = None, client_secret: str | None = None
    ) -> FakeApp:
        """Register an app (random id and secret unless given); returns it."""
        app = FakeApp(
            client_id=client_id or f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}",
            client_secret=client_secret or secrets.token_urlsafe(36),
        )
        self.apps[app.client_id] = app
        return app

    def issue_tokens(
        self,
        client_id: str | None = None,
        *,
        user_id: int = 1,
        scope: str = "im,imbot",
        expires_in: float | None = None,
        base: str | URL | None = None,
    ) -> OAuthToken:
        """A fresh pair, as the first ``authorization_code`` exchange would give.

        ``client_id`` defaults to the only registered app (one is registered if
        none is). ``expires_in`` defaults to :attr:`access_lifetime`. ``base`` is the
        served portal URL from ``portal.serve()``: the pair's ``client_endpoint``
        and ``server_endpoint`` then both point at it.
        """
        app = self._app(client_id)
        portal_base = URL(base).origin() if base is not None else self._portal_origin()
        server_base = portal_base if base is not None else DEFAULT_SERVER
        grant = _Grant(
            client_id=app.client_id,
            user_id=user_id,
            scope=scope,
            portal_base=portal_base,
            server_base=server_base,
            expires_at=self.portal.clock() + REFRESH_LIFETIME,
        )
        payload = self._issue(
            grant, app, self.access_lifetime if expires_in is None else expires_in
        )
        return OAuthToken.from_response(payload, received_at=self.portal.clock())

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request to ``/oauth/token/``."""
        if self.latency:
            await asyncio.sleep(self.latency)
        params: dict[str, Any] = parse_str(request.url.raw_query_string)
        if request.body:
            params.update(parse_str(request.body))
        client_id = _str(params.get("client_id"))
        status, answer = self._answer(params, client_id)
        error = answer.get("error")
        self.requests.append(
            RecordedRefresh(
                client_id=client_id,
                error=None if error is None else str(error),
                at=self.portal.clock(),
            )
        )
        body = json.dumps(answer).encode()
        return HttpResponse(status=status, headers=_JSON_HEADERS, body=body)

    def _answer(
        self, params: Mapping[str, Any], client_id: str | None
    ) -> tuple[int, dict[str, Any]]:
        if _str(params.get("grant_type")) != "refresh_token":
            return 400, _error("invalid_request", "Unsupported grant_type")
        app = self.apps.get(client_id or "")
        if app is None:
            return 200, {"error": "wrong_client"}  # sic: HTTP 200 (observed live)
        if _str(params.get("client_secret")) != app.client_secret:
            return 400, _error("invalid_client", "Invalid client credentials")
        if app.payment_required:
            return 402, _error("PAYMENT_REQUIRED", "Payment required")
        grant = self._grants.get(_str(params.get("refresh_token")) or "")
        if grant is None or grant.client_id != app.client_id:
            return 400, _error("invalid_grant", "Invalid refresh token")
        if grant.used:
            self.refresh_token_reuse_count += 1
            return 400, _error("invalid_grant", "Refresh token has already been used")
        if grant.expires_at <= self.portal.clock():
            return 400, _error("invalid_grant", "Refresh token has expired")
        grant.used = True
        self.refresh_count += 1
        successor = attrs.evolve(
            grant, expires_at=self.portal.clock() + REFRESH_LIFETIME, used=False
        )
        return 200, self._issue(successor, app, self.access_lifetime)

    def _issue(self, grant: _Grant, app: FakeApp, lifetime: float) -> dict[str, Any]:
        now = self.portal.clock()
        access = self.portal.add_access_token(
            user_id=grant.user_id, expires_in=lifetime, client_id=app.client_id, scope=grant.scope
        )
        refresh = secrets.token_hex(16)
        self._grants[refresh] = grant
        moved = self.portal.moved_to
        portal_base = moved.origin() if moved is not None else grant.portal_base
        return {
            "access_token": access,
            "expires": int(now + lifetime),
            "expires_in": int(lifetime),
            "scope": grant.scope,
            "domain": grant.server_base.host,
            "server_endpoint": str(grant.server_base.with_path("/rest/")),
            "status": app.status,
            "client_endpoint": str(portal_base.with_path("/rest/")),
            "member_id": self.member_id,
            "user_id": grant.user_id,
            "refresh_token": refresh,
        }

    def _app(self, client_id: str | None) -> FakeApp:
        if client_id is not None:
            return self.apps[client_id]
        if not self.apps:
            return self.register_app()
        if len(self.apps) > 1:
            msg = "several apps are registered: name the client_id"
            raise ValueError(msg)
        return next(iter(self.apps.values()))

    def _portal_origin(self) -> URL:
        return URL(f"https://{self.portal.domain}")

    def __repr__(self) -> str:
        return f"FakeOAuthServer(apps={len(self.apps)}, refresh_count={self.refresh_count})"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}
