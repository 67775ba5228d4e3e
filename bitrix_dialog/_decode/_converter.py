"""The one cattrs converter that turns dialog payloads into :class:`Dialog` and back to JSON.

    dialog = structure(Dialog, response.result, style="snake")
    print(json.dumps(dialog_to_json(dialog)))

Which type and style a method's answer has is the method spec's business
(:mod:`bitrix_dialog._methods`); :mod:`._result` unwraps the answer and calls here.

Everything about the wire lives here and in :mod:`._normalize`, not on the models:

- **renames**: Python names are English (``readers`` for ``readed_list``); the classic
  methods send snake_case and ``imbot.v2`` camelCase, so each model gets two structure
  functions, one per naming style; the flat-era ``title`` is read as ``name``;
- **normalisation**: numeric strings to ``int``, ISO/ATOM dates to aware ``datetime``,
  ``""``/``null`` to ``None``, ``"Y"``/``"N"`` to ``bool``, ``lastMessageViews`` as an
  object, ``[]`` or a JSON string;
- **nothing lost**: every key a model does not know is kept, as sent, in its ``extra``.

The converter holds the normalising hook of every field type; from those it builds, once,
at import, a compiled structure function per model and naming style
(:mod:`._structure`, which says why they are compiled rather than cattrs-generated).
Only when one fails are the fields walked again, slowly, to name the failing field's
wire path in the :class:`ModelDecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Final, Literal, TypeAlias, TypeVar, Union, get_args, get_origin

import attrs
import cattrs

from .._models import (
    ChatType,
    Dialog,
    EntityLink,
    LastMessageViews,
    MessageType,
    Permissions,
    PublicLink,
    Reader,
    Restrictions,
    Role,
    Viewer,
)
from . import _normalize as n
from ._structure import FieldSpec, Kind, ModelSpec, compile_model, locate

__all__ = ["StructureError", "Style", "dialog_to_json", "make_converter", "structure"]

Style: TypeAlias = Literal["snake", "camel"]
"""A payload's naming style: the classic methods' snake_case or ``imbot.v2``'s camelCase."""
T = TypeVar("T")
Structure: TypeAlias = Callable[[Any], Any]

