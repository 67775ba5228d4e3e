"""How a lookup is named in the cache, with no secret in any name.

- **scope**: whose view of the portal an entry is. The auth's ``cache_identity`` where
  it has one (an ``AccessTokenAuth``: one scope per token, each token being one
  user's), else its ``identity`` (portal and app, or portal and webhook user: the key
  the rate limiter uses too), hashed, so a custom ``Auth`` whose identity holds a
  token never puts it anywhere in clear.
- **entry key**: the method's documented name and a digest of its canonical request
  parameters (sorted JSON), so ``botToken`` never appears in clear either, and two
  spellings of one dialog id (``"CHAT5"``, ``DialogId.chat(5)``) share one entry: the
  spec's builder canonicalised them already.
- **dialog ids**: every dialog id an entry answers for, to find it again by dialog id
  whichever method cached it: the id in the parameters (``DIALOG_ID``, ``dialogId``,
  ``CHAT_ID`` of an open line as ``chatNNN``) and the ids in the answer (the dialog's
  ``dialog_id`` and ``chatNNN`` of its ``id``; ``chatNNN`` of ``im.chat.get``'s id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from .._errors import InvalidDialogIdError
from .._methods._dialog_id import DialogId
from .._methods._spec import MethodSpec
from .._models import Dialog

__all__ = ["CACHED_METHODS", "canonical_dialog_id", "dialog_ids", "entry_key", "scope_of"]

CACHED_METHODS: Final = frozenset(
    {
        "im.dialog.get",
        "imbot.dialog.get",
        "imopenlines.dialog.get",
        "imbot.v2.Chat.get",
        "im.chat.get",
        "imbot.chat.get",
    }
)
"""The typed reads the cache answers: the four dialog lookups and the two "chat id of an
entity" lookups. Nothing else (``client.call``, ``batch``, ``get_many``) is cached."""

_DIGEST: Final = 32  # hex characters: 128 bits


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGEST]


def scope_of(auth: object) -> str:
    """The hashed name of the credentials whose view of the portal entries are."""
    identity = getattr(auth, "cache_identity", None)
    if not isinstance(identity, str):
        identity = getattr(auth, "identity", None)
    if not isinstance(identity, str):
        msg = "the client's auth has no identity to key the dialog cache by"
        raise TypeError(msg)
    return _digest(identity)


def entry_key(spec: MethodSpec[..., Any], params: Mapping[str, Any]) -> str:
    """``method:digest-of-params``: one entry per method and canonical parameters."""
    canonical = json.dumps(
        params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return f"{spec.name}:{_digest(canonical)}"


def canonical_dialog_id(dialog_id: object) -> str:
    """``dialog_id`` as the cache indexes it (``"CHAT5"`` -> ``"chat5"``); a value that
    is not a dialog id raises :class:`InvalidDialogIdError`."""
    return str(DialogId.parse(dialog_id))  # type: ignore[arg-type]


def _maybe(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return canonical_dialog_id(value)
    except (InvalidDialogIdError, TypeError, ValueError):
        return None


def dialog_ids(params: Mapping[str, Any], value: object) -> tuple[str, ...]:
    """Every dialog id an entry of ``params`` answered with ``value`` stands for."""
    found: list[str | None] = [_maybe(params.get("DIALOG_ID")), _maybe(params.get("dialogId"))]
    chat_id = params.get("CHAT_ID")
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        found.append(_maybe(f"chat{chat_id}"))
    if isinstance(value, Dialog):
        found.append(_maybe(value.dialog_id))
        found.append(_maybe(f"chat{value.id}"))
    elif isinstance(value, int) and not isinstance(value, bool):
        found.append(_maybe(f"chat{value}"))
    return tuple(dict.fromkeys(item for item in found if item is not None))
