"""The one cattrs converter that turns dialog payloads into :class:`Dialog` and back to JSON.

    dialog = structure(Dialog, response.result, style="snake")
    stored = json.dumps(dialog_to_json(dialog))
    assert dialog_from_json(json.loads(stored)) == dialog

Which type and style a method's answer has is the method spec's business
(:mod:`bitrix_dialog._methods`); :mod:`._result` unwraps the answer and calls here.
Everything about the wire lives in the converter, not on the models:

- **field hooks** (:mod:`._normalize`), registered here by field type: numeric strings
  to ``int``, ISO/ATOM dates to aware ``datetime``, ``""``/``null`` to ``None``,
  ``"Y"``/``"N"`` to ``bool``, documented codes to enum members;
- **model hooks** (:mod:`._hooks`), generated once at import by cattrs'
  ``make_dict_structure_fn`` with ``override(rename=...)`` for each naming style:
  snake_case for ``im``/``imbot``/``imopenlines``, camelCase for ``imbot.v2``; unknown
  keys kept in ``extra``, the flat era's ``title`` read as ``name``. The snake_case ones
  are registered on the converter, so ``converter.structure(payload, Dialog)`` reads a
  classic answer;
- **the way back**: :func:`dialog_to_json` unstructures with the models' own names,
  and :func:`dialog_from_json` structures that with the model hooks of the ``"python"``
  naming, generated on this same converter (what the Redis dialog cache reads with);
- **errors**: a value that does not fit raises :class:`StructureError` with the failing
  value's wire path (:mod:`._paths`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final, TypeVar

import cattrs

from .._models import ChatType, Dialog, MessageType, Role
from . import _normalize as n
from ._hooks import MODELS, ModelHook, Style, model_hooks
from ._paths import join, locate

__all__ = [
    "StructureError",
    "Style",
    "dialog_from_json",
    "dialog_to_json",
    "make_converter",
    "structure",
]

T = TypeVar("T")


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
        (Mapping[str, Any] | None, n.optional_object),
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
_FROM_JSON: Final = model_hooks(_CONVERTER, "python")[Dialog]


class StructureError(ValueError):
    """A value that does not fit the type it is structured into: ``path`` is the wire
    path of the failing field inside that value (``readed_list[0].date``; ``""`` for the
    value itself), ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


def structure(
    kind: type[T], value: object, *, style: Style, result_extra: Mapping[str, Any] | None = None
) -> T:
    """``value`` as ``kind``: one of the models, read in naming ``style``, or a scalar
    (``int``: an int or a numeric string). ``result_extra`` fills ``Dialog.result_extra``
    (the keys beside a wrapped result). Raises :class:`StructureError` naming the failing
    field's wire path; ``value`` is left untouched either way.
    """
    hook = _HOOKS[style].get(kind)
    if hook is None:
        try:
            return _CONVERTER.structure(value, kind)
        except Exception as error:
            raise StructureError("", str(error) or type(error).__name__) from None
    try:
        structured: T = hook(value, kind, result_extra) if kind is Dialog else hook(value, kind)
    except Exception as error:  # a hook's refusal, whatever its type: located below
        parts, reason = locate(error, value, style)
        raise StructureError(join(parts), reason) from None
    return structured


def dialog_to_json(dialog: Dialog) -> dict[str, Any]:
    """``dialog`` as a JSON-ready dict: Python field names, dates as ISO strings, enum
    members as their wire values, lists for tuples, ``extra`` and ``result_extra`` kept."""
    return _CONVERTER.unstructure(dialog)  # type: ignore[no-any-return]


def dialog_from_json(data: object) -> Dialog:
    """The :class:`Dialog` that :func:`dialog_to_json` wrote ``data`` from (equal to it).

    Raises ``ValueError`` when ``data`` is not such a mapping.
    """
    try:
        dialog: Dialog = _FROM_JSON(data, Dialog)
    except Exception as error:
        msg = f"not a dialog written by dialog_to_json ({type(error).__name__})"
        raise ValueError(msg) from None
    return dialog
