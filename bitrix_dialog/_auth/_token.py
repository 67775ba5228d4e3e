"""A fixed OAuth access token: for short scripts and for tokens another system refreshes."""

from __future__ import annotations

import hashlib

from yarl import URL

from .._errors import BitrixError
from .._transports import Transport
from .._wire._redact import redact_url
from .._wire._urls import require_secure_url
from ._base import Authorization

__all__ = ["AccessTokenAuth"]


class AccessTokenAuth:
    """Send ``access_token`` as the ``auth`` parameter to ``client_endpoint``.

    >>> AccessTokenAuth("https://example.bitrix24.com/rest/", "token")
    AccessTokenAuth('https://example.bitrix24.com/rest/', access_token='***')

    Nothing is refreshed: when the token expires the call raises
    ``TokenExpiredError``. Use ``OAuthAuth`` for tokens the SDK should keep alive.
    """

    def __init__(self, client_endpoint: str | URL, access_token: str) -> None:
        url = require_secure_url(client_endpoint, parameter="client_endpoint")
        if not isinstance(access_token, str) or not access_token.strip():
            msg = "access_token must be a non-empty string"
            raise ValueError(msg)
        path = url.path if url.path.endswith("/") else url.path + "/"
        if not path.endswith("/rest/"):
            path = path + "rest/" if path == "/" else path
        self._base = url.with_path(path).with_query(None).with_fragment(None)
        self._token = access_token

    @property
    def portal(self) -> URL:
        return self._base.origin()

    @property
    def identity(self) -> str:
        return f"{self.portal}|token"

    @property
    def cache_identity(self) -> str:
        """Whose view cached lookups are: this token's (each token is one user's), by a
        digest of it; the rate limiter's :attr:`identity` names the portal only."""
        digest = hashlib.sha256(self._token.encode()).hexdigest()[:32]
        return f"{self.portal}|token:{digest}"

    async def authorize(self, method: str, transport: Transport) -> Authorization:
        return Authorization(
            url=self._base / method, params={"auth": self._token}, secrets=(self._token,)
        )

    async def recover(
        self, authorization: Authorization, error: BitrixError, transport: Transport
    ) -> bool:
        return False

    def __repr__(self) -> str:
        return f"AccessTokenAuth({redact_url(self._base)!r}, access_token='***')"
