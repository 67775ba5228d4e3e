"""Who may call the fake portal: incoming webhooks and OAuth access tokens.

A webhook URL ``/rest/USER/CODE/method`` must name a code created for that user and,
unless the host is loopback, use https (``INVALID_REQUEST`` "Https required."); a wrong
pair is ``INVALID_CREDENTIALS``. An OAuth call carries its token as ``Authorization:
Bearer``, ``auth`` or ``access_token`` (the parameter is removed before the handler sees
it): none is ``NO_AUTH_FOUND``, an unknown one ``invalid_token`` (401), a stale one
``expired_token``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import attrs

from .._wire._http import HttpRequest
from .._wire._urls import is_loopback
from ._context import Caller
from ._errors import PortalError
from ._wire import bearer_token

__all__ = ["Credentials"]


@attrs.define
class _TokenGrant:
    user_id: int
    expires_at: float
    client_id: str | None = None
    scope: frozenset[str] | None = None


class Credentials:
    """The webhook codes and access tokens a portal accepts, and the check of each call."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._webhooks: dict[str, int] = {}
        self._tokens: dict[str, _TokenGrant] = {}

    def add_webhook(self, user_id: int, code: str | None) -> str:
        """Accept webhook ``code`` (a fresh one if ``None``) for ``user_id``; returns it."""
        code = code or secrets.token_hex(8)
        self._webhooks[code] = user_id
        return code

    def webhook_user(self, code: str) -> int:
        """The user webhook ``code`` runs as (``KeyError`` for an unknown code)."""
        return self._webhooks[code]

    def add_access_token(
        self,
        token: str | None,
        *,
        user_id: int,
        expires_in: float,
        client_id: str | None = None,
        scope: str | None = None,
    ) -> str:
        """Accept ``token`` (a fresh one if ``None``) for ``expires_in`` seconds, issued to
        app ``client_id`` with ``scope`` (comma-separated; ``None``: any) when known."""
        token = token or secrets.token_hex(16)
        self._tokens[token] = _TokenGrant(
            user_id=user_id,
            expires_at=self._clock() + expires_in,
            client_id=client_id,
            scope=None if scope is None else frozenset(filter(None, scope.split(","))),
        )
        return token

    def revoke(self, token: str) -> None:
        """Forget ``token``."""
        self._tokens.pop(token, None)

    def authenticate(
        self, request: HttpRequest, webhook: tuple[str, str] | None, params: dict[str, Any]
    ) -> Caller:
        """The caller of ``request``, or the documented ``PortalError``."""
        if webhook is not None:
            if request.url.scheme != "https" and not is_loopback(request.url.host):
                raise PortalError("INVALID_REQUEST", "Https required.")
            user, code = webhook
            if self._webhooks.get(code) is None or str(self._webhooks[code]) != user:
                raise PortalError("INVALID_CREDENTIALS", "Invalid request credentials")
            return Caller(user_id=int(user), kind="webhook", credential=code)
        token = (
            bearer_token(request) or params.pop("auth", None) or params.pop("access_token", None)
        )
        if not token:
            raise PortalError("NO_AUTH_FOUND", "Wrong authorization data")
        grant = self._tokens.get(str(token))
        if grant is None:
            raise PortalError("invalid_token", "Unable to get application by token", status=401)
        if grant.expires_at <= self._clock():
            raise PortalError("expired_token", "The access token provided has expired")
        return Caller(
            user_id=grant.user_id,
            kind="oauth",
            credential=str(token),
            client_id=grant.client_id,
            scope=grant.scope,
        )
