"""An independent check that a decoded model mirrors its wire payload, key by key.

For every key the portal sent, :func:`assert_mirrors` finds the typed field it belongs to
(by the documented renames) and checks the field holds the payload's value under the
documented normalisation rules; a key with no field must sit, unchanged, in ``extra``.
It is written from the rules in the README, not from the converter's code, so it catches
a converter that drops or bends a value.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Literal

import attrs

from bitrix_dialog import Dialog, Viewer

Style = Literal["snake", "camel"]

_DIALOG_RENAMES = {
    "readed_list": "readers",
    "manager_list": "manager_ids",
    "mute_list": "muted_user_ids",
}
_TRUE = {True, "Y", "1", "true"}  # True == 1, so the int 1 is in here too
_FALSE = {False, "N", "0", "false"}
_NOTHING: list[Any] = [None, "", [], {}]


def _snake(key: str) -> str:
    key = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", key)
    return re.sub(r"(?<=[a-z])([0-9])", r"_\1", key).lower()


def attribute_for(model: type, key: str, style: Style) -> str | None:
    """The field a wire ``key`` of ``model`` maps to, or ``None`` (then it is ``extra``)."""
    name = key if style == "snake" else _snake(key)
    if model is Dialog:
        if style == "snake" and key == "title":
            name = "name"
        name = _DIALOG_RENAMES.get(name, name)
    fields = attrs.fields_dict(model)
    if name in fields and name not in ("extra", "result_extra"):
        return name
    return None


def _members(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, UnionType):
        return [a for a in typing.get_args(tp) if a is not NoneType]
    return [tp]


def _int(value: Any) -> int:
    if isinstance(value, str):
        return int(value)
    assert isinstance(value, int), value
    assert not isinstance(value, bool), value
    return value


def _check(actual: Any, value: Any, tp: Any, style: Style, where: str) -> None:
    members = _members(tp)
    model = next((m for m in members if attrs.has(m)), None)
    if model is not None and isinstance(value, str) and value:
        value = json.loads(value)  # imbot.v2 sends lastMessageViews as a JSON string
    if value in _NOTHING and not (typing.get_origin(members[0]) is tuple and value == []):
        assert actual is None, f"{where}: {actual!r} for unset {value!r}"
        return
    if model is not None:
        assert isinstance(actual, model), f"{where}: {actual!r} is not a {model.__name__}"
        assert_mirrors(actual, value, style, where)
        return
    kinds = set(members)
    if typing.get_origin(members[0]) is tuple:
        (item_type, _) = typing.get_args(members[0])
        if isinstance(value, dict):
            flags = all(isinstance(v, bool) for v in value.values())
            items = [k for k, v in value.items() if v] if flags else list(value.values())
        else:
            items = list(value)
        assert isinstance(actual, tuple), f"{where}: {actual!r} is not a tuple"
        assert len(actual) == len(items), f"{where}: {len(actual)} items for {len(items)}"
        for index, (got, sent) in enumerate(zip(actual, items, strict=True)):
            if item_type is int:
                assert got == _int(sent), f"{where}[{index}]"
            elif item_type is Viewer and not isinstance(sent, dict):
                assert got == Viewer(user_id=_int(sent)), f"{where}[{index}]"
            else:
                _check(got, sent, item_type, style, f"{where}[{index}]")
        return
    enum = next((m for m in members if isinstance(m, type) and issubclass(m, Enum)), None)
    if enum is not None:
        assert actual == value, f"{where}: {actual!r} != {value!r}"
        documented = value in {e.value for e in enum}
        assert isinstance(actual, enum) == documented, f"{where}: {actual!r} enum-ness"
        return
    if kinds == {int}:
        assert actual == _int(value), f"{where}: {actual!r} != {value!r}"
    elif kinds == {bool}:
        assert value in _TRUE | _FALSE, f"{where}: {value!r} is no boolean"
        assert actual is (value in _TRUE), f"{where}: {actual!r} for {value!r}"
    elif kinds == {datetime}:
        expected = datetime.fromisoformat(value)
        assert actual == expected, where
        assert actual.utcoffset() == expected.utcoffset(), where
    elif kinds == {str}:
        assert actual == str(value), f"{where}: {actual!r} != {value!r}"
    elif kinds == {int, str}:
        numeric = isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        assert actual == (_int(value) if numeric else value), f"{where}: {actual!r}"
    else:  # pragma: no cover - a new field type needs a rule here
        raise AssertionError(f"{where}: no rule for {tp!r}")


def assert_mirrors(model: Any, wire: Mapping[str, Any], style: Style, where: str = "") -> None:
    """Every key of ``wire`` is in ``model``: in its typed field, or unchanged in ``extra``."""
    hints = typing.get_type_hints(type(model))
    seen_extra = set()
    for key, value in wire.items():
        path = f"{where}.{key}" if where else key
        name = attribute_for(type(model), key, style)
        if name is None or (name == "name" and key == "title" and "name" in wire):
            assert key in model.extra, f"{path}: lost (not a field, not in extra)"
            assert model.extra[key] == value, f"{path}: extra holds {model.extra[key]!r}"
            seen_extra.add(key)
            continue
        _check(getattr(model, name), value, hints[name], style, path)
    assert set(model.extra) == seen_extra, f"{where}: extra has keys not sent: {model.extra}"
