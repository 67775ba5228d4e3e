"""The one cattrs converter that turns dialog payloads into :class:`Dialog` and back to JSON.

    dialog = decode_dialog(response.result, method="im.dialog.get")
    chat = structure_dialog(result, style="camel", wrapper="chat", method="imbot.v2.Chat.get")
    print(json.dumps(dialog_to_json(dialog)))

Everything about the wire lives in the converter, not on the models:

- **field hooks** (:mod:`._normalize`), registered here by field type: numeric strings
  to ``int``, ISO/ATOM dates to aware ``datetime``, ``""``/``null`` to ``None``,
  ``"Y"``/``"N"`` to ``bool``, documented codes to enum members;
- **model hooks** (:mod:`._hooks`), generated once at import by cattrs'
  ``make_dict_structure_fn`` with ``override(rename=...)`` for each naming style:
  snake_case for ``im``/``imbot``/``imopenlines``, camelCase for ``imbot.v2``; the
  snake_case ones are registered on the converter, so ``converter.structure(payload,
  Dialog)`` reads a classic answer;
- **errors**: a payload that does not fit raises :class:`ModelDecodeError` naming the
  failing value's wire path (:mod:`._paths`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final

import cattrs

from .._errors import ModelDecodeError
from .._models import ChatType, Dialog, MessageType, Role
from . import _normalize as n
from ._hooks import MODELS, ModelHook, Style, model_hooks
from ._paths import join, locate

__all__ = [
    "V2_METHOD",
    "decode_dialog",
    "dialog_to_json",
    "make_converter",
    "structure_dialog",
]

V2_METHOD: Final = "imbot.v2.Chat.get"
"""The one dialog method that answers in camelCase, wrapped as ``result.chat``."""
_V2_FOLDED: Final = V2_METHOD.lower()


def make_converter() -> cattrs.Converter:
    """Build the converter: the field hooks, the model hooks, JSON-ready unstructuring.

    The field hooks are registered by type (``int | None`` -> :func:`._normalize.optional_int`
    ...), so cattrs' generated model functions pick them up; the snake_case model hooks
    are registered for the model classes.
    """
    converter = cattrs.Converter(
        unstruct_collection_overrides={tuple: list},  # JSON has lists, not tuples
    )
    converter.register_structure_hook(int, n.required_int)
    for kind, hook in (
        (int | None, n.optional_int),
        (str | None, n.optional_str),
        (bool | None, n.optional_bool),
        (datetime | None, n.optional_datetime),
        (int | str | None, n.int_or_str),
        (tuple[int, ...] | None, n.int_list),
        (ChatType | str | None, n.enum_or_str(ChatType)),
        (MessageType | str | None, n.enum_or_str(MessageType)),
        (Role | str | None, n.enum_or_str(Role)),
    ):
        converter.register_structure_hook_func(_is(kind), hook)
    for model, model_hook in model_hooks(converter, "snake").items():
        converter.register_structure_hook(model, model_hook)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Enum), lambda e: e.value
    )
    return converter


def _is(kind: object) -> Callable[[Any], bool]:
    return lambda t: t == kind


_CONVERTER: Final = make_converter()
_HOOKS: Final[Mapping[Style, Mapping[type, ModelHook]]] = {
    "snake": {model: _CONVERTER.get_structure_hook(model) for model in MODELS},
    "camel": model_hooks(_CONVERTER, "camel"),
}


def structure_dialog(
    payload: object,
    *,
    method: str,
    style: Style = "snake",
    wrapper: str | None = None,
    body: bytes | None = None,
) -> Dialog:
    """Structure a dialog method's ``result`` into a :class:`Dialog`.

    ``style`` is the method's naming style; ``wrapper`` the key of ``result`` holding the
    chat object (``"chat"`` for ``imbot.v2``), whose sibling keys then land, as sent, in
    ``Dialog.result_extra``. A payload that does not fit raises :class:`ModelDecodeError`
    naming ``method`` and the failing field's wire path (``readed_list[0].date``,
    ``chat.dateCreate``), keeping ``payload`` and the raw ``body``.
    """
    chat, siblings, prefix = payload, None, []
    if wrapper is not None:
        if type(payload) is not dict:
            reason = f"expected an object with {wrapper!r}"
            raise _decode_error(method, "", reason, payload, body)
        chat = payload.get(wrapper)
        if type(chat) is not dict:
            reason = (
                "missing" if wrapper not in payload else f"expected an object, got {chat!r:.40}"
            )
            raise _decode_error(method, wrapper, reason, payload, body)
        if len(payload) > 1:
            siblings = {key: value for key, value in payload.items() if key != wrapper}
        prefix = [wrapper]
    try:
        dialog: Dialog = _HOOKS[style][Dialog](chat, Dialog, siblings)
    except Exception as error:  # a hook's refusal, whatever its type: located below
        parts, reason = locate(error, chat, style)
        raise _decode_error(method, join([*prefix, *parts]), reason, payload, body) from None
    return dialog


def decode_dialog(payload: object, *, method: str, body: bytes | None = None) -> Dialog:
    """Decode the ``result`` of a dialog method into a :class:`Dialog`.

    ``payload`` is the decoded ``result``: the chat object for ``im.dialog.get``,
    ``imbot.dialog.get`` and ``imopenlines.dialog.get``, and ``{"chat": {...}, ...}`` for
    ``imbot.v2.Chat.get`` (its other keys land in ``Dialog.result_extra``). A payload that
    does not fit raises :class:`ModelDecodeError` naming ``method``, the failing field's
    wire path (``readed_list[0].date``, ``chat.dateCreate``) and keeping ``payload`` and
    the raw ``body``.
    """
    if method.lower() == _V2_FOLDED:
        return structure_dialog(payload, method=method, style="camel", wrapper="chat", body=body)
    return structure_dialog(payload, method=method, body=body)


def _decode_error(
    method: str, path: str, reason: str, payload: object, body: bytes | None
) -> ModelDecodeError:
    where = f" at {path}" if path else ""
    return ModelDecodeError(
        f"the result does not fit a dialog{where}: {reason}",
        path=path,
        payload=payload,
        method=method,
        body=body,
    )


def dialog_to_json(dialog: Dialog) -> dict[str, Any]:
    """``dialog`` as a JSON-ready dict: Python field names, dates as ISO strings, enum
    members as their wire values, lists for tuples, ``extra`` and ``result_extra`` kept."""
    return _CONVERTER.unstructure(dialog)  # type: ignore[no-any-return]
