"""The way back from :func:`dialog_to_json`: :func:`dialog_from_json`.

    stored = json.dumps(dialog_to_json(dialog))
    assert dialog_from_json(json.loads(stored)) == dialog

``dialog_to_json`` writes the models' own field names (``manager_ids``, ``readers``),
not the wire's, so reading it back is a converter of its own: plain cattrs structuring
by attribute name, with the same field hooks for the values JSON cannot carry as they
are (ISO dates, enum members or unknown strings, ``int | str`` background ids).
It is what the Redis dialog cache reads its entries with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, TypeVar

import cattrs

from .._models import ChatType, Dialog, MessageType, Role
from . import _normalize as n

__all__ = ["dialog_from_json"]

E = TypeVar("E", bound=StrEnum)


def _from_iso(value: Any, _: object = None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"expected an ISO-8601 date string, got {type(value).__name__}"
        raise TypeError(msg)
    return datetime.fromisoformat(value)


def _member_or_str(enum: type[E]) -> Callable[[Any, object], E | str | None]:
    """The wire hook, also taking a member itself (``dialog_to_json`` output not yet
    through JSON: its enums are ``str`` subclasses)."""
    wire = n.enum_or_str(enum)

    def structure(value: Any, _: object = None) -> E | str | None:
        return wire(value.value if isinstance(value, Enum) else value, _)

    return structure


def _is(kind: object) -> Callable[[Any], bool]:
    return lambda t: t == kind


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    for kind, hook in (
        (datetime | None, _from_iso),
        (int | str | None, n.int_or_str),
        (ChatType | str | None, _member_or_str(ChatType)),
        (MessageType | str | None, _member_or_str(MessageType)),
        (Role | str | None, _member_or_str(Role)),
    ):
        converter.register_structure_hook_func(_is(kind), hook)
    return converter


_CONVERTER: Final = _make_converter()


def dialog_from_json(data: object) -> Dialog:
    """The :class:`Dialog` that :func:`dialog_to_json` wrote ``data`` from (equal to it).

    Raises ``ValueError`` when ``data`` is not such a mapping.
    """
    try:
        return _CONVERTER.structure(data, Dialog)
    except Exception as error:
        msg = f"not a dialog written by dialog_to_json ({type(error).__name__})"
        raise ValueError(msg) from None
