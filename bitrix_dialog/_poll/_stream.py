"""A fetch-mode bot's events as one async iterator: :class:`EventStream`.

    store = FileOffsetStore("offsets.json")
    async with client.imbot.v2.events(bot_id=456, offsets=store) as events:
        async for event in events:
            await handle(event)          # the event counts as handled once you ask for the next

How it polls ``imbot.v2.Event.get`` (through the client's normal call path, so the
rate limiter, the operating budget, deadlines and the retry policy all apply):

- **Confirming.** An event counts as handled when the consumer asks for the next one
  (or leaves the ``async with`` without an exception). When a whole page is handled its
  ``nextOffset`` is saved in the store and sent as the next call's ``offset``, which
  confirms the page to the portal. A process that dies mid-page restarts from the saved
  offset: the unconfirmed page comes again, nothing is lost. Leaving the ``async with``
  (a ``break``, an exception, a cancellation) saves the offset just past the last
  handled event, so a clean stop re-delivers nothing that was handled.
- **Duplicates** within the process (a page answered again after a retry or a lease
  taken over) are dropped by ``eventId``.
- **Pacing.** While ``hasMore`` it polls again at once; after a page of events, once
  more at once (that call confirms it); after an empty page it waits, with jitter,
  between ``idle[0]`` and a ceiling that doubles per empty poll up to ``idle[1]``
  (default 5-30 s, as the docs ask).
- **Failures.** What the retry policy gave up on but may pass (no answer, 5xx, rate
  limits) is logged and polled again after an idle wait; everything else is raised:
  ``BOT_NOT_FOUND`` (:class:`NotFoundError`), ``BOT_OWNERSHIP_ERROR``
  (:class:`AccessDeniedError`), ``SCOPE_ERROR`` (:class:`InsufficientScopeError`),
  ``USER_NOT_SUBSCRIBED``, ``BOT_TOKEN_NOT_SPECIFIED`` (:class:`BadRequestError`) are final.
- **One consumer.** The store's lease is held from the first poll until the stream is
  closed; a lost lease is re-taken (and the offset re-loaded) before the next poll.
- **The store failing** (:class:`~bitrix_dialog.OffsetStoreError`: its Redis or disk
  unreachable) is logged, and the same step (taking the lease, loading or saving the
  offset) is tried again after an idle wait; nothing is confirmed meanwhile. A failed
  save when the stream closes is logged: that page may come again after a restart.
"""

from __future__ import annotations

import collections
import logging
import math
import random as _random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Final, Self

from .._call._retry import is_transient
from .._cancel import raise_if_cancelled
from .._errors import BitrixError, LimiterUnavailableError, OffsetStoreError, RateLimitError
from .._events._page import EventPage
from .._events._types import V2Event
from .._methods._events import event_limit
from .._types import Random, Sleep
from ._offsets import Lease, OffsetStore

__all__ = ["DEFAULT_IDLE", "EventStream", "FetchPage", "check_idle"]

logger: Final = logging.getLogger("bitrix_dialog")

DEFAULT_IDLE: Final = (5.0, 30.0)
"""Seconds between polls of an idle bot: at least the first, at most the second."""


FetchPage = Callable[..., Awaitable[EventPage]]
"""``client.imbot.v2.event.get``: ``(offset=..., limit=..., ...) -> EventPage``."""


def check_idle(idle: object) -> tuple[float, float]:
    """``(low, high)`` seconds, ``0 < low <= high``, both finite."""
    if not isinstance(idle, tuple) or len(idle) != 2:
        msg = f"idle must be a (min_seconds, max_seconds) tuple, not {idle!r}"
        raise TypeError(msg)
    low, high = idle
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"idle must hold two numbers of seconds, not {idle!r}"
            raise TypeError(msg)
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        msg = f"idle must be (min, max) seconds with 0 < min <= max, not {idle!r}"
        raise ValueError(msg)
    return float(low), float(high)


def _passing(error: BitrixError) -> bool:
    return is_transient(error) or isinstance(error, RateLimitError | LimiterUnavailableError)


