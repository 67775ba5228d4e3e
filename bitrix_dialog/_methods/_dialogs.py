"""The four dialog methods as specs: a dialog named one way or another in, a ``Dialog`` out.

=========================  ======================================  ==================
method                     parameters                              result
=========================  ======================================  ==================
``im.dialog.get``          ``DIALOG_ID``                           the chat object
``imbot.dialog.get``       ``DIALOG_ID``                           the chat object
``imopenlines.dialog.get`` one of ``CHAT_ID``, ``DIALOG_ID``        the chat object
                           (``chatNNN``), ``SESSION_ID``,
                           ``USER_CODE``
``imbot.v2.Chat.get``      ``botId``, ``dialogId``, ``botToken``   ``{"chat": ...}``,
                           (webhooks only)                         camelCase
=========================  ======================================  ==================

``imbot.dialog.get`` is served by the same portal handler as ``im.dialog.get``
(``CIMRestService::dialogGet``), which reads no bot credentials.
"""

from __future__ import annotations

from typing import Any, Final

from .._errors import InvalidDialogIdError
from .._models import Dialog
from . import _checks as check
from ._dialog_id import DialogId, DialogIdLike, wire_form
from ._spec import MethodSpec, MethodTable, Params, method_spec

__all__ = [
    "DIALOG_METHODS",
    "IMBOT_DIALOG_GET",
    "IMBOT_V2_CHAT_GET",
    "IMOPENLINES_DIALOG_GET",
    "IM_DIALOG_GET",
    "decode_dialog",
]


def dialog_get(dialog_id: DialogIdLike) -> Params:
    """The dialog ``dialog_id`` (``"chat29"``, ``"sg12"``, ``"crm7"``, a user id, or a
    ``DialogId``) as the calling user sees it."""
    return {"DIALOG_ID": wire_form(dialog_id)}


def _openlines_dialog_id(value: DialogIdLike) -> str:
    dialog_id = DialogId.parse(value)
    if dialog_id.kind != "chat":
        msg = (
            f"dialog_id {str(dialog_id)!r}: imopenlines.dialog.get takes only the chat form "
            f"'chatNNN' (an open line's chat); use im.dialog.get for other dialogs"
        )
        raise InvalidDialogIdError(msg, value=value)
    return str(dialog_id)


def openlines_dialog_get(
    *,
    chat_id: int | None = None,
    dialog_id: DialogIdLike | None = None,
    session_id: int | None = None,
    user_code: str | None = None,
) -> Params:
    """The open-line dialog named by exactly one of ``chat_id``, ``dialog_id``
    (``chatNNN`` only), ``session_id`` or ``user_code`` (``livechat|1|1373|211``,
    optionally ``imol|``-prefixed, the form CRM stores; the portal strips it)."""
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
        return {"CHAT_ID": check.positive_int(chat_id, "chat_id")}
    if dialog_id is not None:
        return {"DIALOG_ID": _openlines_dialog_id(dialog_id)}
    if session_id is not None:
        return {"SESSION_ID": check.positive_int(session_id, "session_id")}
    return {"USER_CODE": check.user_code(user_code)}


def v2_chat_get(
    dialog_id: DialogIdLike, *, bot_id: int | None = None, bot_token: str | None = None
) -> Params:
    """The chat ``dialog_id`` as the bot ``bot_id`` sees it (the bot must be a member,
    except of open chats). ``bot_token`` is needed when calling through a webhook.

    Both default to the ``bot_id``/``bot_token`` given to the client.
    """
    if bot_id is None:
        msg = "imbot.v2.Chat.get needs bot_id (pass it to the call or to Client(bot_id=...))"
        raise ValueError(msg)
    params: Params = {
        "botId": check.bot_id(bot_id),
        "dialogId": wire_form(dialog_id),
    }
    if bot_token is not None:
        params["botToken"] = check.bot_token(bot_token)
    return params


IM_DIALOG_GET: Final = method_spec("im.dialog.get", dialog_get, Dialog, dialog_key="dialog_id")
IMBOT_DIALOG_GET: Final = method_spec(
    "imbot.dialog.get", dialog_get, Dialog, dialog_key="dialog_id"
)
IMOPENLINES_DIALOG_GET: Final = method_spec(
    "imopenlines.dialog.get", openlines_dialog_get, Dialog, dialog_key="dialog_id"
)
IMBOT_V2_CHAT_GET: Final = method_spec(
    "imbot.v2.Chat.get",
    v2_chat_get,
    Dialog,
    style="camel",
    wrap="chat",
    acts_as_bot=True,
    dialog_key="dialog_id",
)

DIALOG_METHODS: Final = MethodTable(
    (IM_DIALOG_GET, IMBOT_DIALOG_GET, IMOPENLINES_DIALOG_GET, IMBOT_V2_CHAT_GET)
)
"""The dialog methods by REST name, case-insensitively."""


def decode_dialog(payload: object, *, method: str, body: bytes | None = None) -> Dialog:
    """Decode the ``result`` of a dialog method into a :class:`Dialog`.

    ``payload`` is the decoded ``result``: the chat object for ``im.dialog.get``,
    ``imbot.dialog.get`` and ``imopenlines.dialog.get`` (and any other method named,
    such as ``im.chat.get`` with ``DIALOG_ID``), and ``{"chat": {...}, ...}`` for
    ``imbot.v2.Chat.get`` in any letter case (its other keys land in
    ``Dialog.result_extra``). A payload that does not fit raises
    :class:`ModelDecodeError` naming the method, the failing field's wire path
    (``readed_list[0].date``, ``chat.dateCreate``) and keeping ``payload`` and the raw
    ``body``.
    """
    spec: MethodSpec[..., Any] | None = DIALOG_METHODS.get(method)
    if spec is None:
        if not isinstance(method, str):
            msg = f"method must be a str, not {type(method).__name__}"
            raise TypeError(msg)
        spec = method_spec(method, dialog_get, Dialog)
    dialog: Dialog = spec.decode(payload, body)
    return dialog
