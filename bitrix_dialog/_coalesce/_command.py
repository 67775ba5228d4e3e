"""One coalesced lookup (:class:`Command`), the callers waiting on it, and the request
(:class:`Pump`) that will carry it.

A command is what is sent: one method with its checked parameters. Every caller of an
identical lookup in flight is a :class:`Waiter` on the same command, with its own
future, deadline and (for a finite deadline) timer. A pump is one request through
``Executor.send_from``: commands are reserved to it while it waits for its turn, and
it carries them when its slot is granted, as the request :func:`request_for` builds.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Hashable, Mapping
from typing import Any, Final, TypeGuard

import attrs

from .._batch._decode import Outcome, decode_batch
from .._batch._plan import Command as BatchCommand
from .._batch._plan import encode_body
from .._call._request import Learn, Request, as_is
from .._call._retry import RetryState
from .._deadline import Deadline
from .._errors import BitrixError, MethodNotFoundError
from .._methods._spec import MethodSpec
from .._types import Clock
from .._wire._envelope import RestResponse
from .._wire._formencode import build_query

__all__ = [
    "Answer",
    "Command",
    "Pump",
    "SharedDeadline",
    "Waiter",
    "batch_refused",
    "request_for",
]


Answer = dict[str, Outcome] | RestResponse
"""A ``batch``'s outcomes by command name, or the answer of a request of one command."""

# Characters http_build_query leaves as they are: such keys and values need no quoting.
_PLAIN: Final = re.compile(r"[A-Za-z0-9_.~-]*")


def _query(params: Mapping[str, Any]) -> str:
    """``build_query(params)``, without its quoting pass for the usual plain lookups
    (``DIALOG_ID=chat5``, ``botId=456&dialogId=chat5``)."""
    pieces = []
    for key, value in params.items():
        text = value if type(value) is str else str(value) if type(value) is int else None
        if text is None or not _PLAIN.fullmatch(key) or not _PLAIN.fullmatch(text):
            return build_query(params)
        pieces.append(f"{key}={text}")
    return "&".join(pieces)


class Waiter:
    """One caller of a command: its future, its own deadline, and that deadline's timer."""

    __slots__ = ("at", "deadline", "future", "timer")

    def __init__(self, future: asyncio.Future[Any], deadline: Deadline, at: float) -> None:
        self.future = future
        self.deadline = deadline
        self.at = at
        """When the caller's deadline passes on the executor's clock (``inf``: never)."""
        self.timer: asyncio.Future[None] | None = None


class Command:
    """One lookup to send, shared by every caller of it (single-flight)."""

    __slots__ = (
        "_batch",
        "key",
        "method",
        "name",
        "outcome",
        "params",
        "pump",
        "spec",
        "state",
        "waiters",
    )

    def __init__(
        self,
        *,
        key: Hashable,
        name: str,
        method: str,
        params: Mapping[str, Any],
        spec: MethodSpec[..., Any] | None,
        batch: BatchCommand | None = None,
    ) -> None:
        self.key = key
        self.name = name
        """Its key in a ``batch`` (``q0``, ``q1``, ...): unique within the client."""
        self.method = method
        self.params = params
        self.spec = spec
        """The typed method whose ``decode`` the answer goes through (``None``: the
        caller wants the ``RestResponse``, as ``client.call`` returns it)."""
        self.waiters: list[Waiter] = []
        self.pump: Pump | None = None
        """The request it is reserved to or rides in (``None`` while a retry waits)."""
        self.state: RetryState | None = None
        """Its own retry budget, made when it first fails inside a ``batch``."""
        self._batch = None if batch is None else attrs.evolve(batch, name=name)
        self.outcome: tuple[object, BaseException | None] | None = None
        """Once answered: ``(value, error)``, for callers later in the same iteration."""

    @property
    def wanted(self) -> bool:
        """Whether any caller still waits (one cancelled a moment ago no longer does)."""
        waiters = self.waiters
        if len(waiters) == 1:
            return not waiters[0].future.done()
        return any(not waiter.future.done() for waiter in waiters)

    def batch_command(self) -> BatchCommand:
        """Its ``cmd[name]`` entry, encoded the first time it rides in a ``batch``.

        A typed method's parameters come from its spec's builder, already checked and
        of plain values, so they are encoded without :func:`make_command`'s checks
        (``client.call`` lookups arrive checked by it).
        """
        if self._batch is None:
            query = _query(self.params)
            self._batch = BatchCommand(
                name=self.name,
                method=self.method,
                params=self.params,
                cmd=f"{self.method}?{query}" if query else self.method,
            )
        return self._batch

    def joinable(self, at: float) -> bool:
        """Whether a new caller with deadline ``at`` may share this command.

        Before it is sent, always (its request's deadline is made from its callers'
        when it is built); once sent, only if that request's deadline does not end
        before the caller's own.
        """
        pump = self.pump
        if pump is None or pump.commands is None:
            return True
        return at <= pump.deadline.at


