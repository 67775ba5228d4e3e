"""How one wire value becomes one Python value: the converter's scalar structure hooks.

Portals of different generations send the same field in different clothes: ``"21191"``
or ``21191``, ``true`` or ``"Y"``, ``""`` or ``null`` for "not set", ``[]`` where an
object is empty (PHP serialises an empty array as a list). Each hook here accepts every
form a documented portal sends and raises :class:`WireError` for anything else, so
the converter can report the field path.

Hooks take ``(value, type)`` as cattrs calls them; each checks the common case first,
because decoding runs for every dialog of a bulk lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, TypeVar

__all__ = [
    "ItemError",
    "WireError",
    "enum_or_str",
    "int_list",
    "int_or_str",
    "json_object",
    "optional_bool",
    "optional_datetime",
    "optional_int",
    "optional_object",
    "optional_str",
    "required_int",
]

_INT: Final = re.compile(r"[+-]?[0-9]+", re.ASCII)
_TRUE: Final = frozenset({"Y", "y", "1", "true", "TRUE", "True"})
_FALSE: Final = frozenset({"N", "n", "0", "false", "FALSE", "False"})
_PREVIEW: Final = 40

E = TypeVar("E", bound=StrEnum)


class WireError(ValueError):
    """A wire value that fits none of the forms its field is documented to take."""


class ItemError(ValueError):
    """Item ``index`` of an id list failed; ``cause`` says why. Lets the converter
    report ``manager_list[1]`` rather than just ``manager_list``."""

    def __init__(self, index: int | str, cause: BaseException) -> None:
        super().__init__(f"item {index!r}: {cause}")
        self.index = index
        self.cause = cause


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _to_int(value: object) -> int:
    if type(value) is int:
        return value
    if type(value) is str:
        # ``isascii`` first: ``"²".isdigit()`` is true, and ``int`` reads Arabic-Indic digits
        if value.isascii() and value.isdigit():
            return int(value)
        if _INT.fullmatch(value):  # a sign: "-1", "+5"
            return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    msg = f"expected an integer, got {_shown(value)}"
    raise WireError(msg)


def required_int(value: Any, _: object = None) -> int:
    """An int, or a numeric string (flat-era and webhook payloads send ``"21191"``)."""
    if type(value) is int:
        return value
    return _to_int(value)


def optional_int(value: Any, _: object = None) -> int | None:
    """Like :func:`required_int`; ``null`` and ``""`` mean not set."""
    if type(value) is int:
        return value
    if value is None or value == "":
        return None
    return _to_int(value)


def optional_str(value: Any, _: object = None) -> str | None:
    """A string; ``null`` and ``""`` mean not set. An int (an id sent unquoted) becomes
    its decimal string."""
    if type(value) is str:
        return value or None
    if value is None:
        return None
    if type(value) is int:
        return str(value)
    msg = f"expected a string, got {_shown(value)}"
    raise WireError(msg)


def optional_bool(value: Any, _: object = None) -> bool | None:
    """``true``/``false``, or the ``"Y"``/``"N"`` and ``"1"``/``"0"`` forms of ``imbot.v2``
    and webhook payloads; ``null`` and ``""`` mean not set."""
    if value is True or value is False:
        return value
    if value is None or value == "":
        return None
    if type(value) is str:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    elif type(value) is int and value in (0, 1):
        return value == 1
    msg = f"expected a boolean (true/false, 'Y'/'N'), got {_shown(value)}"
    raise WireError(msg)


def optional_datetime(value: Any, _: object = None) -> datetime | None:
    """An ISO-8601 / ATOM date with its UTC offset (``2017-10-14T12:15:32+02:00``);
    ``null``, ``""`` and PHP's ``false`` mean not set (``"0"``: a ``false`` in a form post)."""
    if type(value) is str and value and value != "0":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            msg = f"expected an ISO-8601 date, got {_shown(value)}"
            raise WireError(msg) from None
        if parsed.tzinfo is None:
            msg = f"expected a date with a UTC offset, got {_shown(value)}"
            raise WireError(msg)
        return parsed
    if value is None or value in ("", "0") or value is False:
        return None
    msg = f"expected an ISO-8601 date string, got {_shown(value)}"
    raise WireError(msg)


