"""Memory: peak RSS of a streaming 100,000-id bulk lookup against the memory budget.

Each size runs in a fresh Python process (``python -m benchmarks.bench_memory --child
N URL``) that imports the SDK, looks up ids ``chat1`` ... ``chatN`` from a generator
with ``client.dialogs.get_many`` and drops each dialog as it arrives, then reports
``resource.getrusage(RUSAGE_SELF).ru_maxrss``. The portal runs in yet another process,
``synthetic`` (it makes each chat as it is asked for), with no bucket, and the client's
limiter never fills, so the run is as fast as the two processes allow.

What stays in memory per id is a bit of the dedupe bitmap; everything else is
bounded by the batch requests in flight. The lookups run on ``get_many``'s defaults:
the width follows the limiter's capacity, bounded by the memory budget for answers
in flight (``DEFAULT_MEMORY_BUDGET``, 128 MiB at 0.5 MiB per answer: 256 requests);
this limiter's capacity is unbounded, so the budget alone sets it, and the peak
shown is what the default allows at most.

Goal: the 100,000-id run's peak is at most the 1,000-id run's (20 requests, never
the full width: the interpreter, the SDK and a few answers) plus the budget, i.e. the
answers in flight stay within it however many ids stream by. The 100,000-id run is
also shown against a 20,000-id one (both fill the width hundreds of times; a longer
run meets worse bunching of answers, up to all 256 parsed and waiting at once) and
against the 1,000-id one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator

from bitrix_dialog import Client, Dialog, LeakyBucket
from bitrix_dialog._bulk._api import DialogsApi

from ._server import served_portal
from ._table import Row

SMALL = 1_000
MIDDLE = 20_000
LARGE = 100_000
QUICK_MIDDLE, QUICK_LARGE = 15_000, 30_000


def _ids(count: int) -> Iterator[str]:
    for number in range(1, count + 1):
        yield f"chat{number}"


async def _child(count: int, url: str) -> dict[str, float]:
    dialogs = 0
    started = time.perf_counter()
    unmetered = LeakyBucket(1_000_000, 1_000_000.0)
    async with (
        Client(url, limiter=unmetered) as client,
        client.dialogs.get_many(_ids(count)) as results,
    ):
        async for _, outcome in results:
            assert isinstance(outcome, Dialog), outcome
            dialogs += 1
    assert dialogs == count
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_mib": peak_kib / 1024, "seconds": time.perf_counter() - started}


def _measure(count: int, url: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(count), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def run(*, quick: bool = False) -> list[Row]:
    middle, large = (QUICK_MIDDLE, QUICK_LARGE) if quick else (MIDDLE, LARGE)
    with served_portal(synthetic=True) as (url, _):
        runs = {count: _measure(count, url) for count in (SMALL, middle, large)}
    speed = ", ".join(f"{count:,} ids in {run['seconds']:.1f} s" for count, run in runs.items())
    budget = DialogsApi.DEFAULT_MEMORY_BUDGET / 2**20
    rows = [
        Row(
            benchmark="memory",
            case=f"peak RSS, {large:,} ids vs {SMALL:,} ids + the {budget:.0f} MiB budget",
            value=runs[large]["peak_mib"],
            baseline=runs[SMALL]["peak_mib"] + budget,
            unit="MiB",
            goal=1.0,
            note=f"the answers in flight stay within the default memory budget; {speed}",
        )
    ]
    rows.extend(
        Row(
            benchmark="memory",
            case=f"peak RSS, {large:,} vs {baseline:,} ids streamed",
            value=runs[large]["peak_mib"],
            baseline=runs[baseline]["peak_mib"],
            unit="MiB",
            note="fresh process each; get_many defaults (256 requests in flight at most)",
        )
        for baseline in (middle, SMALL)
    )
    return rows


def _main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_memory")
    parser.add_argument("--child", nargs=2, metavar=("COUNT", "URL"), required=True)
    args = parser.parse_args()
    count, url = int(args.child[0]), args.child[1]
    print(json.dumps(asyncio.run(_child(count, url))))


if __name__ == "__main__":
    _main()
