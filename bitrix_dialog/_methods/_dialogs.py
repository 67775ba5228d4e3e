"""What each dialog method sends and how its answer decodes: one spec per REST method.

The typed client methods and bulk lookups share these specs, so a method's parameters
are checked and named the same way everywhere, before any request is sent::

    spec = DIALOG_METHODS["imbot.v2.Chat.get"]
    params = spec.params("chat5", bot_id=456, bot_token="secret")
    dialog = spec.decode(response.result)

The four methods differ only in parameter names and answer shape:

=========================  ======================================  ==================
method                     parameters                              result
=========================  ======================================  ==================
``im.dialog.get``          ``DIALOG_ID``                           the chat object
``imbot.dialog.get``       ``DIALOG_ID``                           the chat object
``imopenlines.dialog.get`` one of ``CHAT_ID``, ``DIALOG_ID``        the chat object
                           (``chatNNN``), ``SESSION_ID``,
                           ``USER_CODE``
``imbot.v2.Chat.get``      ``botId``, ``dialogId``, ``botToken``   ``{"chat": ...}``
                           (webhooks only)
=========================  ======================================  ==================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs

from .._decode._converter import V2_METHOD, decode_dialog
from .._errors import InvalidDialogIdError
from .._models import Dialog
from ._dialog_id import DialogId, DialogIdLike

__all__ = [
    "DIALOG_METHODS",
    "DialogMethod",
    "check_bot_id",
    "check_bot_token",
    "openlines_params",
]

# <connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>, optionally after "imol|".
_USER_CODE: Final = re.compile(r"(?:imol\|)?[^|\s]+\|[0-9]+\|[^|\s]+\|[^|\s]+", re.ASCII)


def _positive_int(value: object, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{parameter} must be a positive int, not {type(value).__name__}"
        raise TypeError(msg)
    if value <= 0:
        msg = f"{parameter} must be a positive int, got {value}"
        raise ValueError(msg)
    return value


def check_bot_id(bot_id: object, parameter: str = "bot_id") -> int:
    """A bot id: the bot's user id, a positive int."""
    return _positive_int(bot_id, parameter)


def check_bot_token(bot_token: object, parameter: str = "bot_token") -> str:
    """A bot token (the ``botToken`` given at registration): a non-empty string."""
    if not isinstance(bot_token, str):
        msg = f"{parameter} must be a str, not {type(bot_token).__name__}"
        raise TypeError(msg)
    if not bot_token.strip() or bot_token != bot_token.strip():
        msg = f"{parameter} must be a non-empty string without surrounding whitespace"
        raise ValueError(msg)
    return bot_token


def _openlines_dialog_id(value: DialogIdLike) -> str:
    dialog_id = DialogId.parse(value)
    if dialog_id.kind != "chat":
        msg = (
            f"dialog_id {str(dialog_id)!r}: imopenlines.dialog.get takes only the chat form "
            f"'chatNNN' (an open line's chat); use im.dialog.get for other dialogs"
        )
        raise InvalidDialogIdError(msg, value=value)
    return str(dialog_id)


def _user_code(value: object) -> str:
    if not isinstance(value, str):
        msg = f"user_code must be a str, not {type(value).__name__}"
        raise TypeError(msg)
    if not _USER_CODE.fullmatch(value):
        msg = (
            f"user_code {value!r} is not an open-line user code "
            f"'connector|LINE_ID|CHAT_ID|USER_ID' (e.g. 'livechat|1|1373|211', "
            f"optionally prefixed 'imol|')"
        )
        raise ValueError(msg)
    return value


def openlines_params(
    *,
    chat_id: int | None = None,
    dialog_id: DialogIdLike | None = None,
    session_id: int | None = None,
    user_code: str | None = None,
) -> dict[str, Any]:
    """The parameters of ``imopenlines.dialog.get``: exactly one way to name the chat.

    ``dialog_id`` must be the chat form (``chatNNN``); ``user_code`` may carry the
    ``imol|`` prefix CRM stores (the portal strips it).
    """
    given = {
        name: value
        for name, value in (
            ("chat_id", chat_id),
            ("dialog_id", dialog_id),
            ("session_id", session_id),
            ("user_code", user_code),
        )
        if value is not None
    }
    if len(given) != 1:
        named = ", ".join(given) or "none"
        msg = (
            "imopenlines.dialog.get needs exactly one of chat_id, dialog_id, session_id, "
            f"user_code (got {named})"
        )
        raise ValueError(msg)
    if chat_id is not None:
        return {"CHAT_ID": _positive_int(chat_id, "chat_id")}
    if dialog_id is not None:
        return {"DIALOG_ID": _openlines_dialog_id(dialog_id)}
    if session_id is not None:
        return {"SESSION_ID": _positive_int(session_id, "session_id")}
    return {"USER_CODE": _user_code(user_code)}


