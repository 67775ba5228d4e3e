"""``Client(cache=DialogCache(...))``: the typed lookups answered again without a request.

Time is an injected clock; ``portal.calls`` shows what reached the portal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    AccessTokenAuth,
    CacheEvent,
    Client,
    DialogCache,
    DialogId,
    Hooks,
    InvalidDialogIdError,
    NotFoundError,
    RetryPolicy,
    ServerError,
)
from bitrix_dialog.testing import CallContext, FakePortal

from .conftest import QUICK_RETRY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


MakeClient = Callable[..., Client]


@pytest.fixture
async def make_client(portal: FakePortal) -> AsyncIterator[MakeClient]:
    made: list[Client] = []

    def make(cache: DialogCache, **kwargs: Any) -> Client:
        kwargs.setdefault("retry", QUICK_RETRY)
        client = Client(
            kwargs.pop("url", None) or portal.webhook_url(),
            transport=portal.transport(),
            cache=cache,
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def sent(portal: FakePortal) -> list[tuple[str, dict[str, Any]]]:
    return [(call.method, dict(call.params)) for call in portal.calls]


async def test_a_hit_sends_nothing_and_returns_the_same_dialog(
    portal: FakePortal, make_client: MakeClient
) -> None:
    chat = portal.add_chat(5, name="Support")
    client = make_client(DialogCache())
    first = await client.im.dialog.get("chat5")
    again = await client.im.dialog.get("CHAT5")  # another spelling of the same id
    also = await client.im.dialog.get(DialogId.chat(5))
    assert first.name == "Support"
    assert first.id == chat.id
    assert again == first
    assert also == first
    assert sent(portal) == [("im.dialog.get", {"DIALOG_ID": "chat5"})]


async def test_each_method_and_each_parameter_set_is_its_own_entry(
    portal: FakePortal, make_client: MakeClient
) -> None:
    portal.add_chat(5, members=frozenset({1, 456}))
    portal.add_chat(6)
    portal.add_bot(456, token="bot-secret")
    client = make_client(DialogCache(), bot_id=456, bot_token="bot-secret")
    for _ in range(2):
        await client.im.dialog.get("chat5")
        await client.im.dialog.get("chat6")
        await client.imbot.dialog.get("chat5")
        await client.imbot.v2.chat.get("chat5")
        await client.imopenlines.dialog.get(chat_id=5)
    assert [method for method, _ in sent(portal)] == [
        "im.dialog.get",
        "im.dialog.get",
        "imbot.dialog.get",
        "imbot.v2.Chat.get",
        "imopenlines.dialog.get",
    ]


async def test_entries_expire_after_the_ttl(
    portal: FakePortal, make_client: MakeClient, clock: Clock
) -> None:
    portal.add_chat(5)
    client = make_client(DialogCache(ttl=60, clock=clock))
    await client.im.dialog.get("chat5")
    clock.now += 59.9
    await client.im.dialog.get("chat5")
    assert len(portal.calls) == 1
    clock.now += 0.1
    await client.im.dialog.get("chat5")
    assert len(portal.calls) == 2
    clock.now += 59.9  # the new answer is kept for its own ttl
    await client.im.dialog.get("chat5")
    assert len(portal.calls) == 2


async def test_the_least_recently_used_entry_goes_first(
    portal: FakePortal, make_client: MakeClient, clock: Clock
) -> None:
    for chat_id in (1, 2, 3):
        portal.add_chat(chat_id)
    cache = DialogCache(max_entries=2, clock=clock)
    client = make_client(cache)
    await client.im.dialog.get("chat1")
    await client.im.dialog.get("chat2")
    await client.im.dialog.get("chat1")  # a hit: chat1 is now the most recent
    await client.im.dialog.get("chat3")  # evicts chat2
    assert len(cache) == 2
    portal.calls.clear()
    await client.im.dialog.get("chat1")
    await client.im.dialog.get("chat3")
    assert portal.calls == []
    await client.im.dialog.get("chat2")
    assert sent(portal) == [("im.dialog.get", {"DIALOG_ID": "chat2"})]


async def test_errors_are_not_cached_by_default(
    portal: FakePortal, make_client: MakeClient
) -> None:
    client = make_client(DialogCache())
    for _ in range(2):
        with pytest.raises(AccessDeniedError):
            await client.im.dialog.get("chat404")
    assert len(portal.calls) == 2
    portal.add_chat(404)  # the access is fixed: the next lookup sees it at once
    assert (await client.im.dialog.get("chat404")).id == 404


async def test_a_negative_ttl_keeps_not_found_like_refusals_briefly(
    portal: FakePortal, make_client: MakeClient, clock: Clock
) -> None:
    portal.add_bot(456, token="bot-secret")
    client = make_client(
        DialogCache(ttl=60, negative_ttl=5, clock=clock), bot_id=456, bot_token="bot-secret"
    )
    with pytest.raises(AccessDeniedError) as first:
        await client.im.dialog.get("chat404")
    with pytest.raises(AccessDeniedError) as second:
        await client.im.dialog.get("chat404")
    assert second.value is not first.value  # each caller gets its own exception
    assert (second.value.code, second.value.description, second.value.status) == (
        first.value.code,
        first.value.description,
        first.value.status,
    )
    assert second.value.method == first.value.method == "im.dialog.get"
    with pytest.raises(NotFoundError):
        await client.imbot.v2.chat.get("chat404")
    with pytest.raises(NotFoundError):
        await client.imbot.v2.chat.get("chat404")
    assert len(portal.calls) == 2
    clock.now += 5
    portal.add_chat(404, members=frozenset({1, 456}))
    assert (await client.im.dialog.get("chat404")).id == 404
    assert (await client.imbot.v2.chat.get("chat404")).id == 404
    assert len(portal.calls) == 4


async def test_other_errors_are_never_cached_even_with_a_negative_ttl(
    portal: FakePortal, make_client: MakeClient, clock: Clock
) -> None:
    portal.add_chat(5)
    client = make_client(DialogCache(negative_ttl=5, clock=clock), retry=RetryPolicy(handlers=()))
    portal.fail_next("INTERNAL_SERVER_ERROR", "boom")
    with pytest.raises(ServerError):
        await client.im.dialog.get("chat5")
    portal.fail_next("INVALID_CREDENTIALS", "no")
    with pytest.raises(Exception, match="INVALID_CREDENTIALS"):
        await client.im.dialog.get("chat5")
    assert (await client.im.dialog.get("chat5")).id == 5
    await client.im.dialog.get("chat5")
    assert [call.status for call in portal.calls][-1] == 200
    assert sum(call.status == 200 for call in portal.calls) == 1


async def test_chat_ids_are_cached_and_none_only_with_a_negative_ttl(
    portal: FakePortal, make_client: MakeClient, clock: Clock
) -> None:
    portal.add_chat(1437, entity_type="CRM", entity_id="DEAL|1663")
    plain = make_client(DialogCache(clock=clock))
    for _ in range(2):
        assert await plain.im.chat.get(entity_type="CRM", entity_id="DEAL|1663") == 1437
        assert await plain.im.chat.get(entity_type="CRM", entity_id="DEAL|1") is None
    assert [call.params["ENTITY_ID"] for call in portal.calls] == ["DEAL|1663", "DEAL|1", "DEAL|1"]
    portal.calls.clear()
    negative = make_client(DialogCache(negative_ttl=2, clock=clock))
    for _ in range(2):
        assert await negative.imbot.chat.get(entity_type="CRM", entity_id="DEAL|1") is None
    assert len(portal.calls) == 1
    clock.now += 2
    portal.add_chat(1500, entity_type="CRM", entity_id="DEAL|1")  # the deal's chat is made
    assert await negative.imbot.chat.get(entity_type="CRM", entity_id="DEAL|1") == 1500


async def test_invalidate_drops_a_dialog_whichever_method_cached_it(
    portal: FakePortal, make_client: MakeClient
) -> None:
    portal.add_chat(
        5, members=frozenset({1, 456}), session_ids=(77,), entity_type="CRM", entity_id="DEAL|9"
    )
    portal.add_chat(6)
    portal.add_bot(456, token="bot-secret")
    client = make_client(DialogCache(), bot_id=456, bot_token="bot-secret")

    async def everything() -> None:
        await client.im.dialog.get("chat5")
        await client.imbot.v2.chat.get("chat5")
        await client.imopenlines.dialog.get(session_id=77)  # names no dialog id: its answer does
        await client.im.chat.get(entity_type="CRM", entity_id="DEAL|9")  # answers chat 5
        await client.im.dialog.get("chat6")

    await everything()
    assert len(portal.calls) == 5
    portal.calls.clear()
    await client.dialogs.invalidate("CHAT5")
    await everything()
    assert [method for method, _ in sent(portal)] == [
        "im.dialog.get",
        "imbot.v2.Chat.get",
        "imopenlines.dialog.get",
        "im.chat.get",
    ]
    portal.calls.clear()
    await client.dialogs.invalidate_all()
    await everything()
    assert len(portal.calls) == 5


async def test_a_private_dialog_is_found_by_its_user_id(
    portal: FakePortal, make_client: MakeClient
) -> None:
    async def private(context: CallContext) -> Any:
        return {"id": 17, "dialog_id": context.param("DIALOG_ID"), "type": "private"}

    portal.register_method("im.dialog.get", private)
    client = make_client(DialogCache())
    await client.im.dialog.get(256)
    await client.im.dialog.get("256")
    assert len(portal.calls) == 1
    await client.dialogs.invalidate(256)
    await client.im.dialog.get(256)
    assert len(portal.calls) == 2


async def test_an_answer_read_before_an_invalidation_is_not_stored_after_it(
    portal: FakePortal, make_client: MakeClient
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()
    names = iter(["Old", "New"])

    async def slow(context: CallContext) -> Any:
        name = next(names)
        if name == "Old":
            arrived.set()
            await release.wait()
        return {"id": 5, "dialog_id": "chat5", "name": name}

    portal.register_method("im.dialog.get", slow)
    client = make_client(DialogCache())
    lookup = asyncio.create_task(client.im.dialog.get("chat5"))
    await arrived.wait()
    await client.dialogs.invalidate("chat5")  # the chat changed while "Old" was in flight
    release.set()
    assert (await lookup).name == "Old"
    assert (await client.im.dialog.get("chat5")).name == "New"


async def test_credentials_keep_their_entries_apart(
    portal: FakePortal, make_client: MakeClient
) -> None:
    portal.add_chat(5, members=frozenset({1, 2}))
    shared = DialogCache()
    first = make_client(shared)
    second = make_client(shared, url=portal.webhook_url(code=portal.add_webhook(user_id=2)))
    await first.im.dialog.get("chat5")
    await second.im.dialog.get("chat5")
    await first.im.dialog.get("chat5")
    await second.im.dialog.get("chat5")
    assert len(portal.calls) == 2
    await second.dialogs.invalidate("chat5")  # only the second one's view
    await first.im.dialog.get("chat5")
    assert len(portal.calls) == 2


async def test_hooks_report_hits_and_misses(portal: FakePortal, make_client: MakeClient) -> None:
    portal.add_chat(5)
    events: list[CacheEvent] = []
    client = make_client(DialogCache(), hooks=Hooks(on_cache=events.append))
    await client.im.dialog.get("chat5")
    await client.im.dialog.get("chat5")
    await client.call("im.dialog.get", {"DIALOG_ID": "chat5"})  # client.call is never cached
    assert events == [
        CacheEvent(method="im.dialog.get", hit=False),
        CacheEvent(method="im.dialog.get", hit=True),
    ]
    assert len(portal.calls) == 2


async def test_bad_input_is_refused_before_anything_happens(portal: FakePortal) -> None:
    with pytest.raises(TypeError, match="cache must be"):
        Client(portal.webhook_url(), transport=portal.transport(), cache="redis://")  # type: ignore[arg-type]
    for kwargs, error in (
        ({"ttl": 0}, ValueError),
        ({"ttl": float("inf")}, ValueError),
        ({"ttl": "60"}, TypeError),
        ({"max_entries": 0}, ValueError),
        ({"max_entries": 1.5}, TypeError),
        ({"negative_ttl": -1}, ValueError),
        ({"clock": 5}, TypeError),
    ):
        with pytest.raises(error):
            DialogCache(**kwargs)
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        with pytest.raises(InvalidDialogIdError):
            await client.dialogs.invalidate("chatx")
        await client.dialogs.invalidate("chat5")  # no cache: nothing to drop
        await client.dialogs.invalidate_all()
        assert client.cache is None


async def test_stats_count_hits_and_misses(portal: FakePortal, make_client: MakeClient) -> None:
    portal.add_chat(5)
    client = make_client(DialogCache())
    await client.im.dialog.get("chat5")
    await client.im.dialog.get("chat5")
    await client.im.dialog.get("chat5")
    stats = client.stats()
    assert (stats.hits, stats.misses, stats.requests) == (2, 1, 1)


async def test_a_second_round_with_the_cache_warm_sends_nothing(
    portal: FakePortal, make_client: MakeClient
) -> None:
    for chat_id in range(1, 121):
        portal.add_chat(chat_id)
    client = make_client(DialogCache())
    ids = [f"chat{1 + (n * 7) % 120}" for n in range(300)]  # 120 distinct, with repeats
    first = await asyncio.gather(*(client.im.dialog.get(dialog_id) for dialog_id in ids))
    sent_first, hits_first = client.stats().requests, client.stats().hits
    assert 1 <= sent_first <= len(portal.calls)
    second = await asyncio.gather(*(client.im.dialog.get(dialog_id) for dialog_id in ids))
    assert second == first
    assert client.stats().requests == sent_first  # the warm round sent nothing
    # (the first round may hit already: a full batch is sent, and with the in-memory
    # portal answered, while the round's later calls are still being made)
    assert client.stats().hits - hits_first == len(ids)


async def test_each_access_token_is_its_own_view(portal: FakePortal) -> None:
    portal.add_chat(5, members=frozenset({1, 2}))
    shared = DialogCache()
    tokens = [portal.add_access_token(user_id=1), portal.add_access_token(user_id=2)]
    clients = [
        Client(
            AccessTokenAuth(portal.client_endpoint(), token),
            transport=portal.transport(),
            cache=shared,
        )
        for token in tokens
    ]
    for client in clients * 2:
        await client.im.dialog.get("chat5")
    assert len(portal.calls) == 2  # one per token, then hits
    assert clients[0].auth.identity == clients[1].auth.identity  # one rate limiter still
    for client in clients:
        await client.aclose()
