"""The auth protocol the client consults for every request.

The client asks the auth for an :class:`Authorization` (the method's URL plus any
parameters to add, such as OAuth's ``auth``) right before each attempt, and tells it
when the portal refused the credentials (an ``AuthError``) or redirected the call
(``PortalMovedError``). The auth may then recover once (an OAuth refresh, a verified
switch to the portal's new address) and answer ``True``; the client repeats the call
with a new authorization.
``Authorization.credential`` lets a recovering auth see *which* credential was
refused, so that among many concurrent failures only the first one refreshes (the
others find the credential already replaced and simply retry).

Auths talk to the network only through the transport they are handed, never on a
timer: Bitrix24 warns that timed refreshes get apps blocked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs
from yarl import URL

from .._errors import BitrixError
from .._transports import Transport
from .._wire._redact import redact_url

__all__ = ["Auth", "Authorization"]


@attrs.frozen(kw_only=True)
class Authorization:
    """Where one call goes and what it must carry. ``repr`` hides secrets."""

    url: URL = attrs.field(repr=redact_url)
    """The full URL of the REST method."""
    params: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """Parameters added to the call's body (e.g. ``{"auth": access_token}``)."""
    credential: object = attrs.field(default=None, repr=False)
    """An opaque marker of the credential used, handed back to :meth:`Auth.recover`."""
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)
    """Every secret this attempt relies on (webhook code, tokens, client secret): the
    client masks each of them in the answer before any error is built from it."""


@runtime_checkable
class Auth(Protocol):
    """How the client authenticates. Implemented by WebhookAuth, AccessTokenAuth, OAuthAuth."""

    @property
    def portal(self) -> URL:
        """The portal's origin (``https://example.bitrix24.com``); used to key shared state."""
        ...

    @property
    def identity(self) -> str:
        """A secret-free name of these credentials (portal + app or webhook user).

        Calls with the same identity share one rate limiter inside a client: the
        portal meters per application, not per coroutine.
        """
        ...

    async def authorize(self, method: str, transport: Transport) -> Authorization:
        """Return the URL and extra parameters for one attempt of ``method``."""
        ...

    async def recover(
        self, authorization: Authorization, error: BitrixError, transport: Transport
    ) -> bool:
        """The portal refused or redirected ``authorization``: fix it, return True to retry once.

        ``error`` is an ``AuthError`` or a ``PortalMovedError``; return False to let it raise.
        """
        ...
