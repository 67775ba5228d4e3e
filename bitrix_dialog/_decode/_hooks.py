"""The hook factory: one cattrs-generated structure function per model and naming style.

    hooks = model_hooks(converter, "camel")   # {Dialog: hook, Reader: hook, ...}
    dialog = hooks[Dialog](chat, Dialog)

The models say nothing about the wire; this module maps them onto it, so the rules sit
in one place and the models stay plain frozen attrs classes:

- **renames** are cattrs overrides (``override(rename="readed_list")``), one set per
  naming style: the classic methods send snake_case, ``imbot.v2`` camelCase;
- **field hooks** come from the converter (the normalisers of :mod:`._normalize`,
  registered by field type), except nested models, whose hooks are the same-style hooks
  built here first, wrapped to accept the empty forms PHP sends (``""``, ``[]``);
- **unknown keys** are kept: cattrs reads only the keys it knows, so before it runs,
  a payload with any other key is regrouped into the known keys plus one sentinel key
  carrying the rest, which the ``extra`` field is renamed to. A payload holding only
  known keys (most of them) goes to cattrs as it is, without a copy;
- **older names**: the flat era's ``title`` is read as ``name`` when ``name`` is absent
  (and kept in ``extra`` when both are sent);
- **the way back from JSON**: a third naming, ``"python"``, reads what
  ``dialog_to_json`` wrote (the attribute names, ``extra`` as it is) with the same field
  hooks, which accept every value that wrote.

The generated functions validate in cattrs' detailed mode, so a failure carries, per
field, the attribute that failed; :mod:`._paths` turns that into the wire path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import Any, Final, Literal, TypeAlias, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .._models import (
    Dialog,
    EntityLink,
    LastMessageViews,
    Permissions,
    PublicLink,
    Reader,
    Restrictions,
    V2Bot,
    V2Command,
    V2Message,
    V2User,
    Viewer,
)
from . import _normalize as n

__all__ = [
    "ALIASES",
    "EXTRA_KEY",
    "MODELS",
    "RESULT_EXTRA_KEY",
    "Hook",
    "ModelHook",
    "Naming",
    "Style",
    "model_hooks",
    "wire_name",
]

Style: TypeAlias = Literal["snake", "camel"]
"""A naming style of the wire: snake_case (``im``, ``imbot``), camelCase (``imbot.v2``)."""
Naming: TypeAlias = Literal["snake", "camel", "python"]
"""A wire :data:`Style`, or ``"python"``: the models' own attribute names, which
``dialog_to_json`` writes (unknown keys there are ignored, not kept in ``extra``)."""
Hook: TypeAlias = Callable[[Any, Any], Any]
ModelHook: TypeAlias = Callable[..., Any]
"""``(value, type, result_extra=None) -> model``: a model's structure hook."""

# Dependency order: a model comes after the models it contains.
MODELS: Final[tuple[type, ...]] = (
    Viewer,
    LastMessageViews,
    Reader,
    Restrictions,
    Permissions,
    EntityLink,
    PublicLink,
    Dialog,
    V2Bot,
    V2Message,
    V2User,
    V2Command,
)
# Python name -> snake_case wire name, where they differ; the camelCase name is derived.
_RENAMES: Final[Mapping[type, Mapping[str, str]]] = {
    Dialog: {
        "readers": "readed_list",
        "manager_ids": "manager_list",
        "muted_user_ids": "mute_list",
    },
}
ALIASES: Final[Mapping[type, Mapping[str, str]]] = {Dialog: {"title": "name"}}
"""Older snake_case wire names still read: alias -> the current wire name."""
# Keys no JSON answer of the portal uses; one sent anyway is unknown, so it lands in
# ``extra`` like any other unknown key, and the sentinel is then set over it.
EXTRA_KEY: Final = "bitrix_dialog:extra"  # printable: cattrs < 26.2 puts it in its code as is
RESULT_EXTRA_KEY: Final = "bitrix_dialog:result_extra"
_KEPT: Final = frozenset({"extra", "result_extra"})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(model: type, attribute: str, style: Naming) -> str:
    """The key ``attribute`` of ``model`` has on the wire in ``style``."""
    if style == "python":
        return attribute
    snake = _RENAMES.get(model, {}).get(attribute, attribute)
    return snake if style == "snake" else _camel(snake)


def _as_sent(value: Any, _: object) -> Any:
    return value


def _optional_model(t: Any) -> type | None:
    """``X`` when ``t`` is ``X | None`` for one of our models, else ``None``."""
    if get_origin(t) in (Union, UnionType):
        args = [a for a in get_args(t) if a is not NoneType]
        if len(args) == 1 and args[0] in MODELS:
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
        if len(args) == 2 and args[1] is Ellipsis and args[0] in MODELS:
            return args[0]  # type: ignore[no-any-return]
    return None


@attrs.frozen
class _Built:
    """A model's hook in one style, and what nested hooks need to skip its wrapper."""

    structure: ModelHook
    generated: Callable[[Any, Any], Any]
    """cattrs' function: takes only payloads whose keys are all in ``known``."""
    known: frozenset[str]


