"""The input side of a bulk lookup: reading ids lazily, deduplicating, making commands.

:class:`IdReader` turns whatever the caller passed (an iterable or an async iterable)
into parsed :class:`DialogId` values, one distinct id at a time, or :class:`Rejected`
for an input that is not an id. A sized input (a list, a set) is read once up front
so that the total is known; an unsized one is read only as far as the pipeline asks.
Deduplication keeps about one bit per possible id (:class:`SeenIds`), not the ids.
An async input's next id is awaited in a task of its own that outlives a wait given
up on (``next(wait=...)`` answers :data:`NOT_YET`), so a slow source never holds back
the answers already in, and no id it yields is lost.

:class:`CommandMaker` builds each id's ``batch`` command. Every command of a lookup has
the same shape, so it is checked once with :func:`make_command`'s rules on a stand-in
id, and each id then only fills in its own canonical form (letters and digits, which
need no encoding).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Collection, Iterable, Mapping
from typing import Any, Final

import attrs

from .._batch._plan import Command, make_command
from .._methods._dialog_id import DialogId
from .._methods._spec import MethodSpec, Params
from .._models import Dialog
from .._pacing._limiter import wait_or_timeout
from .._types import Sleep
from .._wire._formencode import build_query

__all__ = ["NOT_YET", "CommandMaker", "DialogLookup", "IdReader", "Rejected", "SeenIds"]

_KIND_BITS: Final = {"user": 0, "chat": 1, "sg": 2, "crm": 3}
_END: Final = object()
NOT_YET: Final = object()
"""What :meth:`IdReader.next` answers when an async input has no id ready in time."""


@attrs.frozen
class Rejected:
    """An input that is not a dialog id, where it stood, and why."""

    value: object
    position: int
    error: Exception


class SeenIds:
    """The distinct ids met so far, in about one bit per possible id.

    Chat and user ids are dense small numbers, so ids below :data:`_DENSE` are kept as
    bits of one growing bitmap per kind (at most 2 MiB each; 12 KiB for ids up to
    100,000); rarer larger ones go to a set. A set of 100,000 ints would take ~7 MiB.
    """

    _DENSE: Final = 1 << 24

    def __init__(self) -> None:
        self._bits = {kind: bytearray() for kind in _KIND_BITS}
        self._sparse: set[int] = set()

    def add(self, dialog_id: DialogId) -> bool:
        """Note ``dialog_id``; True if it was not seen before."""
        number = dialog_id.number
        if number >= self._DENSE:
            key = number << 2 | _KIND_BITS[dialog_id.kind]
            if key in self._sparse:
                return False
            self._sparse.add(key)
            return True
        bits = self._bits[dialog_id.kind]
        index, mask = number >> 3, 1 << (number & 7)
        if index >= len(bits):
            bits.extend(bytes(max(index + 1, 2 * len(bits)) - len(bits)))
        if bits[index] & mask:
            return False
        bits[index] |= mask
        return True


def _parse(value: object, position: int) -> DialogId | Rejected:
    try:
        return DialogId.parse(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        return Rejected(value, position, exc)


def _distinct(ids: Iterable[object]) -> list[DialogId | Rejected]:
    seen = SeenIds()
    out: list[DialogId | Rejected] = []
    for position, value in enumerate(ids):
        parsed = _parse(value, position)
        if isinstance(parsed, DialogId) and not seen.add(parsed):
            continue
        out.append(parsed)
    return out


class IdReader:
    """Distinct parsed ids (and rejected inputs) from the caller's input, in order.

    ``total`` is the number of outcomes the input will give: known at once for a sized
    input, and once it has been read to its end otherwise.
    """

    def __init__(self, ids: Iterable[object] | AsyncIterable[object]) -> None:
        self._seen: SeenIds | None = None
        self._async: AsyncIterator[object] | None = None
        self._pending: asyncio.Future[object] | None = None  # the async input's next value
        self._sync: Iterable[object] | None = None
        self.total: int | None = None
        self.exhausted = False
        self._count = 0
        self._position = 0
        if isinstance(ids, Collection):
            distinct = _distinct(ids)
            self.total = len(distinct)
            self._parsed = iter(distinct)
        else:
            self._seen = SeenIds()
            if isinstance(ids, AsyncIterable):
                self._async = ids.__aiter__()
            else:
                self._sync = iter(ids)

    async def next(
        self, *, wait: float | None = None, sleep: Sleep = asyncio.sleep
    ) -> DialogId | Rejected | object | None:
        """The next distinct id or rejected input; ``None`` once the input has ended.

        ``wait``: how long (``sleep``'s seconds) an async input may take to give its
        next value before :data:`NOT_YET` is answered instead (``None``: as long as it
        takes); the value is kept for the next call.
        """
        if self.exhausted:
            return None
        if self._seen is None:
            item = next(self._parsed, None)
            if item is None:
                self.exhausted = True
            return item
        while True:
            if self._sync is not None:
                value = next(self._sync, _END)  # type: ignore[call-overload]
            else:
                value = await self._next_value(wait, sleep)
                if value is NOT_YET:
                    return NOT_YET
            if value is _END:
                self.exhausted = True
                self.total = self._count
                return None
            parsed = _parse(value, self._position)
            self._position += 1
            if isinstance(parsed, DialogId) and not self._seen.add(parsed):
                continue
            self._count += 1
            return parsed

    async def _next_value(self, wait: float | None, sleep: Sleep) -> object:
        assert self._async is not None
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._async, _END))
        pending = self._pending
        if not pending.done():
            if wait is None:
                await asyncio.wait({pending})
            elif not await wait_or_timeout(pending, wait, sleep):  # type: ignore[arg-type]
                return NOT_YET
        self._pending = None
        return pending.result()

    @property
    def pending(self) -> asyncio.Future[object] | None:
        """The async input's next value while it is awaited (to wait on with others)."""
        return self._pending

    def cancel(self) -> asyncio.Future[object] | None:
        """Stop awaiting the async input (the lookup is closing); the cancelled read,
        to wait for, if one was under way."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
        return pending


@attrs.frozen
class DialogLookup:
    """A "dialog id in, ``Dialog`` out" method spec with the rest of its arguments fixed
    (the bot of an ``imbot.v2`` lookup): what a bulk lookup sends for each id."""

    spec: MethodSpec[..., Dialog]
    fixed: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """The spec's other keyword arguments (``bot_id``, ``bot_token``); never shown."""

    @property
    def name(self) -> str:
        """The REST name sent."""
        return self.spec.name

    def params(self, dialog_id: DialogId) -> Params:
        """The checked parameters asking for ``dialog_id``."""
        assert self.spec.dialog_key is not None
        return self.spec.build(**{self.spec.dialog_key: dialog_id}, **self.fixed)

    def decode(self, result: object, body: bytes | None = None) -> Dialog:
        """The ``Dialog`` in one command's result."""
        return self.spec.decode(result, body)


class CommandMaker:
    """Makes each id's command for ``method`` (see the module docs)."""

    def __init__(self, method: DialogLookup) -> None:
        self._method = method
        # A stand-in id no real input can collide with inside the encoded query.
        probe = DialogId.chat(10**17 + secrets.randbelow(9 * 10**17))
        stand_in = make_command("d0", method.name, method.params(probe))
        pieces = stand_in.cmd.split(str(probe))
        self._shape = (pieces[0], pieces[1]) if len(pieces) == 2 else None

    def make(self, name: str, key: DialogId) -> Command:
        """The command for ``key``; ``TypeError``/``ValueError`` if the method refuses it
        (``imopenlines.dialog.get`` takes only ``chatNNN``)."""
        params = self._method.params(key)
        if self._shape is not None:
            cmd = f"{self._shape[0]}{key}{self._shape[1]}"
        else:  # the id did not appear exactly once in the stand-in: encode in full
            cmd = f"{self._method.name}?{build_query(params)}"
        return Command(name=name, method=self._method.name, params=params, cmd=cmd)
