"""Look up 3,000 dialogs at once with a progress bar, against the embedded fake portal.

    python examples/bulk_lookup.py

The fake portal meters requests like a Standard plan portal but ten times faster
(50 requests, draining 20 per second), so the run takes about half a second. A progress
bar is drawn with tqdm when it is installed (``pip install tqdm``; not a dependency
of bitrix_dialog), otherwise progress is printed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

from bitrix_dialog import Client, Dialog, LeakyBucket, ProgressCallback
from bitrix_dialog.testing import FakePortal

COUNT = 3000


def seed_portal() -> FakePortal:
    portal = FakePortal(bucket=(50, 20.0))
    for number in range(1, COUNT + 1):
        members = frozenset({1, 7}) if number % 100 else frozenset({7})  # 1 in 100 is closed
        portal.add_chat(name=f"Team {number}", members=members)
    return portal


def dialog_ids() -> Iterator[str]:
    """Ids as they might come from a database: lazily, with repeats and a bad one."""
    for number in range(1, COUNT + 1):
        yield f"chat{number}"
    yield "CHAT1"  # the same dialog as "chat1": looked up once
    yield "chat"  # not a dialog id: reported, never sent


def progress_bar() -> tuple[ProgressCallback, Callable[[], None]]:
    """A ``progress(done, total, errors)`` callback drawing a tqdm bar, and its close."""
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional, imported only when wanted
    except ImportError:  # tqdm is optional: print instead

        def report(done: int, total: int | None, errors: int) -> None:
            if done == total:
                print(f"{done} of {total} done, {errors} failed")

        return report, lambda: None

    bar = tqdm(unit="dialog", desc="dialogs")

    def update(done: int, total: int | None, errors: int) -> None:
        bar.total = total  # None until an unsized input has been read to its end
        bar.set_postfix(errors=errors, refresh=False)
        bar.update(done - bar.n)

    return update, bar.close


async def main() -> None:
    portal = seed_portal()
    saved: dict[str, str] = {}
    failed: dict[str, str] = {}
    async with Client(
        portal.webhook_url(), transport=portal.transport(), limiter=LeakyBucket(50, 20.0)
    ) as client:
        progress, close = progress_bar()
        async with client.dialogs.get_many(dialog_ids(), progress=progress) as results:
            async for dialog_id, outcome in results:
                if isinstance(outcome, Dialog):
                    saved[str(dialog_id)] = outcome.name or ""
                else:
                    failed[str(dialog_id)] = outcome.code
        close()
    print(f"saved {len(saved)} dialogs; {len(failed)} failed: {sorted(set(failed.values()))}")


if __name__ == "__main__":
    asyncio.run(main())
