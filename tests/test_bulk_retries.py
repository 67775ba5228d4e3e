"""Per-command failures inside batches: re-sent when a retry may cure them, final otherwise;
operating budgets are charged and obeyed per command; a portal that refuses the client
stops the job without losing any id's outcome."""

from __future__ import annotations

import math

from bitrix_dialog import (
    BatchNotExecutedError,
    Client,
    Dialog,
    Hooks,
    InvalidCredentialsError,
    LeakyBucket,
    LimiterWaitEvent,
    OperatingBudget,
    OperationTimeLimitError,
    OverloadLimitError,
    RestResponse,
    RetryEvent,
    RetryPolicy,
    ServerError,
)
from bitrix_dialog.testing import FakePortal, OperatingModel, VirtualTimeLoop, run_in_virtual_time

from .bulk_kit import drain, seed
from .conftest import QUICK_RETRY


def client_for(portal: FakePortal, **options: object) -> Client:
    settings: dict[str, object] = {"retry": QUICK_RETRY, "limiter": LeakyBucket(10_000, 10_000.0)}
    settings.update(options)
    return Client(portal.webhook_url(), transport=portal.transport(), **settings)  # type: ignore[arg-type]


def sent_commands(portal: FakePortal) -> int:
    return sum(len(call.params["cmd"]) for call in portal.calls if call.method == "batch")


async def test_a_server_error_inside_a_batch_is_resent_in_a_later_batch() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=120, forbidden=0)
    portal.fail_next("INTERNAL_SERVER_ERROR", method="im.dialog.get", times=3)
    retries: list[RetryEvent] = []
    async with client_for(portal, hooks=Hooks(on_retry=retries.append)) as client:
        results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
    assert results.ok
    assert len(results) == 120
    assert [event.reason for event in retries] == ["INTERNAL_SERVER_ERROR"] * 3
    assert {event.method for event in retries} == {"im.dialog.get"}
    assert sent_commands(portal) == 123  # the three failed ones once more


async def test_resending_is_bounded_by_the_retry_policy() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=60, forbidden=0)
    portal.fail_next("INTERNAL_SERVER_ERROR", method="im.dialog.get", times=10_000)
    async with client_for(portal) as client:
        results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
    assert len(results.errors) == 60
    assert all(isinstance(error, ServerError) for error in results.errors.values())
    assert sent_commands(portal) == 60 * 4  # the first try and the policy's 3 retries


async def test_without_retries_a_per_command_failure_is_final() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=20, forbidden=0)
    portal.fail_next("INTERNAL_SERVER_ERROR", method="im.dialog.get", times=2)
    async with client_for(portal, retry=RetryPolicy.never()) as client:
        results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
    assert len(results.errors) == 2
    assert sent_commands(portal) == 20


async def test_a_refused_client_stops_sending_and_still_reports_every_id() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=300, forbidden=0)
    portal.fail_next("INVALID_CREDENTIALS")  # the first batch request is refused
    async with client_for(portal) as client:
        pairs = await drain(
            client.dialogs.get_many((f"chat{n}" for n in seeded.readable), max_in_flight=1)
        )
    assert len(pairs) == 300
    first, rest = pairs[:50], pairs[50:]
    assert all(isinstance(outcome, InvalidCredentialsError) for _, outcome in first)
    for _, outcome in rest:
        assert isinstance(outcome, BatchNotExecutedError)
        assert isinstance(outcome.cause, InvalidCredentialsError)
        assert outcome.method == "im.dialog.get"
    assert len(portal.calls) == 1  # nothing sent after the refusal


