"""The lookups in flight, one command per key, and handing each its outcome: :class:`InFlight`.

Single-flight: a lookup identical to one in flight joins its :class:`~._command.Command`
instead of sending another (the coalescer decides whether it may, by deadline). Once the
command's outcome is known, every caller waiting on it gets the same value (models are
frozen, so sharing one instance is safe) or the same error, and the key is free again:
the next identical lookup asks the portal anew.

One exception keeps a burst together. A command sent mid-iteration by the caller who
filled its request may be answered before that loop iteration's later calls are made
(a fake portal answers at once); its outcome is kept until the iteration ends, so those
calls share it as they would have had the answer come a moment later.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from .._errors import BitrixError, ModelDecodeError, TransportError
from .._wire._envelope import RestResponse
from ._command import Command

__all__ = ["InFlight", "lookup_key", "own_copy"]


def lookup_key(method: str, params: Mapping[str, Any]) -> Hashable:
    """The single-flight key of a lookup: identical keys share one command in flight.

    A one-parameter lookup (the usual one) is one flat tuple; a builder that made an
    unhashable value gets a key of its own (no sharing, still coalesced)."""
    key: Hashable
    try:
        if len(params) == 1:
            for name, value in params.items():
                key = (method, name, value)
        else:
            key = (method, tuple(sorted(params.items())))
        hash(key)
    except TypeError:
        key = object()
    return key


class InFlight:
    """The commands in flight by lookup key; ``callers``: how many callers were answered."""

    __slots__ = ("_answered", "_commands", "callers", "get")

    def __init__(self) -> None:
        self._commands: dict[Hashable, Command] = {}
        self._answered: list[Command] = []
        self.callers = 0
        self.get: Callable[[Hashable], Command | None] = self._commands.get
        """The command in flight for a key, if any (the dict's own ``get``: asked by
        every caller, so no Python frame of its own)."""

    def add(self, command: Command) -> None:
        """``command`` is now the one in flight for its key."""
        self._commands[command.key] = command

    def drop(self, command: Command) -> None:
        """``command`` no longer stands for its key (a newer one may already)."""
        if self._commands.get(command.key) is command:
            del self._commands[command.key]

    def commands(self) -> list[Command]:
        """Every command in flight now."""
        return list(self._commands.values())

    def settle(self, command: Command, response: RestResponse) -> None:
        """A command's answer, decoded once for all of its callers."""
        if not command.waiters:
            return
        if command.spec is None:
            self.deliver(command, value=response)
            return
        try:
            value = command.spec.decode(response.result, response.body or None)
        except ModelDecodeError as error:
            self.deliver(command, error=error)
            return
        self.deliver(command, value=value)

    def deliver(
        self, command: Command, *, value: object = None, error: BaseException | None = None
    ) -> None:
        """Hand ``command``'s outcome to each of its callers still waiting."""
        waiters, command.waiters = command.waiters, []
        if self._commands.get(command.key) is not command:
            pass
        elif command.pump is not None and command.pump.eager:
            command.outcome = (value, error)  # kept for the rest of the iteration
            if not self._answered:
                asyncio.get_running_loop().call_soon(self._forget)
            self._answered.append(command)
        else:
            del self._commands[command.key]
        # Answered: its request no longer needs it. Cutting this link leaves no cycle
        # (pump -> command -> pump), so the command, its callers' futures and the
        # decoded answer are freed as soon as the callers are done with them, not by
        # the cyclic collector: a lone call allocates no garbage for it to find.
        command.pump = None
        first = True
        for waiter in waiters:
            if waiter.future.done():
                continue
            self.callers += 1
            if error is not None:
                waiter.future.set_exception(error if first else own_copy(error))
                first = False
            else:
                waiter.future.set_result(value)

    def abandon(self, command: Command) -> None:
        """The client closed, or the request's task was cancelled, before the answer:
        each caller still waiting gets a ``TransportError`` saying so."""
        text = "the client was closed before the answer came"
        self.deliver(command, error=TransportError(text, method=command.method))

    def release_late(self, command: Command, delay: float, error: BitrixError) -> bool:
        """Before ``command`` is retried after ``delay`` seconds, fail each caller whose
        deadline ends sooner (``DeadlineExceededError`` caused by ``error``); True if
        anyone is left to wait for the retry, else the command is dropped."""
        for waiter in list(command.waiters):
            if not waiter.deadline.fits(delay):
                command.waiters.remove(waiter)
                waiter.future.set_exception(
                    waiter.deadline.exceeded(command.method, f"a retry after {delay:.2f} s", error)
                )
                self.callers += 1
        if command.waiters:
            return True
        self.drop(command)
        return False

    def _forget(self) -> None:
        """Drop the answered commands kept for the rest of their loop iteration."""
        for command in self._answered:
            self.drop(command)
        self._answered.clear()


def own_copy(error: BaseException) -> BaseException:
    """``error`` again as a new exception of the same class and fields, cause and
    traceback, for another caller it is raised at.

    One object raised in many tasks would gather every task's frames in one traceback
    (and each caller's ``add_note`` would show at all of them); a frozen ``Dialog`` is
    safe to share, an exception is not. ``BitrixError`` copies through its
    ``__reduce__``; anything else is shared as it is.
    """
    if not isinstance(error, BitrixError):
        return error
    twin = copy.copy(error)
    twin.__cause__ = error.__cause__
    twin.__context__ = error.__context__
    twin.__suppress_context__ = error.__suppress_context__
    return twin.with_traceback(error.__traceback__)
