"""Open lines in the fake portal: ``imopenlines.dialog.get`` and open-line chats.

Modelled on ``Bitrix\\ImOpenLines\\Rest::dialogGet``: keys are upper-cased, then the chat
is found from the first parameter present, in this order:

1. ``CHAT_ID`` (an int);
2. ``DIALOG_ID``, only in the ``chatNNN`` form (any other form finds nothing);
3. ``SESSION_ID``: the chat holding that open-line session;
4. ``USER_CODE``: the ``LINES`` chat whose ``entity_id`` is the code, after a leading
   ``imol|`` (the form CRM stores) is stripped.

Nothing found, no access, or no parameter at all: ``ACCESS_ERROR`` "You do not have access
to the specified dialog", HTTP 400. The answer's ``dialog_id`` is always ``chat<ID>``
(``null`` in the 2020 generation, as its docs example shows).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ._chats import FakeChat
from ._errors import PortalError
from ._render import render_dialog

if TYPE_CHECKING:
    from ._portal import CallContext, FakePortal

__all__ = ["add_openline_chat", "openlines_dialog_get"]

_CHAT_FORM: Final = re.compile(r"chat([0-9]+)")
_IMOL: Final = "imol|"


def _access_error() -> PortalError:
    return PortalError("ACCESS_ERROR", "You do not have access to the specified dialog", status=400)


def _as_int(value: object) -> int:
    """PHP ``(int)``: leading digits of a string, 0 for anything unreadable."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    match = re.match(r"\s*([+-]?[0-9]+)", str(value)) if isinstance(value, str) else None
    return int(match.group(1)) if match else 0


def find_openline_chat(portal: FakePortal, context: CallContext) -> FakeChat | None:
    """The chat ``Rest::getChatId`` resolves the call's parameters to, or ``None``."""
    if (raw := context.param("CHAT_ID")) is not None:
        return portal.chats.get(_as_int(raw))
    if (raw := context.param("DIALOG_ID")) is not None:
        match = _CHAT_FORM.fullmatch(str(raw))
        return portal.chats.get(int(match.group(1))) if match else None
    if (raw := context.param("SESSION_ID")) is not None:
        session = _as_int(raw)
        return next((c for c in portal.chats.values() if session in c.session_ids), None)
    if (raw := context.param("USER_CODE")) is not None:
        code = str(raw).removeprefix(_IMOL)
        return next(
            (c for c in portal.chats.values() if c.entity_type == "LINES" and c.entity_id == code),
            None,
        )
    return None


async def openlines_dialog_get(context: CallContext) -> Any:
    """``imopenlines.dialog.get``."""
    portal = context.portal
    chat = find_openline_chat(portal, context)
    if chat is None or not chat.readable_by(context.caller.user_id):
        raise _access_error()
    style = portal.payload_style
    return render_dialog(
        chat,
        style,
        dialog_id=chat.dialog_id,
        viewer_id=context.caller.user_id,
        domain=portal.domain,
    )


def add_openline_chat(
    portal: FakePortal,
    user_code: str,
    *,
    session_ids: tuple[int, ...] = (),
    operator_id: int | None = None,
    name: str = "Guest - Open Line",
    **fields: Any,
) -> FakeChat:
    """Seed the chat of an open-line conversation with the client ``user_code``
    (``connector|LINE_ID|CHAT_ID|USER_ID``), as the open-lines module creates it."""
    code = user_code.removeprefix(_IMOL)
    session = session_ids[-1] if session_ids else 0
    started = fields.get("date_create", datetime.fromisoformat("2020-05-12T17:40:55+02:00"))
    defaults: dict[str, Any] = {
        "name": name,
        "type": "lines",
        "message_type": "L",
        "color": "#4ba984",
        "description": None,
        "entity_type": "LINES",
        "entity_id": code,
        # LINES_SESSION: answered|crm type|crm id|pinned|silent|session|started|...
        "entity_data_1": f"N|NONE|0|N|N|{session}|{int(started.timestamp())}|0|0|0",
        "owner": operator_id or 0,
        "managers": (operator_id,) if operator_id else (),
        "session_ids": session_ids,
    }
    return portal.add_chat(**{**defaults, **fields})
