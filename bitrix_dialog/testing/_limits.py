"""The fake portal's front door: faults, the leaky bucket, blocks, and what it counted.

:meth:`FakePortal.handle` passes every request through a :class:`PortalLimits`:

    arrive()       half the injected latency (the way in); count the request; maybe
                   inject a fault; the leaky bucket (503 QUERY_LIMIT_EXCEEDED); the
                   manual block (503 OVERLOAD_LIMIT)
    ... routing and authentication ...
    check()        the method's operating budget (429 OPERATION_TIME_LIMIT)
    ... the method runs ...
    charge()       add its execution time; time_fields() reports the budget
    leave()        the other half of the latency (the way out), then the answer

Splitting the latency matters: the portal's bucket counts a request when it
*arrives*, after the client sent it, which is what a client-side copy must allow for.

    portal = FakePortal(bucket=(10, 5.0), faults=Faults(server_errors=0.1, seed=3))
    portal.limits.overloaded = True           # every request: 503 OVERLOAD_LIMIT
    portal.counters.rejected_query_limit      # 503s sent for the bucket
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, Final

import attrs

from .._wire._http import HttpResponse
from ._bucket import BucketSpec, PortalBucket
from ._errors import PortalError
from ._faults import FaultInjector, FaultKind, Faults
from ._operating import OperatingMeter, OperatingModel

__all__ = ["PortalCounters", "PortalLimits", "Visit"]

_JSON: Final[Mapping[str, str]] = {"Content-Type": "application/json; charset=utf-8"}
_HTML: Final[Mapping[str, str]] = {"Content-Type": "text/html; charset=utf-8"}
# A truncated answer: the first bytes of an envelope, cut mid-string.
_TRUNCATED: Final = b'{"result":{"id":1,"name":"Supp'


def _html_page(status: int, path: str) -> bytes:
    """An error page as Apache serves one: it names the request path, webhook code and all."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1>"
        f"<p>The requested URL {html.escape(path)} could not be served.</p></body></html>"
    ).encode()


@attrs.frozen(kw_only=True)
class Visit:
    """One request's passage through the front door."""

    latency: float
    """The injected latency of this request, half spent arriving and half leaving."""
    refused: tuple[HttpResponse, str] | None
    """The answer (and error code) that stopped the request at the door, if any."""


@attrs.define(kw_only=True)
class PortalCounters:
    """What the fake portal saw and answered since it was made (or :meth:`reset`)."""

    received: int = 0
    """Requests that reached the portal (dropped ones included)."""
    answered: int = 0
    """Requests that got an HTTP answer, whatever its status."""
    succeeded: int = 0
    """Requests answered with a ``result``."""
    rejected_query_limit: int = 0
    """HTTP 503 ``QUERY_LIMIT_EXCEEDED`` answers (the leaky bucket was full)."""
    rejected_operating: int = 0
    """``OPERATION_TIME_LIMIT`` refusals: HTTP 429 answers and refused batch commands."""
    rejected_overload: int = 0
    """HTTP 503 ``OVERLOAD_LIMIT`` answers."""
    injected_server_errors: int = 0
    """Injected HTTP 500 ``INTERNAL_SERVER_ERROR`` answers."""
    injected_non_json: int = 0
    """Injected HTML answers."""
    injected_truncated: int = 0
    """Injected HTTP 200 answers cut off mid-envelope."""
    dropped: int = 0
    """Connections dropped without an answer."""

    def reset(self) -> None:
        """Set every counter back to zero."""
        for field in attrs.fields(PortalCounters):
            setattr(self, field.name, 0)


