"""Pluggable transports: the only code that talks to the network.

The in-memory one, for tests, is ``bitrix_dialog.testing.MemoryTransport``.
"""

from __future__ import annotations

from ._aiohttp import AiohttpTransport
from ._base import Transport

__all__ = ["AiohttpTransport", "Transport"]
