"""``client.batch``: splitting, per-command outcomes, halt, references, request failures.

Everything runs through the public client against the fake portal's ``batch``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    BatchCall,
    BatchNotExecutedError,
    BatchResult,
    BitrixError,
    Client,
    InvalidCredentialsError,
    InvalidDialogIdError,
    OverloadLimitError,
    RestResponse,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import CallContext, FakePortal, MemoryTransport


@pytest.fixture
def portal() -> FakePortal:
    portal = FakePortal()
    executed: list[dict[str, Any]] = []

    async def record(context: CallContext) -> Any:
        """Returns its parameters and remembers that it ran."""
        executed.append(dict(context.params))
        return dict(context.params)

    portal.register_method("test.echo", record)
    portal.executed = executed  # type: ignore[attr-defined]
    return portal


def executed(portal: FakePortal) -> list[dict[str, Any]]:
    """The ``test.echo`` subcalls the portal really ran, in order."""
    return portal.executed  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(params=["memory", "socket"])
async def client(request: pytest.FixtureRequest, portal: FakePortal) -> AsyncIterator[Client]:
    if request.param == "memory":
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            yield client
    else:
        async with portal.serve() as base_url, Client(portal.webhook_url(base_url)) as client:
            yield client


def batch_requests(portal: FakePortal) -> list[dict[str, Any]]:
    """The ``cmd`` maps of the batch HTTP requests the portal received."""
    return [dict(call.params["cmd"]) for call in portal.calls if call.method == "batch"]


def echo(**params: Any) -> tuple[str, dict[str, Any]]:
    return ("test.echo", params)


async def test_120_commands_become_3_requests_and_each_gets_its_own_outcome(
    portal: FakePortal, client: Client
) -> None:
    chats = [portal.add_chat(name=f"room {n}") for n in range(100)]
    secret = portal.add_chat(name="secret", members=frozenset({42}))
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    expected: dict[str, str | type[BitrixError]] = {}
    for n in range(120):
        name = f"lookup-{n}"
        if n % 17 == 5:
            calls[name] = ("im.dialog.get", {"DIALOG_ID": secret.dialog_id})
            expected[name] = AccessDeniedError
        elif n % 29 == 7:
            calls[name] = ("im.dialog.get", {"DIALOG_ID": "not a dialog"})
            expected[name] = InvalidDialogIdError
        else:
            chat = chats[(n * 7) % 100]
            calls[name] = ("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
            expected[name] = chat.name

    result = await client.batch(calls)

    assert [len(cmd) for cmd in batch_requests(portal)] == [50, 50, 20]
    assert list(result) == list(calls)
    for name, want in expected.items():
        outcome = result[name]
        if isinstance(want, str):
            assert isinstance(outcome, RestResponse), name
            assert outcome.result["name"] == want
            assert outcome.result["dialog_id"] == calls[name][1]["DIALOG_ID"]
            assert outcome.method == "im.dialog.get"
            assert outcome.time is not None
            assert outcome.time.start is not None
        else:
            assert type(outcome) is want, name
            assert isinstance(outcome, BitrixError)
            assert outcome.method == "im.dialog.get"
    assert not result.ok
    assert set(result.errors) == {n for n, w in expected.items() if not isinstance(w, str)}
    assert set(result.successes) == {n for n, w in expected.items() if isinstance(w, str)}
    assert set(result.errors).isdisjoint(result.successes)


async def test_positional_calls_are_named_c0_c1_in_input_order(
    portal: FakePortal, client: Client
) -> None:
    first, second = portal.add_chat(name="first"), portal.add_chat(name="second")
    result = await client.batch(
        [
            ("im.dialog.get", {"DIALOG_ID": second.dialog_id}),
            BatchCall(method="im.dialog.get", params={"DIALOG_ID": first.dialog_id}),
        ]
    )
    assert list(result) == ["c0", "c1"]
    names = [o.result["name"] for o in result.values() if isinstance(o, RestResponse)]
    assert names == ["second", "first"]
    assert result.ok
    assert result.raise_first() is result
    assert batch_requests(portal) == [
        {
            "c0": f"im.dialog.get?DIALOG_ID={second.dialog_id}",
            "c1": f"im.dialog.get?DIALOG_ID={first.dialog_id}",
        }
    ]


async def test_halt_stops_where_the_portal_stops(portal: FakePortal, client: Client) -> None:
    result = await client.batch(
        {
            "one": echo(N="1"),
            "bad": ("im.dialog.get", {"DIALOG_ID": ""}),
            "two": echo(N="2"),
            "three": echo(N="3"),
        },
        halt=True,
    )
    assert executed(portal) == [{"N": "1"}]
    assert isinstance(result["one"], RestResponse)
    bad = result["bad"]
    assert isinstance(bad, InvalidDialogIdError)
    for name in ("two", "three"):
        outcome = result[name]
        assert isinstance(outcome, BatchNotExecutedError)
        assert outcome.halted_by == "bad"
        assert outcome.cause is bad
        assert outcome.method == "test.echo"
    assert list(result.errors) == ["bad", "two", "three"]
    with pytest.raises(InvalidDialogIdError):
        result.raise_first()


async def test_without_halt_every_command_runs(portal: FakePortal, client: Client) -> None:
    result = await client.batch(
        {"one": echo(N="1"), "bad": ("im.dialog.get", {}), "two": echo(N="2")}
    )
    assert executed(portal) == [{"N": "1"}, {"N": "2"}]
    assert isinstance(result["bad"], InvalidDialogIdError)
    assert [r.result for r in result.successes.values()] == [{"N": "1"}, {"N": "2"}]


@pytest.mark.parametrize("failing", [10, 70])
async def test_halt_across_a_split_sends_nothing_after_the_failure(
    portal: FakePortal, client: Client, failing: int
) -> None:
    calls = [echo(N=str(n)) for n in range(120)]
    calls[failing] = ("im.dialog.get", {"DIALOG_ID": "chat999999"})  # no such chat

    result = await client.batch(calls, halt=True)

    assert len(batch_requests(portal)) == failing // 50 + 1
    assert executed(portal) == [{"N": str(n)} for n in range(failing)]
    outcomes = list(result.values())
    assert all(isinstance(o, RestResponse) for o in outcomes[:failing])
    assert isinstance(outcomes[failing], AccessDeniedError)
    for outcome in outcomes[failing + 1 :]:
        assert isinstance(outcome, BatchNotExecutedError)
        assert outcome.halted_by == f"c{failing}"
    assert len(result) == 120


async def test_a_failure_without_halt_does_not_stop_later_requests(
    portal: FakePortal, client: Client
) -> None:
    calls = [echo(N=str(n)) for n in range(120)]
    calls[10] = ("im.dialog.get", {})
    result = await client.batch(calls)
    assert len(batch_requests(portal)) == 3
    assert len(executed(portal)) == 119
    assert list(result.errors) == ["c10"]


async def test_references_substitute_whole_values_and_text(
    portal: FakePortal, client: Client
) -> None:
    chat = portal.add_chat(name="Support")
    result = await client.batch(
        {
            "dialog": ("im.dialog.get", {"DIALOG_ID": chat.dialog_id}),
            "again": ("im.dialog.get", {"DIALOG_ID": "chat$result[dialog][id]"}),
            "echo": echo(
                WHOLE="$result[dialog][permissions]",
                TEXT="id=$result[dialog][id] name",
                STARTED="$time[dialog][operating_reset_at]",
            ),
        },
        halt=True,
    )
    result.raise_first()
    again = result["again"]
    assert isinstance(again, RestResponse)
    assert again.result["dialog_id"] == chat.dialog_id
    echoed = result["echo"]
    assert isinstance(echoed, RestResponse)
    dialog = result["dialog"]
    assert isinstance(dialog, RestResponse)
    assert echoed.result["WHOLE"] == dialog.result["permissions"]
    assert echoed.result["TEXT"] == f"id={chat.id} name"
    assert dialog.time is not None
    assert echoed.result["STARTED"] == dialog.time.operating_reset_at


async def test_a_split_moves_earlier_to_keep_a_reference_with_its_target(
    portal: FakePortal, client: Client
) -> None:
    calls = [echo(N=str(n)) for n in range(60)]
    calls[50] = echo(PREVIOUS="$result[c49][N]")

    result = await client.batch(calls)

    assert [len(cmd) for cmd in batch_requests(portal)] == [49, 11]
    referring = result["c50"]
    assert isinstance(referring, RestResponse)
    assert referring.result == {"PREVIOUS": "49"}
    assert result.ok


async def test_a_reference_that_would_cross_a_split_raises_before_sending(
    portal: FakePortal, client: Client
) -> None:
    calls = [echo(N=str(n)) for n in range(60)]
    calls[59] = echo(FIRST="$result[c0][N]")
    with pytest.raises(ValueError, match=r"'c59' refers to 'c0'.*more than 50"):
        await client.batch(calls)
    assert portal.calls == []


@pytest.mark.parametrize(
    ("calls", "message"),
    [
        ({"a": echo(X="$result[b][ID]"), "b": echo()}, "no earlier command is named 'b'"),
        ({"a": echo(X="$result[a][ID]")}, "no earlier command is named 'a'"),
        ({"a": echo(X="$next[ghost]")}, "no earlier command is named 'ghost'"),
        ({"a": echo(), "b": echo(X="$RESULT[a][ID]")}, "lower case"),
    ],
)
async def test_a_broken_reference_raises_before_sending(
    portal: FakePortal, client: Client, calls: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.batch(calls)
    assert portal.calls == []


async def test_subcommands_run_with_the_callers_oauth_identity(portal: FakePortal) -> None:
    staff_only = portal.add_chat(name="staff", members=frozenset({1}))
    open_chat = portal.add_chat(name="open")
    token = portal.add_access_token(user_id=7)
    auth = AccessTokenAuth(portal.client_endpoint(), token)
    async with Client(auth, transport=portal.transport()) as client:
        result = await client.batch(
            {
                "staff": ("im.dialog.get", {"DIALOG_ID": staff_only.dialog_id}),
                "open": ("im.dialog.get", {"DIALOG_ID": open_chat.dialog_id}),
            }
        )
    assert isinstance(result["staff"], AccessDeniedError)
    assert result["staff"].code == "ACCESS_ERROR"
    assert isinstance(result["open"], RestResponse)
    assert len(portal.calls) == 1


async def test_refused_credentials_fail_every_command_and_stop(portal: FakePortal) -> None:
    url = portal.webhook_url().replace(portal.webhook_code, "wrongcode")
    async with Client(url, transport=portal.transport()) as client:
        result = await client.batch([echo(N=str(n)) for n in range(70)])
    assert len(portal.calls) == 1
    first = result["c0"]
    assert isinstance(first, InvalidCredentialsError)
    assert first.method == "batch"
    assert all(result[f"c{n}"] is first for n in range(50))
    for n in range(50, 70):
        later = result[f"c{n}"]
        assert isinstance(later, BatchNotExecutedError)
        assert later.halted_by is None
        assert later.cause is first
    assert executed(portal) == []


async def test_a_failed_request_keeps_the_outcomes_received_before_it(portal: FakePortal) -> None:
    """The second of three requests is refused outright (OVERLOAD_LIMIT, never retried)."""
    seen = 0

    async def second_refused(request: HttpRequest) -> HttpResponse:
        nonlocal seen
        seen += 1
        if seen == 2:
            body = {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked"}
            return HttpResponse(status=503, body=json.dumps(body).encode())
        return await portal.handle(request)

    transport = MemoryTransport(second_refused)
    async with Client(portal.webhook_url(), transport=transport) as client:
        result = await client.batch([echo(N=str(n)) for n in range(120)])

    assert seen == 2
    outcomes = list(result.values())
    assert all(isinstance(o, RestResponse) for o in outcomes[:50])
    assert all(isinstance(o, OverloadLimitError) for o in outcomes[50:100])
    assert all(isinstance(o, BatchNotExecutedError) for o in outcomes[100:])
    assert len(executed(portal)) == 50


async def test_a_subcommand_fault_from_fail_next_is_that_commands_outcome(
    portal: FakePortal, client: Client
) -> None:
    portal.fail_next("OPERATION_TIME_LIMIT", "Method is blocked", method="test.echo")
    result = await client.batch([echo(N="1"), echo(N="2")])
    assert result["c0"].code == "OPERATION_TIME_LIMIT"  # type: ignore[union-attr]
    assert isinstance(result["c1"], RestResponse)
    assert [call.status for call in portal.calls] == [200]


async def test_batch_result_is_a_read_only_mapping(portal: FakePortal, client: Client) -> None:
    result = await client.batch({"a": echo(), "b": ("im.dialog.get", {})})
    assert isinstance(result, BatchResult)
    assert len(result) == 2
    assert "a" in result
    assert result.get("zzz") is None
    assert repr(result) == "BatchResult(2 commands, 1 failed)"
    assert dict(result) == {"a": result["a"], "b": result["b"]}
