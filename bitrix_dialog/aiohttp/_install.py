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
"""

from __future__ import annotations

import logging
from typing import Final

from .._auth import AccessTokenAuth, OAuthToken
from .._auth._oauth_server import DEFAULT_OAUTH_SERVERS, request_refresh, token_url
from .._client import Client
from .._errors import BitrixError, TransportError
from .._transports import Transport
from .._wire._urls import require_public_url

__all__ = ["InstallRefusedError", "check_outside_urls", "confirm_pair", "is_admin"]

logger: Final = logging.getLogger("bitrix_dialog")


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
