"""Incoming-webhook auth: the secret code lives in the URL path, nothing to refresh."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from yarl import URL

from .._errors import BitrixError
from .._transports import Transport
from .._wire._redact import redact_url
from .._wire._urls import require_secure_url
from ._base import Authorization

__all__ = ["WebhookAuth"]

_PARAMETER: Final = "webhook_url"
_NO_PARAMS: Final[Mapping[str, Any]] = MappingProxyType({})
# Method URLs are joined once each; a client calling ever new names cannot grow this past:
_MAX_CACHED: Final = 256


class WebhookAuth:
    """Auth for an incoming webhook ``https://PORTAL/rest/USER_ID/CODE/``.

    >>> WebhookAuth("https://example.bitrix24.com/rest/1/abcdef123/")
    WebhookAuth('https://example.bitrix24.com/rest/1/***/')

    A refused webhook (``INVALID_CREDENTIALS``, ``NO_AUTH_FOUND``) is never retried:
    a webhook cannot be refreshed, only replaced by a person.
    """

    def __init__(self, webhook_url: str | URL) -> None:
        url = require_secure_url(webhook_url, parameter=_PARAMETER)
        parts = [p for p in url.path.split("/") if p]
        # A malformed URL is not echoed past its origin: any segment may be the code.
        if len(parts) < 3 or parts[-3] != "rest":
            msg = (
                f"{_PARAMETER} must look like https://PORTAL/rest/USER_ID/CODE/ "
                f"(got {redact_url(url.origin())}/ and {len(parts)} path segments)"
            )
            raise ValueError(msg)
        user_id, code = parts[-2], parts[-1]
        # ASCII digits only: str.isdigit() also takes Arabic-Indic digits or superscripts.
        if not (user_id.isascii() and user_id.isdigit()) or int(user_id) <= 0:
            msg = f"{_PARAMETER} lacks a positive numeric user id after /rest/"
            raise ValueError(msg)
        if not code.strip() or code.endswith(".json"):
            msg = f"{_PARAMETER} lacks the webhook code after the user id"
            raise ValueError(msg)
        self._base = url.with_path("/" + "/".join(parts) + "/").with_query(None).with_fragment(None)
        self._user_id = int(user_id)
        self._secrets = (code, *((url.password,) if url.password else ()))
        self._identity = f"{self._base.origin()}|webhook:{self._user_id}"
        # The authorization of a webhook call depends on the method alone: made once each.
        self._authorizations: dict[str, Authorization] = {}

    @property
    def portal(self) -> URL:
        return self._base.origin()

    @property
    def user_id(self) -> int:
        """The id of the user who created the webhook (the calls run as that user)."""
        return self._user_id

    @property
    def identity(self) -> str:
        return self._identity

    async def authorize(self, method: str, transport: Transport) -> Authorization:
        authorization = self._authorizations.get(method)
        if authorization is None:
            authorization = Authorization(
                url=self._base / method, params=_NO_PARAMS, secrets=self._secrets
            )
            if len(self._authorizations) >= _MAX_CACHED:
                self._authorizations.clear()
            self._authorizations[method] = authorization
        return authorization

    async def recover(
        self, authorization: Authorization, error: BitrixError, transport: Transport
    ) -> bool:
        return False

    def __repr__(self) -> str:
        return f"WebhookAuth({redact_url(self._base)!r})"