def enum_or_str(enum: type[E]) -> Callable[[Any, object], E | str | None]:
    """A hook giving the ``enum`` member for a documented value and the string itself for
    a value the SDK does not know yet (portals add chat types and roles without notice).

    A member (``dialog_to_json`` keeps them: a ``str`` subclass JSON writes as its value)
    is read by its value."""
    members: dict[str, E] = {str(member.value): member for member in enum}
    # Some answers spell the values in another case (2026 im.recent.* chats: "OWNER").
    folded: dict[str, E] = {value.casefold(): member for value, member in members.items()}

    def structure(value: Any, _: object = None) -> E | str | None:
        if type(value) is str:
            return members.get(value) or folded.get(value.casefold()) or value or None
        if value is None:
            return None
        if isinstance(value, Enum):
            return structure(value.value)
        msg = f"expected a string, got {_shown(value)}"
        raise WireError(msg)

    return structure


def int_or_str(value: Any, _: object = None) -> int | str | None:
    """``background_id``: an int id, a numeric string (an int id), or a name (``"azure"``)."""
    if type(value) is int:
        return value
    if type(value) is str:
        if not value:
            return None
        if (value.isascii() and value.isdigit()) or _INT.fullmatch(value):
            return int(value)
        return value
    if value is None:
        return None
    msg = f"expected an integer or a string, got {_shown(value)}"
    raise WireError(msg)


def int_list(value: Any, _: object = None) -> tuple[int, ...] | None:
    """A list of ids. PHP sends a non-contiguous array as an object: ``{"3": 27}`` (index
    to id) or ``{"27": true}`` (id to flag, muted users); both forms are read."""
    if type(value) is list:
        if all(type(item) is int for item in value):
            return tuple(value)
        return tuple(_item(index, item, required_int) for index, item in enumerate(value))
    if value is None or value == "":
        return None
    if type(value) is dict:
        if value and all(type(flag) is bool for flag in value.values()):
            return tuple(_item(key, key, required_int) for key, flag in value.items() if flag)
        return tuple(_item(key, item, required_int) for key, item in value.items())
    msg = f"expected a list of ids, got {_shown(value)}"
    raise WireError(msg)


def json_object(value: Any, _: object = None) -> dict[str, Any] | None:
    """An object that ``imbot.v2`` may send as a JSON string (``lastMessageViews``).

    ``"{}"``, ``"[]"``, ``[]``, ``{}``, ``""`` and ``null`` all mean "nothing"; anything
    else must be an object, or a JSON string holding one.
    """
    if type(value) is str:
        if not value:
            return None
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # too deep is no object either
            msg = f"expected an object or a JSON string of one, got {_shown(value)}"
            raise WireError(msg) from None
    if type(value) is dict:
        return value or None
    if value is None or value == []:
        return None
    msg = f"expected an object, got {_shown(value)}"
    raise WireError(msg)


T = TypeVar("T")


def _item(index: int | str, value: Any, hook: Callable[[Any, object], T]) -> T:
    try:
        return hook(value, None)
    except Exception as error:
        raise ItemError(index, error) from error


def optional_object(value: Any, _: object = None) -> dict[str, Any] | None:
    """An object kept as sent (``params``, ``phones``, ``context``). Empty means nothing:
    ``{}``, ``[]``, ``""``, ``null``, and ``false`` or its form-post ``"0"`` (``object|false``
    fields), because a form post leaves empty arrays out. A JSON list reads as the object
    PHP's form encoding makes of it (``{"0": ..., "1": ...}``), so both modes agree."""
    if type(value) is dict:
        return value or None
    if type(value) is list:
        return {str(index): item for index, item in enumerate(value)} or None
    if value is None or value is False or value in ("", "0"):
        return None
    msg = f"expected an object, got {_shown(value)}"
    raise WireError(msg)
