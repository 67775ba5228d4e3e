"""Aliases shared by every layer that deals with time or chance.

Everything that waits or jitters takes these as injectable callables, so tests run in
virtual time and pin randomness instead of sleeping for real.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["Clock", "Random", "Sleep"]

Clock = Callable[[], float]
"""Monotonic seconds (default: the running loop's ``time()``)."""
Sleep = Callable[[float], Awaitable[None]]
"""An ``asyncio.sleep``-like coroutine function."""
Random = Callable[[], float]
"""A source of uniform floats in ``[0, 1)``, such as ``random.random``."""
