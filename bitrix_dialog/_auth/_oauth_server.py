"""Talking to the Bitrix24 authorization server: one refresh request and its answer.

The request is the documented ``GET /oauth/token/?grant_type=refresh_token&client_id=
&client_secret=&refresh_token=`` (EN ``settings/oauth/auto-renewal.md``). The answer
is classified by its ``error`` code, never by status: a wrong ``client_id`` comes
back as ``{"error": "wrong_client"}`` with HTTP **200**.

Answers carry fresh secrets, so every error built here keeps a *redacted* copy of
the body: nothing that reaches a log or a traceback can replay the tokens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from yarl import URL

from .._errors import BitrixError, OAuthError, ResponseDecodeError, error_for
from .._transports import Transport
from .._wire._http import HttpRequest, HttpResponse
from .._wire._redact import redact_text
from .._wire._urls import require_secure_url
from ._tokens import OAuthToken

__all__ = [
    "DEFAULT_TOKEN_URL",
    "decode_token_answer",
    "normalise_token_url",
    "refresh_token_request",
    "request_refresh",
    "token_url",
]

DEFAULT_TOKEN_URL: Final = URL("https://oauth.bitrix.info/oauth/token/")
_METHOD: Final = "oauth/token"
_HEADERS: Final[Mapping[str, str]] = {"Accept": "application/json"}


def token_url(configured: URL | None, server_endpoint: str | None) -> URL:
    """Where to refresh: the configured URL, else ``server_endpoint``'s host, else the default.

    ``server_endpoint`` is the server's REST base (``https://oauth.bitrix.info/rest/``);
    regions differ (``oauth.bitrix24.tech``), so the token's own value beats a
    hard-coded host. It must be https (or loopback http, for tests).
    """
    if configured is not None:
        return configured
    if not server_endpoint:
        return DEFAULT_TOKEN_URL
    try:
        origin = require_secure_url(server_endpoint, parameter="server_endpoint").origin()
    except ValueError as exc:
        msg = f"refusing to send the client secret: {exc}"
        raise OAuthError(msg, code="INSECURE_ENDPOINT") from None
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
    return decode_token_answer(response, received_at=received_at)


def decode_token_answer(response: HttpResponse, *, received_at: float) -> OAuthToken:
    """Classify one authorization-server answer (see :func:`request_refresh`)."""
    body = _redacted(response.body)
    try:
        payload: Any = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        msg = "the authorization server's answer is not JSON"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body) from None
    if not isinstance(payload, dict):
        msg = "the authorization server's answer is not a JSON object"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body)
    if "error" in payload:
        raise _oauth_error(payload, status=response.status, body=body)
    try:
        return OAuthToken.from_response(payload, received_at=received_at)
    except (TypeError, ValueError) as exc:
        msg = f"the authorization server's answer is not a token pair: {exc}"
        raise ResponseDecodeError(msg, status=response.status, method=_METHOD, body=body) from None


def _oauth_error(payload: Mapping[str, Any], *, status: int, body: bytes) -> BitrixError:
    code = str(payload.get("error") or "")
    description = str(payload.get("error_description") or "")
    error = error_for(code, description, status=status, method=_METHOD, body=body)
    if isinstance(error, OAuthError):
        return error
    # invalid_request, invalid_scope, ...: still the authorization server refusing.
    return OAuthError(description, code=code, status=status, method=_METHOD, body=body)


def _redacted(body: bytes) -> bytes:
    return redact_text(body.decode("utf-8", "replace")).encode()
