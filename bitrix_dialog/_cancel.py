"""Honouring a cancel that a library lost: :func:`raise_if_cancelled`.

Python 3.11's ``asyncio.wait_for`` (which redis-py runs every command through) returns
the result when a cancel arrives just as its inner future completes, and the
``CancelledError`` is gone. A loop that only ends when cancelled (a fetch-mode poller, a
worker waiting for a lease or a bucket slot another worker holds) would then go on
through its own shutdown. The task still counts the request (``Task.cancelling()``), so
such loops check it at each step and stop there.
"""

from __future__ import annotations

import asyncio

__all__ = ["cancel_requested", "raise_if_cancelled"]


def cancel_requested() -> bool:
    """True if the running task was asked to stop (whether or not the request arrived)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_cancelled() -> None:
    """Raise :class:`asyncio.CancelledError` if the running task was asked to stop."""
    if cancel_requested():
        raise asyncio.CancelledError
