"""``client.batch(...)``: many REST calls in few ``batch`` requests, one outcome each.

    result = await client.batch({
        "support": ("im.dialog.get", {"DIALOG_ID": "chat29"}),
        "boss": ("im.dialog.get", {"DIALOG_ID": "1"}),
    })
    result["support"]            # RestResponse, or the command's own BitrixError
    result.raise_first()         # raise the first failure, in input order

The flow reads top to bottom: :func:`plan_batch` checks, names and splits the calls
(``_plan``); each chunk goes through the :class:`Executor` as one ``batch`` request
(operating turns, rate limiting, auth, retries and envelope decoding live there, under
the call's one deadline); :func:`decode_batch` gives every command its own outcome
(``_decode``).

Requests are sent one after another, in input order: commands run in the order given,
as a single batch would run them, and with ``halt=True`` nothing after a failure is
sent. When a whole ``batch`` request fails (the :class:`Executor` raised: rate limit
after its retries, refused credentials, no answer), that error becomes the outcome of
each of its commands, and the later requests are not sent (their commands report
:class:`BatchNotExecutedError`): the portal is not usable right now, and every outcome
already received is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from .._call._executor import Executor
from .._call._request import Learn, Request
from .._deadline import Deadline
from .._errors import BitrixError
from .._wire._envelope import RestResponse
from ._decode import Outcome, decode_batch, halted_error
from ._outcomes import Outcomes
from ._plan import BATCH_LIMIT, Command, encode_body

__all__ = ["BatchResult", "run_batch", "send_batch"]


@attrs.frozen(kw_only=True, eq=False)
class BatchResult(Outcomes[str, Outcome]):
    """Every command's outcome by name, in input order: a ``RestResponse`` or a ``BitrixError``.

    Positional calls are named ``c0``, ``c1``, ...; ``list(result.values())`` lines up
    with the input. Failed commands never hide the others: check :attr:`ok`, walk
    :attr:`errors`, or call :meth:`raise_first`.
    """

    _outcomes: Mapping[str, Outcome]

    @property
    def successes(self) -> Mapping[str, RestResponse]:
        """The commands that succeeded, by name, in input order."""
        return {k: v for k, v in self._outcomes.items() if isinstance(v, RestResponse)}

    def __repr__(self) -> str:
        return f"BatchResult({len(self)} commands, {len(self.errors)} failed)"


async def send_batch(
    executor: Executor, chunk: Sequence[Command], *, halt: bool, deadline: Deadline
) -> dict[str, Outcome]:
    """Send one ``batch`` request for ``chunk`` (1-50 commands) and decode every outcome.

    Raises the :class:`BitrixError` of the request itself (nothing ran, or for a lost
    answer: unknown); per-command failures are returned, not raised. This is the
    building block for bulk helpers that keep several requests in flight.

    The request runs through the executor's attempt loop like any call, within
    ``deadline`` (made once by the caller, for the chunk or for the whole
    ``client.batch``). Operating budgets are per method, not per ``batch``: the
    portal bills each command to its own method, so each attempt takes the turn of
    every command's method, and each command's ``time`` feeds its method's budget
    (see :mod:`.._pacing._operating`); a command refused with ``OPERATION_TIME_LIMIT``
    holds its method on this client (its error's ``resume_in`` says for how long).
    """
    if not 0 < len(chunk) <= BATCH_LIMIT:
        msg = f"a batch request carries 1 to {BATCH_LIMIT} commands, got {len(chunk)}"
        raise ValueError(msg)
    if len({command.name for command in chunk}) != len(chunk):
        msg = "batch command names must be unique within a request"
        raise ValueError(msg)

    def decode(response: RestResponse, learn: Learn) -> dict[str, Outcome]:
        return decode_batch(response, chunk, halt=halt, learn=learn)

    request = Request(method="batch", params=encode_body(chunk, halt=halt), decode=decode)
    billed = ["batch", *(command.method for command in chunk)]
    return await executor.send(request, deadline=deadline, billed=billed)


async def run_batch(
    executor: Executor,
    chunks: Sequence[Sequence[Command]],
    *,
    halt: bool,
    deadline: float | None = None,
) -> BatchResult:
    """Send the planned chunks in order and collect one outcome per command.

    ``deadline`` (seconds; ``None``: the client's default) bounds the whole call: its
    requests are sent one after another and all spend the one :class:`Deadline`.
    """
    budget = executor.start_deadline(deadline)
    outcomes: dict[str, Outcome] = {}
    halted_by: str | None = None
    cause: BitrixError | None = None
    for chunk in chunks:
        if halted_by is not None or cause is not None:
            for command in chunk:
                outcomes[command.name] = halted_error(command, halted_by=halted_by, cause=cause)
            continue
        try:
            decoded = await send_batch(executor, chunk, halt=halt, deadline=budget)
        except BitrixError as error:
            for command in chunk:
                outcomes[command.name] = error
            cause = error
            continue
        outcomes.update(decoded)
        if halt:
            for name, outcome in decoded.items():
                if isinstance(outcome, BitrixError):
                    halted_by, cause = name, outcome
                    break
    return BatchResult(outcomes=outcomes)
