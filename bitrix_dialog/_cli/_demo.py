"""``bitrix-dialog demo``: the SDK's bulk job, end to end, with no portal of your own.

It serves the embedded fake portal on 127.0.0.1 with a few thousand seeded dialogs
(a few of them forbidden to the webhook's user) behind a realistic leaky bucket,
looks them all up with ``client.dialogs.get_many`` (some ids twice, as real input
lists do), and reports what it took against the physical minimum the bucket allows.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter

from .._call._hooks import Hooks, RequestEvent, RetryEvent
from .._client import Client
from .._errors import BitrixError
from .._pacing._limiter import LeakyBucket
from ..testing import BucketBound, FakePortal
from ._args import UsageError
from ._progress import ProgressBar

__all__ = ["run_demo"]

BATCH_SIZE = 50
FORBIDDEN_EVERY = 97  # a few dialogs the webhook's user may not read
DUPLICATE_EVERY = 10  # input lists repeat ids; each distinct id gets one outcome


def _seed(portal: FakePortal, dialogs: int) -> list[str]:
    ids = []
    for number in range(1, dialogs + 1):
        members = frozenset({4242}) if number % FORBIDDEN_EVERY == 0 else None
        chat = portal.add_chat(number, name=f"Support chat #{number}", members=members)
        ids.append(chat.dialog_id)
    return ids + ids[::DUPLICATE_EVERY]


async def run_demo(args: argparse.Namespace) -> int:
    if args.dialogs < 1 or args.capacity < 1 or not args.drain_rate > 0:
        msg = "--dialogs and --capacity must be >= 1 and --drain-rate > 0"
        raise UsageError(msg)
    portal = FakePortal(bucket=(args.capacity, args.drain_rate))
    portal.record_calls = False
    ids = _seed(portal, args.dialogs)
    requests: Counter[str] = Counter()
    retries: Counter[str] = Counter()

    def on_request(event: RequestEvent) -> None:
        requests[event.method] += 1

    def on_retry(event: RetryEvent) -> None:
        retries[event.reason] += 1

    outcomes: Counter[str] = Counter()
    async with portal.serve() as base_url:
        print(
            f"bitrix-dialog demo: fake portal on {base_url} with {args.dialogs} dialogs, "
            f"bucket {args.capacity} + {args.drain_rate:g}/s; looking up {len(ids)} ids",
            file=sys.stderr,
        )
        limiter = LeakyBucket(args.capacity, args.drain_rate)
        hooks = Hooks(on_request=on_request, on_retry=on_retry)
        started = time.perf_counter()
        async with Client(portal.webhook_url(base_url), limiter=limiter, hooks=hooks) as client:
            with ProgressBar(wanted=args.progress) as progress:
                async for _dialog_id, outcome in client.dialogs.get_many(ids, progress=progress):
                    outcomes[
                        type(outcome).__name__ if isinstance(outcome, BitrixError) else "ok"
                    ] += 1
        elapsed = time.perf_counter() - started
    distinct = sum(outcomes.values())
    batches = math.ceil(distinct / BATCH_SIZE)
    bound = BucketBound(requests=batches, capacity=args.capacity, drain_rate=args.drain_rate)
    errors = {name: count for name, count in outcomes.items() if name != "ok"}
    lines = [
        f"ids given:           {len(ids)} ({distinct} distinct)",
        f"dialogs found:       {outcomes['ok']}",
        f"per-id errors:       {errors or 'none'} (every {FORBIDDEN_EVERY}th is forbidden)",
        f"HTTP requests:       {sum(requests.values())} ({requests['batch']} batch requests)",
        f"503s from portal:    {portal.counters.rejected_query_limit}",
        f"retries:             {dict(retries) or 'none'}",
        f"time:                {elapsed:.2f} s",
        f"physical minimum:    {bound.minimum:.2f} s "
        f"(max(0, {batches} batches - {args.capacity}) / {args.drain_rate:g} per s)",
        f"ratio to minimum:    {_ratio(elapsed, bound.minimum)}",
    ]
    print("\n".join(lines))
    return 0


def _ratio(elapsed: float, minimum: float) -> str:
    if minimum <= 0:
        return "n/a (everything fit in the bucket's burst)"
    return f"{elapsed / minimum:.3f}x"
