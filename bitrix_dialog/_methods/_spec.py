"""A REST method as data: :class:`MethodSpec`, and the case-insensitive table of them.

A spec says everything the SDK needs to call one method and read its answer, so the
typed namespaces (``client.im.chat.get``), bulk lookups, :func:`decode_dialog` and the
fake portal all work from the same object::

    IM_CHAT_GET = method_spec(
        "im.chat.get",                 # the REST name, exactly as documented
        chat_by_entity,                # typed arguments -> checked request params
        int,                           # the type the answer becomes
        wrap="ID",                     # the answer is {"ID": 1437}
        nullable=True,                 # null: no chat is linked to that entity
    )
    IM_CHAT_GET.params(entity_type="CRM", entity_id="DEAL|1663")  # {"ENTITY_TYPE": ...}
    IM_CHAT_GET.decode({"ID": 1437})                               # 1437

The parameter builder is an ordinary function: its signature is the typed method's
signature (``MethodSpec`` is generic over it), and it raises ``TypeError``/``ValueError``
naming the bad argument before anything is sent. Decoding is one generic path
(:func:`bitrix_dialog._decode._result.decode_result`) that reads ``result``, ``style``,
``wrap`` and ``nullable``, never the method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Literal, ParamSpec, TypeAlias, TypeVar, cast, overload

import attrs

from .._decode._converter import Style
from .._decode._result import decode_result

__all__ = ["MethodSpec", "MethodTable", "Params", "method_spec"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

Params: TypeAlias = dict[str, Any]
"""Request parameters as sent: wire names to values."""


@attrs.frozen(kw_only=True)
class MethodSpec(Generic[P, R]):
    """One REST method: how to ask (``name``, ``build``) and how to read the answer.

    Build one with :func:`method_spec`, which infers both type parameters: ``P`` is the
    signature of ``build`` (the typed method's arguments), ``R`` what :meth:`decode`
    returns (``result``, or ``result | None`` when ``nullable``).
    """

    name: str
    """The REST name exactly as documented (``imbot.v2.Chat.get``); it is what is sent.
    The portal matches names case-insensitively, and so does :class:`MethodTable`."""
    build: Callable[P, Params] = attrs.field(repr=False)
    """The typed arguments -> the request parameters; raises ``TypeError``/``ValueError``
    (``DialogIdError`` for an id) naming the argument, before anything is sent."""
    result: type[Any]
    """What the answer's value becomes: a model (``Dialog``) or a scalar (``int``)."""
    style: Style = "snake"
    """The answer's naming style: ``"snake"`` (classic methods) or ``"camel"`` (v2)."""
    wrap: str | None = None
    """The key of ``result`` the value sits under (``"chat"``, ``"ID"``), or ``None``."""
    nullable: bool = False
    """``null`` is an answer (decoded as ``None``), not a payload that does not fit."""
    acts_as_bot: bool = False
    """``build`` takes ``bot_id``/``bot_token``, which default to the client's bot."""
    dialog_key: str | None = None
    """The keyword of ``build`` that takes one dialog id, for a method that answers
    "dialog id in, ``Dialog`` out" (``client.dialogs.get_many`` takes only those)."""

    def params(self, *args: P.args, **kwargs: P.kwargs) -> Params:
        """The request parameters for these arguments, checked (see :attr:`build`)."""
        return self.build(*args, **kwargs)

    def decode(self, result: object, body: bytes | None = None) -> R:
        """The typed value of this method's ``result``; ``ModelDecodeError`` (naming
        the failing field's wire path, keeping ``result`` and the raw ``body``) if it
        does not fit."""
        return cast("R", decode_result(self, result, body))


@overload
def method_spec(
    name: str,
    build: Callable[P, Params],
    result: type[T],
    *,
    style: Style = ...,
    wrap: str | None = ...,
    nullable: Literal[False] = ...,
    acts_as_bot: bool = ...,
    dialog_key: str | None = ...,
) -> MethodSpec[P, T]: ...
@overload
def method_spec(
    name: str,
    build: Callable[P, Params],
    result: type[T],
    *,
    style: Style = ...,
    wrap: str | None = ...,
    nullable: Literal[True],
    acts_as_bot: bool = ...,
    dialog_key: str | None = ...,
) -> MethodSpec[P, T | None]: ...
def method_spec(
    name: str,
    build: Callable[P, Params],
    result: type[Any],
    *,
    style: Style = "snake",
    wrap: str | None = None,
    nullable: bool = False,
    acts_as_bot: bool = False,
    dialog_key: str | None = None,
) -> MethodSpec[P, Any]:
    """A :class:`MethodSpec`, its type parameters inferred from ``build`` and ``result``."""
    return MethodSpec(
        name=name,
        build=build,
        result=result,
        style=style,
        wrap=wrap,
        nullable=nullable,
        acts_as_bot=acts_as_bot,
        dialog_key=dialog_key,
    )


class MethodTable(Mapping[str, MethodSpec[..., Any]]):
    """Specs by REST name. Lookups ignore case, as the portal does (``imbot.v2.chat.get``
    finds ``imbot.v2.Chat.get``); iteration yields each documented name once."""

    def __init__(self, specs: Iterable[MethodSpec[..., Any]]) -> None:
        self._specs: dict[str, MethodSpec[..., Any]] = {}
        for spec in specs:
            folded = spec.name.lower()
            if folded in self._specs:
                msg = f"two specs for {spec.name!r}"
                raise ValueError(msg)
            self._specs[folded] = spec

    def __getitem__(self, name: str) -> MethodSpec[..., Any]:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._specs[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return (spec.name for spec in self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def canonical(self, name: str) -> str:
        """The documented spelling of ``name`` if a spec knows it, else ``name``."""
        spec = self._specs.get(name.lower())
        return name if spec is None else spec.name

    def __repr__(self) -> str:
        return f"MethodTable({list(self)!r})"
