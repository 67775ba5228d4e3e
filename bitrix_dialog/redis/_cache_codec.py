"""Dialog-cache entries as the JSON stored in Redis, and back.

    {"v": 1, "e": "0", "kind": "dialog", "value": {...dialog_to_json(dialog)...}}
    {"v": 1, "kind": "int", "value": 1437}            # im.chat.get's chat id
    {"v": 1, "kind": "none"}                           # im.chat.get: no chat (negative)
    {"v": 1, "kind": "error", "code": "ACCESS_ERROR", "description": "...",
     "status": 400, "method": "im.dialog.get"}        # a refusal (negative)

``e`` is the scope's epoch when the entry was stored (``invalidate_all`` moves it on,
which makes every older entry a miss). A dialog is stored as
:func:`~bitrix_dialog.dialog_to_json` writes it and read back with
:func:`~bitrix_dialog.dialog_from_json`, so every worker decodes an equal ``Dialog``.
A refusal is rebuilt from its code by the same table the client uses
(:func:`~bitrix_dialog._errors.error_for`). Anything else is refused with
``ValueError`` (and then treated as a miss).
"""

from __future__ import annotations

import json
from typing import Any, Final

from .._cache import CacheEntry
from .._cache._entry import NEGATIVE_ERRORS
from .._decode._converter import dialog_from_json, dialog_to_json
from .._errors import error_class
from .._models import Dialog

__all__ = ["decode_entry", "encode_entry"]

_VERSION: Final = 1


def encode_entry(entry: CacheEntry, epoch: str) -> str:
    """``entry``, stored in ``epoch``, as the JSON text stored under its key."""
    data: dict[str, Any] = {"v": _VERSION, "e": epoch, "kind": entry.kind}
    if entry.kind == "dialog":
        assert isinstance(entry.value, Dialog)
        data["value"] = dialog_to_json(entry.value)
    elif entry.kind == "int":
        data["value"] = entry.value
    elif entry.kind == "error":
        data.update(
            code=entry.code,
            description=entry.description,
            status=entry.status,
            method=entry.method,
        )
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        msg = f"entry field {name!r} is not a {kind}"
        raise ValueError(msg)
    return value


def decode_entry(raw: bytes | str) -> tuple[CacheEntry, str]:
    """The entry ``raw`` holds and its epoch; ``ValueError`` for anything this version
    did not write."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        msg = "entry is not JSON"
        raise ValueError(msg) from None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        msg = "entry is not a version-1 dialog-cache entry"
        raise ValueError(msg)
    return _entry(data), _field(data, "e", str)


def _entry(data: dict[str, Any]) -> CacheEntry:
    kind = data.get("kind")
    if kind == "dialog":
        return CacheEntry(kind="dialog", value=dialog_from_json(data.get("value")))
    if kind == "int":
        return CacheEntry(kind="int", value=_field(data, "value", int))
    if kind == "none":
        return CacheEntry(kind="none")
    if kind == "error":
        code = _field(data, "code", str)
        status = data.get("status")
        method = data.get("method")
        description = _field(data, "description", str)
        if not issubclass(error_class(code), NEGATIVE_ERRORS):
            msg = f"entry holds {code}, which is never cached"
            raise ValueError(msg)
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            msg = "entry status is not an int"
            raise ValueError(msg)
        if method is not None and not isinstance(method, str):
            msg = "entry method is not a str"
            raise ValueError(msg)
        return CacheEntry(
            kind="error", code=code, description=description, status=status, method=method
        )
    msg = f"entry kind {kind!r} is unknown"
    raise ValueError(msg)
