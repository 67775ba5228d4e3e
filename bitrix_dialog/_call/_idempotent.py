"""Which calls are safe to repeat after a failure whose outcome is unknown.

A dropped connection or a 502 may come *after* the portal ran the method; repeating
a write could then do it twice. Reads can always be repeated. A method counts as a
read when its last name segment is ``get`` or ``list`` (the Bitrix24 naming rule:
``im.dialog.get``, ``imbot.v2.Chat.get``, ``crm.deal.list``) or it is one of a few
known read-only methods; a ``batch`` is a read when every command in it is.
``Client.call(..., idempotent=...)`` overrides this guess either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["is_known_read"]

_READ_SEGMENTS: Final = frozenset({"get", "list"})
_READ_METHODS: Final = frozenset(
    {"server.time", "profile", "user.current", "scope", "methods", "method.get", "app.info"}
)


def _is_read_method(method: str) -> bool:
    lowered = method.lower()
    return lowered in _READ_METHODS or lowered.rsplit(".", 1)[-1] in _READ_SEGMENTS


def is_known_read(method: str, params: Mapping[str, Any]) -> bool:
    """True when ``method`` (with ``params``, for a ``batch``) only reads."""
    if method.lower() != "batch":
        return _is_read_method(method)
    commands = params.get("cmd")
    if isinstance(commands, Mapping):
        values = list(commands.values())
    elif isinstance(commands, list | tuple):
        values = list(commands)
    else:
        return False
    return bool(values) and all(
        isinstance(command, str) and _is_read_method(command.split("?", 1)[0].strip("/"))
        for command in values
    )
