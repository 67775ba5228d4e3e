"""Checks every call's input passes before anything is sent.

Shared by :meth:`Client.call` and :meth:`Client.batch`: a wrong method name or
parameter type is the caller's bug, so it fails here with a ``TypeError`` or
``ValueError`` naming the parameter, never as a confusing portal answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["check_method", "check_params"]

_METHOD: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def check_method(method: object) -> str:
    """``method`` if it is a REST method name such as ``im.dialog.get``, else raise."""
    if not isinstance(method, str):
        msg = f"method must be a str, not {type(method).__name__}"
        raise TypeError(msg)
    if not method:
        msg = "method must not be empty (e.g. 'im.dialog.get')"
        raise ValueError(msg)
    if not _METHOD.fullmatch(method):
        msg = f"method {method!r} is not a REST method name such as 'im.dialog.get'"
        raise ValueError(msg)
    return method


def check_params(method: str, params: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``params`` (``{}`` for ``None``) if it is a mapping with str keys, else raise."""
    if params is None:
        return {}
    if type(params) is not dict and not isinstance(params, Mapping):
        msg = f"params for {method} must be a mapping, not {type(params).__name__}"
        raise TypeError(msg)
    for key in params:
        if not isinstance(key, str):
            msg = f"params for {method} must have str keys, got {key!r}"
            raise TypeError(msg)
    return params
