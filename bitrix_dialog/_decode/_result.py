"""The one decode path of the typed methods: a method's ``result`` -> its typed value.

Every typed method describes its answer with the same four facts (its method spec,
:class:`bitrix_dialog._methods.MethodSpec`, carries them), and this function reads them,
never the method's name:

- ``result``: the type the value becomes (``Dialog``, or ``int`` for a chat id);
- ``style``: the payload's naming style, ``"snake"`` (classic) or ``"camel"`` (``imbot.v2``);
- ``wrap``: the key the value sits under (``"chat"`` for ``imbot.v2.Chat.get``, ``"ID"`` for
  ``im.chat.get``), or ``None`` when the result *is* the value; keys beside it land in
  ``Dialog.result_extra``;
- ``nullable``: whether ``null`` is an answer (``im.chat.get`` finds no chat) rather than
  a payload that does not fit.

    dialog = decode_result(spec, response.result, response.body)
"""

from __future__ import annotations

from typing import Any, Protocol

from .._errors import ModelDecodeError
from ._converter import StructureError, Style, structure

__all__ = ["ResultShape", "decode_result"]


class ResultShape(Protocol):
    """What :func:`decode_result` reads from a method spec."""

    @property
    def name(self) -> str: ...
    @property
    def result(self) -> type[Any]: ...
    @property
    def style(self) -> Style: ...
    @property
    def wrap(self) -> str | None: ...
    @property
    def nullable(self) -> bool: ...


def decode_result(spec: ResultShape, payload: object, body: bytes | None = None) -> Any:
    """``payload`` (a decoded ``result``) as ``spec.result``.

    A payload that does not fit raises :class:`ModelDecodeError` naming ``spec.name``, the
    failing field's wire path (``readed_list[0].date``, ``chat.dateCreate``) and keeping
    ``payload`` and the raw ``body``.
    """
    if payload is None and spec.nullable:
        return None
    value, extra, prefix = payload, None, ""
    if spec.wrap is not None:
        if type(payload) is not dict:
            reason = f"expected an object with {spec.wrap!r}"
            raise _error(spec, "", reason, payload, body)
        value = payload.get(spec.wrap)
        if value is None and spec.wrap not in payload:
            raise _error(spec, spec.wrap, "missing", payload, body)
        if len(payload) > 1:
            extra = {key: item for key, item in payload.items() if key != spec.wrap}
        prefix = spec.wrap
    try:
        return structure(spec.result, value, style=spec.style, result_extra=extra)
    except StructureError as failure:
        path = ".".join(part for part in (prefix, failure.path) if part)
        if failure.path.startswith("["):
            path = prefix + failure.path
        raise _error(spec, path, failure.reason, payload, body) from None


def _error(
    spec: ResultShape, path: str, reason: str, payload: object, body: bytes | None
) -> ModelDecodeError:
    where = f" at {path}" if path else ""
    noun = spec.result.__name__.lower()
    article = "an" if noun[:1] in "aeiou" else "a"
    return ModelDecodeError(
        f"the result does not fit {article} {noun}{where}: {reason}",
        path=path,
        payload=payload,
        method=spec.name,
        body=body,
    )
