"""Observability hooks: one event per call (start and end), per request, per retry, per
limiter wait and per dialog-cache lookup.

    hooks = Hooks(
        on_request=lambda e: metrics.observe("bitrix.request", e.elapsed, status=e.status),
        on_retry=lambda e: metrics.inc("bitrix.retry", reason=e.reason),
        on_limiter_wait=lambda e: metrics.observe("bitrix.wait", e.waited, kind=e.kind),
    )
    client = Client(url, hooks=hooks)

A hook may be a plain function or a coroutine function. Events never carry secrets
(no URLs, tokens or parameters). A hook that raises is logged and ignored: metrics
must never break a call. The same facts go to the ``bitrix_dialog`` logger at debug
level (each request as the ``->``/``<-`` pair, retries and waits as their own lines).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Final, Literal

import attrs

from .._errors import BitrixError
from .._wire._envelope import RestResponse

__all__ = [
    "CacheEvent",
    "CallEndEvent",
    "CallStartEvent",
    "Hooks",
    "LimiterWaitEvent",
    "RequestEvent",
    "RetryEvent",
]

logger: Final = logging.getLogger("bitrix_dialog")


@attrs.frozen(kw_only=True)
class CallStartEvent:
    """A REST call (``client.call``, a typed method, one ``batch`` request) begins.

    Reported in the caller's task before the call waits for anything, so a tracer can
    start its span under the caller's current one; the matching :class:`CallEndEvent`
    follows in the same task, whatever the outcome.
    """

    method: str
    """The REST method (``batch`` for a batch)."""
    host: str
    """The portal's host name (never a path, query or credential)."""
    commands: int | None = None
    """For ``batch``: how many commands the request carries."""
    coalesced_callers: int = 1
    """How many callers share this one call's answer (1: nobody else waits on it)."""


@attrs.frozen(kw_only=True)
class CallEndEvent:
    """A REST call has ended: with a ``response``, an ``error``, or cancelled (neither)."""

    method: str
    host: str
    commands: int | None = None
    coalesced_callers: int = 1
    attempts: int
    """HTTP attempts made (``attempts - 1`` of them were retries)."""
    elapsed: float
    """Seconds from the start event, waits and backoff included."""
    response: RestResponse | None = None
    """The answer, on success (its ``time`` tells the portal's processing and budget)."""
    error: BaseException | None = None
    """The exception the call raised (a :class:`BitrixError` or one from your code)."""


@attrs.frozen(kw_only=True)
class RequestEvent:
    """One HTTP request has finished, with an answer or without one."""

    method: str
    """The REST method (``batch`` for a batch)."""
    attempt: int
    """1 for the first try of the call, 2 for the first retry, ..."""
    status: int | None
    """The HTTP status, or ``None`` when no answer came (``error`` says why)."""
    error: BitrixError | None
    """The error this answer maps to, or ``None`` on success."""
    elapsed: float
    """Seconds from sending to the answer (or the failure)."""


@attrs.frozen(kw_only=True)
class RetryEvent:
    """A failed attempt will be repeated after ``delay`` seconds."""

    method: str
    attempt: int
    """The attempt that failed (the retry is ``attempt + 1``)."""
    reason: str
    """The error code that caused the retry (or the error class when there is no code)."""
    delay: float
    """Seconds of backoff before the retry."""
    error: BitrixError
    """The error that caused the retry."""


@attrs.frozen(kw_only=True)
class LimiterWaitEvent:
    """A request waited before it could be sent."""

    method: str
    kind: Literal["bucket", "operating"]
    """``"bucket"``: the leaky bucket was full; ``"operating"``: the method's time budget."""
    waited: float
    """Seconds waited."""


@attrs.frozen(kw_only=True)
class CacheEvent:
    """A typed lookup asked the client's dialog cache (``Client(cache=...)``).

    A hit sent nothing; a miss goes on to the portal (its request is reported as usual).
    """

    method: str
    """The REST method looked up (``im.dialog.get``)."""
    hit: bool
    """True: answered from the cache; False: not held there, sent."""
    negative: bool = False
    """For a hit: the cached outcome was a refusal (or ``None``) kept by ``negative_ttl``."""


Hook = Callable[..., object]


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks for metrics and tracing; each one optional."""

    on_request: Callable[[RequestEvent], object] | None = None
    """Called after every HTTP request, successful or not."""
    on_retry: Callable[[RetryEvent], object] | None = None
    """Called before every backoff sleep, with its reason and delay."""
    on_limiter_wait: Callable[[LimiterWaitEvent], object] | None = None
    """Called after a request waited for the bucket or for its method's budget."""
    on_call_start: Callable[[CallStartEvent], object] | None = None
    """Called as a REST call begins, in the caller's task (see :class:`CallStartEvent`)."""
    on_call_end: Callable[[CallEndEvent], object] | None = None
    """Called as a REST call ends, successful, failed or cancelled."""
    on_cache: Callable[[CacheEvent], object] | None = None
    """Called at every dialog-cache lookup, hit or miss (see :class:`CacheEvent`)."""

    @property
    def observes_calls(self) -> bool:
        """Whether any call start or end hook is set (else the executor skips the events)."""
        return self.on_call_start is not None or self.on_call_end is not None

    async def call_start(self, event: CallStartEvent) -> None:
        """Report a call that begins."""
        await _call(self.on_call_start, event)

    async def call_end(self, event: CallEndEvent) -> None:
        """Report a call that has ended."""
        await _call(self.on_call_end, event)

    async def request(self, event: RequestEvent) -> None:
        """Report a finished request (the executor's send log already records it)."""
        await _call(self.on_request, event)

    async def retry(self, event: RetryEvent) -> None:
        """Log and report a retry about to back off."""
        logger.debug(
            "retry %s after attempt %d (%s) in %.3f s",
            event.method,
            event.attempt,
            event.reason,
            event.delay,
        )
        await _call(self.on_retry, event)

    async def cache(self, event: CacheEvent) -> None:
        """Log and report a dialog-cache lookup."""
        logger.debug("cache %s %s", "hit" if event.hit else "miss", event.method)
        await _call(self.on_cache, event)

    async def limiter_wait(self, event: LimiterWaitEvent) -> None:
        """Log and report a wait for the limiter."""
        logger.debug("%s waited %.3f s for the %s limit", event.method, event.waited, event.kind)
        await _call(self.on_limiter_wait, event)


async def _call(hook: Hook | None, event: object) -> None:
    if hook is None:
        return
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("a bitrix_dialog hook raised on %s; ignored", type(event).__name__)
