"""Concurrent single lookups merged into ``batch`` requests: :class:`Coalescer`.

The DataLoader pattern (syrusakbary/aiodataloader), with the executor's slot-grant seam
(``Executor.send_from``) doing the dispatch::

    await client.im.dialog.get("chat5")         # typed read -> Coalescer.get(spec, params)
      -> identical lookup in flight (_inflight)? join its command, else a new Command
      -> reserve it to the open Pump (a request still waiting for its turn), or start
         one: a task, whose first step runs on the next loop iteration (call_soon), so
         every call made in this iteration is reserved to it too
      -> the pump waits for its operating turns and a limiter slot; calls made
         meanwhile keep joining it, up to max_batch (then the next pump opens)
      -> slot granted: the pump's source builds the request (``request_for``) from the
         commands still wanted: one as a plain call, several as one ``batch`` (``_batch``)
      -> each command's outcome to each of its callers, decoded once (``InFlight``)

Under no load the first step finds a slot free at once: a lone call goes out as the
plain call it would have been, with no timer, and at once when nothing else in the
loop is ready to run (no other call can join it then), else one loop iteration later.
Under load the pumps queue in the limiter and each fills while it waits, so batch size
follows the load: 100 lookups a second on a portal draining 2 requests a second ride
in ~2 requests a second. Every caller keeps what it would have had alone (its outcome,
retries, deadline, cancellation and credentials): see the package's docs.

Writes are never coalesced: only the typed reads and ``client.call(..., coalesce=True)``
of a known read come here, with their arguments already checked at the call site.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Coroutine, Hashable, Mapping
from typing import Any, Final, TypeVar

from .._batch._plan import Command as BatchCommand
from .._call._executor import Executor
from .._call._request import Request
from .._call._retry import RetryState
from .._errors import BitrixError
from .._methods._spec import MethodSpec, Params
from .._wire._envelope import RestResponse
from ._command import Answer, Command, Pump, Waiter, batch_refused, request_for
from ._inflight import InFlight, lookup_key, own_copy
from ._iteration import alone_in_iteration
from ._options import ClientStats, Coalesce

__all__ = ["Coalescer"]

logger: Final = logging.getLogger("bitrix_dialog")

R = TypeVar("R")


class Coalescer:
    """Merges one client's concurrent reads into shared requests; see the module docs.

    The entry points a read path calls (the dialog cache sits in front of them):
    ``await coalescer.get(spec, params, deadline=None)`` -> ``spec.decode`` of the
    answer, and ``await coalescer.call(method, params, command, deadline=None)`` ->
    the ``RestResponse``.
    """

    def __init__(self, executor: Executor, options: Coalesce) -> None:
        self._executor = executor
        self._window = options.window
        self._max = options.max_batch
        self._inflight = InFlight()
        self._open: Pump | None = None
        self._pumps: set[Pump] = set()
        self._timers: set[asyncio.Future[None]] = set()
        self._methods: dict[str, None] = {"batch": None}
        self._names = itertools.count()
        self._forever = executor.start_deadline(math.inf)
        self._timed = executor.default_deadline is not None
        self._commands = 0
        self._batched = 0
        self._shared = 0
        self._closed = False

    # ------------------------------------------------------------ interface
    def get(
        self, spec: MethodSpec[..., R], params: Params, *, deadline: float | None = None
    ) -> Coroutine[Any, Any, R]:
        """``spec``'s decoded answer for ``params`` (already checked by ``spec.build``)."""
        return self._submit(lookup_key(spec.name, params), spec.name, params, spec, None, deadline)

    def call(
        self,
        method: str,
        params: Mapping[str, Any],
        command: BatchCommand,
        *,
        deadline: float | None = None,
    ) -> Coroutine[Any, Any, RestResponse]:
        """The answer of a known read ``method`` (``command``: its checked batch form)."""
        return self._submit(("call", command.cmd), method, params, None, command, deadline)

    def stats(self) -> ClientStats:
        """What this client has sent and served so far."""
        return ClientStats(
            requests=self._executor.requests_sent,
            callers=self._inflight.callers,
            commands=self._commands,
            batched=self._batched,
            shared=self._shared,
        )

    async def aclose(self) -> None:
        """Stop every request still waiting or in flight; their callers get a
        ``TransportError`` (the client closed before their answer came); a lookup
        awaited from now on raises ``RuntimeError``."""
        self._closed = True
        pending: list[asyncio.Future[Any]] = [*self._timers]
        pending += [pump.task for pump in self._pumps if pump.task is not None]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for command in self._inflight.commands():
            self._inflight.abandon(command)

    # --------------------------------------------------------------- callers
    async def _submit(  # noqa: PLR0917 - one caller's whole lookup
        self,
        key: Hashable,
        method: str,
        params: Mapping[str, Any],
        spec: MethodSpec[..., Any] | None,
        batch: BatchCommand | None,
        seconds: float | None,
    ) -> Any:
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        if seconds is None and not self._timed:
            deadline, remaining, at = self._forever, None, math.inf
        else:
            executor = self._executor
            deadline = executor.start_deadline(seconds)
            remaining = deadline.remaining()
            at = math.inf if remaining is None else executor.clock() + remaining
        command = self._inflight.get(key)
        fresh: Pump | None = None
        if command is not None and command.outcome is not None:
            self._shared += 1  # answered in this loop iteration: the same answer
            self._inflight.callers += 1
            value, error = command.outcome
            if error is not None:
                raise own_copy(error)
            return value
        if command is not None and command.joinable(at):
            self._shared += 1
        else:
            command = Command(
                key=key,
                name=f"q{next(self._names)}",
                method=method,
                params=params,
                spec=spec,
                batch=batch,
            )
            self._inflight.add(command)
            fresh = self._enqueue(command)
        waiter = Waiter(asyncio.get_running_loop().create_future(), deadline, at)
        command.waiters.append(waiter)
        full = None
        if remaining is not None:
            self._start(fresh)  # a caller with a deadline never leads: its timer may fire
            fresh = None
            waiter.timer = asyncio.ensure_future(self._expire(command, waiter, remaining))
        elif fresh is None and command.pump is not None and command.pump.full(self._max):
            full = command.pump  # nothing more can join it: no reason to wait
        try:
            if fresh is not None:
                await self._lead(fresh, waiter, now=False)
            elif full is not None:
                await self._lead(full, waiter, now=True)
            return await waiter.future
        finally:
            if waiter.timer is not None:
                waiter.timer.cancel()
                waiter.timer = None  # the timer's frame holds the waiter: no cycle
            if waiter in command.waiters:  # cancelled: the caller left
                self._leave(command, waiter)

    async def _expire(self, command: Command, waiter: Waiter, remaining: float) -> None:
        await self._executor.sleep(remaining)
        if waiter.future.done() or waiter not in command.waiters:
            return
        pump = command.pump
        doing = "the answer" if pump is not None and pump.commands is not None else "its turn"
        cause = command.state.last if command.state is not None else None
        self._leave(command, waiter)
        self._inflight.callers += 1
        waiter.future.set_exception(waiter.deadline.exceeded(command.method, doing, cause))

    def _leave(self, command: Command, waiter: Waiter) -> None:
        """``waiter`` no longer waits; a command or request nobody waits for is dropped."""
        command.waiters.remove(waiter)
        if command.waiters:
            return
        self._inflight.drop(command)
        pump = command.pump
        if pump is None:
            return  # between attempts: its retry finds nobody waiting
        if pump.commands is None:
            pump.reserved.remove(command)
            if not pump.reserved:
                if self._open is pump:
                    self._open = None
                if pump.task is not None:
                    pump.task.cancel()
        elif pump.task is not None and not any(other.wanted for other in pump.commands):
            pump.task.cancel()

    # ---------------------------------------------------------------- pumps
    def _enqueue(self, command: Command) -> Pump | None:
        """Reserve ``command`` to the request still waiting for its turn, or to a new
        one, returned to be led or started (``None``: it joined one under way)."""
        if command.method not in self._methods:
            self._methods[command.method] = None
        pump = self._open
        if pump is not None and command.method not in pump.billed:
            if pump.sending:
                pump = None
            else:
                pump.billed.append(command.method)  # its turns are not taken yet
        fresh = None
        if pump is None or len(pump.reserved) >= self._max:
            billed = list(self._methods)
            pump = fresh = Pump(first=command.method, billed=billed, clock=self._executor.clock)
            self._open = pump
        pump.reserved.append(command)
        command.pump = pump
        return fresh

    def _start(self, pump: Pump | None) -> None:
        """Run ``pump`` in a task of its own (no caller leads it)."""
        if pump is not None:
            self._pumps.add(pump)
            # Each task its own token: one whose pump was taken over by a caller, then
            # handed to a newer task, must see that it is no longer the one to send it.
            # (A plain object rather than the task or the pump: no reference cycle.)
            pump.driver = token = object()
            pump.task = asyncio.get_running_loop().create_task(self._pump_task(pump, token))

    async def _lead(self, pump: Pump, waiter: Waiter, *, now: bool) -> None:
        """A caller sends ``pump`` from its own task: no task, no wake-up, so a lone
        call costs about what a plain call costs.

        The caller that started it leads after one loop iteration (or the window),
        so that the calls made meanwhile join (without waiting when no other callback
        is ready to run: nobody could join); the caller that fills it leads at once
        (``now``), taking over, so a burst's first requests go out while the burst is
        still being made. If the leader is cancelled, the others' commands are handed
        over, never dropped.
        """
        pump.driver = waiter
        pump.eager = now
        pump.task = None  # a task waiting to send it finds it taken and stops
        try:
            if not now:
                if self._window:
                    await self._executor.sleep(self._window)
                elif not alone_in_iteration():
                    await asyncio.sleep(0)  # the calls made in this loop iteration join it
                if pump.driver is not waiter:
                    return  # taken over by the caller who filled it
            await self._drive(pump)
        except asyncio.CancelledError:
            if pump.driver is waiter:
                waiter.future.cancel()  # the leader itself no longer waits
                self._hand_over(pump)
            raise
        if self._open is pump:
            self._open = None

    def _hand_over(self, pump: Pump) -> None:
        if pump.commands is None:  # never built: a task carries on with it
            if any(command.wanted for command in pump.reserved):
                self._start(pump)
            elif self._open is pump:
                self._open = None
            return
        for command in pump.commands:  # its request was abandoned: send them again
            if command.pump is pump and command.wanted:
                command.pump = None
                self._start(self._enqueue(command))

    def _unbatch(self, pump: Pump, error: BitrixError) -> None:
        """No ``batch`` here (``batch_refused``): ``pump``'s commands, and all later, alone."""
        if self._max > 1:
            logger.warning("the portal refused batch (%s): lookups go as plain calls", error)
        self._max = 1
        self._hand_over(pump)

    async def _pump_task(self, pump: Pump, token: object) -> None:
        try:
            if self._window:
                await self._executor.sleep(self._window)
            if pump.driver is not token:
                return  # taken over by the caller who filled it (and maybe handed on)
            await self._drive(pump)
        except asyncio.CancelledError:
            if pump.driver is token:
                for command in pump.carried():
                    if command.pump is pump and command.wanted:
                        self._inflight.abandon(command)
            raise
        finally:
            if pump.task is None or pump.task is asyncio.current_task():
                self._pumps.discard(pump)  # not handed on to a newer task
                if self._open is pump:
                    self._open = None

    def _build(self, pump: Pump) -> Request[Answer] | None:
        """The request of one attempt, built once its slot is granted (the source)."""
        carried = pump.commands
        if carried is None:
            if self._open is pump:
                self._open = None  # later calls start the next request
            carried = pump.reserved
        if len(carried) == 1:  # the usual lone call: no list to filter
            live = carried if carried[0].wanted else []
        else:
            live = [command for command in carried if command.wanted]
        pump.commands = live
        if not live:
            return None
        pump.deadline.cover(live)
        self._commands += len(live)
        if len(live) > 1:
            self._batched += 1
        return request_for(live)

    async def _drive(self, pump: Pump) -> None:
        """Send ``pump``'s request once its turn comes, and settle every command in it."""
        pump.sending = True
        try:
            answer = await self._executor.send_from(
                lambda: self._build(pump),
                method=pump.first,
                deadline=pump.deadline,
                idempotent=True,
                billed=pump.billed,
            )
        except Exception as error:  # every caller gets it, as alone
            if batch_refused(error, pump.commands):
                self._unbatch(pump, error)
                return
            for command in pump.carried():
                self._inflight.deliver(command, error=error)
            return
        if answer is None or pump.commands is None:
            return  # nobody was waiting any more
        if isinstance(answer, RestResponse):  # the request carried one command
            self._inflight.settle(pump.commands[0], answer)
            return
        for command in pump.commands:
            outcome = answer[command.name]
            if isinstance(outcome, BitrixError):
                if command.waiters and not await self._retry(command, outcome):
                    self._inflight.deliver(command, error=outcome)
            else:
                self._inflight.settle(command, outcome)

    # -------------------------------------------------------------- outcomes
    async def _retry(self, command: Command, error: BitrixError) -> bool:
        """Send a command refused inside a ``batch`` again later, as the policy allows."""
        state = command.state or RetryState(method=command.method, idempotent=True)
        decision = await self._executor.retry_command(state, error)
        if decision is None:
            return False
        command.state = state
        command.pump = None
        if not self._inflight.release_late(command, decision.delay, error):
            return True  # nobody can wait that long: each has its DeadlineExceededError
        if decision.delay > 0:
            timer = asyncio.ensure_future(self._requeue(command, decision.delay))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        else:
            self._start(self._enqueue(command))
        return True

    async def _requeue(self, command: Command, delay: float) -> None:
        await self._executor.sleep(delay)
        if command.waiters:
            self._start(self._enqueue(command))
