"""PHP-style form encoding: ``http_build_query`` and ``parse_str`` in Python.

Bitrix24 is PHP. Anything that is not a JSON body reaches it as a PHP query
string, where nesting is spelled with brackets: ``fields[TITLE]=x&select[0]=ID``.
Two places need it: the ``cmd`` strings of ``batch`` (each command is
``method?query`` and the portal runs ``parse_str`` on the query) and the form posts
Bitrix24 sends to apps (events, placements), which we parse.

Encoding rules, as PHP applies them:
- mappings nest as ``key[sub]``; sequences as ``key[0]``, ``key[1]`` ...;
- ``True``/``False`` become ``1``/``0`` (PHP casts ``"false"`` to true, so never send words);
- ``None`` is left out, as PHP leaves out ``null``;
- keys and values are percent-encoded (RFC 3986 unreserved characters stay), so
  ``&``, ``=``, ``[``, ``]``, ``#``, ``%`` and ``?`` inside values survive.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, unquote_plus

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_VARS",
    "FormLimitError",
    "FormValue",
    "build_query",
    "flatten",
    "parse_query",
]

FormValue = Any
"""A value the encoder accepts: str, int, float, bool, None, or mappings/sequences of them."""

_SAFE: Final = "-._~"
# C's isspace(): the one character PHP skips in "a[ ]" before looking for "]".
_PHP_SPACE: Final = frozenset(" \t\n\v\f\r")
_PHP_NAME_SAFE: Final = str.maketrans({" ": "_", ".": "_", "[": "_"})
_PHP_INT: Final = re.compile(r"0|-?[1-9][0-9]*", re.ASCII)
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def _scalar(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"cannot form-encode {key}={value!r}: PHP has no number for it"
            raise ValueError(msg)
        return repr(value) if value != int(value) else str(int(value))
    msg = f"cannot form-encode {key}: a value of type {type(value).__name__}"
    raise TypeError(msg)


def flatten(data: Mapping[str, FormValue], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(php_key, value)`` pairs, e.g. ``("fields[PHONE][0][VALUE]", "555")``."""
    for key, value in data.items():
        full = f"{prefix}[{key}]" if prefix else str(key)
        yield from _flatten_value(full, value)


def _flatten_value(key: str, value: FormValue) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        yield from flatten(value, key)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            yield from _flatten_value(f"{key}[{index}]", item)
    else:
        yield key, _scalar(key, value)


def build_query(data: Mapping[str, FormValue]) -> str:
    """Encode ``data`` exactly as PHP's ``http_build_query`` would (RFC 3986 quoting).

    >>> build_query({"DIALOG_ID": "chat29", "select": ["ID", "NAME"], "halt": False})
    'DIALOG_ID=chat29&select%5B0%5D=ID&select%5B1%5D=NAME&halt=0'
    """
    return "&".join(
        f"{quote(key, safe=_SAFE)}={quote(value, safe=_SAFE)}" for key, value in flatten(data)
    )


class FormLimitError(ValueError):
    """A form has more variables or deeper nesting than the parser was told to take."""


DEFAULT_MAX_VARS: Final = 1000
"""PHP's default ``max_input_vars``: at most this many variables in one form."""
DEFAULT_MAX_DEPTH: Final = 64
"""PHP's default ``max_input_nesting_level``: at most this many ``[...]`` levels in a name."""


def parse_query(
    query: str,
    *,
    max_vars: int | None = DEFAULT_MAX_VARS,
    max_depth: int | None = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """Decode a PHP query string into nested dicts, as PHP's ``parse_str`` does.

    ``a[]=x&a[]=y`` appends with the next integer key; numeric keys stay strings in
    the returned dicts (``{"0": "x", "1": "y"}``), because PHP arrays do not tell lists
    from maps and the caller must decide. Later duplicates overwrite earlier ones. The
    name follows PHP 8's ``php_register_variable_ex``: it ends at a NUL, leading spaces
    are dropped, ``.`` or a space in the top-level name becomes ``_``, an index that is
    one whitespace character (``a[ ]``) appends like ``a[]``, an unclosed ``[`` is not
    nesting (``a[b`` names ``a_b``), and text after the last ``]`` is ignored.

    Bounded as PHP bounds its input: more than ``max_vars`` variables (non-empty
    ``&``-separated pairs; PHP's ``max_input_vars``, default 1,000) or a name nested
    more than ``max_depth`` brackets deep (``max_input_nesting_level``, default 64)
    raises :class:`FormLimitError` (a ``ValueError``) where PHP would drop the excess
    with a warning: a form cut short is not the form that was sent. ``None`` lifts a
    bound. The work is linear in the length of ``query``.
    """
    result: dict[str, Any] = {}
    if not query:
        return result
    pairs = [pair for pair in query.split("&") if pair]
    if max_vars is not None and len(pairs) > max_vars:
        msg = f"the form has {len(pairs)} variables, more than {max_vars}"
        raise FormLimitError(msg)
    # id(dict) -> (the dict, its largest integer key): the next free index of a[] in O(1).
    # Holding the dict keeps its id from being reused by another one during the parse.
    largest: dict[int, tuple[dict[str, Any], int]] = {}
    for pair in pairs:
        raw_key, _, raw_value = pair.partition("=")
        path = _php_path(unquote_plus(raw_key))
        if path is None:
            continue
        if max_depth is not None and len(path) - 1 > max_depth:
            msg = f"a variable is nested deeper than {max_depth} levels"
            raise FormLimitError(msg)
        _assign(result, path, unquote_plus(raw_value), largest)
    return result


def _php_path(name: str) -> list[str | None] | None:
    """The keys PHP files a value under for ``name`` (``None``: append), or ``None`` to skip."""
    name = name.split("\x00", 1)[0].lstrip(" ")
    bracket = name.find("[")
    head = (name if bracket < 0 else name[:bracket]).replace(" ", "_").replace(".", "_")
    if not head:
        return None  # PHP skips a variable with an empty name
    path: list[str | None] = [head]
    while bracket >= 0:
        start = bracket + 1
        cursor = start + 1 if name[start : start + 1] in _PHP_SPACE else start
        if name[cursor : cursor + 1] == "]":
            path.append(None)
            close = cursor
        else:
            close = name.find("]", cursor)
            if close < 0:  # not an index
                if len(path) == 1:  # the name itself goes on, with its '[' as '_'
                    rest = name[start:].translate(_PHP_NAME_SAFE)
                    return [f"{head}_{rest}"]
                return path  # deeper, the unclosed tail is dropped
            path.append(name[start:close])
        bracket = close + 1 if name[close + 1 : close + 2] == "[" else -1
    return path


def _assign(
    target: dict[str, Any],
    path: list[str | None],
    value: str,
    largest: dict[int, tuple[dict[str, Any], int]],
) -> None:
    node = target
    last = len(path) - 1
    for index, part in enumerate(path):
        known = largest.get(id(node))
        number: int | None
        if part is None:
            number = 0 if known is None else known[1] + 1
            if number > _INT64_MAX:  # PHP: "the next element is already occupied"; dropped
                return
            key = str(number)
        else:
            key = part
            number = _php_int(key)
        if number is not None and (known is None or number > known[1]):
            largest[id(node)] = (node, number)
        if index == last:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def _php_int(key: str) -> int | None:
    """The integer PHP stores ``key`` as (a canonical decimal within a signed 64-bit int)."""
    if len(key) > 20 or _PHP_INT.fullmatch(key) is None:  # 20: len(str(-(2**63)))
        return None
    number = int(key)
    return number if _INT64_MIN <= number <= _INT64_MAX else None
