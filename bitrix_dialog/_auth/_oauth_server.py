"""Talking to the Bitrix24 authorization server: one refresh request and its answer.

The request is the documented ``GET /oauth/token/?grant_type=refresh_token&client_id=
&client_secret=&refresh_token=`` (EN ``settings/oauth/auto-renewal.md``). The answer
is classified by its ``error`` code, never by status: a wrong ``client_id`` comes
back as ``{"error": "wrong_client"}`` with HTTP **200**.

Answers carry fresh secrets, so every error built here keeps a *redacted* copy of
the body: nothing that reaches a log or a traceback can replay the tokens.

Where the refresh goes. The request carries the app's ``client_secret`` and the
live refresh token, so it goes only to a documented Bitrix24 authorization server
(:data:`DEFAULT_OAUTH_SERVERS`, or the hosts an app lists), whatever a pair's
``server_endpoint`` says, unless the user configured ``oauth_server=`` explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from yarl import URL

from .._errors import (
    BitrixError,
    OAuthError,
    ResponseDecodeError,
    error_for,
)
from .._transports import Transport
from .._wire._http import HttpRequest, HttpResponse
from .._wire._redact import redact_text
from .._wire._urls import require_secure_url
from ._tokens import OAuthToken

__all__ = [
    "DEFAULT_OAUTH_SERVERS",
    "DEFAULT_TOKEN_URL",
    "check_oauth_servers",
    "decode_token_answer",
    "normalise_token_url",
    "refresh_token_request",
    "request_refresh",
    "server_problem",
    "token_url",
]

DEFAULT_TOKEN_URL: Final = URL("https://oauth.bitrix.info/oauth/token/")
DEFAULT_OAUTH_SERVERS: Final = frozenset({"oauth.bitrix.info", "oauth.bitrix24.tech"})
"""The documented Bitrix24 authorization servers a pair may name as its ``server_endpoint``."""
_METHOD: Final = "oauth/token"
_HEADERS: Final[Mapping[str, str]] = {"Accept": "application/json"}


def check_oauth_servers(hosts: object) -> frozenset[str]:
    """``oauth_servers=`` as given (``host`` or ``host:port`` names), lower-cased; else raise."""
    if (
        isinstance(hosts, str)
        or not isinstance(hosts, Collection)
        or not hosts
        or not all(isinstance(host, str) and host for host in hosts)
    ):
        msg = "oauth_servers must be a non-empty collection of host names (host or host:port)"
        raise TypeError(msg)
    return frozenset(host.lower() for host in hosts)


def server_problem(server_endpoint: str | None, servers: frozenset[str]) -> str | None:
    """Why ``server_endpoint`` may not receive the client secret, or None when it may.

    ``None`` is fine (the refresh then goes to ``oauth.bitrix.info``); anything else
    must be https (or http to loopback) to one of ``servers``.
    """
    if server_endpoint is None:
        return None
    try:
        url = require_secure_url(server_endpoint, parameter="server_endpoint")
    except ValueError as exc:
        return str(exc)
    host = (url.host or "").lower()
    if host in servers or f"{host}:{url.port}" in servers:
        return None
    return (
        f"the pair names {host!r} as its authorization server, which is not one of "
        f"oauth_servers ({', '.join(sorted(servers))})"
    )


def token_url(
    configured: URL | None,
    server_endpoint: str | None,
    servers: frozenset[str] = DEFAULT_OAUTH_SERVERS,
) -> URL:
    """Where to refresh: the configured URL, else ``server_endpoint``'s host, else the default.

    ``server_endpoint`` is the server's REST base (``https://oauth.bitrix.info/rest/``);
    regions differ (``oauth.bitrix24.tech``), so the token's own value beats a
    hard-coded host, but only when it names one of ``servers``: the request carries
    the client secret. Anything else raises ``OAuthError`` (``UNTRUSTED_OAUTH_SERVER``).
    """
    if configured is not None:
        return configured
    if not server_endpoint:
        return DEFAULT_TOKEN_URL
    problem = server_problem(server_endpoint, servers)
    if problem is not None:
        msg = f"refusing to send the client secret: {problem}"
        raise OAuthError(msg, code="UNTRUSTED_OAUTH_SERVER")
    origin = URL(server_endpoint).origin()
    return origin.with_path("/oauth/token/")


def normalise_token_url(value: str | URL) -> URL:
    """``oauth_server=`` as given by a user: an origin gets ``/oauth/token/`` appended."""
    url = require_secure_url(value, parameter="oauth_server").with_query(None).with_fragment(None)
    if url.path in ("", "/"):
        return url.with_path("/oauth/token/")
    return url


def refresh_token_request(
    url: URL, *, client_id: str, client_secret: str, refresh_token: str
) -> HttpRequest:
    """The documented refresh request (GET, parameters in the query)."""
    query = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return HttpRequest(
        method="GET", url=url.with_query(query), headers=_HEADERS, rest_method=_METHOD
    )


async def request_refresh(
    transport: Transport,
    url: URL,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    received_at: float,
) -> OAuthToken:
    """Spend ``refresh_token`` and return the new pair, or raise a typed error.

    Errors: ``invalid_grant`` -> ``ReauthorizationRequiredError``; ``invalid_client``
    / ``wrong_client`` -> ``InvalidClientError``; ``PAYMENT_REQUIRED`` ->
    ``PaymentRequiredError``; any other ``error`` -> ``OAuthError``; no answer ->
    ``TransportError``; an answer that is not a token -> ``ResponseDecodeError``.
    """
    request = refresh_token_request(
        url, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token
    )
    response = await transport.send(request)  # its errors name _METHOD: see rest_method
    secrets = (client_secret, refresh_token)
    return decode_token_answer(response, received_at=received_at, secrets=secrets)


def decode_token_answer(
    response: HttpResponse, *, received_at: float, secrets: Iterable[str | None] = ()
) -> OAuthToken:
    """Classify one authorization-server answer (see :func:`request_refresh`).

    Everything kept from it (body, description, messages) is masked with ``secrets``
    (the client secret and the refresh token sent) and secret-named fields. An
    unreadable field (an expiry past the year 9999, a number where a string belongs)
    raises ``ResponseDecodeError`` before anything is saved.
    """
    known = tuple(secrets)
    body = _redacted(response.body, known)
    try:
        payload: Any = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        msg = "the authorization server's answer is not JSON"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body) from None
    if not isinstance(payload, dict):
        msg = "the authorization server's answer is not a JSON object"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body)
    if "error" in payload:
        raise _oauth_error(payload, status=response.status, body=body, secrets=known)
    try:
        return OAuthToken.from_response(payload, received_at=received_at)
    except (TypeError, ValueError) as exc:
        reason = redact_text(str(exc), secrets=known)
        msg = f"the authorization server's answer is not a token pair: {reason}"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body) from None


def _oauth_error(
    payload: Mapping[str, Any], *, status: int, body: bytes, secrets: tuple[str | None, ...]
) -> BitrixError:
    code = redact_text(str(payload.get("error") or ""), secrets=secrets)
    description = redact_text(str(payload.get("error_description") or ""), secrets=secrets)
    error = error_for(code, description, status=status, method=_METHOD, body=body)
    if isinstance(error, OAuthError):
        return error
    # invalid_request, invalid_scope, ...: still the authorization server refusing.
    return OAuthError(description, code=code, status=status, method=_METHOD, body=body)


def _redacted(body: bytes, secrets: tuple[str | None, ...]) -> bytes:
    return redact_text(body.decode("utf-8", "replace"), secrets=secrets).encode()
