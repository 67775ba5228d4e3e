"""Bulk dialog lookups: many ids, 50 per ``batch`` request, streamed as answers arrive.

:class:`DialogStream` is what ``client.dialogs.get_many(ids)`` returns. It reads on
from top to bottom of :meth:`DialogStream._run`::

    input ids (any iterable or async iterable, read lazily, never copied)
      -> DialogId.parse; dedupe by the canonical id; an input that is not an id the
         method takes is settled at once as its own InvalidDialogIdError
      -> one command per distinct id (named d0, d1, ...: never numeric), 50 per chunk,
         re-queued ids first
      -> up to ``max_in_flight`` chunks at once through send_batch (each waits there
         for its limiter slot and its method's operating turn, and is retried there)
      -> each command's answer decoded to a Dialog; a per-command rate-limit or
         transient error is re-queued as the client's RetryPolicy allows (bounded)
      -> (key, outcome) yielded as soon as its chunk's answer is in.

Memory is bounded by the chunks in flight, not by the number of ids: input is read
only when a slot in the pipeline frees and the consumer has taken what was ready.
The one thing kept per id is a small int in the dedupe set.

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
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, Self

import attrs

from ._batch import send_batch
from ._batch_decode import Outcome
from ._batch_plan import BATCH_LIMIT, Command, make_command
from ._bulk_types import DialogKey, DialogOutcome, InvalidDialogId, ProgressCallback
from ._dialog_id import DialogId
from ._dialog_methods import DialogMethod
from ._envelope import RestResponse
from ._errors import (
    AccessError,
    AuthError,
    BadRequestError,
    BatchNotExecutedError,
    BitrixError,
    InvalidDialogIdError,
    ModelDecodeError,
    PortalUnavailableError,
)
from ._executor import Executor
from ._hooks import RetryEvent
from ._retry import RetryState

__all__ = ["DialogStream"]

logger: Final = logging.getLogger("bitrix_dialog")

_FATAL: Final = (AuthError, AccessError, PortalUnavailableError, BadRequestError)
"""Request-level errors that will meet every later request too: stop sending."""
_KIND_BITS: Final = {"user": 0, "chat": 1, "sg": 2, "crm": 3}
_END: Final = object()


@attrs.define(slots=True)
class _Item:
    """One distinct id on its way: its command and, once it has failed, its retry state."""

    key: DialogId
    command: Command
    state: RetryState | None = None


class _Source:
    """Reads the caller's ids one at a time, from an iterable or an async iterable."""

    def __init__(self, ids: Iterable[object] | AsyncIterable[object]) -> None:
        self._sync = iter(ids) if isinstance(ids, Iterable) else None
        self._async = ids.__aiter__() if isinstance(ids, AsyncIterable) else None
        self.position = 0
        self.exhausted = False

    async def next(self) -> object:
        """The next input, or ``_END``."""
        if self.exhausted:
            return _END
        value: object = _END
        if self._sync is not None:
            value = next(self._sync, _END)
        elif self._async is not None:
            try:
                value = await anext(self._async)
            except StopAsyncIteration:
                value = _END
        if value is _END:
            self.exhausted = True
        else:
            self.position += 1
        return value


async def _send(executor: Executor, commands: list[Command]) -> dict[str, Outcome] | BitrixError:
    """One chunk's request; its own failure is returned as the chunk's answer.

    A plain function, not a method: a task in flight must not keep the stream alive,
    so that an abandoned stream can be collected and close itself.
    """
    try:
        return await send_batch(executor, commands, halt=False)
    except BitrixError as error:
        return error


def _seen_key(dialog_id: DialogId) -> int:
    # One small int per id: far lighter than keeping the DialogId objects.
    return dialog_id.number << 2 | _KIND_BITS[dialog_id.kind]


