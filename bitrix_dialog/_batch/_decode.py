"""One ``batch`` answer -> one typed outcome per command.

The portal answers a batch with HTTP 200 even when commands fail; the answer is a
container of five sections keyed by command name (EN ``batch.md``; CORE21
``rest_provider.php`` ``methodsBatch``)::

    {"result": {"result": {name: value}, "result_error": {name: {"error", "error_description"}},
                "result_total": {name: int}, "result_next": {name: int},
                "result_time": {name: time}},
     "time": {...}}

PHP's JSON encoder adds quirks decoded here: an empty section is ``[]``, not ``{}``; a
section whose keys happen to be ``0..n-1`` becomes a JSON *list* (normalised back to
the keys ``"0"``, ``"1"``, ...); an error may have an empty ``error`` code; a command
whose result is ``null`` is present with ``null``. Each command then gets exactly one
outcome, in the order sent:

- an entry in ``result_error`` -> its typed :class:`BitrixError` (``method`` = the
  command's method), even if a result is present too;
- an entry in ``result`` -> a :class:`RestResponse` with its own ``time``/``total``/``next``;
- nothing, after a failed command with ``halt`` on -> :class:`BatchNotExecutedError`;
- nothing otherwise -> :class:`BatchResultMissingError`: never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from .._call._request import Learn
from .._errors import (
    BatchNotExecutedError,
    BatchResultMissingError,
    BitrixError,
    OperationTimeLimitError,
    ResponseDecodeError,
    error_class,
)
from .._wire._envelope import RestResponse, error_code, error_from_payload, parse_time
from ._plan import Command

__all__ = ["Outcome", "decode_batch", "halted_error", "section"]

Outcome: TypeAlias = RestResponse | BitrixError
"""What one batch command came to: its answer, or its own error."""

_SECTIONS: Final = ("result", "result_error", "result_total", "result_next", "result_time")


def section(value: object) -> dict[str, Any]:
    """A section of the answer as ``{name: value}``, undoing PHP's JSON shapes.

    ``[]`` and ``null`` are empty; a list is the PHP array ``0..n-1`` it was encoded
    from. Anything else that is not an object is treated as empty, so the commands
    it should have held are reported missing rather than guessed at.
    """
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    if isinstance(value, list):
        return {str(position): item for position, item in enumerate(value)}
    return {}


def decode_batch(
    response: RestResponse, chunk: Sequence[Command], *, halt: bool, learn: Learn | None = None
) -> dict[str, Outcome]:
    """Map every command of ``chunk`` to its outcome in the decoded ``batch`` answer.

    ``learn`` (the operating tracker's, see :data:`Learn`) is told what each command's
    method used before any outcome is built, so that a command refused with
    ``OPERATION_TIME_LIMIT`` gets its ``resume_in`` when its error is made.
    """
    container = response.result
    if isinstance(container, list) and not container:
        container = {}  # PHP's empty array
    if not isinstance(container, Mapping):
        raw = _raw(container)
        return {
            command.name: ResponseDecodeError(
                "the batch answer's result is not an object of sections",
                status=response.status,
                method=command.method,
                body=raw,
            )
            for command in chunk
        }
    sections = {key: section(container.get(key)) for key in _SECTIONS}
    results, errors = sections["result"], sections["result_error"]
    times = {
        command.name: parse_time(sections["result_time"].get(command.name))
        for command in chunk
        if command.name in results and command.name not in errors
    }
    holds: Mapping[str, float | None] = {}
    if learn is not None:
        answered = [
            (command.method, times[command.name]) for command in chunk if command.name in times
        ]
        holds = learn(answered, _refused_methods(chunk, errors))
    outcomes: dict[str, Outcome] = {}
    halted_by: str | None = None
    for command in chunk:
        name = command.name
        if name in errors:
            outcomes[name] = _command_error(command, errors[name], holds)
            if halt and halted_by is None:
                halted_by = name
        elif name in results:
            outcomes[name] = RestResponse(
                method=command.method,
                result=results[name],
                time=times[name],
                next=_count(sections["result_next"].get(name)),
                total=_count(sections["result_total"].get(name)),
                status=response.status,
            )
        elif halted_by is not None:
            cause = outcomes[halted_by]
            outcomes[name] = halted_error(
                command,
                halted_by=halted_by,
                cause=cause if isinstance(cause, BitrixError) else None,
            )
        else:
            outcomes[name] = _missing(command, container, sections, chunk, response.status)
    return outcomes


def halted_error(
    command: Command, *, halted_by: str | None, cause: BitrixError | None = None
) -> BatchNotExecutedError:
    """The outcome of a command the batch never ran."""
    if halted_by is not None:
        text = f"not executed: halt=1 stopped the batch after command {halted_by!r} failed"
    else:
        reason = (cause.code or type(cause).__name__) if cause is not None else "unknown"
        text = f"not executed: an earlier batch request failed ({reason})"
    return BatchNotExecutedError(text, halted_by=halted_by, cause=cause, method=command.method)


def _refused_methods(chunk: Sequence[Command], errors: Mapping[str, Any]) -> list[str]:
    """The methods of the commands refused with ``OPERATION_TIME_LIMIT``."""
    refused = []
    for command in chunk:
        entry = errors.get(command.name)
        if isinstance(entry, Mapping) and issubclass(
            error_class(error_code(entry)[0]), OperationTimeLimitError
        ):
            refused.append(command.method)
    return refused


def _command_error(
    command: Command, entry: object, holds: Mapping[str, float | None]
) -> BitrixError:
    if isinstance(entry, Mapping):
        return error_from_payload(
            entry, status=None, method=command.method, body=_raw(entry), hold=holds.get
        )
    return ResponseDecodeError(
        f"the batch answer's error for command {command.name!r} is not an object",
        method=command.method,
        body=_raw(entry),
    )


def _missing(
    command: Command,
    container: Mapping[str, Any],
    sections: Mapping[str, Mapping[str, Any]],
    chunk: Sequence[Command],
    status: int,
) -> BatchResultMissingError:
    sent = {other.name for other in chunk}
    strangers = sorted({key for items in sections.values() for key in items} - sent)
    text = f"the batch answer has no outcome for command {command.name!r}"
    if strangers:
        text += f"; it has outcomes under names that were not sent: {', '.join(strangers[:10])}"
    return BatchResultMissingError(text, status=status, method=command.method, body=_raw(container))


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _raw(value: object) -> bytes:
    # The executor hands over the decoded answer; re-encoding the relevant part keeps
    # what the portal said about this command with the error.
    return json.dumps(value, ensure_ascii=False, default=repr).encode()
