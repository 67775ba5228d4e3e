"""Public names report the module a user imports them from, as httpx's do.

Tracebacks, reprs of classes and docs then say ``bitrix_dialog.QueryLimitExceededError``
rather than the private module that defines it; pickle finds the class there too.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Iterable, Mapping

import attrs

__all__ = ["publish"]


def publish(namespace: Mapping[str, object], names: Iterable[str], module: str) -> None:
    """Set ``__module__ = module`` on every class and function ``names`` lists.

    Constants and type aliases (``DialogKey``) have no module of their own and are left.
    A class's string annotations are resolved first, against its defining module:
    ``typing.get_type_hints`` (and so attrs and cattrs) looks them up in
    ``sys.modules[cls.__module__]``, which after the change is the public package.
    """
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type):
            _resolve_annotations(obj)
            obj.__module__ = module
        elif isinstance(obj, types.FunctionType):
            obj.__module__ = module


def _resolve_annotations(cls: type) -> None:
    own: dict[str, object] = inspect.get_annotations(cls)
    if not any(isinstance(value, str) for value in own.values()):
        return
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except (NameError, TypeError):
        cls.__annotations__ = _each_hint(cls, own)
        return
    cls.__annotations__ = {key: hints.get(key, value) for key, value in own.items()}
    if attrs.has(cls):
        attrs.resolve_types(cls)


def _each_hint(cls: type, own: dict[str, object]) -> dict[str, object]:
    """Resolve what can be; a name imported only for type checking stays a string."""
    module_globals = vars(sys.modules[cls.__module__])
    hints: dict[str, object] = {}
    for key, value in own.items():
        holder = types.SimpleNamespace(__annotations__={key: value})
        try:
            hints.update(typing.get_type_hints(holder, globalns=module_globals, localns=vars(cls)))
        except (NameError, TypeError):
            hints[key] = value
    return hints
