"""Whether a lone call may go out at once: :func:`alone_in_iteration`.

A coalesced call waits one loop iteration so that the calls made in the same iteration
join its request. When nothing else can run before its request is built, that wait
changes nothing and costs an iteration; this tells the two apart.
"""

from __future__ import annotations

import asyncio

__all__ = ["alone_in_iteration"]


def alone_in_iteration() -> bool:
    """Whether no other call can be made before this one's request is built: then
    waiting an iteration for company would change nothing but cost one (the yield, a
    ``select``, the wake-up: a few microseconds).

    asyncio's loops hold their ready callbacks in ``_ready`` (private, stable since
    3.4) and put a task that yields at its end; with it empty that task would run
    again first, before the I/O and timer callbacks of the next iteration. That holds
    only while tasks start lazily: a task factory (``asyncio.eager_task_factory`` runs
    a new task's first step inside ``create_task``, so ``gather`` makes the next call
    right after this one yields) or a loop without ``_ready`` (uvloop) keeps the wait.
    """
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    return ready is not None and not ready and loop.get_task_factory() is None
