"""Compiled structure hooks: one generated function per model and naming style.

Bulk lookups decode thousands of dialogs, and a benchmark holds decoding a rich payload
to a small multiple of ``json.loads``. cattrs' generated functions collect fields in a
dict and call the model's frozen ``__init__`` with it; a frozen slotted ``__init__``
assigns each slot through ``object.__setattr__``, which costs several times a plain
attribute store. So the converter compiles its own hooks here, the way cattrs does
(source generated once, at import), and each one:

- reads each known key once (``o.get``), with an inline check for the common form
  (``type(v) is int``...) and the field's normalising hook for every other form;
- fills the slots of a *builder*: a plain class with the model's exact ``__slots__``,
  whose attribute stores are cheap; then retypes the object to the model
  (``__class__`` assignment, allowed between classes of identical slot layout), so the
  caller gets a genuine frozen instance;
- keeps the keys it does not know, as sent, in ``extra``.

A compiled function raises on the first value that does not fit, without saying where.
:func:`locate` then walks the same field specs slowly to name the wire path; it runs
only for payloads that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import attrs

from . import _normalize as n

__all__ = ["FieldSpec", "Kind", "ModelSpec", "compile_model", "locate"]

Kind = Literal["scalar", "model", "models"]
_MISSING: Final = object()
# Inline fast paths: the wire form most payloads use, stored without calling the hook.
_FAST: Final[Mapping[str, str]] = {
    "int": "type(v) is int",
    "str": "type(v) is str and v",
    "bool": "v is True or v is False",
    "model": "type(v) is dict and v",
}


@attrs.frozen
class FieldSpec:
    """How one model field is read from the wire in one naming style."""

    attr: str
    """The Python field name."""
    key: str
    """The wire key."""
    kind: Kind
    """A scalar, a nested model, or a tuple of nested models."""
    hook: Callable[[Any, object], Any]
    """Turns any accepted wire form into the field's value; raises otherwise."""
    fast: str | None = None
    """A key of ``_FAST``: the common wire form, stored as is."""
    members: Mapping[str, Any] | None = None
    """For a coded field: the enum members by wire value (looked up inline)."""
    model: type | None = None
    """The nested model for ``model``/``models`` fields."""
    required: bool = False
    default: Any = None
    alias: str | None = None
    """An older wire key read when ``key`` is absent (the flat era's ``title``)."""


@attrs.frozen
class ModelSpec:
    """A model's fields in one naming style, and its compiled structure function."""

    model: type
    fields: tuple[FieldSpec, ...]
    structure: Callable[..., Any]


def _builder(model: type) -> type | None:
    """A plain class with ``model``'s slot layout, or ``None`` if retyping is refused."""
    slots = model.__dict__.get("__slots__")
    if not isinstance(slots, tuple):
        return None
    builder = type(f"_{model.__name__}Builder", (), {"__slots__": slots})
    probe: Any = object.__new__(builder)
    try:
        probe.__class__ = model
    except TypeError:  # pragma: no cover - a layout CPython will not retype
        return None
    return builder


def compile_model(
    model: type, fields: tuple[FieldSpec, ...], nested: Mapping[type, Callable[..., Any]]
) -> Callable[..., Any]:
    """Generate the structure function of ``model`` for ``fields``.

    ``nested`` holds the compiled functions of the models ``fields`` contain. The result
    takes the wire object (and, for ``Dialog``, the mapping for ``result_extra``) and
    returns the model instance.
    """
    known = frozenset(spec.key for spec in fields)
    env: dict[str, Any] = {
        "_M": _MISSING,
        "_K": known,
        "_new": object.__new__,
        "_model": model,
        "_WireError": n.WireError,
    }
    builder = _builder(model)
    env["_builder"] = builder
    lines = [
        f"def structure_{model.__name__}(o, rx=None):",
        "    if type(o) is not dict:",
        "        raise _WireError(f'expected an object, got {type(o).__name__}')",
        "    g = o.get",
    ]
    if builder is not None:
        lines.append("    s = _new(_builder)")
    keywords = []
    for index, spec in enumerate(fields):
        target = f"s.{spec.attr}" if builder is not None else f"a{index}"
        keywords.append(f"{spec.attr}=a{index}")
        lines.extend(_field_lines(index, spec, target, env, nested))
    # The common case, no unknown key, costs one subset test and no allocation.
    lines.append("    u = None if _K.issuperset(o) else o.keys() - _K")
    for spec in fields:
        if spec.alias:  # an alias read in place of its key is not extra
            alias, key = spec.alias, spec.key
            lines.append(f"    if u and {alias!r} in u and {key!r} not in o: u.discard({alias!r})")
    extra = "({k: o[k] for k in o if k in u} if u else {})"
    result = "(rx if rx is not None else {})"
    has_result_extra = "result_extra" in attrs.fields_dict(model)
    if builder is not None:
        lines.append(f"    s.extra = {extra}")
        if has_result_extra:
            lines.append(f"    s.result_extra = {result}")
        lines.append("    s.__class__ = _model")
        lines.append("    return s")
    else:  # pragma: no cover - only when CPython refuses the retyping
        keywords.append(f"extra={extra}")
        if has_result_extra:
            keywords.append(f"result_extra={result}")
        lines.append(f"    return _model({', '.join(keywords)})")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<bitrix_dialog structure {model.__name__}>", "exec")
    exec(code, env)  # generated from field specs only, never from payload data
    function: Callable[..., Any] = env[f"structure_{model.__name__}"]
    return function