# Dependency order: a model comes after the models it contains.
_MODELS: Final[tuple[type, ...]] = (
    Viewer,
    LastMessageViews,
    Reader,
    Restrictions,
    Permissions,
    EntityLink,
    PublicLink,
    Dialog,
)
# Python name -> snake_case wire name, where they differ; the camelCase name is derived.
_RENAMES: Final[Mapping[type, Mapping[str, str]]] = {
    Dialog: {
        "readers": "readed_list",
        "manager_ids": "manager_list",
        "muted_user_ids": "mute_list",
    },
}
# Older wire names still read: the flat (≈2017) payload says ``title`` for ``name``.
_ALIASES: Final[Mapping[type, Mapping[str, str]]] = {Dialog: {"title": "name"}}
_UNMAPPED: Final = frozenset({"extra", "result_extra"})
# The common wire form of a scalar field type, stored without calling its hook.
_COMMON_FORM: Final[Mapping[Any, str]] = {
    int: "int",
    int | None: "int",
    str | None: "str",
    bool | None: "bool",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(model: type, attribute: str, style: Style) -> str:
    """The key ``attribute`` of ``model`` has on the wire in ``style``."""
    snake = _RENAMES.get(model, {}).get(attribute, attribute)
    return snake if style == "snake" else _camel(snake)


def make_converter() -> cattrs.Converter:
    """Build the converter: the scalar hooks, and JSON-ready unstructuring for the CLI.

    The converter knows how to structure each field type of the models; the per-style
    structure functions are built from it by :func:`_build`.
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
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Enum), lambda e: e.value
    )
    return converter


def _is(kind: object) -> Callable[[Any], bool]:
    return lambda t: t == kind


def _optional_model(t: Any) -> type | None:
    """``X`` when ``t`` is ``X | None`` for one of our models, else ``None``."""
    if get_origin(t) in (Union, UnionType):
        args = [a for a in get_args(t) if a is not NoneType]
        if len(args) == 1 and args[0] in _MODELS:
            return args[0]  # type: ignore[no-any-return]
    return None


def _tuple_model(t: Any) -> type | None:
    """``X`` when ``t`` is ``tuple[X, ...]`` or ``tuple[X, ...] | None`` for a model."""
    if get_origin(t) in (Union, UnionType):
        args = [a for a in get_args(t) if a is not NoneType]
        if len(args) != 1:
            return None
        t = args[0]
    if get_origin(t) is tuple:
        args = list(get_args(t))
        if len(args) == 2 and args[1] is Ellipsis and args[0] in _MODELS:
            return args[0]  # type: ignore[no-any-return]
    return None


def _nested_hook(model: type, structure: Structure) -> Callable[[Any, object], Any]:
    """``model | None``: an object, or nothing (``null``, ``""``, ``[]``, ``{}``).

    ``last_message_views`` may also be a JSON string (``imbot.v2``)."""
    if model is LastMessageViews:

        def structure_views(value: Any, _: object = None) -> Any:
            found = n.json_object(value)
            return None if found is None else structure(found)

        return structure_views

    def structure_nested(value: Any, _: object = None) -> Any:
        if type(value) is dict:
            return structure(value) if value else None
        if value is None or value in ("", []):
            return None
        msg = f"expected an object, got {type(value).__name__}"
        raise n.WireError(msg)

    return structure_nested


def _tuple_hook(model: type, structure: Structure, *, optional: bool) -> Callable[..., Any]:
    """``tuple[model, ...]``: a list of objects (or a PHP keyed object of them).

    ``first_viewers`` items may be bare user ids (as the docs' TypeScript type says).
    A failing item is located later by :func:`._structure.locate`."""

    def one(item: Any) -> Any:
        if type(item) is dict:
            return structure(item)
        if model is Viewer:
            return Viewer(user_id=n.required_int(item))
        msg = f"expected an object, got {type(item).__name__}"
        raise n.WireError(msg)

    def structure_items(value: Any, _: object = None) -> Any:
        if type(value) is dict:
            value = list(value.values())
        if type(value) is list:
            return tuple([structure(i) if type(i) is dict else one(i) for i in value])
        if value is None or value == "":
            return None if optional else ()
        msg = f"expected a list, got {type(value).__name__}"
        raise n.WireError(msg)

    return structure_items


def _members(t: Any) -> Mapping[str, Enum] | None:
    """For ``SomeEnum | str | None``: the members of ``SomeEnum`` by wire value."""
    for arg in get_args(t):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return {str(member.value): member for member in arg}
    return None


def _as_hook(structure: Structure) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _: Any) -> Any:
        return structure(value)

    return hook


def _build(converter: cattrs.Converter, style: Style) -> dict[type, ModelSpec]:
    """The field specs and compiled structure function of every model in ``style``."""
    specs: dict[type, ModelSpec] = {}
    compiled: dict[type, Structure] = {}
    for model in _MODELS:
        attrs.resolve_types(model)
        aliases = {v: k for k, v in _ALIASES.get(model, {}).items()} if style == "snake" else {}
        fields: list[FieldSpec] = []
        for field in attrs.fields(model):
            if field.name in _UNMAPPED:
                continue
            nested, listed = _optional_model(field.type), _tuple_model(field.type)
            kind: Kind
            if nested is not None:
                kind, hook = "model", _nested_hook(nested, compiled[nested])
            elif listed is not None:
                optional = field.default is None
                kind, hook = "models", _tuple_hook(listed, compiled[listed], optional=optional)
            else:
                kind, hook = "scalar", converter.get_structure_hook(field.type)
            fields.append(
                FieldSpec(
                    attr=field.name,
                    key=wire_name(model, field.name, style),
                    kind=kind,
                    hook=hook,
                    fast=_COMMON_FORM.get(field.type) if kind == "scalar" else None,
                    members=_members(field.type),
                    model=nested or listed,
                    required=field.default is attrs.NOTHING,
                    default=None if field.default is attrs.NOTHING else field.default,
                    alias=aliases.get(field.name),
                )
            )
        structure = compile_model(model, tuple(fields), compiled)
        compiled[model] = structure
        specs[model] = ModelSpec(model=model, fields=tuple(fields), structure=structure)
    return specs


_CONVERTER: Final = make_converter()
_SNAKE: Final = _build(_CONVERTER, "snake")
_CAMEL: Final = _build(_CONVERTER, "camel")
for _model, _spec in _SNAKE.items():  # converter.structure(payload, Dialog) reads snake_case
    _CONVERTER.register_structure_hook(_model, _as_hook(_spec.structure))


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
    specs = _SNAKE if style == "snake" else _CAMEL
    spec = specs.get(kind)
    if spec is None:
        try:
            return _CONVERTER.structure(value, kind)
        except Exception as error:
            raise StructureError("", str(error) or type(error).__name__) from None
    try:
        if kind is Dialog:
            structured: T = spec.structure(value, result_extra)
        else:
            structured = spec.structure(value)
    except Exception:
        parts, reason = locate(spec, value, specs)
        raise StructureError(_join(parts), reason) from None
    return structured


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        text += part if part.startswith("[") or not text else f".{part}"
    return text


def dialog_to_json(dialog: Dialog) -> dict[str, Any]:
    """``dialog`` as a JSON-ready dict: Python field names, dates as ISO strings, enum
    members as their wire values, lists for tuples, ``extra`` and ``result_extra`` kept."""
    return _CONVERTER.unstructure(dialog)  # type: ignore[no-any-return]