class EventStream:
    """The typed events of one fetch-mode bot, confirmed as they are handled.

    Made by ``client.imbot.v2.events(...)``; use it as ``async with ... as events:
    async for event in events: ...`` (see the module docs). :attr:`offset` is the
    offset the next poll sends.
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        key: str,
        offsets: OffsetStore,
        limit: int = 100,
        with_user_events: bool = False,
        idle: tuple[float, float] = DEFAULT_IDLE,
        sleep: Sleep,
        random: Random = _random.random,
        fetch_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(offsets, OffsetStore):
            msg = f"offsets must be an OffsetStore (MemoryOffsetStore ...), not {offsets!r}"
            raise TypeError(msg)
        self._fetch = fetch
        self._key = key
        self._offsets = offsets
        self._limit = event_limit(limit)
        if not isinstance(with_user_events, bool):
            msg = f"with_user_events must be a bool, not {type(with_user_events).__name__}"
            raise TypeError(msg)
        self._with_user_events = with_user_events
        self._idle = check_idle(idle)
        self._sleep = sleep
        self._random = random
        self._fetch_kwargs = fetch_kwargs or {}
        self._pending: collections.deque[V2Event] = collections.deque()
        self._page_end: int | None = None  # nextOffset of the page being handed out
        self._current: V2Event | None = None  # handed out, not yet handled
        self._last_id = -1  # the highest eventId handed out
        self._handled: int | None = None  # the offset just past the last handled event
        self._saved: int | None = None
        self.offset: int | None = None
        """The ``offset`` the next poll sends (``None`` before the first, with an empty store)."""
        self._lease_cm: AbstractAsyncContextManager[Lease] | None = None
        self._lease: Lease | None = None
        self._reload = True  # the stored offset is read after each time the lease is taken
        self._empty_polls = 0
        self._closed = False
        self.polls = 0
        """``imbot.v2.Event.get`` calls answered so far."""

    @property
    def key(self) -> str:
        """The key the offset and the lease are kept under (portal and bot)."""
        return self._key

    # ------------------------------------------------------------- iteration
    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> V2Event:
        if self._closed:
            raise StopAsyncIteration
        self._mark_handled()
        while not self._pending:
            try:
                if self._page_end is not None:  # the whole page was handled: confirm it
                    await self._save(self._page_end)
                    self.offset = self._page_end
                    self._page_end = None
                await self._hold_lease()
            except OffsetStoreError as error:
                await self._wait_for_store(error)
                continue
            raise_if_cancelled()
            await self._poll()
        raise_if_cancelled()
        event = self._pending.popleft()
        self._current = event
        if event.event_id is not None:
            self._last_id = max(self._last_id, event.event_id)
        return event

    def _mark_handled(self) -> None:
        current, self._current = self._current, None
        if current is not None and current.event_id is not None:
            self._handled = max(self._handled or 0, current.event_id + 1)

    async def _wait_for_store(self, error: OffsetStoreError) -> None:
        delay = self._idle_delay()
        logger.warning(
            "the offset store of %s failed (%s); trying again in %.1f s",
            self._key,
            error,
            delay,
        )
        await self._sleep(delay)

    async def _poll(self) -> None:
        try:
            page = await self._fetch(
                offset=self.offset,
                limit=self._limit,
                with_user_events=self._with_user_events,
                **self._fetch_kwargs,
            )
        except BitrixError as error:
            if not _passing(error):
                raise
            delay = self._idle_delay()
            logger.warning(
                "imbot.v2.Event.get for %s failed (%s %s); polling again in %.1f s",
                self._key,
                type(error).__name__,
                error.code,
                delay,
            )
            await self._sleep(delay)
            return
        self.polls += 1
        fresh = [
            event
            for event in page.events
            if event.event_id is None or event.event_id > self._last_id
        ]
        dropped = len(page.events) - len(fresh)
        if dropped:
            logger.info(
                "imbot.v2.Event.get for %s: %d duplicate events dropped", self._key, dropped
            )
        self._pending.extend(fresh)
        if page.next_offset is not None and page.next_offset != self.offset:
            self._page_end = page.next_offset
        if page.events:
            self._empty_polls = 0
            return
        if page.has_more:
            return
        self._empty_polls += 1
        await self._sleep(self._idle_delay())

    def _idle_delay(self) -> float:
        low, high = self._idle
        ceiling = min(high, low * 2.0 ** max(self._empty_polls, 1))
        return low + (ceiling - low) * self._random()

    # ----------------------------------------------------------------- lease
    async def _hold_lease(self) -> None:
        if self._lease is None or self._lease.lost:
            if self._lease is not None:
                logger.warning("the polling lease of %s was lost; taking it again", self._key)
                await self._release()
            manager = self._offsets.lease(self._key)
            self._lease = await manager.__aenter__()
            self._lease_cm = manager
            self._reload = True
        if not self._reload:
            return
        stored = await self._offsets.load(self._key)
        self._reload = False
        if stored is not None and (self.offset is None or stored > self.offset):
            self.offset = stored
            self._saved = stored
            self._page_end = None
            self._last_id = max(self._last_id, stored - 1)  # below it: handled elsewhere

    async def _release(self) -> None:
        manager, self._lease_cm, self._lease = self._lease_cm, None, None
        if manager is not None:
            await manager.__aexit__(None, None, None)

    async def _save(self, offset: int) -> None:
        if self._saved is None or offset > self._saved:
            await self._offsets.save(self._key, offset)
            self._saved = offset

    # ------------------------------------------------------------------ close
    async def aclose(self, *, handled: bool = True) -> None:
        """Stop: save the offset past the last handled event (the one handed out last
        counts when ``handled``) and give the lease back. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if handled:
            self._mark_handled()
        self._current = None
        try:
            if self._handled is not None and self._lease is not None:
                await self._save(self._handled)
        except OffsetStoreError as error:
            logger.warning(
                "the offset store of %s failed (%s) while closing; the events handled "
                "since the last saved offset may come again after a restart",
                self._key,
                error,
            )
        finally:
            await self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose(handled=exc is None)

    def __repr__(self) -> str:
        return f"EventStream({self._key!r}, offset={self.offset!r})"
