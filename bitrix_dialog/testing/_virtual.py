"""Virtual time: run rate-limited code for minutes of its time in milliseconds of ours.

:class:`VirtualTimeLoop` is an ordinary selector event loop whose clock does not tick
on its own: whenever the loop would go idle waiting for its next timer, the clock
jumps straight to that timer. ``asyncio.sleep``, ``asyncio.timeout``, the SDK's
limiter and backoff (which follow the running loop's clock by default) and the fake
portal's injected latency all run in that time. Real I/O still works (the loop
polls its selector without waiting first), but only in-memory transports are
deterministic: use ``portal.transport()``, not ``portal.serve()``.

    def test_bulk() -> None:
        run_in_virtual_time(scenario())

    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall, bucket=Plan.STANDARD)
        ...
        assert loop.time() == pytest.approx(expected_seconds)
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

__all__ = ["VirtualTimeLoop", "run_in_virtual_time"]

_T = TypeVar("_T")

# 2026-01-01T00:00:00Z: an arbitrary, fixed Unix time for the virtual wall clock.
_EPOCH = 1_767_225_600.0


class _JumpingSelector(selectors.BaseSelector):
    """Polls the real selector; when nothing is ready, advances the loop's clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or (timeout is not None and timeout <= 0):
            return ready
        if timeout is None:  # no timer at all: only real I/O can wake the loop
            return self._inner.select(None)
        self._loop.advance(timeout)
        return []

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time (see the module docs). ``time()`` starts at 0."""

    def __init__(self, *, epoch: float = _EPOCH) -> None:
        self._now = 0.0
        self.epoch = epoch
        """The Unix time :meth:`wall` reports when :meth:`time` is 0."""
        super().__init__(selector=_JumpingSelector(self))

    @classmethod
    def running(cls) -> VirtualTimeLoop:
        """The running loop, which must be a :class:`VirtualTimeLoop`."""
        loop = asyncio.get_running_loop()
        if not isinstance(loop, cls):
            msg = "not running in virtual time: use run_in_virtual_time()"
            raise RuntimeError(msg)
        return loop

    def time(self) -> float:
        """Virtual monotonic seconds since the loop was made."""
        return self._now

    def wall(self) -> float:
        """Virtual Unix time (for ``FakePortal(clock=loop.wall)``)."""
        return self.epoch + self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward; the loop does this itself whenever it would wait."""
        if seconds < 0:
            msg = f"virtual time cannot go back ({seconds!r} s)"
            raise ValueError(msg)
        self._now += seconds


def run_in_virtual_time(main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` to completion on a fresh :class:`VirtualTimeLoop` and close it."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
