"""Which address an OAuth pair may be sent to, and who decides when the portal moves.

A Bitrix24 portal can change its address while keeping its ``member_id``. The
authorization server then names the new address in the ``client_endpoint`` of the
next pair. Following that silently would send the token wherever an answer (or a
pair some other process stored) says, so :class:`PortalGuard` lets a pair out only
to the portal it was configured for, and asks ``on_portal_moved`` once per new
pair when that differs. A declined move raises ``PortalMovedError`` on every call
without asking again; the pair itself is kept (its refresh token is the live one).
A new address is an address from outside: it must be https to a public host name
(``allow_loopback`` relaxes that for a fake portal on 127.0.0.1), whatever the callback says.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Final

import attrs
from yarl import URL

from .._errors import OAuthError, PortalMovedError
from .._wire._redact import redact_url
from .._wire._urls import require_public_url, require_secure_url
from ._tokens import OAuthToken

__all__ = ["PortalGuard", "PortalMove", "PortalMoveCallback", "RedirectPause", "rest_base"]

logger: Final = logging.getLogger("bitrix_dialog")

# After a redirect the authorization server does not confirm, the next verification
# waits this long, doubling each time it again finds no move, up to the cap.
_FIRST_GAP: Final = 60.0
_MAX_GAP: Final = 3600.0


@attrs.frozen(kw_only=True)
class PortalMove:
    """What ``on_portal_moved`` is asked about: the portal now answers elsewhere."""

    member_id: str
    """The portal's permanent id (the same before and after the move)."""
    old_endpoint: str
    """The REST base calls went to so far (``https://old.bitrix24.com/rest/``)."""
    new_endpoint: str
    """The REST base the authorization server now names for this portal."""
    location: str | None = None
    """The ``Location`` of the portal's redirect that prompted the check, if any."""


PortalMoveCallback = Callable[[PortalMove], bool | Awaitable[bool]]
"""``on_portal_moved``: return (or resolve to) True to switch to ``new_endpoint``."""


def rest_base(endpoint: str | URL, parameter: str) -> URL:
    """``endpoint`` as a REST base URL ending in ``/``: https, or http to loopback only."""
    url = require_secure_url(endpoint, parameter=parameter).with_query(None).with_fragment(None)
    return url if url.path.endswith("/") else url.with_path(url.path + "/")


class PortalGuard:
    """The portal one ``OAuthAuth`` serves, and the one place that may change it."""

    def __init__(
        self, client_endpoint: str, callback: PortalMoveCallback | None, *, allow_loopback: bool
    ) -> None:
        self.base = rest_base(client_endpoint, "token.client_endpoint")
        self.callback = callback
        self.allow_loopback = allow_loopback
        self.redirect: str | None = None
        """The ``Location`` of the last redirect being verified, shown in the next move."""
        self._verified = client_endpoint  # the endpoint ``base`` was built from
        self._declined: OAuthToken | None = None
        self._decision = asyncio.Lock()

    @property
    def portal(self) -> URL:
        return self.base.origin()

    def elsewhere(self, token: OAuthToken) -> bool:
        """True when ``token`` names another portal origin than the one served."""
        if token.client_endpoint == self._verified:
            return False
        try:
            return URL(token.client_endpoint).origin() != self.portal
        except ValueError:  # not an absolute URL: nowhere this auth serves
            return True

    async def base_for(self, token: OAuthToken) -> URL:
        """The REST base to sign ``token`` for, or raise if the move is not accepted."""
        if token.client_endpoint == self._verified:
            return self.base
        if self.elsewhere(token):
            async with self._decision:  # one question per move, however many calls wait
                if self.elsewhere(token):
                    return await self._decide(token)
        self.base = rest_base(token.client_endpoint, "client_endpoint")
        self._verified = token.client_endpoint
        return self.base

    async def _decide(self, token: OAuthToken) -> URL:
        try:
            require_public_url(
                token.client_endpoint,
                parameter="client_endpoint",
                allow_loopback=self.allow_loopback,
            )
            new_base = rest_base(token.client_endpoint, "client_endpoint")
        except ValueError as exc:
            msg = f"the portal's new address is refused; not switching: {exc}"
            raise OAuthError(msg, code="INSECURE_ENDPOINT") from None
        move = PortalMove(
            member_id=token.member_id,
            old_endpoint=str(self.base),
            new_endpoint=str(new_base),
            location=self.redirect,
        )
        accepted = False
        if self.callback is not None and not token.same_pair(self._declined):
            answer = self.callback(move)
            if inspect.isawaitable(answer):
                answer = await answer
            accepted = answer is True
        if not accepted:
            self._declined = token
            msg = (
                f"the portal (member {token.member_id}) now answers at {redact_url(new_base)}, "
                f"not {redact_url(self.base)}; not switching without on_portal_moved's consent"
            )
            raise PortalMovedError(msg, location=str(new_base))
        logger.info(
            "OAuth: portal of member %s moved from %s to %s (accepted)",
            token.member_id,
            redact_url(self.base),
            redact_url(new_base),
        )
        self.base = new_base
        self._verified = token.client_endpoint
        self.redirect = self._declined = None
        return new_base


class RedirectPause:
    """How often a redirect may be verified with a refresh: a portal (or a proxy) that
    redirects every call must not cost one refresh per call.

    After a verification that finds no move, redirects raise at once for 60 s, then
    120 s, ... up to an hour, until one finds a move. Times are the auth's Unix clock.
    """

    def __init__(self) -> None:
        self._gap = 0.0
        self._until = -math.inf

    def allows(self, now: float) -> bool:
        """True when a redirect may be verified now."""
        return now >= self._until

    def found_no_move(self, now: float) -> float | None:
        """A verification named no new address: the new pause in seconds, or ``None`` when
        another call that shared the same verification already set it."""
        if now < self._until:
            return None
        self._gap = min(max(self._gap * 2, _FIRST_GAP), _MAX_GAP)
        self._until = now + self._gap
        return self._gap

    def clear(self) -> None:
        """A verification found the move: the next redirect is verified at once."""
        self._gap = 0.0
        self._until = -math.inf