def _nested_hook(model: type, built: _Built) -> Hook:
    """``model | None``: an object, or nothing (``null``, ``""``, ``[]``, ``{}``).

    ``last_message_views`` may also be a JSON string (``imbot.v2``). The common case, an
    object of known keys, goes straight to cattrs' function."""
    structure, generated, known = built.structure, built.generated, built.known
    if model is LastMessageViews:

        def structure_views(value: Any, _: object) -> Any:
            found = n.json_object(value)
            return None if found is None else structure(found, model)

        return structure_views

    def structure_nested(value: Any, _: object) -> Any:
        if type(value) is dict:
            if not value:
                return None
            return generated(value, model) if known.issuperset(value) else structure(value)
        if value is None or value in ("", []):
            return None
        msg = f"expected an object, got {type(value).__name__}"
        raise n.WireError(msg)

    return structure_nested


def _tuple_hook(model: type, built: _Built, *, optional: bool) -> Hook:
    """``tuple[model, ...]``: a list of objects (or a PHP keyed object of them).

    ``first_viewers`` items may be bare user ids (as the docs' TypeScript type says).
    A failing item raises :class:`._normalize.ItemError` with its position."""
    structure, generated, known = built.structure, built.generated, built.known

    def one(item: Any) -> Any:
        if type(item) is dict:
            return structure(item, model)
        if model is Viewer:
            return Viewer(user_id=n.required_int(item))
        msg = f"expected an object, got {type(item).__name__}"
        raise n.WireError(msg)

    def structure_items(value: Any, _: object) -> Any:
        if type(value) is dict:
            value = list(value.values())
        if type(value) is list:
            try:
                return tuple(
                    [
                        generated(item, model)
                        if type(item) is dict and known.issuperset(item)
                        else one(item)
                        for item in value
                    ]
                )
            except Exception:  # find the item, on this failure path only
                for index, item in enumerate(value):
                    try:
                        one(item)
                    except Exception as error:
                        raise n.ItemError(index, error) from error
                raise  # pragma: no cover - an item failed once, it fails again
        if value is None or value == "":
            return None if optional else ()
        msg = f"expected a list, got {type(value).__name__}"
        raise n.WireError(msg)

    return structure_items


def _field_hook(field: attrs.Attribute[Any], built: Mapping[type, _Built]) -> Hook | None:
    """The hook of a nested-model field; ``None`` lets cattrs ask the converter."""
    nested = _optional_model(field.type)
    if nested is not None:
        return _nested_hook(nested, built[nested])
    listed = _tuple_model(field.type)
    if listed is not None:
        return _tuple_hook(listed, built[listed], optional=field.default is None)
    return None


def _model_hook(
    converter: cattrs.Converter, model: type, style: Naming, built: Mapping[type, _Built]
) -> _Built:
    """Generate ``model``'s structure function in ``style`` and wrap it for ``extra``."""
    attrs.resolve_types(model)
    overrides: dict[str, Any] = {}
    keys: list[str] = []
    for field in attrs.fields(model):
        if style == "python" and field.name in _KEPT:  # dialog_to_json wrote them as they are
            keys.append(field.name)
            overrides[field.name] = override(struct_hook=_as_sent)
        elif field.name == "extra":
            overrides["extra"] = override(rename=EXTRA_KEY, struct_hook=_as_sent)
        elif field.name == "result_extra":  # the keys beside a wrapped result (``imbot.v2``)
            overrides["result_extra"] = override(rename=RESULT_EXTRA_KEY, struct_hook=_as_sent)
        else:
            key = wire_name(model, field.name, style)
            keys.append(key)
            overrides[field.name] = override(rename=key, struct_hook=_field_hook(field, built))
    generated: Callable[[Any, Any], Any] = make_dict_structure_fn(
        model, converter, _cattrs_detailed_validation=True, **overrides
    )
    known = frozenset(keys)
    aliases = ALIASES.get(model, {}) if style == "snake" else {}

    def structure(value: Any, _: object = None, result_extra: Any = None) -> Any:
        if type(value) is not dict:
            msg = f"expected an object, got {type(value).__name__}"
            raise n.WireError(msg)
        if result_extra is None and known.issuperset(value):
            return generated(value, model)
        return generated(_regroup(value, known, aliases, result_extra), model)

    structure.__name__ = structure.__qualname__ = f"structure_{model.__name__}_{style}"
    return _Built(structure=structure, generated=generated, known=known)


def _regroup(
    value: dict[str, Any],
    known: frozenset[str],
    aliases: Mapping[str, str],
    result_extra: Any,
) -> dict[str, Any]:
    """``value``'s known keys, an alias under its current name, the rest under ``EXTRA_KEY``.

    The copy is made in C (``dict.copy``) and keeps the unknown keys too: cattrs reads only
    the known ones (and the sentinels, set or removed here), so only the few unknown keys
    are walked in Python."""
    shaped = value.copy()
    unknown = value.keys() - known
    if unknown:
        extra: dict[str, Any] = {}
        for key in value if len(unknown) > 1 else unknown:  # in the order sent
            if key not in unknown:
                continue
            if key in aliases and aliases[key] not in value:
                shaped[aliases[key]] = value[key]
            else:
                extra[key] = value[key]
        if extra:
            shaped[EXTRA_KEY] = extra
        else:
            shaped.pop(EXTRA_KEY, None)
    if result_extra:
        shaped[RESULT_EXTRA_KEY] = result_extra
    else:
        shaped.pop(RESULT_EXTRA_KEY, None)
    return shaped


def model_hooks(converter: cattrs.Converter, style: Naming) -> dict[type, ModelHook]:
    """The structure hook of every model in ``style``, built with ``converter``'s field hooks."""
    built: dict[type, _Built] = {}
    for model in MODELS:
        built[model] = _model_hook(converter, model, style, built)
    return {model: hook.structure for model, hook in built.items()}
