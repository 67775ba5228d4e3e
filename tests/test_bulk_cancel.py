"""Leaving a bulk lookup early cancels what is in flight and leaks nothing."""

from __future__ import annotations

import asyncio
import gc

from bitrix_dialog import AiohttpTransport, Client, DialogId, LeakyBucket
from bitrix_dialog.testing import FakePortal, Faults, VirtualTimeLoop, run_in_virtual_time

from .bulk_kit import assert_every_connection_is_free, open_fds, other_tasks, seed

CONNECTIONS = 4


def slow_portal(loop: VirtualTimeLoop) -> FakePortal:
    """Every answer takes 5-10 s of virtual time, so requests are in flight when we leave."""
    return FakePortal(clock=loop.wall, faults=Faults(latency=(5.0, 10.0), seed=1))


def test_breaking_out_of_async_with_cancels_every_request_in_flight() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = slow_portal(loop)
        seeded = seed(portal, readable=1000, forbidden=0)
        bucket = LeakyBucket(10, 1.0)
        async with Client(portal.webhook_url(), transport=portal.transport(), limiter=bucket) as c:
            async with c.dialogs.get_many(f"chat{n}" for n in seeded.readable) as stream:
                async for _ in stream:
                    assert bucket.in_flight > 0  # other batches are still out
                    break
            assert other_tasks() == set()  # nothing left running, nothing pending
            assert bucket.in_flight == 0  # every slot handed back
            assert bucket.waiting == 0
            answered = portal.counters.answered
            await asyncio.sleep(60)  # nothing more arrives later either
            assert portal.counters.answered == answered
            assert stream.done < 1000

    run_in_virtual_time(scenario())


def test_cancelling_the_consuming_task_cancels_the_requests() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = slow_portal(loop)
        seeded = seed(portal, readable=600, forbidden=0)
        got: list[DialogId] = []
        first = asyncio.Event()
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:

            async def consume() -> None:
                async with client.dialogs.get_many(f"chat{n}" for n in seeded.readable) as stream:
                    async for key, _ in stream:
                        assert isinstance(key, DialogId)
                        got.append(key)
                        first.set()

            consumer = asyncio.create_task(consume())
            await first.wait()
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            assert consumer.cancelled()
            assert other_tasks() == set()
            assert client.limiter.in_flight == 0  # type: ignore[attr-defined]
            assert 0 < len(got) < 600

    run_in_virtual_time(scenario())


def test_an_abandoned_stream_is_closed_when_collected() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = slow_portal(loop)
        seeded = seed(portal, readable=400, forbidden=0)
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            stream = client.dialogs.get_many(f"chat{n}" for n in seeded.readable)
            async for _ in stream:
                break  # no async with, no aclose()
            del stream
            gc.collect()
            for _ in range(5):  # the loop runs the generator's scheduled aclose()
                await asyncio.sleep(0)
            assert other_tasks() == set()
            assert client.limiter.in_flight == 0  # type: ignore[attr-defined]

    run_in_virtual_time(scenario())


async def test_leaving_early_over_a_socket_leaves_no_connection_or_descriptor() -> None:
    portal = FakePortal(faults=Faults(latency=(0.05, 0.2), seed=2))
    seeded = seed(portal, readable=1500, forbidden=0)
    async with portal.serve() as base_url:
        before = open_fds()
        transport = AiohttpTransport(limit=CONNECTIONS)
        async with Client(portal.webhook_url(base_url), transport=transport) as client:
            async with client.dialogs.get_many(f"chat{n}" for n in seeded.readable) as stream:
                async for _ in stream:
                    break
            # No cancelled request still holds a connection, and the client still works.
            await assert_every_connection_is_free(client, portal, CONNECTIONS)
            again = await client.dialogs.get_all([f"chat{seeded.readable[0]}"])
            assert again.ok
        await transport.aclose()
    # Leaving serve() shuts the server down once its handlers are done (it waits for
    # them): then no task of the client's or the server's is left, and no descriptor.
    assert other_tasks() == set()
    assert open_fds() <= before
