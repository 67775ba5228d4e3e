"""OAuthAuth keeps a portal's pair alive: one refresh however many calls need it."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from bitrix_dialog import (
    Client,
    InvalidCredentialsError,
    LeakyBucket,
    MemoryTokenStore,
    OAuthAuth,
    OAuthToken,
    RestResponse,
    TokenConflictError,
    TokenExpiredError,
    TokenStoreError,
)
from bitrix_dialog.abc import Transport
from bitrix_dialog.testing import FakeApp, FakeChat, FakePortal

from .oauth_kit import (
    Event,
    GatedRefreshes,
    ManualClock,
    RecordingStore,
    RecordingTransport,
    make_auth,
    portal_base,
    sent_tokens,
    settle,
)

CALLS = 200


@pytest.fixture
def portal(clock: ManualClock) -> FakePortal:
    """A portal on the test's clock (its pairs live 3600 s)."""
    return FakePortal(clock=clock)


@pytest.fixture
def chat(portal: FakePortal) -> FakeChat:
    return portal.add_chat()


@pytest.fixture
def old(portal: FakePortal, fake_app: FakeApp) -> OAuthToken:
    """The pair ``fake_app`` holds when the test starts."""
    return portal.issue_tokens()


async def _stored(store: MemoryTokenStore, token: OAuthToken) -> OAuthToken:
    """The pair ``store`` holds for ``token``'s portal (it must hold one)."""
    stored = await store.load(token.member_id)
    assert stored is not None
    return stored


def _first(timeline: list[Event], kind: str, token: str) -> int:
    return next(i for i, (k, t, _) in enumerate(timeline) if k == kind and t == token)


async def _burst(
    auth: OAuthAuth, transport: Transport, timeline: list[Event], clock: ManualClock, chat: FakeChat
) -> list[RestResponse]:
    """``CALLS`` calls at once, each sent moving the clock on by 0.1 s."""
    ticking = RecordingTransport(transport, timeline, clock=clock, tick=0.1)
    # The burst is about refreshing, not pacing: a bucket that holds all of it.
    async with Client(auth, transport=ticking, limiter=LeakyBucket(CALLS, 1000.0)) as client:
        return await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for _ in range(CALLS))
        )


@pytest.mark.parametrize("mode", ["memory", "socket"])
async def test_200_calls_across_expiry_refresh_once_proactively(
    mode: str, portal: FakePortal, chat: FakeChat, fake_app: FakeApp, clock: ManualClock
) -> None:
    portal.oauth.latency = 0.02
    timeline: list[Event] = []
    async with portal_base(portal, mode) as (base, transport):
        old = portal.issue_tokens(base=base)  # lives 3600 s
        store = RecordingStore(timeline, [old])
        auth = make_auth(portal, fake_app, old, clock, store, skew=1800)
        clock.advance(1800 - 10)  # the skew window opens 10 s (100 calls) into the burst
        results = await _burst(auth, transport, timeline, clock, chat)

    assert [r.result["id"] for r in results] == [chat.id] * CALLS
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    assert len(portal.oauth.requests) == 1
    assert not [c for c in portal.calls if c.error]  # proactive: the portal refused nothing
    new = auth.token
    sent = sent_tokens(timeline)
    assert old.access_token in sent
    assert new.access_token in sent  # the burst really straddled the refresh
    assert _first(timeline, "saved", new.access_token) < _first(timeline, "sent", new.access_token)
    stored = await _stored(store, old)
    assert stored.same_pair(new)


@pytest.mark.parametrize("mode", ["memory", "socket"])
async def test_200_calls_across_expiry_refresh_once_reactively(
    mode: str, portal: FakePortal, chat: FakeChat, fake_app: FakeApp, clock: ManualClock
) -> None:
    portal.oauth.latency = 0.02
    timeline: list[Event] = []
    async with portal_base(portal, mode) as (base, transport):
        issued = portal.issue_tokens(base=base)
        # Our idea of the expiry is an hour late (clock skew): only the portal knows.
        old = attrs.evolve(issued, expires_at=issued.expires_at + 3600)
        store = RecordingStore(timeline, [old])
        auth = make_auth(portal, fake_app, old, clock, store)
        clock.advance(3600 - 10)  # the portal's expiry falls 10 s (100 calls) into the burst
        results = await _burst(auth, transport, timeline, clock, chat)

    assert [r.result["id"] for r in results] == [chat.id] * CALLS
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    refused = [c for c in portal.calls if c.error]
    assert refused  # the reactive path ran
    assert {c.error for c in refused} == {"expired_token"}
    if mode == "memory":  # over a socket the portal reads the clock only once all are sent
        assert len(refused) < CALLS
    new = auth.token
    assert not new.same_pair(old)
    assert _first(timeline, "saved", new.access_token) < _first(timeline, "sent", new.access_token)


