"""From ``client.batch(...)`` input to ``batch`` request bodies: check, name, encode, split.

A Bitrix24 ``batch`` request carries up to 50 commands as ``cmd[name] = "method?query"``,
the query in PHP ``http_build_query`` form, because the portal splits each string with
``parse_url`` and reads the query with ``parse_str`` (EN ``settings/how-to-call-rest-api/
batch.md``; CORE21 ``rest_provider.php`` ``methodsBatch``). Everything that can go wrong
with that is caught here, before any request is sent:

- **Names** must survive as PHP array keys and inside ``$result[name]`` references, so they
  are word-like and never purely numeric: numeric keys make PHP answer with JSON *lists*
  instead of objects, losing the names. Positional calls are named ``c0``, ``c1``, ...
- **Parameters** must read back the same after ``parse_str``: keys may not contain
  brackets, and top-level keys may not contain ``.`` or spaces (PHP turns them into ``_``);
  a nested key may not be empty or one whitespace character (both read as "append").
  Values are str, int, float, bool, None (left out, as PHP does), or nested
  mappings/sequences of them.
- **References** (``$result[name][field]``, also ``$next``/``$total``/``$time``/``$error``)
  are resolved by the portal only among the commands of one request that ran before. A
  reference to an unknown or later command is refused; when more than 50 commands are
  split into several requests, the cut points move earlier so that a command and the
  commands it refers to share a request. If a chain of references spans more than 50
  commands no split can keep it together, and :func:`plan_batch` raises.

The output is a list of chunks (each at most :data:`BATCH_LIMIT` :class:`Command` values),
sent in order; :func:`encode_body` builds one request's JSON body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeAlias

import attrs

from .._call._validate import check_method, check_params
from .._methods._namespaces import METHODS
from .._wire._formencode import build_query
from .._wire._redact import redact_params, redact_text

__all__ = [
    "BATCH_LIMIT",
    "BatchCall",
    "BatchCalls",
    "Command",
    "encode_body",
    "make_command",
    "plan_batch",
    "split_commands",
]

BATCH_LIMIT: Final = 50
"""Commands the portal runs in one ``batch`` request; each extra one gets an error."""

_NAME: Final = re.compile(r"^[A-Za-z0-9_.:-]+$")
_NUMERIC: Final = re.compile(r"^-?[0-9]+$")
# The portal's own pattern (CORE21 ``rest_util.php`` ``processBatchElement``): ``$`` and one
# of the accumulator's keys, then everything up to whitespace; the bracketed parts of that
# tail are the path, and the first one names the command.
_REFERENCE: Final = re.compile(r"\$(result|next|total|time|error)([^ \t\n\r\f\v]*)", re.IGNORECASE)
_PATH: Final = re.compile(r"\[([^\]]+)\]")
_TOP_LEVEL_MANGLED: Final = frozenset(". ")
_PHP_SPACE: Final = frozenset(" \t\n\v\f\r")  # one of these alone as an index means "append"
_POSITIONAL_PREFIX: Final = "c"
_MAX_DEPTH: Final = 64
"""How deep parameters may nest: PHP's default max_input_nesting_level."""


def _params_repr(params: object) -> str:
    return repr(redact_params(params) if isinstance(params, Mapping) else params)


@attrs.frozen(kw_only=True)
class BatchCall:
    """One command for :meth:`Client.batch`: a REST method and its parameters.

    >>> BatchCall(method="im.dialog.get", params={"DIALOG_ID": "chat29"})
    BatchCall(method='im.dialog.get', params={'DIALOG_ID': 'chat29'})

    A plain ``(method, params)`` tuple means the same.
    """

    method: str
    """The REST method. Names match case-insensitively; one of the typed methods' is sent
    under its documented spelling (``imbot.v2.chat.get`` as ``imbot.v2.Chat.get``)."""
    params: Mapping[str, Any] | None = attrs.field(factory=dict, repr=_params_repr)
    """Its parameters, sent PHP-form-encoded inside the command string (``repr`` masks
    secrets such as ``botToken``)."""


CallSpec: TypeAlias = BatchCall | tuple[str, Mapping[str, Any] | None]
"""One command as callers write it: a :class:`BatchCall` or a ``(method, params)`` tuple."""

BatchCalls: TypeAlias = Mapping[str, CallSpec] | Iterable[CallSpec]
"""Named commands (a mapping from name to command) or positional ones (any iterable)."""


