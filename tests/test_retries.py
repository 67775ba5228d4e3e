"""Which failures are repeated, how often, and after how long."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    Backoff,
    BitrixError,
    Client,
    Hooks,
    InvalidCredentialsError,
    LeakyBucket,
    OverloadLimitError,
    ResponseDecodeError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    TransportError,
)
from bitrix_dialog.abc import RetryHandler, RetryState
from bitrix_dialog.testing import (
    CallContext,
    FakePortal,
    Faults,
    VirtualTimeLoop,
    run_in_virtual_time,
)


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    assert [backoff.ceiling(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(3, random=lambda: 0.0) == 0.0
    assert backoff.delay(3, random=lambda: 0.25) == 0.5
    assert backoff.ceiling(10_000) == 4.0
    with pytest.raises(ValueError, match="base"):
        Backoff(base=0)
    with pytest.raises(TypeError, match="cap"):
        Backoff(cap="1")  # type: ignore[arg-type]


def test_reads_survive_ten_percent_500s_and_five_percent_drops() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(
            clock=loop.wall,
            bucket=(20, 10.0),
            faults=Faults(server_errors=0.10, dropped=0.05, latency=(0.01, 0.2), seed=3),
        )
        chats = [portal.add_chat(name=f"chat {i}") for i in range(1000)]
        retried: Counter[str] = Counter()
        outcomes: dict[int, Any] = {}
        async with Client(
            portal.webhook_url(),
            transport=portal.transport(),
            limiter=LeakyBucket(20, 10.0),
            retry=RetryPolicy(random=random.Random(5).random),
            hooks=Hooks(on_retry=lambda e: retried.update([e.reason])),
        ) as client:

            async def read(index: int) -> None:
                chat = chats[index]
                try:
                    response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
                except BitrixError as error:
                    outcome: Any = error
                else:
                    outcome = response.result
                assert index not in outcomes  # never answered twice
                outcomes[index] = outcome

            await asyncio.gather(*(read(i) for i in range(1000)))

        assert sorted(outcomes) == list(range(1000))  # none lost
        failed = {i: o for i, o in outcomes.items() if isinstance(o, BitrixError)}
        for index, result in outcomes.items():
            if index not in failed:
                assert result["id"] == chats[index].id  # each got its own chat
        for error in failed.values():
            assert isinstance(error, ServerError | TransportError)
        counters = portal.counters
        print(f"\nfailed after retries: {len(failed)}; retries: {dict(retried)}; {counters}")
        # 15% faults and three retries each: about 1000 * 0.15**4 = 0.5 calls fail.
        assert len(failed) <= 5
        assert retried["INTERNAL_SERVER_ERROR"] == counters.injected_server_errors - sum(
            1 for e in failed.values() if isinstance(e, ServerError)
        )
        assert counters.succeeded == 1000 - len(failed)

    run_in_virtual_time(scenario())


async def test_reads_survive_faults_over_a_real_socket(portal: FakePortal) -> None:
    portal.limits.faults = Faults(server_errors=0.10, dropped=0.05, seed=9)
    chats = [portal.add_chat() for _ in range(60)]
    async with (
        portal.serve() as base_url,
        Client(
            portal.webhook_url(base_url),
            limiter=LeakyBucket(1000, 1000.0),
            retry=RetryPolicy(backoff=Backoff(base=0.001, cap=0.01)),
        ) as client,
    ):
        outcomes = await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": c.dialog_id}) for c in chats),
            return_exceptions=True,
        )
    assert portal.counters.dropped > 0
    for chat, outcome in zip(chats, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, ServerError | TransportError)
        else:
            assert outcome.result["id"] == chat.id


def _count_calls(
    portal: FakePortal, name: str, *, case_sensitive: bool = False
) -> list[CallContext]:
    calls: list[CallContext] = []

    async def handler(context: CallContext) -> Any:
        calls.append(context)
        return 1

    portal.register_method(name, handler, case_sensitive=case_sensitive)
    return calls


def _fast_client(portal: FakePortal, **options: Any) -> Client:
    options.setdefault("retry", RetryPolicy(backoff=Backoff(base=0.001, cap=0.001)))
    return Client(portal.webhook_url(), transport=portal.transport(), **options)


async def test_writes_are_not_repeated_after_an_unknown_outcome(portal: FakePortal) -> None:
    sent = _count_calls(portal, "im.message.add")
    portal.fail_next("INTERNAL_SERVER_ERROR", status=500)
    async with _fast_client(portal) as client:
        with pytest.raises(ServerError):
            await client.call("im.message.add", {"DIALOG_ID": "chat1", "MESSAGE": "hi"})
        assert len(portal.calls) == 1
        portal.fail_next("INTERNAL_SERVER_ERROR", status=500)
        response = await client.call(
            "im.message.add", {"DIALOG_ID": "chat1", "MESSAGE": "hi"}, idempotent=True
        )
    assert response.result == 1
    assert len(sent) == 1
    assert [c.status for c in portal.calls] == [500, 500, 200]


async def test_reads_are_repeated_by_default(portal: FakePortal) -> None:
    _count_calls(portal, "imbot.v2.Chat.get", case_sensitive=True)
    portal.fail_next("INTERNAL_SERVER_ERROR", times=2)
    async with _fast_client(portal) as client:
        assert (await client.call("imbot.v2.Chat.get", {"dialogId": "chat1"})).result == 1
        portal.fail_next("INTERNAL_SERVER_ERROR")
        with pytest.raises(ServerError):
            await client.call("imbot.v2.Chat.get", {"dialogId": "chat1"}, idempotent=False)


async def test_a_batch_of_reads_is_repeated_a_batch_with_a_write_is_not(portal: FakePortal) -> None:
    _count_calls(portal, "batch")
    reads = {"cmd": {"a": "im.dialog.get?DIALOG_ID=chat1", "b": "imbot.v2.Chat.get?dialogId=1"}}
    mixed = {"cmd": {"a": "im.dialog.get?DIALOG_ID=chat1", "b": "im.message.add?MESSAGE=x"}}
    async with _fast_client(portal) as client:
        portal.fail_next("INTERNAL_SERVER_ERROR")
        assert (await client.call("batch", reads)).result == 1
        portal.fail_next("INTERNAL_SERVER_ERROR")
        with pytest.raises(ServerError):
            await client.call("batch", mixed)


async def test_transient_retries_are_bounded_and_spaced_by_the_pinned_jitter(
    portal: FakePortal,
) -> None:
    chat = portal.add_chat()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    portal.fail_next("INTERNAL_SERVER_ERROR", times=10)
    async with Client(
        portal.webhook_url(),
        transport=portal.transport(),
        retry=RetryPolicy(random=lambda: 1.0, backoff=Backoff(base=0.5, cap=1.5)),
        sleep=sleep,
    ) as client:
        with pytest.raises(ServerError):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert len(portal.calls) == 4  # one try and three retries
    assert slept == [0.5, 1.0, 1.5]


async def test_non_json_gateway_pages_are_retried_for_reads(portal: FakePortal) -> None:
    chat = portal.add_chat()
    portal.limits.faults = Faults(non_json=1.0)
    async with _fast_client(portal) as client:
        with pytest.raises(ResponseDecodeError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert caught.value.status == 502
    assert b"<html>" in (caught.value.body or b"")
    assert portal.counters.injected_non_json == 4


async def test_overload_limit_is_raised_at_once_with_a_clear_message(portal: FakePortal) -> None:
    chat = portal.add_chat()
    portal.limits.overloaded = True
    async with _fast_client(portal) as client:
        with pytest.raises(OverloadLimitError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert portal.counters.received == 1
    assert caught.value.status == 503
    assert "contact Bitrix24 support" in str(caught.value)
    assert "not retried" in str(caught.value)


class RetryEverything(RetryHandler):
    name = "everything"

    def applies(self, state: RetryState, error: BitrixError) -> bool:
        return True


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("OVERLOAD_LIMIT", OverloadLimitError),
        ("INVALID_CREDENTIALS", InvalidCredentialsError),
        ("ACCESS_DENIED", AccessDeniedError),
    ],
)
async def test_no_handler_can_retry_blocks_auth_or_access_errors(
    portal: FakePortal, code: str, error: type[BitrixError]
) -> None:
    chat = portal.add_chat()
    portal.fail_next(code, times=5)
    async with _fast_client(portal, retry=RetryPolicy([RetryEverything()])) as client:
        with pytest.raises(error):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert len(portal.calls) == 1


async def test_a_custom_handler_extends_the_defaults(portal: FakePortal) -> None:
    class RetryErrorCore(RetryHandler):
        name = "error_core"

        def applies(self, state: RetryState, error: BitrixError) -> bool:
            return error.code == "ERROR_CORE" and state.idempotent

    chat = portal.add_chat()
    events: list[RetryEvent] = []
    portal.fail_next("ERROR_CORE", status=500, times=2)
    portal.fail_next("QUERY_LIMIT_EXCEEDED")
    policy = RetryPolicy(
        [*RetryPolicy.default_handlers(), RetryErrorCore(max_retries=2)],
        backoff=Backoff(base=0.001, cap=0.001),
    )
    async with _fast_client(portal, retry=policy, hooks=Hooks(on_retry=events.append)) as client:
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id
    assert [e.reason for e in events] == ["ERROR_CORE", "ERROR_CORE", "QUERY_LIMIT_EXCEEDED"]


async def test_never_retry_policy(portal: FakePortal) -> None:
    chat = portal.add_chat()
    portal.fail_next("QUERY_LIMIT_EXCEEDED")
    async with _fast_client(portal, retry=RetryPolicy.never()) as client:
        with pytest.raises(BitrixError, match="QUERY_LIMIT_EXCEEDED"):
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert len(portal.calls) == 1


def test_bad_retry_options_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryEverything(max_retries=-1)
    with pytest.raises(TypeError, match="RetryHandler"):
        RetryPolicy([object()])  # type: ignore[list-item]
    portal = FakePortal()
    with pytest.raises(TypeError, match="retry"):
        Client(portal.webhook_url(), retry=3)  # type: ignore[arg-type]


async def test_idempotent_must_be_a_bool(portal: FakePortal) -> None:
    async with _fast_client(portal) as client:
        with pytest.raises(TypeError, match="idempotent"):
            await client.call("im.dialog.get", {"DIALOG_ID": "chat1"}, idempotent="yes")  # type: ignore[arg-type]
    assert portal.counters.received == 0