def _no_bot(method: str, bot_id: object, bot_token: object) -> None:
    if bot_id is not None or bot_token is not None:
        msg = f"{method} takes no bot credentials (bot_id/bot_token are for {V2_METHOD})"
        raise ValueError(msg)


def _dialog_params(
    method: str, dialog_id: DialogIdLike, bot_id: int | None, bot_token: str | None
) -> dict[str, Any]:
    _no_bot(method, bot_id, bot_token)
    return {"DIALOG_ID": str(DialogId.parse(dialog_id))}


def _openlines_by_dialog(
    method: str, dialog_id: DialogIdLike, bot_id: int | None, bot_token: str | None
) -> dict[str, Any]:
    _no_bot(method, bot_id, bot_token)
    return openlines_params(dialog_id=dialog_id)


def _v2_params(
    method: str, dialog_id: DialogIdLike, bot_id: int | None, bot_token: str | None
) -> dict[str, Any]:
    if bot_id is None:
        msg = f"{method} needs bot_id (pass it to the call or to Client(bot_id=...))"
        raise ValueError(msg)
    params: dict[str, Any] = {
        "botId": check_bot_id(bot_id),
        "dialogId": str(DialogId.parse(dialog_id)),
    }
    if bot_token is not None:
        params["botToken"] = check_bot_token(bot_token)
    return params


ParamsBuilder = Callable[[str, DialogIdLike, "int | None", "str | None"], dict[str, Any]]


@attrs.frozen
class DialogMethod:
    """One dialog method: its exact REST name, its parameters and its decoder."""

    name: str
    """The REST name exactly as documented (``imbot.v2.Chat.get`` is case-sensitive)."""
    _build: ParamsBuilder = attrs.field(repr=False, alias="build")

    def params(
        self,
        dialog_id: DialogIdLike,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The request parameters for ``dialog_id``, checked before anything is sent.

        Raises ``ValueError``/``TypeError`` (``InvalidDialogIdError`` for the id) naming the bad
        parameter. ``bot_id``/``bot_token`` are for ``imbot.v2.Chat.get`` only.
        """
        return self._build(self.name, dialog_id, bot_id, bot_token)

    def decode(self, result: object, body: bytes | None = None) -> Dialog:
        """The :class:`Dialog` in this method's ``result``; ``ModelDecodeError`` if it does
        not fit (keeping ``result`` and the raw ``body``)."""
        return decode_dialog(result, method=self.name, body=body)


class _MethodTable(Mapping[str, DialogMethod]):
    """The specs by REST name. Lookups ignore case (``imbot.v2.chat.get`` finds
    ``imbot.v2.Chat.get``); iteration yields each method once, by its exact name."""

    def __init__(self, methods: tuple[DialogMethod, ...]) -> None:
        self._methods = {method.name: method for method in methods}
        self._folded = {method.name.lower(): method for method in methods}

    def __getitem__(self, name: str) -> DialogMethod:
        found = self._methods.get(name) or self._folded.get(name.lower())
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._methods)

    def __len__(self) -> int:
        return len(self._methods)

    def __repr__(self) -> str:
        return f"DIALOG_METHODS({list(self._methods)!r})"


DIALOG_METHODS: Final[Mapping[str, DialogMethod]] = _MethodTable(
    (
        DialogMethod("im.dialog.get", build=_dialog_params),
        DialogMethod("imbot.dialog.get", build=_dialog_params),
        DialogMethod("imopenlines.dialog.get", build=_openlines_by_dialog),
        DialogMethod(V2_METHOD, build=_v2_params),
    )
)
"""The four dialog methods by REST name (see :class:`DialogMethod`)."""
