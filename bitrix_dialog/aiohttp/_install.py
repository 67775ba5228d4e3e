"""Confirming an install post with Bitrix24 itself, before the app believes it.

An install post cannot be checked against an application token stored earlier
(it brings the token), so its OAuth pair is what gets checked:

1. the pair's refresh token is spent once at the authorization server
   (:func:`confirm_pair`): only a pair Bitrix24 issued to this app for this portal
   refreshes, and the answer names the portal (``member_id``) and where it lives
   (``client_endpoint``) on the server's word, not the post's; a spent (replayed)
   refresh token is refused there;
2. for a portal already installed, ``user.admin`` on the refreshed pair
   (:func:`is_admin`; EN ``api-reference/common/users/user-admin.md``, scope
   ``basic``, any user may call it) must answer ``true``: a portal user who is no
   administrator cannot replace the app's token or pair with their own.

Every URL the authorization server names must pass the same public-URL policy as
the post's own (:func:`check_outside_urls`).

:class:`Installer` decides what an install post may store (``Portals.install``
documents the rules): a stored pair is replaced only by a newer one or one a refresh
confirms, so a late or replayed post cannot put a spent pair back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import attrs

from .._auth import AccessTokenAuth, EventAuth, OAuthToken, TokenStore
from .._auth._oauth_server import DEFAULT_OAUTH_SERVERS, request_refresh, server_problem, token_url
from .._auth._stored import load_pair
from .._auth._tokens import secrets_of
from .._client import Client
from .._errors import BitrixError, TokenStoreError, TransportError
from .._transports import Transport
from .._wire._redact import safe_cause
from .._wire._urls import require_public_url

__all__ = ["InstallRefusedError", "Installer", "check_outside_urls", "confirm_pair", "is_admin"]

logger: Final = logging.getLogger("bitrix_dialog")

_NO_TOKENS: Final = "the install carries no OAuth tokens"


class InstallRefusedError(Exception):
    """An install (or update) post was not accepted; ``reason`` says why.

    ``status`` is the HTTP status the event endpoint answers with: 403 for a post
    that is not believed, 400 for one that cannot be an install at all (no tokens).
    """

    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def check_outside_urls(token: OAuthToken, source: str, allow_loopback: bool) -> None:
    """A pair's endpoints came from outside: https to public hosts only."""
    try:
        require_public_url(
            token.client_endpoint, parameter="client_endpoint", allow_loopback=allow_loopback
        )
        if token.server_endpoint is not None:
            require_public_url(
                token.server_endpoint, parameter="server_endpoint", allow_loopback=allow_loopback
            )
    except ValueError as exc:
        raise InstallRefusedError(f"{source} names an untrusted URL: {exc}") from None


async def confirm_pair(
    transport: Transport,
    token: OAuthToken,
    *,
    client_id: str,
    client_secret: str,
    received_at: float,
    allow_loopback: bool,
    servers: frozenset[str] = DEFAULT_OAUTH_SERVERS,
) -> OAuthToken:
    """Spend ``token``'s refresh token; the authorization server's new pair, or a refusal.

    ``servers`` are the authorization-server hosts the refresh may go to.

    A ``TransportError`` (no answer) propagates: the endpoint answers 503 and the
    portal may post again. Any answer that is not a pair for the same portal is an
    :class:`InstallRefusedError`.
    """
    assert token.refresh_token is not None
    try:
        confirmed = await request_refresh(
            transport,
            token_url(None, token.server_endpoint, servers),
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=token.refresh_token,
            received_at=received_at,
        )
    except TransportError:
        raise
    except BitrixError as exc:
        msg = f"the authorization server refused the install's pair ({exc.code})"
        raise InstallRefusedError(msg) from exc
    if confirmed.member_id != token.member_id:
        msg = "the authorization server says the pair belongs to another portal"
        raise InstallRefusedError(msg)
    check_outside_urls(confirmed, "the authorization server", allow_loopback)
    return confirmed


async def is_admin(transport: Transport, token: OAuthToken) -> bool:
    """``user.admin`` with ``token``: is its user an administrator of the portal?

    Only ``true`` counts; an error answer (no ``basic`` scope, an expired token ...)
    is taken for "no" and logged. A ``TransportError`` propagates (503, as above).
    """
    client = Client(AccessTokenAuth(token.client_endpoint, token.access_token), transport=transport)
    try:
        answer = await client.call("user.admin")
    except TransportError:
        raise
    except BitrixError as exc:
        logger.info("Bitrix24: user.admin failed (%s): not taken for an administrator", exc.code)
        return False
    finally:
        await client.aclose()
    return answer.result is True


