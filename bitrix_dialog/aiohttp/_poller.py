"""A fetch-mode bot as a background task: :class:`EventPoller`.

    poller = EventPoller(bot_id=456, offsets=RedisOffsetStore(redis))

    @poller.on(V2MessageAddEvent)
    async def echo(event: V2MessageAddEvent, client: Client) -> None:
        await client.call("imbot.v2.Chat.Message.send", {...})

    app.cleanup_ctx.append(poller.cleanup_ctx)      # after setup(app, auth)
    # or, without aiohttp: await poller.run(client)  (until cancelled)

It follows ``client.imbot.v2.events(...)`` (:class:`~bitrix_dialog.EventStream`: the
confirming, the lease, the idle backoff, the retries are the stream's) and hands each
event to its handler: the one registered for its type code (``"ONIMBOTV2JOINCHAT"``),
else the one for its class or the nearest base class (``V2MessageAddEvent`` serves
``ONIMBOTV2MESSAGEADD`` and ``ONIMV2MESSAGEADD``), else the fallback; an event nobody
handles is confirmed all the same. Before the handler runs, a client with a dialog
cache learns the event's chat (as in webhook mode), so the handler's
``client.imbot.v2.chat.get(event.chat.dialog_id)`` sends nothing. An event is
confirmed only after its handler returned. A handler that raises is logged with its
traceback and the event counts as handled (as a webhook post answered 500 is not sent
again); one poisoned event never blocks the bot. Cancelling the task stops it cleanly:
the offset past the last handled event is saved, the lease given back. A final error
(``BOT_NOT_FOUND``, ``BOT_OWNERSHIP_ERROR``, ``SCOPE_ERROR``, ``USER_NOT_SUBSCRIBED``
...) ends :meth:`run` with that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, Protocol, TypeAlias, TypeVar, overload, runtime_checkable

from aiohttp import web

from .._client import Client
from .._events._types import V2Event
from .._poll._offsets import OffsetStore
from .._poll._stream import DEFAULT_IDLE, check_idle
from .._types import Random
from ._setup import CLIENT_KEY

__all__ = ["EventPoller", "PollHandler", "V2Dispatcher"]

logger: Final = logging.getLogger("bitrix_dialog")

_E = TypeVar("_E", bound=V2Event)
PollHandler: TypeAlias = Callable[[_E, Client], Awaitable[None]]
"""``async def handler(event, client) -> None``."""
_AnyHandler: TypeAlias = Callable[[Any, Client], Awaitable[None]]
_H = TypeVar("_H", bound=_AnyHandler)


@runtime_checkable
class V2Dispatcher(Protocol):
    """What hands one typed v2 event to its handler and waits for it: a
    ``BitrixEvents`` that routes v2 events (its ``dispatch``), or an :class:`EventPoller`."""

    async def dispatch(self, event: V2Event, client: Client, /) -> None:
        """Run the handler of ``event``; its exception propagates."""
        ...


def _name(event: type[V2Event] | str) -> str | type[V2Event]:
    if isinstance(event, str):
        if not event.strip():
            msg = "an event code must not be empty"
            raise ValueError(msg)
        return event.strip().upper()
    if isinstance(event, type) and issubclass(event, V2Event):
        return event
    msg = f"name a v2 event class such as V2MessageAddEvent, or an event code; not {event!r}"
    raise TypeError(msg)


class EventPoller:
    """Polls one fetch-mode bot and runs a handler per event (see the module docs).

    ``client``: the client to poll with (default: ``setup(app, auth)``'s shared client
    in :meth:`cleanup_ctx`, or the one given to :meth:`run`). The other arguments are
    ``client.imbot.v2.events``'s: ``bot_id``/``bot_token`` (default: the client's bot),
    ``offsets`` (an :class:`~bitrix_dialog.OffsetStore`; default: in memory), ``limit``,
    ``with_user_events``, ``idle``, ``key``, ``random``; they are checked here.
    ``events``: feed another router's handlers instead of the poller's own (anything with
    an async ``dispatch(event, client)``, such as a ``BitrixEvents`` that routes v2
    events, so one set of handlers serves webhook and fetch mode).
    """

    def __init__(
        self,
        client: Client | None = None,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
        offsets: OffsetStore | None = None,
        limit: int = 100,
        with_user_events: bool = False,
        idle: tuple[float, float] = DEFAULT_IDLE,
        key: str | None = None,
        random: Random | None = None,
        events: V2Dispatcher | None = None,
    ) -> None:
        if events is not None and not isinstance(events, V2Dispatcher):
            msg = f"events must have an async dispatch(event, client), not {events!r}"
            raise TypeError(msg)
        self._events = events
        if client is not None and not isinstance(client, Client):
            msg = f"client must be a Client or None, not {type(client).__name__}"
            raise TypeError(msg)
        check_idle(idle)
        self._client = client
        self._options: dict[str, Any] = {
            "bot_id": bot_id,
            "bot_token": bot_token,
            "offsets": offsets,
            "limit": limit,
            "with_user_events": with_user_events,
            "idle": idle,
            "key": key,
            "random": random,
        }
        self._by_code: dict[str, _AnyHandler] = {}
        self._by_class: dict[type[V2Event], _AnyHandler] = {}
        self._fallback: _AnyHandler | None = None
        self._task: asyncio.Task[None] | None = None
        self.handled = 0
        """Events handed to a handler (or to nobody) and confirmed so far."""
        self.failed = 0
        """Handlers that raised (their events counted as handled)."""

    # ------------------------------------------------------------ registering
    @overload
    def on(self, event: type[_E]) -> Callable[[PollHandler[_E]], PollHandler[_E]]: ...
    @overload
    def on(self, event: str) -> Callable[[_H], _H]: ...
    def on(self, event: type[V2Event] | str) -> Callable[[Any], Any]:
        """Decorate the handler of one event, by class (``V2MessageAddEvent``) or by code
        (``"ONIMBOTV2JOINCHAT"``)."""
        _name(event)

        def register(handler: Any) -> Any:
            self.add(event, handler)
            return handler

        return register

    def add(self, event: type[V2Event] | str, handler: _AnyHandler) -> None:
        """Register ``handler`` for ``event`` (a v2 event class, or a type code)."""
        name = _name(event)
        if not callable(handler):
            msg = "handler must be an async callable (event, client)"
            raise TypeError(msg)
        self._own_handlers()
        table: dict[Any, _AnyHandler] = self._by_code if isinstance(name, str) else self._by_class
        if name in table:
            shown = name if isinstance(name, str) else name.__name__
            msg = f"{shown} already has a handler"
            raise ValueError(msg)
        table[name] = handler

    def fallback(self, handler: _H) -> _H:
        """Decorate the handler of every event without a handler of its own."""
        if not callable(handler):
            msg = "handler must be an async callable (event, client)"
            raise TypeError(msg)
        self._own_handlers()
        self._fallback = handler
        return handler

    def _own_handlers(self) -> None:
        if self._events is not None:
            msg = "this poller feeds the handlers of events=...: register them there"
            raise RuntimeError(msg)

    def handler_for(self, event: V2Event) -> _AnyHandler | None:
        """The handler ``event`` goes to (its code's, its class's or a base's, the
        fallback), or ``None``."""
        found = self._by_code.get(event.type)
        if found is not None:
            return found
        for cls in type(event).__mro__:
            found = self._by_class.get(cls)
            if found is not None:
                return found
        return self._fallback

    # ---------------------------------------------------------------- running
    async def run(self, client: Client | None = None) -> None:
        """Poll and handle until cancelled (then stop cleanly) or a final error."""
        client = client or self._client
        if client is None:
            msg = "EventPoller.run needs a client (EventPoller(client) or run(client))"
            raise TypeError(msg)
        async with client.imbot.v2.events(**self._options) as events:
            logger.info("polling %s for imbot.v2 events", events.key)
            async for event in events:
                await self._handle(event, client)

    async def dispatch(self, event: V2Event, client: Client) -> None:
        """Let the dialog cache learn from ``event`` (``client.dialogs.learn``), then run
        its handler (see :meth:`handler_for`) and wait for it; the handler's exception
        propagates. With ``events=...``, that router's ``dispatch`` (which learns too)."""
        if self._events is not None:
            await self._events.dispatch(event, client)
            return
        await client.dialogs.learn(event)
        handler = self.handler_for(event)
        if handler is None:
            logger.debug("no handler for %s event %s", event.type, event.event_id)
            return
        await handler(event, client)

    async def _handle(self, event: V2Event, client: Client) -> None:
        try:
            await self.dispatch(event, client)
        except Exception:
            self.failed += 1
            logger.exception(
                "the handler of %s event %s raised; the event counts as handled",
                event.type,
                event.event_id,
            )
        self.handled += 1

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """For ``app.cleanup_ctx.append(poller.cleanup_ctx)``: polls while the app runs
        (with ``setup(app, auth)``'s client unless the poller has one), stops on cleanup."""
        client = self._client or app[CLIENT_KEY]
        self._task = asyncio.create_task(self.run(client), name="bitrix_dialog EventPoller")
        self._task.add_done_callback(_report)
        try:
            yield
        finally:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def __repr__(self) -> str:
        return f"EventPoller(bot_id={self._options['bot_id']!r}, handled={self.handled})"


def _report(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.error("the EventPoller stopped: %s", error, exc_info=error)
