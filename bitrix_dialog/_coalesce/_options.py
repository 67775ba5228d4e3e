"""What a user sets and sees: :class:`Coalesce` (the options) and :class:`ClientStats`.

client = Client(url, coalesce=Coalesce(window=0.005))   # wait 5 ms for company
client = Client(url, coalesce=False)                     # every await its own request
client.stats()   # ClientStats(requests=11, callers=1000, commands=548, shared=452, ...)
"""

from __future__ import annotations

import math

import attrs

from .._batch._plan import BATCH_LIMIT

__all__ = ["ClientStats", "Coalesce"]


def _window(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"window must be a number of seconds, not {type(value).__name__}"
        raise TypeError(msg)
    if not (math.isfinite(value) and value >= 0):
        msg = f"window must be a finite number of seconds >= 0, not {value!r}"
        raise ValueError(msg)


def _max_batch(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"max_batch must be an int, not {type(value).__name__}"
        raise TypeError(msg)
    if not 1 <= value <= BATCH_LIMIT:
        msg = f"max_batch must be from 1 to {BATCH_LIMIT} (the portal's batch limit), not {value}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Coalesce:
    """How concurrent single lookups are merged into ``batch`` requests (on by default).

    >>> Client(url, coalesce=Coalesce(window=0.005, max_batch=50))

    With the defaults a lone call goes out at once as a plain call; calls made in the
    same event-loop iteration, or queued while the rate limiter is full, share one
    ``batch`` request of up to ``max_batch`` commands. ``Client(coalesce=False)``
    turns it off.
    """

    window: float = attrs.field(default=0.0, validator=_window)
    """Seconds a new request waits for more calls to join it before it queues for the
    limiter (default 0: none, and no timer is set)."""
    max_batch: int = attrs.field(default=BATCH_LIMIT, validator=_max_batch)
    """Commands one request carries at most (1-50)."""


@attrs.frozen(kw_only=True)
class ClientStats:
    """A read-only snapshot of what a client has sent and served (``client.stats()``).

    ``callers / requests`` is the saving coalescing (and the cache) brought.
    """

    requests: int = 0
    """HTTP requests sent, every attempt of every path (``call``, typed methods,
    ``batch``, ``get_many``, retries)."""
    callers: int = 0
    """Coalescable calls (typed lookups, ``call(..., coalesce=True)``) that got their
    outcome, successful or not."""
    commands: int = 0
    """Commands those callers needed sent (a command sent again after a failure counts
    again); fewer than ``callers`` when identical lookups shared one."""
    batched: int = 0
    """Requests sent as a ``batch`` of several coalesced commands."""
    shared: int = 0
    """Callers that joined an identical lookup already in flight (single-flight)."""
    hits: int = 0
    """Lookups answered by the dialog cache without sending anything."""
    misses: int = 0
    """Lookups the dialog cache did not hold (they were sent)."""
