"""OpenTelemetry: a span per call under the caller's, a child per attempt, metrics, no secrets.

Everything is read back from opentelemetry-sdk's in-memory span exporter and metric reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bitrix_dialog import (
    AccessDeniedError,
    Backoff,
    Client,
    Dialog,
    InvalidClientError,
    LeakyBucket,
    OAuthAuth,
    RetryPolicy,
)
from bitrix_dialog.otel import OpenTelemetryHooks
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

WEBHOOK_CODE = "w3bh00kS3cr3tC0de"
BOT_TOKEN = "b0tT0kenS3cr3t"
QUICK = RetryPolicy(backoff=Backoff(base=0.001, cap=0.001))


class Telemetry:
    """A tracer and a meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.spans_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.hooks = OpenTelemetryHooks(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.spans_exporter.get_finished_spans()

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def points(self, metric: str) -> list[tuple[dict[str, object], float]]:
        """``(attributes, value)`` per data point (a histogram's value is its count)."""
        data = self.reader.get_metrics_data()
        found: list[tuple[dict[str, object], float]] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name != metric:
                        continue
                    for point in item.data.data_points:
                        value = getattr(point, "value", None)
                        count = getattr(point, "count", None)
                        found.append((dict(point.attributes or {}), value or count or 0))
        return found

    def total(self, metric: str) -> float:
        return sum(value for _, value in self.points(metric))

    def recorded_text(self) -> Iterator[str]:
        """Every name, attribute and event the SDK handed to OpenTelemetry, as text."""
        for span in self.spans:
            yield span.name
            yield from (f"{k}={v!r}" for k, v in (span.attributes or {}).items())
            yield span.status.description or ""
            for event in span.events:
                yield event.name
                yield from (f"{k}={v!r}" for k, v in (event.attributes or {}).items())
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    yield item.name
                    for point in item.data.data_points:
                        yield from (f"{k}={v!r}" for k, v in (point.attributes or {}).items())


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


def _portal() -> FakePortal:
    portal = FakePortal()
    portal.add_webhook(1, code=WEBHOOK_CODE)
    return portal


def _client(portal: FakePortal, telemetry: Telemetry, **options: object) -> Client:
    settings: dict[str, object] = {"limiter": LeakyBucket(10_000, 10_000.0), "retry": QUICK}
    return Client(
        portal.webhook_url(code=WEBHOOK_CODE),
        transport=portal.transport(),
        hooks=telemetry.hooks,
        **(settings | options),  # type: ignore[arg-type]
    )


def _attr(span: ReadableSpan, key: str) -> Any:
    return (span.attributes or {})[key]


def _child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return (
        span.parent is not None
        and parent.context is not None
        and (span.parent.span_id == parent.context.span_id)
    )


def _assert_no_secret(telemetry: Telemetry, secrets: Sequence[str]) -> None:
    recorded = list(telemetry.recorded_text())
    assert recorded
    for secret in secrets:
        leaks = [text for text in recorded if secret in text]
        assert not leaks, f"{secret!r} reached OpenTelemetry: {leaks}"


async def test_a_call_is_a_span_under_the_callers_with_a_child_per_attempt(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    chat = portal.add_chat(name="Support")
    tracer = telemetry.tracer_provider.get_tracer("the app")
    async with _client(portal, telemetry) as client:
        with tracer.start_as_current_span("handle request"):
            dialog = await client.im.dialog.get(chat.dialog_id)
    assert dialog.name == "Support"

    (caller,) = telemetry.named("handle request")
    (call,) = telemetry.named("im.dialog.get")
    (attempt,) = telemetry.named("POST im.dialog.get")
    assert _child_of(call, caller)
    assert _child_of(attempt, call)
    assert call.kind is SpanKind.CLIENT
    assert call.status.status_code is StatusCode.UNSET
    assert call.attributes is not None
    assert call.attributes["server.address"] == "portal.example.com"
    assert call.attributes["bitrix.method"] == "im.dialog.get"
    assert call.attributes["http.response.status_code"] == 200
    assert call.attributes["bitrix.retries"] == 0
    assert call.attributes["bitrix.attempts"] == 1
    assert "bitrix.time.processing" in call.attributes
    assert "bitrix.time.operating" in call.attributes
    assert attempt.attributes is not None
    assert attempt.attributes["bitrix.attempt"] == 1
    assert attempt.attributes["http.response.status_code"] == 200
    assert telemetry.total("bitrix.requests") == 1
    assert telemetry.total("bitrix.retries") == 0


async def test_a_retried_503_shows_both_attempts_the_retry_and_the_metrics(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    chat = portal.add_chat()
    async with _client(portal, telemetry) as client:
        portal.fail_next("QUERY_LIMIT_EXCEEDED")
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

    (call,) = telemetry.named("im.dialog.get")
    attempts = telemetry.named("POST im.dialog.get")
    assert [_attr(attempt, "bitrix.attempt") for attempt in attempts] == [1, 2]
    assert all(_child_of(a, call) for a in attempts)
    first, second = attempts
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes is not None
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["bitrix.error.code"] == "QUERY_LIMIT_EXCEEDED"
    assert second.status.status_code is StatusCode.UNSET
    assert call.status.status_code is StatusCode.UNSET  # the call succeeded in the end
    assert call.attributes is not None
    assert call.attributes["bitrix.retries"] == 1
    assert [event.name for event in call.events] == ["retry"]
    assert telemetry.total("bitrix.requests") == 2
    assert telemetry.total("bitrix.responses.503") == 1
    assert telemetry.total("bitrix.responses.429") == 0
    assert telemetry.points("bitrix.retries") == [
        ({"bitrix.method": "im.dialog.get", "bitrix.retry.reason": "QUERY_LIMIT_EXCEEDED"}, 1)
    ]


async def test_a_failed_call_has_error_status_and_the_exception_recorded(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    closed = portal.add_chat(members=frozenset({42}))
    async with _client(portal, telemetry) as client:
        with pytest.raises(AccessDeniedError):
            await client.im.dialog.get(closed.dialog_id)

    (call,) = telemetry.named("im.dialog.get")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["bitrix.error.code"] == "ACCESS_ERROR"
    assert call.attributes["http.response.status_code"] == 403
    assert call.attributes["error.type"] == "AccessDeniedError"
    (exception,) = [event for event in call.events if event.name == "exception"]
    assert exception.attributes is not None
    assert str(exception.attributes["exception.type"]).endswith("AccessDeniedError")
    _assert_no_secret(telemetry, [WEBHOOK_CODE])


async def test_a_bulk_run_is_one_span_per_batch_request_with_its_command_count(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    chats = [portal.add_chat(name=f"Team {n}") for n in range(120)]
    tracer = telemetry.tracer_provider.get_tracer("the app")
    async with _client(portal, telemetry) as client:
        with tracer.start_as_current_span("export"):
            results = await client.dialogs.get_all([chat.dialog_id for chat in chats])
    assert results.ok
    assert all(isinstance(outcome, Dialog) for outcome in results.values())

    (export,) = telemetry.named("export")
    batches = telemetry.named("batch")
    assert sorted(_attr(batch, "bitrix.batch.commands") for batch in batches) == [20, 50, 50]
    assert all(_child_of(batch, export) for batch in batches)
    for batch in batches:
        (attempt,) = [s for s in telemetry.named("POST batch") if _child_of(s, batch)]
        assert _attr(attempt, "bitrix.batch.commands") == _attr(batch, "bitrix.batch.commands")
    assert telemetry.total("bitrix.requests") == 3


async def test_coalesced_lookups_are_one_span_naming_their_callers(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    chats = [portal.add_chat(name=f"Team {n}") for n in range(3)]
    wanted = [chats[0], chats[1], chats[2], chats[0], chats[1]]
    async with _client(portal, telemetry) as client:
        dialogs = await asyncio.gather(*(client.im.dialog.get(c.dialog_id) for c in wanted))
        same = [client.im.dialog.get(chats[0].dialog_id) for _ in range(3)]
        await asyncio.gather(*same)
    assert [dialog.name for dialog in dialogs] == ["Team 0", "Team 1", "Team 2", "Team 0", "Team 1"]
    (batch,) = telemetry.named("batch")
    assert _attr(batch, "bitrix.coalesced_callers") == 5
    assert _attr(batch, "bitrix.batch.commands") == 3
    (single,) = telemetry.named("im.dialog.get")  # three identical awaits, one plain call
    assert _attr(single, "bitrix.coalesced_callers") == 3


def test_limiter_waits_are_summed_on_the_span_and_measured(telemetry: Telemetry) -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, faults=Faults(latency=0.2))
        chat = portal.add_chat()
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(1, 2.0),
            hooks=telemetry.hooks,
        ) as client:
            # One slot: the second call waits until the first one's answer is back and
            # has drained (0.2 s of latency, then 0.5 s of drain).
            await asyncio.gather(
                *(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for _ in range(2))
            )

    run_in_virtual_time(scenario())
    waits = telemetry.points("bitrix.limiter.wait")
    assert [attributes for attributes, _ in waits] == [
        {"bitrix.method": "im.dialog.get", "bitrix.limiter": "bucket"}
    ]
    calls = telemetry.named("im.dialog.get")
    waited = sorted(_attr(call, "bitrix.limiter.wait_seconds") for call in calls)
    assert waited == [0.0, pytest.approx(0.7)]


async def test_no_webhook_code_token_or_bot_token_reaches_any_attribute_or_event(
    telemetry: Telemetry,
) -> None:
    portal = _portal()
    chat = portal.add_chat(name="Secret plans")
    portal.add_bot(456, token=BOT_TOKEN, chats=(chat.id,))
    closed = portal.add_chat(members=frozenset({42}))
    async with _client(portal, telemetry, bot_id=456, bot_token=BOT_TOKEN) as client:
        await client.imbot.v2.chat.get(chat.dialog_id)
        portal.fail_next("INTERNAL_SERVER_ERROR")
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        await client.dialogs.get_all(
            [chat.dialog_id, closed.dialog_id], method=client.imbot.v2.chat.get
        )
        with pytest.raises(AccessDeniedError):
            await client.im.dialog.get(closed.dialog_id)

    token = portal.issue_tokens(expires_in=3600)
    app_secrets = [secret for secret in (token.access_token, token.refresh_token) if secret]
    assert len(app_secrets) == 2
    auth = OAuthAuth(token, client_id="app.1", client_secret="cl13ntS3cr3t")
    async with Client(
        auth, transport=portal.transport(), hooks=telemetry.hooks, retry=QUICK
    ) as client:
        await client.im.dialog.get(chat.dialog_id)
        portal.revoke_access_token(token.access_token)
        with pytest.raises(InvalidClientError):  # the app is not registered: refresh fails
            await client.im.dialog.get(chat.dialog_id)

    assert len(telemetry.spans) > 10
    _assert_no_secret(
        telemetry,
        [WEBHOOK_CODE, BOT_TOKEN, "cl13ntS3cr3t", *app_secrets, "Secret plans", "/rest/"],
    )