def _field_lines(
    index: int,
    spec: FieldSpec,
    target: str,
    env: dict[str, Any],
    nested: Mapping[type, Callable[..., Any]],
) -> list[str]:
    """The generated lines that read field ``spec`` into ``target``."""
    hook, default = f"_h{index}", f"_d{index}"
    env[hook], env[default] = spec.hook, spec.default
    if spec.kind == "model" and spec.model is not None:
        env[f"_n{index}"] = nested[spec.model]
        fast = f"{_FAST['model']}: {target} = _n{index}(v)"
    elif spec.members is not None:  # a documented code: its enum member, by lookup
        env[f"_e{index}"] = spec.members
        fast = f"type(v) is str and v in _e{index}: {target} = _e{index}[v]"
    elif spec.fast is not None:
        fast = f"{_FAST[spec.fast]}: {target} = v"
    else:
        fast = ""
    slow = f"{target} = {hook}(v, None)"
    if spec.required:
        lines = [f"    v = o[{spec.key!r}]"]
        return [*lines, f"    if {fast}", f"    else: {slow}"] if fast else [*lines, f"    {slow}"]
    lines = [f"    v = g({spec.key!r}, _M)"]
    if spec.alias:
        lines.append(f"    if v is _M: v = g({spec.alias!r}, _M)")
    lines.append(f"    if v is _M: {target} = {default}")
    if fast:
        lines.append(f"    elif {fast}")
    lines.append(f"    else: {slow}")
    return lines


def locate(
    spec: ModelSpec, payload: object, specs: Mapping[type, ModelSpec]
) -> tuple[list[str], str]:
    """The wire path to the first value of ``payload`` that does not fit, and why.

    Path parts are keys and ``[index]`` items: ``["readed_list", "[1]", "date"]``.
    """
    if type(payload) is not dict:
        return [], f"expected an object, got {type(payload).__name__}"
    for field in spec.fields:
        key = field.key
        if key not in payload and field.alias and field.alias in payload:
            key = field.alias
        if key not in payload:
            if field.required:
                return [key], "required key is missing"
            continue
        value = payload[key]
        try:
            field.hook(value, None)
        except Exception as error:
            parts, reason = _explain(field, value, error, specs)
            return [key, *parts], reason
    return [], "the payload could not be decoded"  # pragma: no cover - hooks agree


def _explain(
    field: FieldSpec, value: Any, error: Exception, specs: Mapping[type, ModelSpec]
) -> tuple[list[str], str]:
    """Why ``field``'s hook refused ``value``: recurse into nested models and items."""
    if field.model is not None and field.kind == "model":
        inner = value
        if isinstance(value, str):  # lastMessageViews as a JSON string
            try:
                inner = n.json_object(value)
            except n.WireError:
                inner = None
        if type(inner) is dict:
            return locate(specs[field.model], inner, specs)
    if field.model is not None and field.kind == "models":
        items = list(value.values()) if type(value) is dict else value
        if type(items) is list:
            for index, item in enumerate(items):
                if type(item) is dict:
                    parts, reason = locate(specs[field.model], item, specs)
                    if parts or reason != "the payload could not be decoded":
                        return [f"[{index}]", *parts], reason
                else:
                    try:
                        field.hook([item], None)
                    except Exception as item_error:
                        return [f"[{index}]"], _reason(item_error)
    return _path_of(error)


def _path_of(error: BaseException) -> tuple[list[str], str]:
    if isinstance(error, n.ItemError):
        index = error.index if isinstance(error.index, int) else repr(error.index)
        parts, reason = _path_of(error.cause)
        return [f"[{index}]", *parts], reason
    return [], _reason(error)


def _reason(error: BaseException) -> str:
    while isinstance(error, n.ItemError):
        error = error.cause
    return str(error)
