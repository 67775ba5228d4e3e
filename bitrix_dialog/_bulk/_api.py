"""``client.dialogs``: bulk dialog lookups through any of the four dialog methods.

    async with client.dialogs.get_many(ids, progress=bar_update) as results:
        async for dialog_id, outcome in results:       # as answers arrive
            ...
    everything = await client.dialogs.get_all(ids)     # a mapping, in input order
    as_bot = await client.dialogs.get_all(ids, method=client.imbot.v2.chat.get)

Arguments are checked when the call is made, before anything is read or sent: a
wrong method, bot credentials or option is a programming error and raises at once.
An input *id* that is wrong is data, not code: it becomes that id's own
:class:`InvalidDialogIdError` outcome and costs the other ids nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, Final, TypeAlias

from .._call._executor import Executor
from .._methods._dialog_id import DialogId, DialogIdLike
from .._methods._dialogs import IM_DIALOG_GET
from .._methods._endpoint import BotCredentials, Endpoint
from .._methods._spec import MethodSpec
from .._models import Dialog
from ._input import DialogLookup
from ._stream import DialogStream
from ._types import DialogKey, DialogOutcome, DialogResults, ProgressCallback

__all__ = ["DialogsApi"]

# Past the bucket's first burst its drain rate sets the pace, and a few requests in
# flight keep up with it; each one in flight may hold a ~0.35 MiB answer.
_MAX_DEFAULT_IN_FLIGHT: Final = 16
_UNKNOWN_LIMITER_IN_FLIGHT: Final = 8

DialogIds = Iterable[DialogIdLike] | AsyncIterable[DialogIdLike]
"""The ids of a bulk lookup: any iterable or async iterable, read lazily."""


DialogMethod: TypeAlias = "Endpoint[..., Dialog] | MethodSpec[..., Dialog]"
"""What ``get_many(method=...)`` takes: a typed dialog method such as
``client.imbot.v2.chat.get``, or its spec."""

_CHOICES: Final = (
    "client.im.dialog.get, client.imbot.dialog.get, client.imopenlines.dialog.get "
    "or client.imbot.v2.chat.get"
)


def _method(method: object) -> MethodSpec[..., Dialog]:
    if method is None:
        return IM_DIALOG_GET
    spec = method.spec if isinstance(method, Endpoint) else method
    if not isinstance(spec, MethodSpec):
        named = f" ({method!r})" if isinstance(method, str) else ""
        msg = f"method must be a typed dialog method: {_CHOICES}; not a {type(method).__name__}"
        raise TypeError(msg + named)
    if spec.dialog_key is None or spec.result is not Dialog:
        msg = f"method {spec.name} does not look up a dialog by its id; use {_CHOICES}"
        raise ValueError(msg)
    return spec


def _check_ids(ids: object) -> None:
    if isinstance(ids, str | bytes | bytearray):
        msg = (
            "ids must be an iterable of dialog ids, not a single string; "
            "wrap one id in a list: get_many([dialog_id])"
        )
        raise TypeError(msg)
    if not isinstance(ids, Iterable | AsyncIterable):
        msg = f"ids must be an iterable or async iterable of dialog ids, not {type(ids).__name__}"
        raise TypeError(msg)


def _check_in_flight(max_in_flight: object) -> None:
    if max_in_flight is None:
        return
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int):
        msg = f"max_in_flight must be an int or None, not {type(max_in_flight).__name__}"
        raise TypeError(msg)
    if max_in_flight < 1:
        msg = f"max_in_flight must be >= 1, not {max_in_flight}"
        raise ValueError(msg)


class DialogsApi:
    """Bulk lookups of many dialogs at once: :meth:`get_many` and :meth:`get_all`."""

    def __init__(self, executor: Executor, bot: BotCredentials, closed: Callable[[], bool]) -> None:
        self._executor = executor
        self._bot = bot
        self._closed = closed

    def get_many(
        self,
        ids: DialogIds,
        method: DialogMethod | None = None,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
        progress: ProgressCallback | None = None,
        max_in_flight: int | None = None,
    ) -> DialogStream:
        """Look up every dialog in ``ids``; yields ``(dialog_id, Dialog | BitrixError)``
        as the answers arrive.

        - ``ids``: dialog ids in any form :class:`DialogId` accepts, from any iterable
          or async iterable (a generator, a database cursor), read lazily. Ids are
          deduplicated by what they name (``"chat5"``/``"CHAT5"``, ``5``/``"5"``):
          each distinct id gets exactly one outcome, keyed by its canonical
          :class:`DialogId`. An input that is not a dialog id (or, for
          ``imopenlines.dialog.get``, not a ``chatNNN`` id) is not sent: it comes
          back as its own :class:`InvalidDialogIdError` (keyed by an
          :class:`RejectedInput` when it is not an id at all).
        - ``method``: the typed method each id is looked up with:
          ``client.im.dialog.get`` (the default), ``client.imbot.dialog.get``,
          ``client.imopenlines.dialog.get`` or ``client.imbot.v2.chat.get`` (acting as
          ``bot_id``, with ``bot_token`` for webhooks; both default to the client's).
        - ``progress``: called as ``progress(done, total, errors)`` as outcomes
          settle; ``total`` is ``None`` until an unsized input has been read to its end.
        - ``max_in_flight``: batch requests sent at once (default: the limiter's
          capacity, at most 16). Memory is bounded by it, not by the number of ids;
          raise it to spend a large bucket's burst (Enterprise: 250) in one round trip.

        Ids travel 50 per ``batch`` request, each request taking its turn in the
        client's rate limiter. A per-id failure (``ACCESS_ERROR`` for one chat) is that
        id's outcome, never an exception; one that a retry may cure (an operating
        limit, a server error inside the batch) is re-sent in a later batch as the
        client's :class:`RetryPolicy` allows. Use it with ``async with`` (or
        ``aclose()``) so that breaking out early cancels the requests in flight.
        """
        lookup = self._lookup(_method(method), bot_id, bot_token)
        _check_ids(ids)
        if progress is not None and not callable(progress):
            msg = f"progress must be callable or None, not {type(progress).__name__}"
            raise TypeError(msg)
        _check_in_flight(max_in_flight)
        if self._closed():
            msg = "the client is closed"
            raise RuntimeError(msg)
        return DialogStream(
            executor=self._executor,
            method=lookup,
            ids=ids,
            progress=progress,
            max_in_flight=max_in_flight or self._default_in_flight(),
        )

    async def get_all(
        self,
        ids: DialogIds,
        method: DialogMethod | None = None,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
        progress: ProgressCallback | None = None,
        max_in_flight: int | None = None,
    ) -> DialogResults:
        """Like :meth:`get_many`, gathered into a :class:`DialogResults` mapping in input
        order (first appearance of each id). Holds every dialog in memory: for very
        many ids, iterate :meth:`get_many` instead."""
        stream = self.get_many(
            ids,
            method,
            bot_id=bot_id,
            bot_token=bot_token,
            progress=progress,
            max_in_flight=max_in_flight,
        )
        order = stream.record_order()
        outcomes: dict[DialogKey, DialogOutcome] = {}
        async with stream:
            async for key, outcome in stream:
                outcomes[key] = outcome
        return DialogResults({key: outcomes[key] for key in order})

    def _lookup(
        self, spec: MethodSpec[..., Dialog], bot_id: int | None, bot_token: str | None
    ) -> DialogLookup:
        """``spec`` with its bot fixed, checked now on a stand-in id."""
        fixed: dict[str, Any] = {}
        if spec.acts_as_bot:
            fixed = self._bot.fill({"bot_id": bot_id, "bot_token": bot_token})
        elif bot_id is not None or bot_token is not None:
            msg = f"{spec.name} takes no bot credentials (bot_id/bot_token are for imbot.v2)"
            raise ValueError(msg)
        lookup = DialogLookup(spec, fixed)
        lookup.params(DialogId.chat(1))
        return lookup

    def _default_in_flight(self) -> int:
        capacity = self._executor.limiter.capacity
        if isinstance(capacity, int) and not isinstance(capacity, bool) and capacity > 0:
            return min(capacity, _MAX_DEFAULT_IN_FLIGHT)
        return _UNKNOWN_LIMITER_IN_FLIGHT  # a limiter reporting no usable size

    def __repr__(self) -> str:
        return "DialogsApi()"
