"""Failures the fake portal can inject, drawn from a seeded random generator.

    portal.faults = Faults(server_errors=0.10, dropped=0.05, seed=7)

Each request draws once: a fraction ``dropped`` loses its connection with no answer
(in memory the handler raises ``ConnectionResetError``; over a socket the connection
is closed), ``server_errors`` are answered HTTP 500 ``INTERNAL_SERVER_ERROR``,
``non_json`` get an HTML error page (status ``non_json_status``; the page names the
request path, as Apache's do, webhook code and all), ``truncated`` get HTTP 200 with an
envelope cut off mid-string (a proxy that dropped the connection), and every request
takes ``latency`` seconds more (a number, or a ``(low, high)`` range drawn
uniformly), half on the way in and half on the way out. Faults strike in front of
the portal: a faulted request is neither counted in the leaky bucket nor executed.
The same seed gives the same faults in the same order.
"""

from __future__ import annotations

import random
from typing import Literal

import attrs

__all__ = ["FaultInjector", "FaultKind", "Faults"]

FaultKind = Literal["dropped", "server_error", "non_json", "truncated"]


def _fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        msg = f"{attribute.name} must be a fraction in [0, 1], not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Faults:
    """Which failures to inject and how often (fractions of all requests)."""

    server_errors: float = attrs.field(default=0.0, validator=_fraction)
    """Fraction answered HTTP 500 ``INTERNAL_SERVER_ERROR``."""
    dropped: float = attrs.field(default=0.0, validator=_fraction)
    """Fraction whose connection is dropped without an answer."""
    non_json: float = attrs.field(default=0.0, validator=_fraction)
    """Fraction answered with an HTML page instead of JSON."""
    non_json_status: int = 502
    """The HTTP status of those HTML pages (200 models a portal's garbage 200s)."""
    truncated: float = attrs.field(default=0.0, validator=_fraction)
    """Fraction answered HTTP 200 with a truncated JSON envelope."""
    latency: float | tuple[float, float] = 0.0
    """Seconds added to every request (half arriving, half answering), or a range."""
    seed: int = 0
    """Seed of the generator that picks the faulted requests."""

    def __attrs_post_init__(self) -> None:
        if self.server_errors + self.dropped + self.non_json + self.truncated > 1:
            msg = "server_errors + dropped + non_json + truncated must not exceed 1"
            raise ValueError(msg)


class FaultInjector:
    """Draws the fault (if any) and the latency of each request from ``faults.seed``."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)  # test faults, not cryptography

    def draw(self) -> FaultKind | None:
        """The fault for the next request, or ``None``."""
        faults = self.faults
        roll = self._random.random()
        if roll < faults.dropped:
            return "dropped"
        if roll < faults.dropped + faults.server_errors:
            return "server_error"
        if roll < faults.dropped + faults.server_errors + faults.non_json:
            return "non_json"
        if roll < faults.dropped + faults.server_errors + faults.non_json + faults.truncated:
            return "truncated"
        return None

    def latency(self) -> float:
        """Seconds to delay the next answer."""
        latency = self.faults.latency
        if isinstance(latency, tuple):
            low, high = latency
            return self._random.uniform(low, high)
        return float(latency)
