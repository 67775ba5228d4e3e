"""Which handler an event goes to, and how ``imbot.v2`` handlers run.

:class:`EventHandlers` is the registry :class:`~._router.BitrixEvents` is built on:
``on``/``add``/``fallback`` for classic events (by class or code) and for the typed
``imbot.v2`` events (``on(V2MessageAddEvent)``), and :meth:`EventHandlers.dispatch`,
the one way a typed :class:`~bitrix_dialog.V2Event` reaches its handler, whichever
mode delivered it: the event endpoint (webhook mode) and the fetch-mode poller both
call it.

A ``V2...Event`` class registers every type decoded into it: ``on(V2MessageAddEvent)``
gets ``ONIMBOTV2MESSAGEADD`` and the user event ``ONIMV2MESSAGEADD`` (``event.bot`` is
``None`` there); register a code (``on("ONIMBOTV2MESSAGEADD")``) for one type only.
A v2 handler is ``async def handler(event, client, request)``: ``request`` is the
post's ``web.Request`` in webhook mode (read ``request.config_dict``, not the body)
and ``None`` in fetch mode; what it returns is ignored.

Webhook mode runs v2 handlers in tasks (see :class:`HandlerTasks`): the portal does
not promise to post an event again, so the post is answered 200 as soon as it is
verified and decoded, not after the handler's work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeAlias, TypeVar, overload

from aiohttp import web

from .._client import Client
from .._events._types import EVENT_CLASSES, V2Event
from ._events import BitrixEvent
from ._guard import positive, short
from ._parse import event_class

__all__ = [
    "DEFAULT_HANDLER_GRACE",
    "DEFAULT_MAX_RUNNING_HANDLERS",
    "EventHandler",
    "EventHandlers",
    "HandlerTasks",
    "V2EventHandler",
    "is_v2",
]

logger: Final = logging.getLogger("bitrix_dialog")

DEFAULT_MAX_RUNNING_HANDLERS: Final = 64
"""v2 handlers running at once in webhook mode; a post beyond waits for a slot."""
DEFAULT_HANDLER_GRACE: Final = 30.0
"""Seconds the app's shutdown waits for running v2 handlers before cancelling them."""

_E = TypeVar("_E", bound=BitrixEvent)
_V = TypeVar("_V", bound=V2Event)
EventHandler: TypeAlias = Callable[[_E, Client, web.Request], Awaitable[web.StreamResponse | None]]
"""``async def handler(event, client, request) -> None`` (or a ``web.StreamResponse``)."""
V2EventHandler: TypeAlias = Callable[[_V, Client, web.Request | None], Awaitable[object]]
"""``async def handler(event, client, request) -> None`` for a typed ``imbot.v2`` event;
``request`` is ``None`` when the event was fetched (``imbot.v2.Event.get``)."""
_AnyHandler: TypeAlias = Callable[[Any, Client, Any], Awaitable[Any]]
_H = TypeVar("_H", bound=_AnyHandler)
_V2_PREFIXES: Final = ("ONIMBOTV2", "ONIMV2")


def is_v2(name: str) -> bool:
    """Whether the event code is an ``imbot.v2``/``im.v2`` event (``ONIMBOTV2*``, ``ONIMV2*``)."""
    return name.upper().startswith(_V2_PREFIXES)


def _names(event: type[BitrixEvent] | type[V2Event] | str) -> tuple[str, ...]:
    if isinstance(event, str):
        if not event.strip():
            msg = "the event code must not be empty"
            raise ValueError(msg)
        code = event.strip().upper()
        return (code if is_v2(code) else (event_class(code).NAME or code),)
    if isinstance(event, type) and issubclass(event, BitrixEvent) and event.NAME:
        return (event.NAME,)
    if isinstance(event, type) and issubclass(event, V2Event) and event is not V2Event:
        names = tuple(name for name, cls in EVENT_CLASSES.items() if cls is event)
        if names:
            return names
    msg = (
        "name an event class such as BotMessageEvent or V2MessageAddEvent, or an event "
        f"code (use fallback() for every other event); not {event!r}"
    )
    raise TypeError(msg)


class HandlerTasks:
    """v2 handlers run in tasks, at most ``limit`` at once; :meth:`join` waits for them.

    :meth:`start` returns once the handler has a slot: when ``limit`` handlers are
    running, the post that brought the event waits (it is not answered 503: the portal
    may not post it again). A handler's exception is logged (``bitrix_dialog`` logger,
    error, with the traceback) and goes no further.
    """

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """Handlers running now."""
        return len(self._tasks)

    async def start(self, run: Callable[[], Awaitable[object]], what: str) -> None:
        """Run ``run()`` in a task as soon as a slot is free."""
        await self._slots.acquire()
        try:
            task = asyncio.get_running_loop().create_task(self._run(run, what))
        except BaseException:
            self._slots.release()
            raise
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, run: Callable[[], Awaitable[object]], what: str) -> None:
        try:
            await run()
        except asyncio.CancelledError:
            logger.warning("Bitrix24 event %s: its handler was cancelled", what)
            raise
        except Exception:
            logger.exception("Bitrix24 event %s: its handler failed", what)
        finally:
            self._slots.release()

    async def join(self, grace: float | None = None) -> None:
        """Wait until no handler runs (those started meanwhile too); after ``grace``
        seconds cancel the ones still running."""
        loop = asyncio.get_running_loop()
        deadline = None if grace is None else loop.time() + grace
        while self._tasks:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            _, pending = await asyncio.wait(set(self._tasks), timeout=left)
            if pending and deadline is not None and loop.time() >= deadline:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                return


