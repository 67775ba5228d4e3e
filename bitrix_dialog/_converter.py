"""The one cattrs converter that turns dialog payloads into :class:`Dialog` and back to JSON.

    dialog = decode_dialog(response.result, method="im.dialog.get")
    print(json.dumps(dialog_to_json(dialog)))

Everything about the wire lives here and in :mod:`._normalize`, not on the models:

- **renames**: Python names are English (``readers`` for ``readed_list``); the classic
  methods send snake_case and ``imbot.v2`` camelCase, so each model gets two structure
  functions, one per naming style; the flat-era ``title`` is read as ``name``;
- **normalisation**: numeric strings to ``int``, ISO/ATOM dates to aware ``datetime``,
  ``""``/``null`` to ``None``, ``"Y"``/``"N"`` to ``bool``, ``lastMessageViews`` as an
  object, ``[]`` or a JSON string;
- **nothing lost**: every key a model does not know is kept, as sent, in its ``extra``.

Speed matters (bulk lookups decode thousands of dialogs), so the structure functions are
generated once, when this module is imported. They run without cattrs' detailed
validation; only when one fails is the payload decoded again with detailed validation,
to name the failing field in the :class:`ModelDecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Final, Literal, TypeAlias, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ClassValidationError
from cattrs.gen import make_dict_structure_fn, override

from . import _normalize as n
from ._errors import ModelDecodeError
from ._models import (
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

__all__ = ["V2_METHOD", "decode_dialog", "dialog_to_json", "make_converter"]

V2_METHOD: Final = "imbot.v2.Chat.get"
"""The one dialog method that answers in camelCase, wrapped as ``result.chat``."""

Style: TypeAlias = Literal["snake", "camel"]
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
# The key under which a wrapper hands the collected unknown keys to a generated function.
# It cannot clash with a portal key: a portal key equal to it lands in ``extra`` itself.
_EXTRA_KEY: Final = "\x00extra"
_RESULT_EXTRA_KEY: Final = "\x00result_extra"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(model: type, attribute: str, style: Style) -> str:
    """The key ``attribute`` of ``model`` has on the wire in ``style``."""
    snake = _RENAMES.get(model, {}).get(attribute, attribute)
    return snake if style == "snake" else _camel(snake)


@attrs.frozen
class _Compiled:
    """The generated structure functions for one model in one naming style."""

    fast: Structure
    detailed: Structure
    keys: frozenset[str]
    """The wire keys the model reads (everything else goes to ``extra``)."""


def make_converter() -> cattrs.Converter:
    """Build the converter: the scalar hooks, and JSON-ready unstructuring for the CLI.

    The converter knows how to structure each field type of the models; the per-style
    structure functions are built from it by :func:`_compile`.
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
        (Mapping[str, Any], n.passthrough),
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

    ``first_viewers`` items may be bare user ids (as the docs' TypeScript type says)."""

    def one(item: Any) -> Any:
        if model is Viewer and type(item) is not dict:
            return Viewer(user_id=n.required_int(item))
        if type(item) is not dict:
            msg = f"expected an object, got {type(item).__name__}"
            raise n.WireError(msg)
        return structure(item)

    def structure_items(value: Any, _: object = None) -> Any:
        if type(value) is dict:
            value = list(value.values())
        if type(value) is list:
            items = []
            for index, item in enumerate(value):
                try:
                    items.append(one(item))
                except Exception as error:
                    raise n.ItemError(index, error) from error
            return tuple(items)
        if value is None or value == "":
            return None if optional else ()
        msg = f"expected a list, got {type(value).__name__}"
        raise n.WireError(msg)

    return structure_items


def _compile(converter: cattrs.Converter, style: Style) -> dict[type, _Compiled]:
    """Generate the structure functions of every model for one naming style."""
    compiled: dict[type, _Compiled] = {}
    for model in _MODELS:
        hints = attrs.resolve_types(model)
        fast_overrides: dict[str, Any] = {}
        detailed_overrides: dict[str, Any] = {}
        keys = set()
        for field in attrs.fields(hints):
            if field.name in _UNMAPPED:
                key = _EXTRA_KEY if field.name == "extra" else _RESULT_EXTRA_KEY
                fast_overrides[field.name] = override(rename=key, struct_hook=n.passthrough)
                detailed_overrides[field.name] = fast_overrides[field.name]
                continue
            key = wire_name(model, field.name, style)
            keys.add(key)
            nested = _optional_model(field.type)
            listed = _tuple_model(field.type)
            fast_hook: Any
            detailed_hook: Any
            if nested is not None:
                fast_hook = _nested_hook(nested, compiled[nested].fast)
                detailed_hook = _nested_hook(nested, compiled[nested].detailed)
            elif listed is not None:
                optional = field.default is None
                fast_hook = _tuple_hook(listed, compiled[listed].fast, optional=optional)
                detailed_hook = _tuple_hook(listed, compiled[listed].detailed, optional=optional)
            else:
                fast_hook = detailed_hook = converter.get_structure_hook(field.type)
            fast_overrides[field.name] = override(rename=key, struct_hook=fast_hook)
            detailed_overrides[field.name] = override(rename=key, struct_hook=detailed_hook)
        aliases = _ALIASES.get(model, {}) if style == "snake" else {}
        known = frozenset(keys)
        fast: Callable[..., Any] = make_dict_structure_fn(
            model, converter, _cattrs_detailed_validation=False, **fast_overrides
        )
        detailed: Callable[..., Any] = make_dict_structure_fn(
            model, converter, _cattrs_detailed_validation=True, **detailed_overrides
        )
        compiled[model] = _Compiled(
            fast=_with_extra(fast, known, aliases),
            detailed=_with_extra(detailed, known, aliases),
            keys=known,
        )
    return compiled


def _with_extra(
    generated: Callable[..., Any], known: frozenset[str], aliases: Mapping[str, str]
) -> Structure:
    """Wrap a generated function so that unknown keys reach the model's ``extra``."""

    def structure(payload: Any) -> Any:
        if type(payload) is not dict:
            msg = f"expected an object, got {type(payload).__name__}"
            raise n.WireError(msg)
        unknown = payload.keys() - known
        if not unknown:  # the common case: no copy, ``extra`` takes its default
            return generated(payload)
        extra = {key: payload[key] for key in payload if key in unknown}
        view = dict(payload)
        for alias, target in aliases.items():
            if alias in extra and target not in payload:
                view[target] = extra.pop(alias)
        view[_EXTRA_KEY] = extra
        return generated(view)

    return structure


_CONVERTER: Final = make_converter()
_SNAKE: Final = _compile(_CONVERTER, "snake")
_CAMEL: Final = _compile(_CONVERTER, "camel")


def decode_dialog(payload: object, *, method: str, body: bytes | None = None) -> Dialog:
    """Decode the ``result`` of a dialog method into a :class:`Dialog`.

    ``payload`` is the decoded ``result``: the chat object for ``im.dialog.get``,
    ``imbot.dialog.get`` and ``imopenlines.dialog.get``, and ``{"chat": {...}, ...}`` for
    ``imbot.v2.Chat.get`` (its other keys land in ``Dialog.result_extra``). A payload that
    does not fit raises :class:`ModelDecodeError` naming ``method``, the failing field's
    wire path (``readed_list[0].date``, ``chat.dateCreate``) and keeping ``payload`` and
    the raw ``body``.
    """
    if method.lower() == V2_METHOD.lower():
        return _decode_v2(payload, method, body)
    try:
        return _SNAKE[Dialog].fast(payload)  # type: ignore[no-any-return]
    except Exception:
        path, reason = _diagnose(_SNAKE[Dialog].detailed, payload, "snake")
        raise _decode_error(method, path, reason, payload, body) from None


def _decode_v2(payload: object, method: str, body: bytes | None) -> Dialog:
    if type(payload) is not dict:
        raise _decode_error(method, "", "expected an object with 'chat'", payload, body)
    chat = payload.get("chat")
    if type(chat) is not dict:
        reason = "missing" if "chat" not in payload else f"expected an object, got {chat!r:.40}"
        raise _decode_error(method, "chat", reason, payload, body)
    siblings = {key: value for key, value in payload.items() if key != "chat"}
    try:
        dialog: Dialog = _CAMEL[Dialog].fast(chat)
    except Exception:
        path, reason = _diagnose(_CAMEL[Dialog].detailed, chat, "camel")
        full = f"chat.{path}" if path else "chat"
        raise _decode_error(method, full, reason, payload, body) from None
    return attrs.evolve(dialog, result_extra=siblings) if siblings else dialog


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


def _diagnose(detailed: Structure, payload: object, style: Style) -> tuple[str, str]:
    """Decode again with detailed validation and name the first failing field."""
    try:
        detailed(payload)
    except Exception as error:
        parts, reason = _locate(error, style)
        if parts[:1] == ["name"] and isinstance(payload, dict) and "name" not in payload:
            parts[0] = "title"  # the flat-era alias was what failed
        return _join(parts), reason
    return "", "the payload could not be decoded"  # pragma: no cover - fast and detailed agree


def _locate(error: BaseException, style: Style) -> tuple[list[str], str]:
    """The wire path (keys, and ``[index]`` parts) to the first failure, and its reason."""
    if isinstance(error, ClassValidationError) and error.exceptions:
        inner = error.exceptions[0]
        for note in getattr(inner, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                key = wire_name(error.cl, note.name, style)
                parts, reason = _locate(inner, style)
                if isinstance(inner, KeyError):
                    reason = "required key is missing"
                return [key, *parts], reason
        return _locate(inner, style)
    if isinstance(error, n.ItemError):
        parts, reason = _locate(error.cause, style)
        index = error.index if isinstance(error.index, int) else repr(error.index)
        return [f"[{index}]", *parts], reason
    if isinstance(error, ClassValidationError):  # pragma: no cover - always has exceptions
        return [], str(error)
    return [], str(error)


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        text += part if part.startswith("[") or not text else f".{part}"
    return text


def dialog_to_json(dialog: Dialog) -> dict[str, Any]:
    """``dialog`` as a JSON-ready dict: Python field names, dates as ISO strings, enum
    members as their wire values, lists for tuples, ``extra`` and ``result_extra`` kept."""
    return _CONVERTER.unstructure(dialog)  # type: ignore[no-any-return]
