"""The two values that cross the transport boundary: an HTTP request and its answer.

Transports see only these (method, URL, headers, body bytes in; status, headers,
body bytes out), so any HTTP stack, or none at all (see
``bitrix_dialog.testing.MemoryTransport``), can carry the SDK's calls.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from yarl import URL

from ._redact import redact_url

__all__ = ["HttpRequest", "HttpResponse", "Timeout"]


@attrs.frozen(kw_only=True)
class Timeout:
    """Per-request time limits in seconds; ``None`` means no limit of that kind.

    Defaults sit well under the portal's own 60 s cap on one REST request.
    """

    connect: float | None = 10.0
    """Seconds to open a connection (including TLS)."""
    read: float | None = 30.0
    """Seconds to wait for the whole answer once the request is sent."""

    def capped(self, remaining: float | None) -> Timeout:
        """This timeout shortened so that neither part outlives ``remaining`` seconds."""
        if remaining is None:
            return self
        remaining = max(remaining, 0.0)

        def cap(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return Timeout(connect=cap(self.connect), read=cap(self.read))


@attrs.frozen(kw_only=True)
class HttpRequest:
    """One HTTP request as the SDK wants it sent. ``repr`` never shows secrets."""

    method: str
    url: URL = attrs.field(repr=redact_url)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)
    timeout: Timeout | None = None
    """Overrides the transport's own timeout for this request (used for deadlines)."""
    rest_method: str | None = None
    """The REST method called, for the transport to name in the errors it raises (errors are
    built complete, never amended later); transports treat it as a label and nothing more."""


@attrs.frozen(kw_only=True)
class HttpResponse:
    """The answer to an :class:`HttpRequest`: status, headers and the raw body bytes."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)
