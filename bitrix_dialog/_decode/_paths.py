"""The wire path of the value that failed: ``readed_list[1].date``, ``chat.dateCreate``.

cattrs, in detailed mode, raises a :class:`cattrs.ClassValidationError` per model whose
sub-exceptions each carry an :class:`cattrs.AttributeValidationNote` naming the Python
attribute that failed; nested models nest their groups, list items raise
:class:`._normalize.ItemError` with the item's position. :func:`locate` walks that tree
beside the payload itself and names, for the first failure in field order, the keys
*as sent* (renames and naming style applied, ``title`` when the flat era's alias was
what the portal sent). It runs only on the failure path.
"""

from __future__ import annotations

from typing import Any

from cattrs import AttributeValidationNote, ClassValidationError

from . import _normalize as n
from ._hooks import ALIASES, Style, wire_name

__all__ = ["join", "locate"]


def locate(error: BaseException, data: Any, style: Style) -> tuple[list[str], str]:
    """The path parts (keys and ``[index]`` items) to the value behind ``error``, and why.

    ``data`` is the value that was being structured when ``error`` was raised.
    """
    if isinstance(error, ClassValidationError):
        for sub in error.exceptions:
            note = _attribute_note(sub)
            if note is None:
                continue
            key = wire_name(error.cl, note.name, style)
            found = type(data) is dict
            if found and key not in data and style == "snake":
                for alias, current in ALIASES.get(error.cl, {}).items():
                    if current == key and alias in data:
                        key = alias
            if isinstance(sub, KeyError) and (not found or key not in data):
                return [key], "required key is missing"
            parts, reason = locate(sub, _child(data, key), style)
            return [key, *parts], reason
        return [], _reason(error.exceptions[0])
    if isinstance(error, n.ItemError):
        index = error.index if isinstance(error.index, int) else repr(error.index)
        parts, reason = locate(error.cause, _item(data, error.index), style)
        return [f"[{index}]", *parts], reason
    return [], _reason(error)


def join(parts: list[str]) -> str:
    """``["readed_list", "[1]", "date"]`` -> ``"readed_list[1].date"``."""
    text = ""
    for part in parts:
        text += part if part.startswith("[") or not text else f".{part}"
    return text


def _attribute_note(error: BaseException) -> AttributeValidationNote | None:
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, AttributeValidationNote):
            return note
    return None


def _child(data: Any, key: str) -> Any:
    if type(data) is not dict:
        return None
    value = data.get(key)
    if type(value) is str:  # ``lastMessageViews`` as a JSON string
        try:
            return n.json_object(value)
        except n.WireError:
            return None
    return value


def _item(data: Any, index: int | str) -> Any:
    if type(data) is dict:
        if isinstance(index, str):
            return data.get(index)
        data = list(data.values())
    if type(data) is list and isinstance(index, int) and index < len(data):
        return data[index]
    return None


def _reason(error: BaseException) -> str:
    while isinstance(error, n.ItemError):
        error = error.cause
    if isinstance(error, ClassValidationError) and error.exceptions:
        return _reason(error.exceptions[0])
    return str(error)
