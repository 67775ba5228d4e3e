"""The portal's side of form encoding: PHP's ``parse_str`` and ``http_build_query``.

Written from PHP's documented behaviour (and the rules of ``php_register_variable_ex``
in ``main/php_variables.c``), independently of the SDK's encoder, so the fake portal
checks what the SDK sends instead of agreeing with it by construction:

    >>> parse_str("fields[TITLE]=Hi+there&select[]=ID&select[]=NAME&a.b=1")
    {'fields': {'TITLE': 'Hi there'}, 'select': {'0': 'ID', '1': 'NAME'}, 'a_b': '1'}
    >>> http_build_query({"cmd": {"c0": "im.dialog.get?DIALOG_ID=chat1"}, "halt": True})
    'cmd%5Bc0%5D=im.dialog.get%3FDIALOG_ID%3Dchat1&halt=1'

PHP arrays do not tell lists from maps, so every array comes back as a ``dict`` whose
keys are strings; an integer key is its canonical decimal (``"0"``, ``"-3"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["http_build_query", "parse_str"]

MAX_INPUT_VARS: Final = 1000
"""php.ini ``max_input_vars``: variables past this many are not parsed (with a warning)."""
MAX_INPUT_NESTING_LEVEL: Final = 64
"""php.ini ``max_input_nesting_level``: a deeper variable is dropped, and its top-level name."""

_C_SPACE: Final = b" \t\n\v\f\r"  # C isspace() in the "C" locale
_INTEGER_KEY: Final = re.compile(r"-?[1-9][0-9]*|0")
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1
_HEX: Final = b"0123456789abcdefABCDEF"
_UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def parse_str(query: str | bytes) -> dict[str, Any]:
    """Parse a query string or form body into nested dicts, as PHP 8's ``parse_str`` does.

    Pairs are split on ``&`` (empty ones skipped); name and value are URL-decoded
    (``+`` is a space); a pair without ``=`` has the value ``""``. Names are then
    filed as PHP files them: see :func:`_register`.
    """
    data = query.encode("utf-8", "surrogateescape") if isinstance(query, str) else query
    result: dict[str, Any] = {}
    count = 0
    for pair in data.split(b"&"):
        if not pair:
            continue
        count += 1
        if count > MAX_INPUT_VARS:
            break
        name, has_value, value = pair.partition(b"=")
        _register(result, _url_decode(name), _url_decode(value) if has_value else b"")
    return result


def _url_decode(raw: bytes) -> bytes:
    """PHP ``urldecode``: ``+`` is a space, ``%XX`` a byte; a malformed ``%`` stays as is."""
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x2B:  # "+"
            out.append(0x20)
        elif byte == 0x25 and _is_hex(raw[i + 1 : i + 3]):  # "%"
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 2
        else:
            out.append(byte)
        i += 1
    return bytes(out)


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(b in _HEX for b in pair)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _register(result: dict[str, Any], name: bytes, value: bytes) -> None:
    """File ``value`` under ``name`` the way ``php_register_variable_ex`` does.

    - The name is a C string: it ends at a NUL byte. Leading spaces are dropped.
    - Up to the first ``[``, spaces and dots become ``_``; an empty name is dropped.
    - ``[key]`` nests; ``[]`` (or ``[`` + one whitespace + ``]``) appends at the next
      integer key; text after a ``]`` that is not another ``[`` is ignored.
    - A ``[`` that is never closed is not nesting: in the first index it becomes ``_``
      and the rest of the name (spaces, dots, ``[`` made ``_``) joins the top-level
      name; deeper, the unclosed part is ignored.
    - A name nested deeper than :data:`MAX_INPUT_NESTING_LEVEL` is dropped, and so is
      whatever its top-level name already held.
    - A name that only the ``_`` replacements made start with ``__Host-`` or
      ``__Secure-`` is dropped.
    """
    name = name.split(b"\x00", 1)[0].lstrip(b" ")
    bracket = name.find(b"[")
    head = name if bracket < 0 else name[:bracket]
    head = head.replace(b" ", b"_").replace(b".", b"_")
    if not head or _mangled_into_a_cookie_prefix(head, name):
        return
    if bracket < 0:
        _store(result, _text(head), value)
        return
    container: dict[str, Any] = result
    key: str | None = _text(head)
    position = bracket  # at a "[" that opens an index
    level = 0
    while True:
        level += 1
        if level > MAX_INPUT_NESTING_LEVEL:
            result.pop(_php_key(_text(head)), None)
            return
        start = position + 1
        cursor = start + 1 if name[start : start + 1] and name[start] in _C_SPACE else start
        index: str | None
        if name[cursor : cursor + 1] == b"]":
            index, close = None, cursor
        else:
            close = name.find(b"]", cursor)
            if close < 0:  # not an index
                if level == 1:
                    rest = name[start:]
                    for char in (b" ", b".", b"["):
                        rest = rest.replace(char, b"_")
                    key = _text(head + b"_" + rest)
                break
            index = _text(name[start:close])
        container = _child(container, key)
        key = index
        if name[close + 1 : close + 2] != b"[":
            break
        position = close + 1
    _store(container, key, value)


def _mangled_into_a_cookie_prefix(head: bytes, name: bytes) -> bool:
    return any(
        head.startswith(prefix) and not name.startswith(prefix)
        for prefix in (b"__Host-", b"__Secure-")
    )


def _child(container: dict[str, Any], key: str | None) -> dict[str, Any]:
    """The array under ``key`` (``None``: a new one appended), made anew if not an array."""
    if key is None:
        child: dict[str, Any] = {}
        _store(container, None, child)
        return child
    key = _php_key(key)
    existing = container.get(key)
    if isinstance(existing, dict):
        return existing
    child = {}
    container[key] = child
    return child


def _store(container: dict[str, Any], key: str | None, value: bytes | dict[str, Any]) -> None:
    stored = _text(value) if isinstance(value, bytes) else value
    if key is not None:
        container[_php_key(key)] = stored
        return
    integers = [int(k) for k in container if _INTEGER_KEY.fullmatch(k)]
    following = max(integers) + 1 if integers else 0
    if following > _LONG_MAX:
        return  # "Cannot add element to the array as the next element is already occupied"
    container[str(following)] = stored


def _php_key(key: str) -> str:
    """A key as a PHP array stores it: an in-range canonical integer, or the string."""
    if _INTEGER_KEY.fullmatch(key) and _LONG_MIN <= int(key) <= _LONG_MAX:
        return str(int(key))
    return key


def http_build_query(data: Mapping[str, Any] | Sequence[Any]) -> str:
    """Encode ``data`` as PHP's ``http_build_query`` does (``PHP_QUERY_RFC1738``).

    Nested arrays become ``key[sub]`` with the brackets percent-encoded; ``None`` is
    left out; ``True``/``False`` are ``1``/``0``; spaces are ``+``; every byte but
    letters, digits and ``-_.`` is ``%XX``. A sequence's keys are its indexes.
    """
    pairs: list[str] = []
    _build(pairs, _items(data), prefix=None)
    return "&".join(pairs)


def _items(data: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, Any]]:
    if isinstance(data, Mapping):
        return [(str(key), value) for key, value in data.items()]
    return [(str(index), value) for index, value in enumerate(data)]


def _build(pairs: list[str], items: list[tuple[str, Any]], prefix: str | None) -> None:
    for key, value in items:
        name = _url_encode(key) if prefix is None else f"{prefix}%5B{_url_encode(key)}%5D"
        if value is None:
            continue
        if isinstance(value, Mapping) or (
            isinstance(value, Sequence) and not isinstance(value, str | bytes)
        ):
            _build(pairs, _items(value), prefix=name)
            continue
        pairs.append(f"{name}={_url_encode(_scalar(value))}")


def _scalar(value: object) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def _url_encode(text: str) -> str:
    """PHP ``urlencode``: letters, digits and ``-_.`` stay, a space is ``+``, the rest ``%XX``."""
    out: list[str] = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte in _UNRESERVED:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)
