"""The fake portal's ``batch`` method, modelled on the server's ``methodsBatch``.

What the real portal does (CORE21 ``modules/rest/classes/general/rest_provider.php``
``methodsBatch``, ``rest_util.php`` ``ParseBatchQuery``/``processBatchElement``; EN
``settings/how-to-call-rest-api/batch.md``), and so what this does:

- ``cmd`` is a map or a list of ``"method?query"`` strings (JSON or form body); a value
  that is not a string is skipped without a trace, but still counts toward the limit;
- ``halt`` is cast with PHP ``(bool)``: ``"0"``, ``""``, ``0`` are false, and so the
  string ``"false"`` is *true*;
- the query is parsed with ``parse_str``; then ``$result[name][field]...`` references
  (also ``$next``, ``$total``, ``$time``, ``$error``) are resolved against the commands
  that ran before: a value that *is* a reference becomes the referenced value itself
  (possibly an object), one that *contains* it gets a string replacement (numbers are
  turned into strings, anything else leaves the text as it was);
- each command runs through the portal's own method handlers as the outer caller, so
  webhook/token identity and access checks are the real ones; ``batch``, ``download``
  and ``upload`` are refused with ``ERROR_BATCH_METHOD_NOT_ALLOWED``; each command is
  charged to its own method's operating budget (a command over budget gets
  ``OPERATION_TIME_LIMIT`` in ``result_error``) and its ``result_time`` reports that
  method's ``operating``/``operating_reset_at``;
- commands past 50 each get ``ERROR_BATCH_LENGTH_EXCEEDED``; with ``halt`` the first
  failure ends the run;
- the answer is HTTP 200 with ``result``, ``result_error``, ``result_total``,
  ``result_next`` and ``result_time``, encoded as PHP would: an empty section is ``[]``
  and a section keyed ``0..n-1`` becomes a JSON list.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import PortalError
from ._php import parse_str

if TYPE_CHECKING:
    from ._portal import CallContext

__all__ = ["batch", "php_bool", "php_collection", "resolve_references"]

_LIMIT: Final = 50
_NOT_IN_BATCH: Final = frozenset({"batch", "download", "upload"})
_ACCUMULATOR_KEYS: Final = ("result", "next", "total", "time", "error")
_REFERENCE: Final = re.compile(
    r"\$(" + "|".join(_ACCUMULATOR_KEYS) + r")([^ \t\n\r\f\v]*)", re.IGNORECASE
)
_PATH: Final = re.compile(r"\[([^\]]+)\]")


def php_bool(value: object) -> bool:
    """PHP's ``(bool)`` cast of a decoded parameter."""
    if value is None:
        return False
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, bool | int | float):
        return bool(value)
    if isinstance(value, Mapping | list):
        return len(value) > 0
    return True


def php_collection(items: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
    """How PHP's ``json_encode`` writes an array: ``[]`` when empty, a list when keyed 0..n-1."""
    if list(items) == [str(position) for position in range(len(items))]:
        return list(items.values())
    return dict(items)


def resolve_references(value: Any, accumulator: Mapping[str, Any]) -> Any:
    """Substitute ``$result[...]``-style references in parsed parameters, as the server does."""
    if isinstance(value, Mapping):
        return {key: resolve_references(item, accumulator) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    query: Any = value
    for match in _REFERENCE.finditer(value):
        path = _PATH.findall(match.group(2))
        if not path:
            continue
        found: Any = accumulator.get(match.group(1))  # case-sensitive, like a PHP array
        for key in path:
            step = _php_index(found, key)
            if step is None:
                break  # PHP keeps the last value it could reach
            found = step
        if match.group(0) == query:
            query = copy.deepcopy(found)  # PHP arrays are values, not shared references
        elif isinstance(query, str):
            text = _php_string(found)
            if text is not None:
                query = query.replace(match.group(0), text)
    return query


async def batch(context: CallContext) -> dict[str, Any]:
    """``batch``: run up to 50 commands in order; see the module docstring."""
    halt = php_bool(context.param("halt"))
    commands = context.param("cmd")
    if isinstance(commands, list):
        commands = {str(position): call for position, call in enumerate(commands)}
    if not isinstance(commands, Mapping):
        commands = {}
    accumulator: dict[str, dict[str, Any]] = {key: {} for key in _ACCUMULATOR_KEYS}
    for count, (key, call) in enumerate(commands.items()):
        started = context.portal.clock()
        try:
            if count >= _LIMIT:
                raise PortalError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
            if not isinstance(call, str):
                continue
            method, _, query = call.partition("#")[0].partition("?")
            params = resolve_references(parse_str(query), accumulator)
            if method.lower() in _NOT_IN_BATCH:
                raise PortalError(
                    "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"
                )
            result = await context.portal.dispatch(context.caller, method, params)
        except PortalError as error:
            accumulator["error"][key] = {
                "error": error.code,
                "error_description": error.description,
            }
            if halt:
                break
            continue
        accumulator["result"][key] = result
        # Each command is charged to its own method, and its time block says so
        # (``operating``/``operating_reset_at`` of that method, as the cloud reports).
        limits = context.portal.limits
        accumulator["time"][key] = context.portal.time_block(
            started,
            payer=limits.caller_key(context.caller.kind, context.caller.credential),
            method=method,
            processing=limits.operating.model.cost_of(method),
        )
    return {
        "result": php_collection(accumulator["result"]),
        "result_error": php_collection(accumulator["error"]),
        "result_total": php_collection(accumulator["total"]),
        "result_next": php_collection(accumulator["next"]),
        "result_time": php_collection(accumulator["time"]),
    }


def _php_index(container: Any, key: str) -> Any:
    """``isset($container[$key]) ? $container[$key] : null`` for decoded JSON values."""
    if isinstance(container, Mapping):
        return container.get(key)
    if isinstance(container, list) and key.isdigit() and str(int(key)) == key:
        position = int(key)
        return container[position] if position < len(container) else None
    return None


def _php_string(value: Any) -> str | None:
    """The text the server splices in: numbers become strings, other non-strings are skipped."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None  # is_numeric(true) is false in PHP
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None
