"""Reading the portal's form values: every scalar arrives as a string.

``"Y"``/``"N"`` and ``"1"``/``"0"`` are flags, ``""`` is PHP's null, an empty PHP
array arrives as nothing at all. Each reader raises ``ValueError`` and
:func:`field` prefixes it with the wire path (``data[PARAMS][MESSAGE_ID]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from .._models import MessageType

__all__ = ["field", "flag", "integer", "mapping", "message_type", "text", "timestamp"]


def text(value: object) -> str | None:
    """A string value; ``""`` and absent are None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    msg = f"expected a string, got {type(value).__name__}"
    raise ValueError(msg)


def integer(value: object) -> int | None:
    """An integer sent as a string (``"84351"``)."""
    raw = text(value)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        msg = f"expected an integer, got {raw!r}"
        raise ValueError(msg) from None


def flag(value: object) -> bool | None:
    """``Y``/``N`` or ``1``/``0`` as a bool."""
    raw = text(value)
    if raw is None:
        return None
    upper = raw.upper()
    if upper in ("Y", "1"):
        return True
    if upper in ("N", "0"):
        return False
    msg = f"expected Y/N or 1/0, got {raw!r}"
    raise ValueError(msg)


def message_type(value: object) -> MessageType | str | None:
    """A chat letter (``P``, ``C`` ...): the enum member when documented, else the letter."""
    raw = text(value)
    if raw is None:
        return None
    try:
        return MessageType(raw)
    except ValueError:
        return raw  # J, A, B, X ...: newer chat kinds stay the plain letter


def mapping(value: object) -> Mapping[str, Any]:
    """A nested block (``data[PARAMS]``...); absent is empty."""
    # PHP sends an empty array as nothing at all, so a missing block is an empty one.
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return value
    msg = f"expected a nested mapping, got {type(value).__name__}"
    raise ValueError(msg)


_T = TypeVar("_T")


def field(block: Mapping[str, Any], key: str, convert: Callable[[object], _T], where: str) -> _T:
    """``convert(block[key])``, its ``ValueError`` prefixed with the wire path ``where[key]``."""
    try:
        return convert(block.get(key))
    except ValueError as exc:
        msg = f"{where}[{key}]: {exc}"
        raise ValueError(msg) from None


def timestamp(value: object) -> datetime | None:
    """Unix seconds as an aware UTC datetime."""
    seconds = integer(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        msg = f"expected Unix seconds, got {seconds} (out of range)"
        raise ValueError(msg) from None
