"""``DialogId``: the id the dialog methods take, checked before any request is sent.

The portal accepts ``DIALOG_ID`` matching ``^([0-9]+|(chat|sg|crm)[0-9]+)$``
case-insensitively (``Bitrix\\Im\\Common::isDialogId``) and answers anything else with
``DIALOG_ID_EMPTY``. Checking here turns that round trip into an immediate, named error:

    >>> DialogId.parse("chat29")
    DialogId('chat29')
    >>> DialogId.user(256) == DialogId.parse(256) == DialogId.parse("256")
    True
    >>> str(DialogId.chat(29))
    'chat29'

Ids are positive: the portal has no chat or user 0, so ``0`` and ``chat0`` are refused
here rather than answered with ``ACCESS_ERROR`` later.
"""

from __future__ import annotations

import re
from typing import Final, Literal, TypeAlias, final

from .._errors import InvalidDialogIdError

__all__ = ["DialogId", "DialogIdLike", "DialogKind", "wire_form"]

DialogKind: TypeAlias = Literal["user", "chat", "sg", "crm"]
"""What a dialog id names: a private chat with a user, a chat, a workgroup's chat, a CRM chat."""

_FORM: Final = re.compile(r"(chat|sg|crm)?([0-9]+)", re.IGNORECASE | re.ASCII)
_PREFIX: Final[dict[str, DialogKind]] = {"chat": "chat", "sg": "sg", "crm": "crm"}
# The wire form itself: lower-case prefix, no leading zero, a number of at most 19 digits.
_WIRE: Final = re.compile(r"(?:chat|sg|crm)?[1-9][0-9]{0,18}", re.ASCII)


@final
class DialogId:
    """A checked dialog id: ``chatNNN``, ``sgNNN``, ``crmNNN`` or a user id ``NNN``.

    Build one with :meth:`parse` (or the constructor, which is the same),
    :meth:`chat` or :meth:`user`. ``str()`` gives the wire form. Values are immutable,
    hashable and compare by what they name, so ``DialogId("CHAT29") == DialogId("chat29")``.
    """

    __slots__ = ("_kind", "_number")

    _kind: DialogKind
    _number: int

    def __init__(self, value: DialogIdLike, *, parameter: str = "dialog_id") -> None:
        kind, number = _split(value, parameter)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_number", number)

    @classmethod
    def parse(cls, value: DialogIdLike, *, parameter: str = "dialog_id") -> DialogId:
        """Check ``value`` (``"chat29"``, ``"sg12"``, ``"crm7"``, ``"256"``, ``256`` or a
        ``DialogId``) and return it as a ``DialogId``; raise :class:`InvalidDialogIdError` naming
        ``parameter`` otherwise."""
        if isinstance(value, DialogId):
            return value
        return cls(value, parameter=parameter)

    @classmethod
    def chat(cls, chat_id: int) -> DialogId:
        """The dialog of chat ``chat_id`` (``chat{chat_id}``)."""
        return cls(f"chat{_positive(chat_id, 'chat_id')}")

    @classmethod
    def user(cls, user_id: int) -> DialogId:
        """The private dialog with user ``user_id`` (the wire form is the bare number)."""
        return cls(_positive(user_id, "user_id"))

    @property
    def kind(self) -> DialogKind:
        """``"user"``, ``"chat"``, ``"sg"`` (workgroup chat) or ``"crm"``."""
        return self._kind

    @property
    def number(self) -> int:
        """The numeric part: the user id, chat id, workgroup id or CRM chat id."""
        return self._number

    @property
    def chat_id(self) -> int | None:
        """The chat id when this names a chat (``chatNNN``), else ``None``."""
        return self._number if self._kind == "chat" else None

    @property
    def user_id(self) -> int | None:
        """The user id when this names a private dialog, else ``None``."""
        return self._number if self._kind == "user" else None

    def __str__(self) -> str:
        return str(self._number) if self._kind == "user" else f"{self._kind}{self._number}"

    def __repr__(self) -> str:
        return f"DialogId({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DialogId):
            return self._kind == other._kind and self._number == other._number
        return NotImplemented

    def __hash__(self) -> int:
        return hash((DialogId, self._kind, self._number))

    def __setattr__(self, name: str, value: object) -> None:
        msg = "DialogId is immutable"
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[object, ...]:
        return (DialogId, (str(self),))


DialogIdLike: TypeAlias = "DialogId | str | int"
"""Anything :meth:`DialogId.parse` accepts."""


def wire_form(value: DialogIdLike, *, parameter: str = "dialog_id") -> str:
    """``str(DialogId.parse(value, parameter=parameter))``: the checked wire form.

    An id already in that form (``"chat29"``, ``"256"``, as most lookups pass them) is
    recognised by one match and returned as it is, without building a ``DialogId``.
    """
    if type(value) is str and _WIRE.fullmatch(value):
        return value
    return str(DialogId.parse(value, parameter=parameter))


def _positive(value: object, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{parameter} must be a positive int, not {type(value).__name__}"
        raise InvalidDialogIdError(msg, value=value)
    if value <= 0:
        msg = f"{parameter} must be a positive int, got {value}"
        raise InvalidDialogIdError(msg, value=value)
    return value


def _split(value: object, parameter: str) -> tuple[DialogKind, int]:
    if isinstance(value, DialogId):
        return value.kind, value.number
    if isinstance(value, bool) or not isinstance(value, str | int):
        msg = (
            f"{parameter} must be a dialog id such as 'chat29', 'sg12', 'crm7' or a user id "
            f"256, not {type(value).__name__}"
        )
        raise InvalidDialogIdError(msg, value=value)
    if isinstance(value, int):
        return "user", _positive(value, parameter)
    match = _FORM.fullmatch(value)
    if match is None:
        msg = (
            f"{parameter} {value!r} is not a dialog id: expected 'chatNNN', 'sgNNN', "
            f"'crmNNN' or a user id 'NNN'"
        )
        raise InvalidDialogIdError(msg, value=value)
    prefix, digits = match.groups()
    number = int(digits)
    if number <= 0:
        msg = f"{parameter} {value!r} names id 0; ids are positive"
        raise InvalidDialogIdError(msg, value=value)
    kind: DialogKind = _PREFIX[prefix.lower()] if prefix else "user"
    return kind, number
