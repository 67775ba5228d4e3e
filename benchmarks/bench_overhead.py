"""Overhead: one ``im.dialog.get`` through the SDK vs a bare aiohttp POST to the same server.

All cases run sequentially against the fake portal served on 127.0.0.1 by another
process (so the server's own cost does not dilute the client's), interleaved in short
rounds whose order rotates. Loopback calls on a shared machine vary by tens of percent
from one moment to the next, so each round's time per call is divided by the bare
request's time *in the same round*, and the figure reported is the median of those
paired ratios (the table's value is the bare median times that ratio). Goal: 1.15x.

Cases:

- ``client.call``: the SDK's raw call (limiter, retries, hooks, operating budget,
  envelope decoding), the same work as the baseline's ``json.loads``;
- ``client.im.dialog.get``: the typed method, which also checks the dialog id and
  decodes the ``Dialog``; it goes through the coalescer (#13), and is also compared
  with the same call on a client made with ``coalesce=False``, on the socket and as
  CPU in process: a lone call must cost what it cost before coalescing;
- ``client.call`` against a bare request given the aiohttp timeouts the SDK sets by
  default (connect 10 s, read 30 s): aiohttp's timers for those are part of the SDK's
  price but not of its own code;
- the SDK's own work in process, as CPU time: a stub transport returns the fake
  portal's answer bytes at once, so a call is only the SDK's path (checks, limiter,
  retry loop, auth, body encoding, envelope, operating budget) against ``json.loads``
  of the same bytes. Steadier than the socket figures, it shows what the code costs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
from yarl import URL

from bitrix_dialog import Client, LeakyBucket, Timeout
from bitrix_dialog._transports._aiohttp import _client_timeout
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal

from ._server import served_portal
from ._table import Row

CALLS = 3000
ROUNDS = 100
GOAL = 1.15

Case = Callable[[], Awaitable[None]]


async def _measure(calls: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each case, one sample per round."""
    with served_portal() as (url, ids):
        params = {"DIALOG_ID": ids[0]}
        body = json.dumps(params).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        target = url + "im.dialog.get"
        sdk_timeout = _client_timeout(Timeout())  # what AiohttpTransport passes by default
        # A bucket that never fills: the limiter's bookkeeping is measured, not its waits.
        unmetered = LeakyBucket(1_000_000, 1_000_000.0)
        async with (
            aiohttp.ClientSession() as session,
            Client(url, limiter=unmetered) as client,
            Client(url, limiter=LeakyBucket(1_000_000, 1_000_000.0), coalesce=False) as alone,
        ):

            async def bare() -> None:
                async with session.post(target, data=body, headers=headers) as response:
                    json.loads(await response.read())

            async def bare_timed() -> None:
                async with session.request(
                    "POST",
                    URL(target),
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=sdk_timeout,
                ) as response:
                    json.loads(await response.read())

            async def sdk() -> None:
                await client.call("im.dialog.get", params)

            async def typed() -> None:
                await client.im.dialog.get(ids[0])

            async def typed_alone() -> None:
                await alone.im.dialog.get(ids[0])

            cases: dict[str, Case] = {
                "bare": bare,
                "bare_timed": bare_timed,
                "sdk": sdk,
                "typed": typed,
                "typed_alone": typed_alone,
            }
            for case in cases.values():  # warm every path (connections, caches)
                for _ in range(50):
                    await case()
            per_round = max(calls // rounds, 1)
            samples: dict[str, list[float]] = {name: [] for name in cases}
            names = list(cases)
            for index in range(rounds):
                shift = index % len(names)
                for name in names[shift:] + names[:shift]:
                    case = cases[name]
                    started = time.perf_counter()
                    for _ in range(per_round):
                        await case()
                    samples[name].append((time.perf_counter() - started) / per_round)
    return samples


async def _in_process(calls: int, rounds: int) -> dict[str, list[float]]:
    """CPU seconds per call of the SDK's own work: a stub transport hands back the fake
    portal's answer bytes at once, so only ``client.call`` (or ``json.loads``) runs."""
    portal = FakePortal()
    dialog_id = portal.add_chat(name="Chat 0").dialog_id
    params = {"DIALOG_ID": dialog_id}
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        answer = (await client.call("im.dialog.get", params)).body
    response = HttpResponse(status=200, headers={"Content-Type": "application/json"}, body=answer)

    class Stub:
        async def send(self, request: HttpRequest) -> HttpResponse:
            return response

        async def aclose(self) -> None:
            return None

    stub = Stub()
    unmetered = LeakyBucket(1_000_000, 1_000_000.0)
    async with (
        Client(portal.webhook_url(), transport=stub, limiter=unmetered) as client,
        Client(
            portal.webhook_url(),
            transport=stub,
            limiter=LeakyBucket(1_000_000, 1_000_000.0),
            coalesce=False,
        ) as alone,
    ):

        async def bare() -> None:
            json.loads((await stub.send(_PROBE)).body)

        async def sdk() -> None:
            await client.call("im.dialog.get", params)

        async def typed() -> None:
            await client.im.dialog.get(dialog_id)

        async def typed_alone() -> None:
            await alone.im.dialog.get(dialog_id)

        cases: dict[str, Case] = {
            "bare": bare,
            "sdk": sdk,
            "typed": typed,
            "typed_alone": typed_alone,
        }
        per_round = max(calls // rounds, 1)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for case in cases.values():
            for _ in range(200):
                await case()
        names = list(cases)
        for index in range(rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                case = cases[name]
                started = time.process_time()
                for _ in range(per_round):
                    await case()
                samples[name].append((time.process_time() - started) / per_round)
    return samples


_PROBE = HttpRequest(method="POST", url=URL("https://example.invalid/"))


def _row(
    samples: dict[str, list[float]],
    name: str,
    against: str,
    *,
    case: str,
    note: str,
    goal: float | None = GOAL,
) -> Row:
    ratio = statistics.median(
        value / base for value, base in zip(samples[name], samples[against], strict=True)
    )
    baseline = statistics.median(samples[against]) * 1e6
    return Row(
        benchmark="overhead",
        case=case,
        value=baseline * ratio,
        baseline=baseline,
        unit="us/call",
        goal=goal,
        note=note,
    )


def run(*, quick: bool = False) -> list[Row]:
    calls, rounds = (400, 8) if quick else (CALLS, ROUNDS)
    samples = asyncio.run(_measure(calls, rounds))
    local = asyncio.run(_in_process(calls * 5, 50))
    return [
        _row(
            samples,
            "sdk",
            "bare",
            case=f"client.call im.dialog.get x{calls}",
            note="baseline: bare aiohttp POST + json.loads",
        ),
        _row(
            samples,
            "typed",
            "bare",
            case=f"client.im.dialog.get x{calls}",
            note="typed Dialog (also decodes the model), same baseline",
        ),
        _row(
            samples,
            "sdk",
            "bare_timed",
            case=f"client.call im.dialog.get x{calls}",
            note="baseline: bare aiohttp with the SDK's connect/read timeouts",
            goal=None,
        ),
        _row(
            local,
            "sdk",
            "bare",
            case=f"client.call in process x{calls * 5}",
            note="CPU: stub transport, the SDK's own work vs json.loads alone",
            goal=None,
        ),
        _row(
            samples,
            "typed",
            "typed_alone",
            case=f"client.im.dialog.get x{calls}, coalescing on vs off",
            note="a lone typed call through the coalescer vs Client(coalesce=False)",
            goal=None,
        ),
        _row(
            local,
            "typed",
            "typed_alone",
            case=f"client.im.dialog.get in process x{calls * 5}, on vs off",
            note="CPU: stub transport; the coalescer's cost for a lone call",
            goal=None,
        ),
    ]