@attrs.frozen(kw_only=True)
class Command:
    """A checked, encoded batch command: what one ``cmd[name]`` entry carries."""

    name: str
    """The key the portal files this command's outcome under."""
    method: str
    """The REST method."""
    params: Mapping[str, Any] = attrs.field(repr=_params_repr)
    """The parameters as given (for errors and logs; ``repr`` masks secrets)."""
    cmd: str = attrs.field(repr=lambda cmd: repr(redact_text(cmd)))
    """The ``method?query`` string sent as ``cmd[name]``."""
    refers_to: frozenset[str] = frozenset()
    """Names of the earlier commands this one's parameters reference."""


def make_command(name: str, method: str, params: Mapping[str, Any] | None) -> Command:
    """Check and encode one command; raises ``TypeError``/``ValueError`` naming it.

    References are found but not checked against other commands here: that needs the
    whole batch (see :func:`plan_batch`). ``get_many``-style callers that build plain
    lookups use this directly and pack the commands with :func:`split_commands`.
    """
    _check_name(name)
    where = f"batch command {name!r}"
    try:
        method = METHODS.canonical(check_method(method))
        checked = check_params(method, params)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None
    for key, value in checked.items():
        _check_key(where, key, top_level=True)
        _check_value(where, key, value)
    query = build_query(checked)
    return Command(
        name=name,
        method=method,
        params=checked,
        cmd=f"{method}?{query}" if query else method,
        refers_to=frozenset(_references(where, checked)),
    )


def plan_batch(calls: BatchCalls) -> list[list[Command]]:
    """Check every call, name them, and split them into requests of at most 50.

    Raises ``TypeError``/``ValueError`` (naming the command) for bad input, an empty
    batch, a reference to an unknown or later command, or a reference chain that
    cannot fit into one request. Nothing is sent until all of it has passed.
    """
    commands = [make_command(name, *_unpack(name, spec)) for name, spec in _named(calls)]
    if not commands:
        msg = "calls must not be empty: give at least one (method, params) command"
        raise ValueError(msg)
    seen: set[str] = set()
    for command in commands:
        for target in sorted(command.refers_to):
            if target not in seen:
                msg = (
                    f"batch command {command.name!r} refers to {target!r} (a $result[{target}]"
                    f"-style reference), but no earlier command is named {target!r}; the portal "
                    "resolves references only to commands that ran before, in the same request"
                )
                raise ValueError(msg)
        seen.add(command.name)
    return split_commands(commands)


def split_commands(commands: Sequence[Command]) -> list[list[Command]]:
    """Cut ``commands`` (in order) into chunks of at most 50, keeping references inside one.

    Each chunk is as long as it can be, except that a cut never separates a command
    from an earlier command it refers to: the cut moves back instead. Commands are
    never reordered. Raises ``ValueError`` when a chain of references is longer than
    one request can hold. Plain lookups (no references) give ``ceil(n / 50)`` chunks.
    """
    index = {command.name: position for position, command in enumerate(commands)}
    earliest = [
        min((index[name] for name in command.refers_to if name in index), default=position)
        for position, command in enumerate(commands)
    ]
    # needed_from[c]: the earliest command that any command at position >= c refers to.
    # A cut before position c is clean when needed_from[c] >= c.
    count = len(commands)
    needed_from = [count] * (count + 1)
    for position in range(count - 1, -1, -1):
        needed_from[position] = min(earliest[position], needed_from[position + 1])
    chunks: list[list[Command]] = []
    start = 0
    while start < count:
        cut = min(start + BATCH_LIMIT, count)
        while cut > start and needed_from[cut] < cut:
            cut -= 1
        if cut == start:
            _raise_unsplittable(commands, earliest, start + BATCH_LIMIT)
        chunks.append(list(commands[start:cut]))
        start = cut
    return chunks


def encode_body(chunk: Sequence[Command], *, halt: bool) -> dict[str, Any]:
    """The JSON body of one ``batch`` request.

    ``halt`` goes as ``0``/``1``: the portal casts it with PHP ``(bool)``, so the
    string ``"false"`` would mean *true*. In a JSON body the ``cmd`` strings need only
    their own (single) form encoding.
    """
    return {"cmd": {command.name: command.cmd for command in chunk}, "halt": 1 if halt else 0}


