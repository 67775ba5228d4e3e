"""What a fake method handler sees and what the portal records: callers, contexts, calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from ._portal import FakePortal

__all__ = ["CallContext", "Caller", "MethodHandler", "RecordedCall"]


@attrs.frozen(kw_only=True)
class Caller:
    """Who is calling: the user the call runs as, and how they authenticated."""

    user_id: int
    kind: Literal["webhook", "oauth"]
    credential: str
    """The webhook code or the access token (the fake keeps secrets in the clear)."""
    client_id: str | None = None
    """The app an OAuth token was issued to (``portal.issue_tokens``), else ``None``."""
    scope: frozenset[str] | None = None
    """The scopes of an OAuth token issued by ``portal.issue_tokens``; ``None``: any."""


@attrs.frozen(kw_only=True)
class CallContext:
    """What a method handler gets: the portal, the caller and the parsed parameters."""

    portal: FakePortal
    caller: Caller
    method: str
    params: Mapping[str, Any]
    """Parameters with keys as sent (use :meth:`param` for case-insensitive lookups)."""

    def param(self, name: str) -> Any:
        """A parameter by name, case-insensitively, as the portal's legacy handlers read them."""
        if name in self.params:
            return self.params[name]
        lowered = name.lower()
        for key, value in self.params.items():
            if key.lower() == lowered:
                return value
        return None


MethodHandler = Callable[[CallContext], Awaitable[Any]]
"""A fake REST method: returns the ``result`` value or raises :class:`PortalError`."""


@attrs.frozen(kw_only=True)
class RecordedCall:
    """One request the portal served, for assertions in tests."""

    method: str
    params: Mapping[str, Any]
    status: int
    error: str | None
    at: float
