"""Pluggable transports: the only code that talks to the network (or pretends to)."""

from __future__ import annotations

from ._aiohttp import AiohttpTransport
from ._base import Transport
from ._memory import Handler, MemoryTransport

__all__ = ["AiohttpTransport", "Handler", "MemoryTransport", "Transport"]
