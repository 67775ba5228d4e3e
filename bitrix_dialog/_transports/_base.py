"""The transport protocol: one request in, one answer out, nothing else.

A transport knows nothing of Bitrix24: no envelopes, no retries, no auth. It must
raise :class:`~bitrix_dialog.TransportError` (or its :class:`RequestTimeoutError`)
when no HTTP answer arrives, built with ``method=request.rest_method`` so the error
names the call, and return every HTTP answer, whatever its status, without
following redirects.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .._wire._http import HttpRequest, HttpResponse

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """Sends :class:`HttpRequest` values; implement it to use another HTTP stack."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the answer, or raise ``TransportError``."""
        ...

    async def aclose(self) -> None:
        """Release connections the transport owns. Safe to call twice."""
        ...
