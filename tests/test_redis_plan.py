"""The shared bucket learns from refusals as the local one does, for every worker (#14)."""

from __future__ import annotations

import asyncio
import time

from bitrix_dialog import AccessTokenAuth, Client, Plan
from bitrix_dialog.redis import RedisLeakyBucket
from bitrix_dialog.testing import FakePortal, Faults

from .redis_kit import Connect

KEY = "https://portal.example.com|oauth:app"
BURST = 56  # six past the portal's 50


async def test_what_one_worker_learns_every_worker_paces_by(connect: Connect) -> None:
    a = RedisLeakyBucket.for_plan(connect(), KEY, Plan.ENTERPRISE)
    b = RedisLeakyBucket.for_plan(connect(), KEY, Plan.ENTERPRISE)
    slots = [await a.acquire() for _ in range(60)]
    await a.refused(slots[50])  # sent at level 50: the portal admitted 50
    assert (a.capacity, a.drain_rate) == (50, 5.0)
    assert (a.plan_capacity, a.plan_drain_rate) == (250, 5.0)
    for slot in slots:
        await a.release(slot)
    await b.state()  # any script run brings a worker the shared estimates
    assert (b.capacity, b.drain_rate) == (50, 5.0)
    # Refused again at the drain, for a slot taken after that refusal: the drain comes down.
    late = await b.acquire()
    await b.refused(late)
    await b.release(late)
    assert b.drain_rate == 3.5
    await a.state()
    assert (a.capacity, a.drain_rate) == (50, 3.5)
    # Never below Standard's.
    for _ in range(5):
        slot = await a.acquire(max_wait=10)
        await a.refused(slot)
        await a.release(slot)
    assert (a.capacity, a.drain_rate) == (50, 2.0)


async def test_a_client_on_the_shared_bucket_reports_which_request_was_refused(
    connect: Connect,
) -> None:
    # The portal's bucket holds still until the whole burst has arrived, then catches up
    # on the drain it missed: on a busy machine the burst takes long enough to drain one
    # more request (the portal would admit 51, and the client rightly learn 51).
    frozen = time.time()

    def clock() -> float:
        return frozen if portal.counters.received <= BURST else time.time()

    portal = FakePortal(clock=clock, bucket=Plan.STANDARD, faults=Faults(latency=0.05))
    chat = portal.add_chat()
    token = portal.add_access_token(expires_in=1e9)
    bucket = RedisLeakyBucket.for_plan(connect(), KEY, Plan.ENTERPRISE)
    auth = AccessTokenAuth(portal.client_endpoint(), token)
    async with Client(auth, transport=portal.transport(), limiter=bucket) as client:
        await asyncio.gather(
            *(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}) for _ in range(BURST))
        )
    # The burst past the portal's 50, then a few while the drain comes down (three cuts,
    # and on a loaded machine a retry or two already in flight at a cut; real time here).
    assert 6 <= portal.counters.rejected_query_limit <= 6 + 6
    # Learned from them, in Redis, for every worker. 50 when the requests reach the portal
    # in the order their slots were taken; a busy machine can swap two neighbours between
    # the Redis script and the send, and then the refused one was taken at level 51.
    assert bucket.capacity in (50, 51)
    assert not [call for call in portal.calls if call.method == "app.info"]  # sized by us
