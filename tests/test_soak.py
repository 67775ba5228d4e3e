"""Soak and fault test: thousands of bulk lookups while everything goes wrong at once.

The fake portal answers with HTTP 500s, drops connections, sends HTML instead of JSON,
takes up to seconds per answer, meters requests with a tiny bucket, and lets OAuth
access tokens expire every few seconds. Every id must still end with exactly one typed
outcome, the right one when it is not a fault, and nothing may leak: no task, no
limiter slot, no connection, no file descriptor.

In memory it runs in virtual time (minutes of portal time in well under a second); over
a real 127.0.0.1 socket it runs in real time, smaller, in a few seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from bitrix_dialog import (
    AccessDeniedError,
    AiohttpTransport,
    Backoff,
    BitrixError,
    Client,
    Dialog,
    DialogId,
    InvalidDialogIdError,
    LeakyBucket,
    OAuthAuth,
    RateLimitError,
    RejectedInput,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from bitrix_dialog.abc import Transport
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

from .bulk_kit import (
    CALLER,
    assert_every_connection_is_free,
    drain,
    open_fds,
    other_tasks,
    seed,
)

CONNECTIONS = 4
"""The socket soak's connection pool: small, so a connection never handed back shows.
As many as the socket soak's bucket holds, so the closing check can hold them all."""

# What a lookup may come to when faults outlast the retries: the portal never
# answered, failed, or answered with something that is not an envelope.
FAULT_OUTCOMES = (TransportError, ServerError, ResponseDecodeError, RateLimitError)


@attrs.frozen(kw_only=True)
class Soak:
    """The size and the misery of one run."""

    readable: int
    forbidden: int
    unknown: int
    bucket: tuple[int, float]
    latency: tuple[float, float]
    token_lifetime: float


def hostile_portal(soak: Soak, **options: object) -> FakePortal:
    portal = FakePortal(
        bucket=soak.bucket,
        faults=Faults(
            # Seed 12 draws each kind of fault twice within the first 30 requests, so
            # every run meets all of them, however timing varies the requests after.
            server_errors=0.08,
            dropped=0.05,
            non_json=0.04,
            latency=soak.latency,
            seed=12,
        ),
        **options,  # type: ignore[arg-type]
    )
    portal.oauth.access_lifetime = soak.token_lifetime  # every refreshed token is short-lived
    return portal


async def run_soak(
    soak: Soak,
    portal: FakePortal,
    transport: Transport,
    base: object,
    then: Callable[[Client], Awaitable[None]] | None = None,
) -> None:
    """Look up every seeded chat (plus duplicates and junk) and check every outcome.

    ``then(client)`` runs after the lookup, before the client closes.
    """
    seeded = seed(portal, readable=soak.readable, forbidden=soak.forbidden, unknown=soak.unknown)
    distinct = [*seeded.readable, *seeded.forbidden, *seeded.unknown]
    junk: list[object] = ["chat", None, -1, "sg0"]
    ids: list[object] = [f"chat{n}" for n in distinct]
    ids += [f"CHAT{n}" for n in distinct[::5]]  # duplicates in another spelling
    ids[len(ids) // 2 : len(ids) // 2] = junk
    app = portal.register_app()
    token = portal.issue_tokens(
        app.client_id,
        expires_in=soak.token_lifetime,
        base=base if base else None,  # type: ignore[arg-type]
    )
    # skew=0: a token is used until it has expired, so calls in flight meet the
    # portal's expired_token (reactive refresh) as well as refreshing first (proactive).
    # Served on 127.0.0.1, the fake portal is its own authorization server: said explicitly.
    auth = OAuthAuth(
        token,
        client_id=app.client_id,
        client_secret=app.client_secret,
        skew=0,
        clock=portal.clock,
        oauth_server=str(base) if base else None,
    )
    bucket = LeakyBucket(*soak.bucket)
    retry = RetryPolicy(backoff=Backoff(base=0.05, cap=1.0))
    async with Client(auth, transport=transport, limiter=bucket, retry=retry) as client:
        pairs = await drain(client.dialogs.get_many(ids))  # type: ignore[arg-type]
        assert bucket.in_flight == 0
        assert bucket.waiting == 0
        if then is not None:
            await then(client)

    # Exactly one outcome per distinct id and per junk input; nothing else.
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)) == len(distinct) + len(junk)
    assert {key for key in keys if isinstance(key, DialogId)} == {
        DialogId.chat(n) for n in distinct
    }
    # Each outcome is typed and right: the dialog, the portal's own error, or a fault.
    readable_ok = 0
    for key, outcome in pairs:
        if isinstance(key, RejectedInput):
            assert isinstance(outcome, InvalidDialogIdError)
            continue
        assert key.chat_id is not None
        chat = portal.chats.get(key.chat_id)
        if isinstance(outcome, Dialog):
            assert chat is not None
            assert chat.readable_by(CALLER)
            assert outcome.id == chat.id
            assert outcome.name == chat.name
            readable_ok += 1
        else:
            assert isinstance(outcome, BitrixError)
            if not isinstance(outcome, FAULT_OUTCOMES):
                assert isinstance(outcome, AccessDeniedError), repr(outcome)
                assert chat is None or not chat.readable_by(CALLER)
    assert readable_ok >= 0.95 * soak.readable  # retries cure nearly every fault

    # Everything went wrong, and more than once.
    counters = portal.counters
    assert counters.injected_server_errors > 0
    assert counters.dropped > 0
    assert counters.injected_non_json > 0
    assert portal.refresh_count >= 2
    assert portal.refresh_token_reuse_count == 0


def test_soak_in_memory_in_virtual_time() -> None:
    soak = Soak(
        readable=3600,
        forbidden=300,
        unknown=100,
        bucket=(4, 8.0),
        latency=(0.01, 4.0),
        token_lifetime=5.0,
    )

    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = hostile_portal(soak, clock=loop.wall)
        await run_soak(soak, portal, portal.transport(), None)
        assert other_tasks() == set()
        refused = [call for call in portal.calls if call.error == "expired_token"]
        assert refused  # the reactive refresh path ran too
        assert portal.counters.rejected_query_limit <= portal.counters.received * 0.02

    run_in_virtual_time(scenario())


async def test_soak_over_a_real_socket() -> None:
    soak = Soak(
        readable=1800,
        forbidden=150,
        unknown=50,
        bucket=(4, 60.0),
        latency=(0.001, 0.15),
        token_lifetime=0.4,
    )
    portal = hostile_portal(soak)

    async def every_connection_is_free(client: Client) -> None:
        await assert_every_connection_is_free(client, portal, CONNECTIONS)

    async with portal.serve() as base:
        before = open_fds()
        transport = AiohttpTransport(limit=CONNECTIONS)
        try:
            await run_soak(soak, portal, transport, base, then=every_connection_is_free)
        finally:
            await transport.aclose()
    # Leaving serve() waits for the server's handlers of the closed connections.
    assert other_tasks() == set()  # neither the client's nor the server's
    assert open_fds() <= before