async def test_a_portal_blocked_midway_keeps_the_outcomes_already_received() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=250, forbidden=0)
    outcomes: list[object] = []
    async with client_for(portal) as client:
        stream = client.dialogs.get_many((f"chat{n}" for n in seeded.readable), max_in_flight=1)
        async with stream:
            async for _, outcome in stream:
                outcomes.append(outcome)
                portal.limits.overloaded = True  # from now on: 503 OVERLOAD_LIMIT
    assert len(outcomes) == 250
    # The requests already answered keep their dialogs; the first refused one gives its
    # ids the portal's error; nothing is sent after it.
    refused = next(n for n, outcome in enumerate(outcomes) if not isinstance(outcome, Dialog))
    assert refused >= 50
    assert refused % 50 == 0
    assert all(isinstance(outcome, Dialog) for outcome in outcomes[:refused])
    blocked = outcomes[refused : refused + 50]
    assert all(isinstance(outcome, OverloadLimitError) for outcome in blocked)
    assert all(isinstance(outcome, BatchNotExecutedError) for outcome in outcomes[refused + 50 :])
    assert len(portal.calls) == refused // 50 + 1


async def test_batch_commands_feed_their_methods_operating_budget() -> None:
    portal = FakePortal(operating=OperatingModel(cost={"im.dialog.get": 2.0}))
    seeded = seed(portal, readable=5, forbidden=0)
    async with client_for(portal) as client:
        result = await client.batch(
            [("im.dialog.get", {"DIALOG_ID": f"chat{n}"}) for n in seeded.readable]
        )
        assert result.ok
        last = result["c4"]
        assert isinstance(last, RestResponse)
        assert last.time is not None
        assert last.time.operating == 10.0  # the command reports its method's running total
        assert client.operating_usage("im.dialog.get").used == 10.0
        assert client.operating_usage("batch").used == 0.0  # the batch itself costs nothing


async def test_a_command_over_its_budget_holds_its_method_on_the_client() -> None:
    portal = FakePortal()
    seeded = seed(portal, readable=3, forbidden=0)
    portal.fail_next("OPERATION_TIME_LIMIT", method="im.dialog.get")
    async with client_for(portal) as client:
        result = await client.batch(
            [("im.dialog.get", {"DIALOG_ID": f"chat{n}"}) for n in seeded.readable]
        )
    refused = result["c0"]
    assert isinstance(refused, OperationTimeLimitError)
    assert refused.resume_in is not None
    assert refused.resume_in > 0  # until the reset the other commands reported
    usage = client.operating_usage("im.dialog.get")
    assert usage.blocked_for > 0
    assert math.isclose(usage.blocked_for, refused.resume_in, abs_tol=1.0)


def test_bulk_lookups_wait_out_an_operating_limit_instead_of_failing() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        # Each lookup costs 1 s of execution; 100 s per 10 minutes are allowed.
        model = OperatingModel(limit=100.0, cost=1.0)
        portal = FakePortal(clock=loop.wall, operating=model)
        portal.record_calls = False
        seeded = seed(portal, readable=300, forbidden=0)
        waits: list[LimiterWaitEvent] = []
        async with client_for(
            portal,
            operating=OperatingBudget(limit=100.0),
            hooks=Hooks(on_limiter_wait=waits.append),
            retry=RetryPolicy(),
        ) as client:
            results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
        assert results.ok, list(results.errors.values())[:3]
        assert len(results) == 300
        # 300 s of execution at 100 s per 600 s: at least two windows had to pass.
        assert loop.time() >= 1200
        assert any(event.kind == "operating" for event in waits)

    run_in_virtual_time(scenario())


def test_a_per_command_operating_refusal_is_resent_after_the_reset() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        seeded = seed(portal, readable=80, forbidden=0)
        portal.fail_next("OPERATION_TIME_LIMIT", method="im.dialog.get", times=2)
        retries: list[RetryEvent] = []
        async with client_for(portal, hooks=Hooks(on_retry=retries.append)) as client:
            results = await client.dialogs.get_all(f"chat{n}" for n in seeded.readable)
        assert results.ok
        assert [event.reason for event in retries] == ["OPERATION_TIME_LIMIT"] * 2
        assert loop.time() > 0  # the method was held until the portal's reset time

    run_in_virtual_time(scenario())
