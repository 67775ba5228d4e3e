"""A fake portal served from its own process, so client-side costs are measured alone.

    with served_portal(chats=1) as (webhook_url, dialog_ids): ...
    with served_portal(chats=10_000, bucket=(50, 20.0)) as (url, ids): ...   # metered
    with served_portal(synthetic=True) as (url, _): ...   # answers any chatNNN, stores none
    with served_portal(5_000, bucket=(250, 5.0), latency=0.8) as (url, ids): ...  # slow answers

The child prints its webhook URL on stdout once listening and serves until killed.
``synthetic`` portals make each chat as it is asked for and forget it after the
answer, so 100,000 distinct ids cost the server no memory. Portals with ``latency``
render each dialog once, before they listen, and answer from that cache: the time
of their answers is the latency asked for, not the server's own CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bitrix_dialog.testing import CallContext, Caller, FakePortal, Faults, MethodHandler


def _synthetic(portal: FakePortal, dialog_get: MethodHandler) -> None:
    async def any_chat(context: CallContext) -> Any:
        raw = str(context.param("DIALOG_ID") or "")
        number = int(raw[4:]) if raw.lower().startswith("chat") and raw[4:].isdigit() else 0
        if number <= 0:
            return await dialog_get(context)  # the portal's own errors
        portal.add_chat(number, name=f"Chat {number}")
        try:
            return await dialog_get(context)
        finally:
            del portal.chats[number]

    portal.register_method("im.dialog.get", any_chat)


async def _prerender(portal: FakePortal, ids: list[str], dialog_get: MethodHandler) -> None:
    rendered: dict[str, Any] = {}

    async def cached(context: CallContext) -> Any:
        key = str(context.param("DIALOG_ID"))
        if key not in rendered:
            rendered[key] = await dialog_get(context)
        return rendered[key]

    portal.register_method("im.dialog.get", cached)
    caller = Caller(user_id=portal.webhook_user_id, kind="webhook", credential=portal.webhook_code)
    for dialog_id in ids:
        await portal.dispatch(caller, "im.dialog.get", {"DIALOG_ID": dialog_id})


async def _serve(
    chats: int, bucket: tuple[int, float] | None, synthetic: bool, latency: float
) -> None:
    portal = FakePortal(bucket=bucket, faults=Faults(latency=latency) if latency else None)
    portal.record_calls = False
    ids = [portal.add_chat(name=f"Chat {n}").dialog_id for n in range(chats)]
    dialog_get = portal.method_handler("im.dialog.get")  # the portal's own, to wrap
    if synthetic:
        _synthetic(portal, dialog_get)
    if latency:
        await _prerender(portal, ids, dialog_get)
    async with portal.serve() as base_url:
        print(json.dumps({"url": portal.webhook_url(base_url), "ids": ids}), flush=True)
        await asyncio.Event().wait()


@contextmanager
def served_portal(
    chats: int = 1,
    *,
    bucket: tuple[int, float] | None = None,
    synthetic: bool = False,
    latency: float = 0.0,
) -> Iterator[tuple[str, list[str]]]:
    """Start the child, yield (webhook URL, dialog ids), kill it afterwards.

    ``bucket`` is the portal's leaky bucket as ``(capacity, drain_rate)`` (default:
    not metered); ``latency`` the seconds every answer takes (half arriving, half
    answering, as the fake portal's ``Faults(latency=...)`` spends them).
    """
    command = [sys.executable, "-m", "benchmarks._server", str(chats)]
    if bucket is not None:
        command += ["--bucket", f"{bucket[0]},{bucket[1]}"]
    if synthetic:
        command.append("--synthetic")
    if latency:
        command += ["--latency", str(latency)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        info = json.loads(line)
        yield info["url"], info["ids"]
    finally:
        child.kill()
        child.wait()


def _main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._server")
    parser.add_argument("chats", type=int, nargs="?", default=1)
    parser.add_argument("--bucket", help="capacity,drain_rate (default: not metered)")
    parser.add_argument("--synthetic", action="store_true", help="answer any chatNNN")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    bucket = None
    if args.bucket:
        capacity, rate = args.bucket.split(",")
        bucket = (int(capacity), float(rate))
    asyncio.run(_serve(args.chats, bucket, args.synthetic, args.latency))


if __name__ == "__main__":
    _main()
