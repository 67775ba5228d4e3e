"""Bulk dialog lookups: many ids, 50 per ``batch`` request, streamed as answers arrive.

:class:`DialogStream` is what ``client.dialogs.get_many(ids)`` returns. It reads on
from top to bottom of :meth:`DialogStream._run`::

    input ids (any iterable or async iterable, read lazily, never copied)
      -> DialogId.parse; dedupe by the canonical id; an input that is not an id the
         method takes is settled at once as its own InvalidDialogIdError
      -> one command per distinct id (named d0, d1, ...: never numeric), 50 per chunk,
         re-queued ids first
      -> up to ``width()`` chunks at once through send_batch (each is one request
         of the executor's attempt loop, under its own deadline: it waits there for its
         limiter slot and its commands' operating turns, and is retried there)
      -> each command's answer decoded to a Dialog; a per-command rate-limit or
         transient error is re-queued as the client's RetryPolicy allows (bounded,
         counted and reported by the retry module, as a retried call is)
      -> (key, outcome) yielded as soon as its chunk's answer is in.

Memory is bounded by the chunks in flight, not by the number of ids: input is read
only when a slot in the pipeline frees and the consumer has taken what was ready.
The one thing kept per id is a bit in the dedupe bitmap.

A request that fails as a whole gives each id in it that error (the executor has
already retried it as the policy allows). If that error says the portal will not
serve this client at all (refused credentials or access, a blocked or moved portal,
a malformed request), nothing more is sent: every later id is settled as
:class:`BatchNotExecutedError` with ``cause`` set, so each id still gets one outcome.

Cancellation: closing the stream (``aclose()``, leaving ``async with``, or
cancelling the task that iterates it) cancels every request in flight and waits for
them to unwind, so no task, limiter slot or connection is left behind.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Final, Self

import attrs

from .._batch._decode import Outcome
from .._batch._plan import BATCH_LIMIT, Command
from .._batch._run import send_batch
from .._call._executor import Executor
from .._call._retry import RetryState
from .._errors import (
    AccessError,
    AuthError,
    BadRequestError,
    BatchNotExecutedError,
    BitrixError,
    InvalidDialogIdError,
    ModelDecodeError,
    PortalUnavailableError,
)
from .._methods._dialog_id import DialogId
from .._wire._envelope import RestResponse
from ._input import NOT_YET, CommandMaker, DialogLookup, IdReader, Rejected
from ._types import DialogKey, DialogOutcome, ProgressCallback, RejectedInput

__all__ = ["DialogStream"]

logger: Final = logging.getLogger("bitrix_dialog")

FLUSH_AFTER: Final = 0.05
"""Seconds a partly filled chunk waits for more ids from a slow async input before it is
sent as it is: a source that stalls never holds back ids it has already given."""

_FATAL: Final = (AuthError, AccessError, PortalUnavailableError, BadRequestError)
"""Request-level errors that will meet every later request too: stop sending."""


@attrs.define(slots=True)
class _Item:
    """One distinct id on its way: its command and, once it has failed, its retry state."""

    key: DialogId
    command: Command
    state: RetryState | None = None


async def _send(executor: Executor, commands: list[Command]) -> dict[str, Outcome] | BitrixError:
    """One chunk's request, under its own deadline; its failure is returned as its answer.

    A plain function, not a method: a task in flight must not keep the stream alive,
    so that an abandoned stream can be collected and close itself.
    """
    try:
        return await send_batch(executor, commands, halt=False, deadline=executor.start_deadline())
    except BitrixError as error:
        return error


class DialogStream(AsyncIterator[tuple[DialogKey, DialogOutcome]]):
    """An async iterator of ``(key, Dialog | BitrixError)``, one per distinct id.

    Made by ``client.dialogs.get_many(...)``; see the module docs. Use it with
    ``async with`` (or call :meth:`aclose`) so that leaving the loop early cancels
    the requests still in flight at once rather than when it is garbage-collected.
    :attr:`done`, :attr:`total` and :attr:`errors` are the progress so far.
    """

    def __init__(
        self,
        *,
        executor: Executor,
        method: DialogLookup,
        ids: Iterable[object] | AsyncIterable[object],
        progress: ProgressCallback | None,
        width: Callable[[], int],
    ) -> None:
        self._executor = executor
        self._method = method
        self._reader = IdReader(ids)
        self._commands = CommandMaker(method)
        self._progress = progress
        self._width = width  # asked anew each time: a bucket may change size as it learns
        # Settled outcomes wait here for the consumer: one answered chunk's, plus a
        # chunk's worth of invalid inputs at most before reading pauses.
        self._ready_limit = 2 * BATCH_LIMIT
        self._names = itertools.count()
        self._filling: list[_Item] = []
        self._retries: list[tuple[float, int, _Item]] = []  # heap by ready time
        self._starved = False  # the async input had no id ready: wait for it with the rest
        self._ready: deque[tuple[DialogKey, DialogOutcome]] = deque()
        self._fatal: BitrixError | None = None
        self._order: list[DialogKey] | None = None
        self._dirty = False
        self.done = 0
        """Outcomes settled so far."""
        self.errors = 0
        """How many of them are errors."""
        self._generator = self._run()

    @property
    def total(self) -> int | None:
        """Distinct ids (and invalid inputs) in all; ``None`` until an unsized input ends."""
        return self._reader.total

    # ---------------------------------------------------------------- protocol
    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> tuple[DialogKey, DialogOutcome]:
        return await anext(self._generator)

    async def aclose(self) -> None:
        """Stop: cancel the requests in flight and wait until they have unwound."""
        await self._generator.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def record_order(self) -> list[DialogKey]:
        """Start listing keys in input order (first appearance); for ``get_all``."""
        self._order = []
        return self._order

    # -------------------------------------------------------------------- run
    async def _run(self) -> AsyncGenerator[tuple[DialogKey, DialogOutcome], None]:
        tasks: dict[asyncio.Future[dict[str, Outcome] | BitrixError], list[_Item]] = {}
        # Answered chunks are decoded one at a time, each handed over before the next,
        # so only one chunk's dialogs are held at once.
        answered: deque[tuple[list[_Item], dict[str, Outcome] | BitrixError]] = deque()
        timer: asyncio.Future[None] | None = None
        try:
            while True:
                while len(tasks) + len(answered) < self._width():
                    chunk = await self._next_chunk(busy=bool(tasks or answered or self._ready))
                    if chunk is None:
                        break
                    if self._fatal is not None:
                        for item in chunk:
                            self._settle(item.key, self._not_executed(item))
                        continue
                    send = _send(self._executor, [item.command for item in chunk])
                    tasks[asyncio.ensure_future(send)] = chunk
                    await asyncio.sleep(0)  # let it go out while the next chunk is built
                if self._dirty and self._progress is not None:
                    self._dirty = False
                    self._progress(self.done, self.total, self.errors)
                while self._ready:
                    yield self._ready.popleft()
                if answered:
                    await self._settle_chunk(*answered.popleft())
                    continue
                if len(tasks) < self._width() and not self._reader.exhausted:
                    if not self._starved:
                        continue  # reading paused to hand over outcomes; read on
                elif not tasks and not self._retries and not self._filling:
                    return
                waiting: set[asyncio.Future[Any]] = set(tasks)
                if self._starved and self._reader.pending is not None:
                    waiting.add(self._reader.pending)  # wake when the input gives its next
                if self._retries and len(tasks) < self._width():
                    delay = max(self._retries[0][0] - self._executor.clock(), 0.0)
                    timer = asyncio.ensure_future(self._executor.sleep(delay))
                    waiting.add(timer)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if timer is not None:
                    timer.cancel()
                    timer = None
                for task in done:
                    if task in tasks:
                        answered.append((tasks.pop(task), task.result()))
        finally:
            await self._unwind([*tasks, timer, self._reader.cancel()])

    @staticmethod
    async def _unwind(futures: list[asyncio.Future[Any] | None]) -> None:
        """Cancel what is still under way (requests, the retry timer, the input's read)
        and wait until it has unwound."""
        pending = [future for future in futures if future is not None]
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.wait(pending)

    # ------------------------------------------------------------------- input
    async def _next_chunk(self, *, busy: bool) -> list[_Item] | None:
        """The next chunk to send: re-queued ids that are due, then new ids.

        ``None`` when no chunk can be made yet (invalid inputs wait to be handed over
        first, or a slow async input has no id ready while answers are in flight:
        ``busy``), or when nothing is left. Ids already read from a slow input go out
        as a partial chunk after :data:`FLUSH_AFTER` seconds without a new one.
        """
        self._starved = False
        now = self._executor.clock()
        while self._retries and len(self._filling) < BATCH_LIMIT and self._retries[0][0] <= now:
            self._filling.append(heapq.heappop(self._retries)[2])
        while len(self._filling) < BATCH_LIMIT and len(self._ready) < self._ready_limit:
            wait = FLUSH_AFTER if self._filling else (0.0 if busy else None)
            item = await self._reader.next(wait=wait, sleep=self._executor.sleep)
            if item is NOT_YET:
                self._starved = True
                break
            if item is None:
                self._dirty = True  # the total is known now
                break
            assert isinstance(item, DialogId | Rejected)
            self._accept(item)
        if self._filling and (
            len(self._filling) >= BATCH_LIMIT or self._reader.exhausted or self._starved
        ):
            chunk, self._filling = self._filling, []
            return chunk
        return None

    def _accept(self, item: DialogId | Rejected) -> None:
        if isinstance(item, Rejected):
            key: DialogKey = RejectedInput(value=item.value, position=item.position)
            self._remember(key)
            self._settle(key, self._invalid(item.value, item.error, f"ids[{item.position}]"))
            return
        self._remember(item)
        try:
            command = self._commands.make(f"d{next(self._names)}", item)
        except (TypeError, ValueError) as exc:
            self._settle(item, self._invalid(item, exc, f"{str(item)!r}"))
            return
        self._filling.append(_Item(key=item, command=command))

    def _remember(self, key: DialogKey) -> None:
        if self._order is not None:
            self._order.append(key)

    # ---------------------------------------------------------------- outcomes
    async def _settle_chunk(
        self, chunk: list[_Item], answer: dict[str, Outcome] | BitrixError
    ) -> None:
        if isinstance(answer, BitrixError):
            if isinstance(answer, _FATAL) and self._fatal is None:
                self._fatal = answer
                logger.warning("bulk %s stopped: %s", self._method.name, answer)
            for item in chunk:
                self._settle(item.key, answer)
            return
        for item in chunk:
            outcome = answer[item.command.name]
            if isinstance(outcome, RestResponse):
                try:
                    self._settle(item.key, self._method.decode(outcome.result))
                except ModelDecodeError as error:
                    self._settle(item.key, error)
            elif self._fatal is not None or not await self._requeue(item, outcome):
                self._settle(item.key, outcome)

    async def _requeue(self, item: _Item, error: BitrixError) -> bool:
        """Send a refused command again later, if the retry policy would repeat the call."""
        state = item.state or RetryState(method=item.command.method, idempotent=True)
        decision = await self._executor.retry_command(state, error)
        if decision is None:
            return False
        item.state = state
        ready = self._executor.clock() + decision.delay
        heapq.heappush(self._retries, (ready, next(self._names), item))
        return True

    def _settle(self, key: DialogKey, outcome: DialogOutcome) -> None:
        self.done += 1
        if isinstance(outcome, BitrixError):
            self.errors += 1
        self._dirty = True
        self._ready.append((key, outcome))

    def _invalid(self, value: object, exc: Exception, where: str) -> InvalidDialogIdError:
        error = InvalidDialogIdError(f"{where}: {exc}", value=value, method=self._method.name)
        error.__cause__ = exc
        return error

    def _not_executed(self, item: _Item) -> BatchNotExecutedError:
        cause = self._fatal
        reason = (cause.code or type(cause).__name__) if cause is not None else "unknown"
        return BatchNotExecutedError(
            f"not sent: an earlier batch request failed ({reason})",
            cause=cause,
            method=item.command.method,
        )

    def __repr__(self) -> str:
        return (
            f"DialogStream(method={self._method.name!r}, done={self.done}, "
            f"total={self.total}, errors={self.errors})"
        )