def count_distinct(ids: Iterable[object]) -> int:
    """How many outcomes a sized input will give: distinct ids plus invalid inputs."""
    seen: set[int] = set()
    invalid = 0
    for value in ids:
        try:
            seen.add(_seen_key(DialogId.parse(value)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            invalid += 1
    return len(seen) + invalid


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
        method: DialogMethod,
        params: Mapping[str, Any],
        ids: Iterable[object] | AsyncIterable[object],
        total: int | None,
        progress: ProgressCallback | None,
        max_in_flight: int,
    ) -> None:
        self._executor = executor
        self._method = method
        self._bot_params = params
        self._source = _Source(ids)
        self._progress = progress
        self._width = max_in_flight
        self._seen: set[int] = set()
        self._distinct = 0
        # Settled outcomes wait here for the consumer: at most the chunks in flight,
        # plus one chunk's worth of invalid inputs before reading pauses.
        self._ready_limit = BATCH_LIMIT * (max_in_flight + 1)
        self._names = itertools.count()
        self._filling: list[_Item] = []
        self._retries: list[tuple[float, int, _Item]] = []  # heap by ready time
        self._ready: deque[tuple[DialogKey, DialogOutcome]] = deque()
        self._fatal: BitrixError | None = None
        self._order: list[DialogKey] | None = None
        self._dirty = False
        self.done = 0
        """Outcomes settled so far."""
        self.errors = 0
        """How many of them are errors."""
        self.total = total
        """Distinct ids (and invalid inputs) in all; ``None`` until an unsized input ends."""
        self._generator = self._run()

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
        timer: asyncio.Future[None] | None = None
        try:
            while True:
                while len(tasks) < self._width:
                    chunk = await self._next_chunk()
                    if chunk is None:
                        break
                    if self._fatal is not None:
                        for item in chunk:
                            self._settle(item.key, self._not_executed(item))
                        continue
                    send = _send(self._executor, [item.command for item in chunk])
                    tasks[asyncio.ensure_future(send)] = chunk
                if self._dirty and self._progress is not None:
                    self._dirty = False
                    self._progress(self.done, self.total, self.errors)
                while self._ready:
                    yield self._ready.popleft()
                if len(tasks) < self._width and not self._source.exhausted:
                    continue  # reading paused to hand over outcomes; read on
                if not tasks and not self._retries and not self._filling:
                    return
                waiting: set[asyncio.Future[Any]] = set(tasks)
                if self._retries and len(tasks) < self._width:
                    delay = max(self._retries[0][0] - self._executor.clock(), 0.0)
                    timer = asyncio.ensure_future(self._executor.sleep(delay))
                    waiting.add(timer)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if timer is not None:
                    timer.cancel()
                    timer = None
                for task in done:
                    if task in tasks:
                        await self._settle_chunk(tasks.pop(task), task.result())
        finally:
            pending: list[asyncio.Future[Any]] = [*tasks]
            if timer is not None:
                pending.append(timer)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    # ------------------------------------------------------------------- input
    async def _next_chunk(self) -> list[_Item] | None:
        """The next chunk to send: re-queued ids that are due, then new ids.

        ``None`` when no full chunk can be made yet (the input is slow to give ids,
        or invalid inputs wait to be handed over first), or when nothing is left.
        """
        now = self._executor.clock()
        while self._retries and len(self._filling) < BATCH_LIMIT and self._retries[0][0] <= now:
            self._filling.append(heapq.heappop(self._retries)[2])
        while len(self._filling) < BATCH_LIMIT and len(self._ready) < self._ready_limit:
            value = await self._source.next()
            if value is _END:
                self._input_ended()
                break
            self._accept(value, self._source.position - 1)
        if self._filling and (len(self._filling) >= BATCH_LIMIT or self._source.exhausted):
            chunk, self._filling = self._filling, []
            return chunk
        return None

    def _accept(self, value: object, position: int) -> None:
        try:
            key = DialogId.parse(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            invalid = InvalidDialogId(value=value, position=position)
            self._distinct += 1
            self._remember(invalid)
            self._settle(invalid, self._invalid(value, exc, f"ids[{position}]"))
            return
        seen = _seen_key(key)
        if seen in self._seen:
            return
        self._seen.add(seen)
        self._distinct += 1
        self._remember(key)
        try:
            params = self._method.params(key, **self._bot_params)
        except (TypeError, ValueError) as exc:
            self._settle(key, self._invalid(value, exc, f"ids[{position}] ({value!r})"))
            return
        command = make_command(f"d{next(self._names)}", self._method.name, params)
        self._filling.append(_Item(key=key, command=command))

    def _remember(self, key: DialogKey) -> None:
        if self._order is not None:
            self._order.append(key)

    def _input_ended(self) -> None:
        if self.total is None:
            self.total = self._distinct
            self._dirty = True

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
        executor = self._executor
        state = item.state or RetryState(method=item.command.method, idempotent=True)
        decision = executor.retry.decide(state, error)
        if decision is None:
            return False
        await executor.hooks.retry(
            RetryEvent(
                method=state.method,
                attempt=state.attempt,
                reason=error.code or type(error).__name__,
                delay=decision.delay,
                error=error,
            )
        )
        state.retries[decision.handler] = state.retries.get(decision.handler, 0) + 1
        state.attempt += 1
        item.state = state
        ready = executor.clock() + decision.delay
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