class Installer:
    """Decides whether an ``ONAPPINSTALL``/``ONAPPUPDATE`` post is believed, and stores it.

    One per :class:`Portals`, sharing its store, transport and app credentials;
    ``servers`` are the authorization-server hosts a pair may name.
    """

    def __init__(
        self,
        *,
        store: TokenStore,
        transport: Transport,
        client_id: str,
        client_secret: str,
        servers: frozenset[str],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._transport = transport
        self._client_id = client_id
        self._client_secret = client_secret
        self._servers = servers
        self._clock = clock

    async def accept(
        self, auth: EventAuth, *, verify: bool, trusted: bool, allow_loopback: bool
    ) -> tuple[OAuthToken | None, bool]:
        """``(the pair stored now, whether this post saved it)``, or ``InstallRefusedError``.

        The rules are ``Portals.install``'s. Saved ``False``: an authentic post left the
        stored pair (or, bringing none, nothing) as it was.
        """
        member_id = auth.member_id
        if not member_id:
            raise InstallRefusedError("the post names no member_id")
        if not auth.application_token:
            raise InstallRefusedError("the post carries no application_token")
        stored = await load_pair(self._store, member_id)
        authentic = trusted or (stored is not None and auth.verify(stored.application_token))
        token = auth.token if auth.token is not None and auth.token.refresh_token else None
        if token is None:
            if stored is None:
                raise InstallRefusedError(_NO_TOKENS, status=400)
            if authentic:
                return None, False
            raise InstallRefusedError("a new application_token came without a refresh token")
        check_outside_urls(token, "the post", allow_loopback)
        self._check_install_server(token)
        if authentic:
            replacement = await self._authentic_pair(token, stored, verify, allow_loopback)
            if replacement is None:
                logger.info(
                    "Bitrix24: install post of member %r kept the stored pair", member_id[:64]
                )
                return stored, False
            token = replacement
        elif verify:
            token = await self._confirm(token, allow_loopback)
            if stored is not None and not await self._is_admin(token):
                msg = (
                    "the install's user is no administrator of the portal (user.admin); "
                    "the stored application token stays"
                )
                raise InstallRefusedError(msg)
        elif stored is not None:
            raise InstallRefusedError(
                "the application_token differs from the stored one and verify_install is off"
            )
        token = attrs.evolve(token, application_token=auth.application_token)
        failure: TokenStoreError | None = None
        try:
            await self._store.save(token)
        except Exception as exc:
            msg = f"saving the install pair of member {member_id} failed ({type(exc).__name__})"
            failure = TokenStoreError(msg)
            cause = safe_cause(exc, secrets=secrets_of(token, auth.token))
        if failure is not None:
            raise failure from cause  # outside the handler: a dropped cause is no __context__
        return token, True

    async def _authentic_pair(
        self, token: OAuthToken, stored: OAuthToken | None, verify: bool, allow_loopback: bool
    ) -> OAuthToken | None:
        """The pair an authentic post may store, or None to keep the stored one."""
        if stored is None:
            return token
        if token.expires_at <= stored.expires_at:  # not newer: a late or replayed post
            if not verify:
                return None
            try:
                token = await self._confirm(token, allow_loopback)
            except InstallRefusedError:
                return None
        if verify and not await self._is_admin(token):
            return None
        return token

    async def _confirm(self, token: OAuthToken, allow_loopback: bool) -> OAuthToken:
        self._check_install_server(token)
        confirmed = await confirm_pair(
            self._transport,
            token,
            client_id=self._client_id,
            client_secret=self._client_secret,
            received_at=self._clock(),
            allow_loopback=allow_loopback,
            servers=self._servers,
        )
        self._check_install_server(confirmed)
        return confirmed

    async def _is_admin(self, token: OAuthToken) -> bool:
        return await is_admin(self._transport, token)

    def _check_install_server(self, token: OAuthToken) -> None:
        problem = server_problem(token.server_endpoint, self._servers)
        if problem is not None:
            raise InstallRefusedError(problem)