class SharedDeadline(Deadline):
    """The deadline of a request that serves several callers: the latest of theirs.

    None until the request is built: the wait for a slot is bounded by each caller's
    own timer instead, so one caller's short deadline never fails the others.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(None, clock)
        self.at = math.inf

    def cover(self, commands: list[Command]) -> None:
        """Stretch to the latest deadline of the callers of ``commands``."""
        if len(commands) == 1 and len(commands[0].waiters) == 1:
            latest = commands[0].waiters[0].at  # a lone call: its own deadline
        else:
            latest = max(waiter.at for command in commands for waiter in command.waiters)
        if math.isinf(latest):
            self.seconds, self._at, self.at = None, None, math.inf
            return
        longest = max(
            waiter.deadline.seconds or 0.0 for command in commands for waiter in command.waiters
        )
        self.seconds, self._at, self.at = longest, latest, latest


class Pump:
    """One request in the making: the commands reserved to it, then the ones it carries."""

    __slots__ = (
        "billed",
        "commands",
        "deadline",
        "driver",
        "eager",
        "first",
        "reserved",
        "sending",
        "task",
    )

    def __init__(self, *, first: str, billed: list[str], clock: Clock) -> None:
        self.first = first
        """The method of the command that started it: names errors raised before it is built."""
        self.billed = billed
        """The methods whose operating turns each attempt takes: ``batch`` and every
        method the client had coalesced by the time it started to wait for its turn."""
        self.sending = False
        """True once it waits for its turn: ``billed`` is fixed from then on, and a
        command of another method needs another request."""
        self.reserved: list[Command] = []
        self.commands: list[Command] | None = None
        """What the request carries, once its slot was granted (``None`` before)."""
        self.deadline = SharedDeadline(clock)
        self.task: asyncio.Future[None] | None = None
        """The task sending it, when no caller does (``None``: a caller leads it)."""
        self.driver: object = None
        """Who sends it: the leading caller's waiter, or the token of the task sending it."""
        self.eager = False
        """Sent as soon as it was full, before the loop iteration that filled it ended."""

    def full(self, limit: int) -> bool:
        """Whether it has ``limit`` commands and has not started to send."""
        return not self.sending and self.commands is None and len(self.reserved) >= limit

    def carried(self) -> list[Command]:
        """The commands it carries, or the ones reserved to it if it was never built."""
        return self.reserved if self.commands is None else self.commands


def _chunk(chunk: list[BatchCommand]) -> Any:
    def decode(response: RestResponse, learn: Learn) -> Answer:
        return decode_batch(response, chunk, halt=False, learn=learn)

    return decode


def request_for(live: list[Command]) -> Request[Answer]:
    """The request carrying ``live`` (the commands still wanted): one command goes as the
    plain call its caller alone would send, several as one ``batch``."""
    if len(live) == 1:
        only = live[0]
        return Request(
            method=only.method, params=only.params, decode=as_is, callers=len(only.waiters)
        )
    callers = sum(map(len, (command.waiters for command in live)))
    chunk = [command.batch_command() for command in live]
    return Request(
        method="batch",
        params=encode_body(chunk, halt=False),
        decode=_chunk(chunk),
        callers=callers,
    )


def batch_refused(error: Exception, carried: list[Command] | None) -> TypeGuard[BitrixError]:
    """Whether ``error`` says the portal serves no ``batch`` at all, for a request that
    carried several commands: ``ERROR_METHOD_NOT_FOUND`` for ``batch``, or an HTTP 404
    for it (a gateway letting only some methods through answers with its own page).

    Every Bitrix24 portal has ``batch``; a proxy in front of one, or another party's
    fake portal, may not. The commands then go as the plain calls their callers would
    have sent, each to its own outcome (what each would have got alone)."""
    if carried is None or len(carried) < 2 or not isinstance(error, BitrixError):
        return False
    if error.method is None or error.method.lower() != "batch":
        return False
    return isinstance(error, MethodNotFoundError) or error.status == 404