def _json(status: int, payload: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(status=status, headers=_JSON, body=json.dumps(payload).encode())


def _error(error: PortalError) -> tuple[HttpResponse, str]:
    body = {"error": error.code, "error_description": error.description}
    return _json(error.status, body), error.code


class PortalLimits:
    """Rate limits, blocks, faults and counters of one fake portal (see the module docs)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        bucket: BucketSpec | None = None,
        operating: OperatingModel | None = None,
        faults: Faults | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.bucket: PortalBucket | None = None
        self.set_bucket(bucket)
        self.operating = OperatingMeter(operating or OperatingModel(), clock=clock)
        self._faults: FaultInjector | None = None
        self.faults = faults
        self.overloaded = False
        """While True every request is refused with 503 ``OVERLOAD_LIMIT``."""
        self.counters = PortalCounters()

    def set_bucket(self, spec: BucketSpec | None) -> None:
        """Meter requests with a fresh (empty) bucket, or stop metering with ``None``."""
        self.bucket = None if spec is None else PortalBucket.from_spec(spec, clock=self._clock)

    @property
    def faults(self) -> Faults | None:
        """The faults being injected (``None``: none). Setting it restarts the seed."""
        return None if self._faults is None else self._faults.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._faults = None if faults is None else FaultInjector(faults)

    async def arrive(self, path: str = "/") -> Visit:
        """Let a request for ``path`` in: the way in, then count it and decide whether it
        goes further.

        Raises ``ConnectionResetError`` for a dropped connection.
        """
        # Both draws happen at arrival, before any await: concurrent requests then take
        # their (latency, fault) pairs from the seeded sequence in arrival order, so the
        # same seed gives the same faults to the first N requests however they interleave.
        latency, fault = 0.0, None
        if self._faults is not None:
            latency = self._faults.latency()
            fault = self._faults.draw()
        if latency > 0:
            await self._sleep(latency / 2)
        return Visit(latency=latency, refused=self._front_door(path, fault))

    def _front_door(self, path: str, fault: FaultKind | None) -> tuple[HttpResponse, str] | None:
        self.counters.received += 1
        if fault == "dropped":
            self.counters.dropped += 1
            msg = "the fake portal dropped the connection"
            raise ConnectionResetError(msg)
        if fault == "server_error":
            self.counters.injected_server_errors += 1
            return _error(PortalError("INTERNAL_SERVER_ERROR", "Internal server error"))
        if fault == "non_json":
            self.counters.injected_non_json += 1
            status = self._faults.faults.non_json_status if self._faults is not None else 502
            return HttpResponse(status=status, headers=_HTML, body=_html_page(status, path)), ""
        if fault == "truncated":
            self.counters.injected_truncated += 1
            return HttpResponse(status=200, headers=_JSON, body=_TRUNCATED), ""
        if self.bucket is not None and not self.bucket.admit():
            self.counters.rejected_query_limit += 1
            return _error(PortalError("QUERY_LIMIT_EXCEEDED", "Too many requests"))
        if self.overloaded:
            self.counters.rejected_overload += 1
            return _error(PortalError("OVERLOAD_LIMIT", "REST API is blocked due to overload."))
        return None

    @staticmethod
    def caller_key(kind: str, credential: str) -> str:
        """Whose budget a call spends: the webhook's, or the (single) OAuth app's."""
        return f"webhook:{credential}" if kind == "webhook" else "oauth-app"

    def check(self, caller: str, method: str) -> None:
        """Raise the 429 ``OPERATION_TIME_LIMIT`` error while ``method`` is over budget.

        The outer ``batch`` is never metered; its commands are, each on its own method
        (a refused command becomes that command's ``result_error`` entry).
        """
        if method.lower() == "batch":
            return
        try:
            self.operating.check(caller, method)
        except PortalError:
            self.counters.rejected_operating += 1
            raise

    def charge(self, caller: str, method: str) -> float:
        """Charge one successful call's execution time (none for the outer ``batch``)."""
        if method.lower() == "batch":
            return 0.0
        return self.operating.charge(caller, method)

    def time_fields(self, caller: str | None, method: str | None) -> dict[str, Any]:
        """``operating`` and ``operating_reset_at`` for an answer (empty when not reported)."""
        if not self.operating.model.report:
            return {}
        if caller is None or method is None:
            return {"operating_reset_at": int(self._clock()) + 600, "operating": 0}
        used, reset_at = self.operating.report(caller, method)
        return {"operating_reset_at": reset_at, "operating": round(used, 4)}

    async def leave(self, visit: Visit, response: HttpResponse) -> HttpResponse:
        """Send the answer back: the way out, then count it."""
        if visit.latency > 0:
            await self._sleep(visit.latency / 2)
        self.counters.answered += 1
        return response
