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
from typing import Any, ClassVar, Final, TypeAlias

from .._cache import CachedReads
from .._cache._learn import learn
from .._call._executor import Executor
from .._events._types import V2Event
from .._methods._dialog_id import DialogId, DialogIdLike
from .._methods._dialogs import IM_DIALOG_GET
from .._methods._endpoint import BotCredentials, Endpoint
from .._methods._spec import MethodSpec
from .._models import Dialog
from ._input import DialogLookup
from ._stream import DialogStream
from ._types import DialogKey, DialogOutcome, DialogResults, ProgressCallback

__all__ = ["DialogsApi"]

# A limiter reporting no usable capacity: as many as the smallest plan admits at once.
_UNKNOWN_CAPACITY: Final = 50

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


def _check_budget(memory_budget: object) -> None:
    if memory_budget is None:
        return
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int):
        msg = f"memory_budget must be an int (bytes) or None, not {type(memory_budget).__name__}"
        raise TypeError(msg)
    if memory_budget < 1:
        msg = f"memory_budget must be >= 1 byte, not {memory_budget}"
        raise ValueError(msg)


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

    ANSWER_MEMORY: ClassVar[int] = 512 * 1024
    """Bytes one batch answer in flight is planned at: 50 rich dialogs, read and parsed."""
    DEFAULT_MEMORY_BUDGET: ClassVar[int] = 128 * 1024 * 1024
    """Bytes of answers in flight the default width allows: 256 answers, an Enterprise
    bucket's whole burst (250)."""

    def __init__(
        self,
        executor: Executor,
        bot: BotCredentials,
        closed: Callable[[], bool],
        cache: CachedReads | None = None,
    ) -> None:
        self._executor = executor
        self._bot = bot
        self._closed = closed
        self._cache = cache

    async def invalidate(self, dialog_id: DialogIdLike) -> None:
        """Forget what the client's dialog cache holds for ``dialog_id`` (``"chat5"``, a
        user id, a ``DialogId``), whichever typed method cached it (``im.dialog.get``,
        ``imbot.v2.Chat.get``, ``imopenlines.dialog.get`` by session, ``im.chat.get``
        naming its chat ...), under this client's credentials; with a shared cache
        (``RedisDialogCache``) in every worker. The next lookup asks the portal.
        Without a cache it does nothing. A value that is not a dialog id raises
        :class:`InvalidDialogIdError`.
        """
        if self._cache is None:
            DialogId.parse(dialog_id)  # bad input is refused the same, cache or not
            return
        await self._cache.invalidate(dialog_id)

    async def invalidate_all(self) -> None:
        """Forget everything the client's dialog cache holds under this client's
        credentials. Without a cache it does nothing."""
        if self._cache is not None:
            await self._cache.invalidate_all()

    async def learn(self, event: V2Event) -> None:
        """Let the dialog cache learn from a typed ``imbot.v2`` event, sending nothing:
        a bot event's ``chat`` primes ``imbot.v2.Chat.get`` of that bot and dialog
        (merged into a cached answer, whose ``role`` and ``muted_user_ids`` stay),
        ``ONIMBOTV2DELETE`` drops everything, a join drops the dialog first. The
        event endpoint and the fetch-mode poller call it for every event; without a
        cache it does nothing. See the "Dialog cache" docs for the rules.
        """
        if not isinstance(event, V2Event):
            msg = f"learn() takes a V2Event, not {type(event).__name__}"
            raise TypeError(msg)
        if self._cache is not None:
            await learn(self._cache, self._bot, event)

    def get_many(
        self,
        ids: DialogIds,
        method: DialogMethod | None = None,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
        progress: ProgressCallback | None = None,
        max_in_flight: int | None = None,
        memory_budget: int | None = None,
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
        - ``max_in_flight``: batch requests sent at once. By default as many as the
          limiter admits at once (its ``capacity``: 50 on Standard, 250 on
          Enterprise, following the bucket as it learns), so a burst is never held
          back by the stream, but at most ``memory_budget`` bytes of answers in
          flight (default :attr:`DEFAULT_MEMORY_BUDGET`, 128 MiB, at
          :attr:`ANSWER_MEMORY`, 0.5 MiB, each: 256 requests). Memory is bounded by
          it, not by the number of ids. A ``max_in_flight`` given is used as it is.

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
        _check_budget(memory_budget)
        if self._closed():
            msg = "the client is closed"
            raise RuntimeError(msg)
        return DialogStream(
            executor=self._executor,
            method=lookup,
            ids=ids,
            progress=progress,
            width=self._width(max_in_flight, memory_budget),
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
        memory_budget: int | None = None,
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
            memory_budget=memory_budget,
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

    def _width(self, max_in_flight: int | None, memory_budget: int | None) -> Callable[[], int]:
        """How many requests the stream may have in flight, asked anew as it runs."""
        if max_in_flight is not None:
            return lambda: max_in_flight
        budget = self.DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
        by_memory = max(1, budget // self.ANSWER_MEMORY)
        executor = self._executor

        def width() -> int:
            capacity = executor.limiter.capacity
            if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
                capacity = _UNKNOWN_CAPACITY  # a limiter reporting no usable size
            return min(capacity, by_memory)

        return width

    def __repr__(self) -> str:
        return "DialogsApi()"
