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

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, unquote_plus

__all__ = ["FormValue", "build_query", "flatten", "parse_query"]

FormValue = Any
"""A value the encoder accepts: str, int, float, bool, None, or mappings/sequences of them."""

_SAFE: Final = "-._~"
_KEY: Final = re.compile(r"^([^\[]*)((?:\[[^\]]*\])*)(.*)$")


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    msg = f"cannot form-encode a value of type {type(value).__name__}"
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
        yield key, _scalar(value)


def build_query(data: Mapping[str, FormValue]) -> str:
    """Encode ``data`` exactly as PHP's ``http_build_query`` would (RFC 3986 quoting).

    >>> build_query({"DIALOG_ID": "chat29", "select": ["ID", "NAME"], "halt": False})
    'DIALOG_ID=chat29&select%5B0%5D=ID&select%5B1%5D=NAME&halt=0'
    """
    return "&".join(
        f"{quote(key, safe=_SAFE)}={quote(value, safe=_SAFE)}" for key, value in flatten(data)
    )


def parse_query(query: str) -> dict[str, Any]:
    """Decode a PHP query string into nested dicts, as PHP's ``parse_str`` does.

    ``a[]=x&a[]=y`` appends with the next integer key; numeric keys stay strings in
    the returned dicts (``{"0": "x", "1": "y"}``), because PHP arrays do not tell lists
    from maps and the caller must decide. Later duplicates overwrite earlier ones, and
    ``.`` or a space in a top-level name becomes ``_``, as in PHP.
    """
    result: dict[str, Any] = {}
    if not query:
        return result
    for pair in query.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key = unquote_plus(raw_key)
        value = unquote_plus(raw_value)
        match = _KEY.match(key)
        if match is None or not match.group(1):  # pragma: no cover - the pattern always matches
            continue
        head, brackets, tail = match.groups()
        if not brackets and tail:
            # An unclosed "[" is not nesting for PHP: "a[b" names the key "a_b".
            head, tail = head + "_" + tail[1:], ""
        head = head.replace(".", "_").replace(" ", "_")
        # Text after the last closing bracket ("a[b]c") is ignored, as PHP does.
        parts = [head, *re.findall(r"\[([^\]]*)\]", brackets)]
        _assign(result, parts, value)
    return result


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    node = target
    for index, part in enumerate(parts):
        key = part if part != "" else str(_next_index(node))
        if index == len(parts) - 1:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def _next_index(node: Mapping[str, Any]) -> int:
    numbers = [int(k) for k in node if k.lstrip("-").isdigit()]
    return max(numbers) + 1 if numbers else 0