class EventHandlers:
    """The handlers of one endpoint (and of a fetch-mode poller feeding the same ones)."""

    def __init__(
        self,
        *,
        max_running_handlers: int = DEFAULT_MAX_RUNNING_HANDLERS,
        handler_grace: float = DEFAULT_HANDLER_GRACE,
    ) -> None:
        positive("max_running_handlers", max_running_handlers, integer=True)
        positive("handler_grace", handler_grace, integer=False)
        self._handlers: dict[str, _AnyHandler] = {}
        self._fallback: _AnyHandler | None = None
        self._tasks = HandlerTasks(max_running_handlers)
        self._grace = float(handler_grace)

    # ------------------------------------------------------------ registering
    @overload
    def on(self, event: type[_E]) -> Callable[[EventHandler[_E]], EventHandler[_E]]: ...
    @overload
    def on(self, event: type[_V]) -> Callable[[V2EventHandler[_V]], V2EventHandler[_V]]: ...
    @overload
    def on(self, event: str) -> Callable[[_H], _H]: ...
    def on(self, event: type[BitrixEvent] | type[V2Event] | str) -> Callable[[Any], Any]:
        """Decorate the handler of one event: by class (``BotMessageEvent``,
        ``V2MessageAddEvent``: every type it is decoded from) or by code
        (``"ONCRMDEALUPDATE"``, ``"ONIMBOTV2JOINCHAT"``)."""
        _names(event)  # a bad name fails here, not at the first post

        def register(handler: Any) -> Any:
            self.add(event, handler)
            return handler

        return register

    def add(self, event: type[BitrixEvent] | type[V2Event] | str, handler: _AnyHandler) -> None:
        """Register ``handler`` for ``event`` (a class such as ``BotMessageEvent``, or a code)."""
        names = _names(event)
        if not callable(handler):
            msg = "handler must be an async callable (event, client, request)"
            raise TypeError(msg)
        taken = [name for name in names if name in self._handlers]
        if taken:
            msg = f"{', '.join(taken)} already has a handler"
            raise ValueError(msg)
        for name in names:
            self._handlers[name] = handler

    def fallback(self, handler: _H) -> _H:
        """Decorate the handler of every verified event that has no handler of its own."""
        if not callable(handler):
            msg = "handler must be an async callable (event, client, request)"
            raise TypeError(msg)
        self._fallback = handler
        return handler

    def handler_for(self, code: str) -> _AnyHandler | None:
        """The handler an event of ``code`` goes to (its own, else the fallback), or None."""
        return self._handlers.get(code.upper(), self._fallback)

    # ---------------------------------------------------------------- imbot.v2
    async def dispatch(
        self, event: V2Event, client: Client, request: web.Request | None = None
    ) -> None:
        """Hand a typed ``imbot.v2`` event to its handler and wait for it.

        First ``client.dialogs.learn(event)`` (the dialog cache takes the event's chat,
        see :meth:`~bitrix_dialog.DialogsApi.learn`), then the handler registered for
        ``event.type`` (else the fallback; with neither the event is only logged). The
        handler's exception propagates: a fetch-mode poller confirms an event only
        once this returned. The event endpoint calls it in a task (webhook mode).
        """
        if not isinstance(event, V2Event):
            msg = f"dispatch() takes a V2Event, not {type(event).__name__}"
            raise TypeError(msg)
        await client.dialogs.learn(event)
        await self._call_v2(event, client, request)

    async def _call_v2(self, event: V2Event, client: Client, request: web.Request | None) -> None:
        handler = self.handler_for(event.type)
        if handler is None:
            logger.info("Bitrix24 event %s has no handler", short(event.type))
            return
        await handler(event, client, request)

    async def _start_v2(self, event: V2Event, client: Client, request: web.Request) -> None:
        """Webhook mode: learn now (before the 200), run the handler in a task."""
        await client.dialogs.learn(event)
        if self.handler_for(event.type) is None:
            logger.info("Bitrix24 event %s has no handler", short(event.type))
            return
        await self._tasks.start(lambda: self._call_v2(event, client, request), short(event.type))

    async def join(self, grace: float | None = None) -> None:
        """Wait until the v2 handlers started by posts have finished (and those they
        start meanwhile); with ``grace`` (seconds), cancel those still running after it.

        The app's shutdown does this with ``handler_grace`` (see ``add_route``)."""
        await self._tasks.join(grace)

    async def _on_shutdown(self, app: web.Application) -> None:
        if len(self._tasks):
            logger.info("Bitrix24 events: waiting for %d running handlers", len(self._tasks))
        await self._tasks.join(self._grace)
