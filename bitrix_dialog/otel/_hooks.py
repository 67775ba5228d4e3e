"""The OpenTelemetry :class:`Hooks`: spans per call and per HTTP attempt, and metrics.

Spans (tracer ``bitrix_dialog``):

- one per REST call, named after the method (``im.dialog.get``, ``batch``), kind CLIENT,
  parented to the span current in the caller's task;
- one child per HTTP attempt, named ``POST {method}``; retries are further children.

Metrics (meter ``bitrix_dialog``): ``bitrix.requests`` (HTTP requests), ``bitrix.responses.503``
and ``bitrix.responses.429`` (the portal's two rate-limit answers), ``bitrix.retries``,
``bitrix.limiter.wait`` (histogram, seconds) and ``bitrix.request.duration`` (histogram,
seconds).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from importlib import metadata
from typing import Final

import attrs
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from .._call._hooks import (
    CallEndEvent,
    CallStartEvent,
    Hooks,
    LimiterWaitEvent,
    RequestEvent,
    RetryEvent,
)
from .._errors import BitrixError

__all__ = ["OpenTelemetryHooks"]

_NAME: Final = "bitrix_dialog"

# Attribute names: OpenTelemetry's semantic conventions where one fits, else ``bitrix.*``.
HOST: Final = "server.address"
METHOD: Final = "bitrix.method"
STATUS: Final = "http.response.status_code"
ERROR_CODE: Final = "bitrix.error.code"
ERROR_TYPE: Final = "error.type"
ATTEMPT: Final = "bitrix.attempt"
ATTEMPTS: Final = "bitrix.attempts"
RETRIES: Final = "bitrix.retries"
WAITED: Final = "bitrix.limiter.wait_seconds"
PROCESSING: Final = "bitrix.time.processing"
OPERATING: Final = "bitrix.time.operating"
COMMANDS: Final = "bitrix.batch.commands"
COALESCED: Final = "bitrix.coalesced_callers"


def _version() -> str:
    try:
        return metadata.version("bitrix-dialog")
    except metadata.PackageNotFoundError:  # a checkout on sys.path, not installed
        return "0+unknown"


@attrs.define(eq=False)
class _Call:
    """The span of the call running in this task, and what its events added up to."""

    span: Span
    start: CallStartEvent
    token: contextvars.Token[_Call | None]
    attached: contextvars.Token[otel_context.Context]
    """The token of the OpenTelemetry context that makes ``span`` current."""
    retries: int = 0
    waited: float = 0.0


_current: Final[contextvars.ContextVar[_Call | None]] = contextvars.ContextVar(
    "bitrix_dialog_otel_call", default=None
)


class _Telemetry:
    """Turns the SDK's hook events into spans and metric points."""

    def __init__(
        self, tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
    ) -> None:
        version = _version()
        self.tracer = trace.get_tracer(_NAME, version, tracer_provider)
        meter = metrics.get_meter(_NAME, version, meter_provider)
        self.requests = meter.create_counter(
            "bitrix.requests", unit="{request}", description="HTTP requests sent to the portal"
        )
        self.rejected_503 = meter.create_counter(
            "bitrix.responses.503",
            unit="{response}",
            description="HTTP 503 answers (QUERY_LIMIT_EXCEEDED: the request bucket was full)",
        )
        self.rejected_429 = meter.create_counter(
            "bitrix.responses.429",
            unit="{response}",
            description="HTTP 429 answers (OPERATION_TIME_LIMIT: a method's time budget)",
        )
        self.retries = meter.create_counter(
            "bitrix.retries", unit="{retry}", description="Failed attempts that were repeated"
        )
        self.waits = meter.create_histogram(
            "bitrix.limiter.wait",
            unit="s",
            description="Seconds a request waited for the rate limiter or its method's budget",
        )
        self.duration = meter.create_histogram(
            "bitrix.request.duration", unit="s", description="Seconds per HTTP request"
        )

    def call_start(self, event: CallStartEvent) -> None:
        attributes: dict[str, AttributeValue] = {HOST: event.host, METHOD: event.method}
        if event.commands is not None:
            attributes[COMMANDS] = event.commands
        if event.coalesced_callers != 1:
            attributes[COALESCED] = event.coalesced_callers
        span = self.tracer.start_span(event.method, kind=SpanKind.CLIENT, attributes=attributes)
        # Current for the rest of the call, so spans of instrumented transports nest in it.
        attached = otel_context.attach(trace.set_span_in_context(span))
        call = _Call(span=span, start=event, token=_current.set(None), attached=attached)
        _current.set(call)

    def call_end(self, event: CallEndEvent) -> None:
        call = _current.get()
        if call is None or call.start.method != event.method:
            return  # the start was not seen (the hooks were swapped mid-call)
        _reset(call)
        span = call.span
        span.set_attribute(ATTEMPTS, event.attempts)
        span.set_attribute(RETRIES, max(call.retries, event.attempts - 1))
        span.set_attribute(WAITED, call.waited)
        if event.coalesced_callers != 1:
            span.set_attribute(COALESCED, event.coalesced_callers)
        if event.response is not None:
            span.set_attribute(STATUS, event.response.status)
            response_time = event.response.time
            if response_time is not None and response_time.processing is not None:
                span.set_attribute(PROCESSING, response_time.processing)
            if response_time is not None and response_time.operating is not None:
                span.set_attribute(OPERATING, response_time.operating)
        error = event.error
        if isinstance(error, BitrixError):
            if error.status is not None:
                span.set_attribute(STATUS, error.status)
            if error.code:
                span.set_attribute(ERROR_CODE, error.code)
        if isinstance(error, asyncio.CancelledError):
            span.set_attribute(ERROR_TYPE, "cancelled")
        elif error is not None:
            span.set_attribute(ERROR_TYPE, type(error).__name__)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    def request(self, event: RequestEvent) -> None:
        call = _current.get()
        attributes: dict[str, AttributeValue] = {METHOD: event.method}
        if call is not None:
            attributes[HOST] = call.start.host
            if call.start.commands is not None:
                attributes[COMMANDS] = call.start.commands
        metric: dict[str, AttributeValue] = {METHOD: event.method}
        if event.status is not None:
            attributes[STATUS] = metric[STATUS] = event.status
        if event.error is not None and event.error.code:
            attributes[ERROR_CODE] = metric[ERROR_CODE] = event.error.code
        self.requests.add(1, metric)
        self.duration.record(event.elapsed, metric)
        if event.status == 503:
            self.rejected_503.add(1, metric)
        elif event.status == 429:
            self.rejected_429.add(1, metric)
        # The attempt has just ended: its span covers the request's own elapsed time.
        end = time.time_ns()
        context = trace.set_span_in_context(call.span) if call is not None else None
        span = self.tracer.start_span(
            f"POST {event.method}",
            context=context,
            kind=SpanKind.CLIENT,
            attributes={**attributes, ATTEMPT: event.attempt, "http.request.method": "POST"},
            start_time=end - int(event.elapsed * 1e9),
        )
        if event.error is not None:
            span.set_attribute(ERROR_TYPE, type(event.error).__name__)
            span.record_exception(event.error)
            span.set_status(Status(StatusCode.ERROR, type(event.error).__name__))
        span.end(end_time=end)

    def retry(self, event: RetryEvent) -> None:
        self.retries.add(1, {METHOD: event.method, "bitrix.retry.reason": event.reason})
        call = _current.get()
        if call is not None:
            call.retries += 1
            call.span.add_event(
                "retry",
                {
                    ATTEMPT: event.attempt,
                    "bitrix.retry.reason": event.reason,
                    "bitrix.retry.delay": event.delay,
                },
            )

    def limiter_wait(self, event: LimiterWaitEvent) -> None:
        self.waits.record(event.waited, {METHOD: event.method, "bitrix.limiter": event.kind})
        call = _current.get()
        if call is not None:
            call.waited += event.waited


def _reset(call: _Call) -> None:
    try:
        _current.reset(call.token)
    except ValueError:  # ended in another context than it started: just clear it
        _current.set(None)
    otel_context.detach(call.attached)


class OpenTelemetryHooks(Hooks):
    """:class:`~bitrix_dialog.Hooks` that trace and measure every REST call.

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global ones
    (``opentelemetry.trace.set_tracer_provider`` and ``metrics.set_meter_provider``).
    Spans carry the portal's host, the method, the HTTP status, the Bitrix24 error code,
    the number of retries, the seconds waited in the limiter, the portal's reported
    processing and operating seconds, a batch's command count and the coalesced callers;
    a failed call's span has status ERROR and the exception recorded (its message is the
    SDK's redacted one). No URL path, parameter, secret, request body or dialog content
    is ever recorded.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        telemetry = _Telemetry(tracer_provider, meter_provider)
        super().__init__(
            on_request=telemetry.request,
            on_retry=telemetry.retry,
            on_limiter_wait=telemetry.limiter_wait,
            on_call_start=telemetry.call_start,
            on_call_end=telemetry.call_end,
        )

    def __repr__(self) -> str:
        return "OpenTelemetryHooks()"