def _named(calls: BatchCalls) -> Iterator[tuple[str, object]]:
    if isinstance(calls, str | bytes):
        msg = (
            "calls must be a mapping of name -> (method, params) or a sequence of "
            "commands, not a string"
        )
        raise TypeError(msg)
    if isinstance(calls, Mapping):
        for name, spec in calls.items():
            if not isinstance(name, str):
                msg = f"batch command names must be str, got {name!r}"
                raise TypeError(msg)
            yield name, spec
        return
    if not isinstance(calls, Iterable):
        msg = f"calls must be a mapping or a sequence of commands, not {type(calls).__name__}"
        raise TypeError(msg)
    for position, spec in enumerate(calls):
        yield f"{_POSITIONAL_PREFIX}{position}", spec


def _unpack(name: str, spec: object) -> tuple[str, Mapping[str, Any] | None]:
    if isinstance(spec, BatchCall):
        return spec.method, spec.params
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec[0], spec[1]
    msg = (
        f"batch command {name!r} must be a BatchCall or a (method, params) tuple, "
        f"not {type(spec).__name__}"
    )
    raise TypeError(msg)


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        msg = f"batch command names must be str, got {name!r}"
        raise TypeError(msg)
    if not _NAME.fullmatch(name):
        msg = (
            f"batch command name {name!r} must be letters, digits, '_', '.', ':' or '-' "
            "(it becomes a PHP array key and appears in $result[name] references)"
        )
        raise ValueError(msg)
    if _NUMERIC.fullmatch(name):
        msg = (
            f"batch command name {name!r} is purely numeric: the portal would answer with "
            f"lists instead of named objects; use a name such as 'c{name}'"
        )
        raise ValueError(msg)


def _check_key(where: str, key: object, *, top_level: bool) -> None:
    text = str(key)
    if "[" in text or "]" in text or "\x00" in text:
        msg = (
            f"{where}: parameter name {text!r} contains '[', ']' or NUL, which PHP's "
            "parse_str reads as syntax"
        )
        raise ValueError(msg)
    if top_level and (not text or _TOP_LEVEL_MANGLED & set(text)):
        msg = (
            f"{where}: parameter name {text!r} is empty or contains '.' or ' ', which PHP's "
            "parse_str would turn into '_'"
        )
        raise ValueError(msg)
    if not top_level and text == "":
        msg = f"{where}: an empty nested key would read back as the next list index"
        raise ValueError(msg)
    if not top_level and text in _PHP_SPACE:
        msg = (
            f"{where}: nested key {text!r} would read back as the next list index "
            "(PHP's parse_str reads 'k[ ]' as 'k[]')"
        )
        raise ValueError(msg)


def _check_value(where: str, path: str, value: object, depth: int = 0) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if depth >= _MAX_DEPTH:
        msg = (
            f"{where}: parameter {path[:80]}... nests deeper than {_MAX_DEPTH} levels (PHP's "
            "max_input_nesting_level), or contains itself"
        )
        raise TypeError(msg)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"{where}: parameter {path} is {value!r}, which cannot be sent"
            raise ValueError(msg)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                msg = f"{where}: parameter {path} has a key {key!r}; keys must be str or int"
                raise TypeError(msg)
            _check_key(where, key, top_level=False)
            _check_value(where, f"{path}[{key}]", item, depth + 1)
        return
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for position, item in enumerate(value):
            _check_value(where, f"{path}[{position}]", item, depth + 1)
        return
    msg = (
        f"{where}: parameter {path} is a {type(value).__name__}; use str, int, float, "
        "bool, None, or mappings/sequences of them"
    )
    raise TypeError(msg)


def _references(where: str, params: Mapping[str, Any]) -> Iterator[str]:
    for value in _strings(params):
        for match in _REFERENCE.finditer(value):
            path = _PATH.findall(match.group(2))
            if not path:
                continue  # the portal substitutes nothing without a [name]
            if match.group(1) != match.group(1).lower():
                msg = (
                    f"{where}: reference {match.group(0)!r} must be spelled in lower case; "
                    "the portal matches it case-insensitively but then finds no such section"
                )
                raise ValueError(msg)
            yield path[0]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for item in value:
            yield from _strings(item)


def _raise_unsplittable(commands: Sequence[Command], earliest: Sequence[int], limit: int) -> None:
    referrer = next(
        position for position in range(limit, len(commands)) if earliest[position] < limit
    )
    target = commands[earliest[referrer]].name
    msg = (
        f"batch command {commands[referrer].name!r} refers to {target!r}, but the commands "
        f"linked by references around them span more than {BATCH_LIMIT} commands, so they "
        "cannot share one batch request (the portal resolves $result[...] only within one "
        "request); run them in separate batches"
    )
    raise ValueError(msg)