async def test_second_rejection_raises_after_one_refresh(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    portal.fail_next("expired_token", times=2)
    async with Client(make_auth(portal, fake_app, old, clock), transport=portal.transport()) as c:
        with pytest.raises(TokenExpiredError):
            await c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert portal.refresh_count == 1


async def test_invalid_token_is_refreshed_and_retried(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    portal.revoke_access_token(old.access_token)
    async with Client(make_auth(portal, fake_app, old, clock), transport=portal.transport()) as c:
        response = await c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id
    assert [c.error for c in portal.calls] == ["invalid_token", None]
    assert portal.refresh_count == 1


async def test_other_auth_errors_are_not_refreshed(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    portal.fail_next("NO_AUTH_FOUND")
    auth = make_auth(portal, fake_app, old, clock)
    async with Client(auth, transport=portal.transport()) as c:
        with pytest.raises(InvalidCredentialsError):
            await c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert portal.refresh_count == 0


async def test_a_failing_store_raises_and_keeps_the_old_pair(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    store = RecordingStore([], [old])
    store.fail_saves = 1
    auth = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600 - 60)  # inside the default skew
    async with Client(auth, transport=portal.transport()) as client:
        with pytest.raises(TokenStoreError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        # The store's own message quoted the refresh token it was writing: it is kept
        # masked, and the store's exception is not chained (it would carry the token).
        assert "OSError: database is down (while writing ***)" in str(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
        assert auth.token.same_pair(old)
        stored = await _stored(store, old)
        assert stored.same_pair(old)
        assert portal.calls == []  # nothing went out with an unsaved pair
        # Once the store is back, the pair refreshed above is saved and used: no
        # second refresh (the old refresh token is already spent).
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert response.result["id"] == chat.id
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    assert len(store.saves) == 1
    assert store.saves[0].same_pair(auth.token)
    assert not auth.token.same_pair(old)


async def test_a_failing_load_raises_and_keeps_the_old_pair(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    store = RecordingStore([], [old])
    store.fail_loads = 1
    auth = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600)
    async with Client(auth, transport=portal.transport()) as client:
        with pytest.raises(TokenStoreError) as caught:
            await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert isinstance(caught.value.__cause__, OSError)  # no secret in it: chained as is
    assert auth.token.same_pair(old)
    assert portal.refresh_count == 0


async def test_two_processes_sharing_a_store_refresh_once(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    portal.oauth.latency = 0.01
    store = MemoryTokenStore([old])
    first = make_auth(portal, fake_app, old, clock, store)
    second = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600 - 1)
    async with (
        Client(first, transport=portal.transport()) as a,
        Client(second, transport=portal.transport()) as b,
    ):
        await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for client in (a, b) * 20)
        )
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0
    assert first.token.same_pair(second.token)


async def test_a_stale_process_adopts_the_stored_pair_instead_of_refreshing(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    store = MemoryTokenStore([old])
    clock.advance(3600 - 1)
    async with Client(
        make_auth(portal, fake_app, old, clock, store), transport=portal.transport()
    ) as c:
        await c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    newer = await _stored(store, old)
    # A process started earlier still holds ``old`` (its refresh token is spent).
    late = make_auth(portal, fake_app, old, clock, store)
    async with Client(late, transport=portal.transport()) as c:
        await c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert late.token.same_pair(newer)
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 0


class _ExpiredLeaseStore(MemoryTokenStore):
    """A store whose refresh lock protects nothing: every worker's lease ran out."""

    def refresh_lock(self, member_id: str) -> asyncio.Lock:
        return asyncio.Lock()


async def test_a_late_worker_never_overwrites_the_newer_pair(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    portal.oauth.latency = 0.01
    store = _ExpiredLeaseStore([old])
    workers = [make_auth(portal, fake_app, old, clock, store) for _ in range(2)]
    clock.advance(3600)
    clients = [Client(w, transport=portal.transport()) for w in workers]
    await asyncio.gather(*(c.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for c in clients))
    # Both spent the same refresh token; the loser got invalid_grant and took the
    # winner's stored pair rather than failing or writing over it.
    assert portal.refresh_count == 1
    assert portal.refresh_token_reuse_count == 1
    stored = await _stored(store, old)
    assert workers[0].token.same_pair(stored)
    assert workers[1].token.same_pair(stored)


async def test_a_pair_saved_during_the_refresh_wins_the_compare_and_set(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    gated = GatedRefreshes(portal)
    store = MemoryTokenStore([old])
    auth = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600)
    async with Client(auth, transport=gated.transport) as client:
        call = asyncio.create_task(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        await gated.arrived.wait()  # the refresh is in flight
        reinstalled = portal.issue_tokens()  # e.g. from an ONAPPINSTALL event
        await store.save(reinstalled)
        gated.release.set()
        await call
    assert auth.token.same_pair(reinstalled)
    stored = await _stored(store, old)
    assert stored.same_pair(reinstalled)


async def test_a_cancelled_caller_does_not_abandon_the_refresh(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    gated = GatedRefreshes(portal)
    store = MemoryTokenStore([old])
    auth = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600)
    async with Client(auth, transport=gated.transport) as client:
        first = asyncio.create_task(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        await gated.arrived.wait()  # the refresh is in flight
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        gated.release.set()
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert portal.refresh_count == 1
    stored = await _stored(store, old)
    assert stored.same_pair(auth.token)
    assert not stored.same_pair(old)


async def test_memory_store_compare_and_set(portal: FakePortal) -> None:
    one, two, three = (portal.issue_tokens() for _ in range(3))
    store = MemoryTokenStore()
    with pytest.raises(TokenConflictError):
        await store.save(two, replaces=one)  # nothing stored yet
    await store.save(one)
    await store.save(two, replaces=one)
    with pytest.raises(TokenConflictError):
        await store.save(three, replaces=one)  # a late writer
    assert await store.load(one.member_id) == two
    assert await store.load("another-portal") is None


def test_token_round_trips_through_a_dict(portal: FakePortal) -> None:
    token = portal.issue_tokens(scope="im,imbot,placement")
    assert OAuthToken.from_dict(token.to_dict()) == token
    assert token.scopes == {"im", "imbot", "placement"}
    assert token.expires_at_datetime.timestamp() == token.expires_at
    with pytest.raises(ValueError, match="unknown OAuthToken fields: colour"):
        OAuthToken.from_dict({**token.to_dict(), "colour": "red"})


class _SlowStore(RecordingStore):
    """Saves only once ``gate`` opens, so calls can arrive while a save is pending."""

    def __init__(self, timeline: list[Event], tokens: list[OAuthToken]) -> None:
        super().__init__(timeline, tokens)
        self.gate = asyncio.Event()
        self.saving = asyncio.Event()

    async def save(self, token: OAuthToken, *, replaces: OAuthToken | None = None) -> None:
        self.saving.set()
        await self.gate.wait()
        await super().save(token, replaces=replaces)


async def test_no_call_uses_the_new_pair_before_the_store_has_it(
    portal: FakePortal, chat: FakeChat, fake_app: FakeApp, old: OAuthToken, clock: ManualClock
) -> None:
    timeline: list[Event] = []
    store = _SlowStore(timeline, [old])
    auth = make_auth(portal, fake_app, old, clock, store)
    clock.advance(3600 - 60)
    params = {"DIALOG_ID": chat.dialog_id}
    transport = RecordingTransport(portal.transport(), timeline)
    async with Client(auth, transport=transport) as client:
        first = asyncio.create_task(client.call("im.dialog.get", params))
        await store.saving.wait()  # refreshed; the new pair is being saved
        late = asyncio.create_task(client.call("im.dialog.get", params))
        await settle()  # late runs as far as it can
        assert sent_tokens(timeline) == []  # neither call went out meanwhile
        assert not late.done()
        store.gate.set()
        await asyncio.gather(first, late)
    new = auth.token
    assert timeline == [
        ("saved", new.access_token, None),
        ("sent", new.access_token, portal.domain),
        ("sent", new.access_token, portal.domain),
    ]
