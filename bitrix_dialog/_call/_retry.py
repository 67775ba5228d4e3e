"""When a failed call is repeated, and after how long: small handlers, one loop.

A :class:`RetryPolicy` asks its :class:`RetryHandler` objects in order; the first
one that recognises the error decides. Each handler has its own retry budget, so
rate-limit retries and transient-failure retries are bounded separately. The
defaults:

=============================  =========================  ==============  ============
handler                        errors                     only if         retries
=============================  =========================  ==============  ============
:class:`QueryLimitRetry`       ``QUERY_LIMIT_EXCEEDED``   always [#]_     5
:class:`OperationLimitRetry`   ``OPERATION_TIME_LIMIT``   reset known     3
:class:`TransientErrorRetry`   no answer, timeouts,       idempotent      3
                               HTTP 500/502/504,
                               ``INTERNAL_SERVER_ERROR``,
                               non-JSON 5xx answers,
                               200s that are no envelope
=============================  =========================  ==============  ============

.. [#] the portal refused the request before running it, so repeating is safe; an
   ``OPERATION_TIME_LIMIT`` is repeated when an earlier answer told the method's
   reset time (it is waited for, bounded by the deadline), raised at once otherwise.

``OVERLOAD_LIMIT`` (a manual block), auth and access errors are never retried, whatever
the handlers say. Waits use :class:`Backoff` (capped exponential, full jitter); the
``OPERATION_TIME_LIMIT`` retry waits for the method's budget instead (see
:mod:`._operating`). Extend the policy with your own handler::

    class RetryErrorCore(RetryHandler):
        name = "error_core"
        def applies(self, state, error):
            return error.code == "ERROR_CORE" and state.idempotent

    client = Client(url, retry=RetryPolicy([*RetryPolicy.default_handlers(), RetryErrorCore()]))
"""

from __future__ import annotations

import abc
import logging
import random as _random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import ClassVar, Final, TypeVar

import attrs

from .._deadline import Deadline
from .._errors import (
    AccessError,
    AuthError,
    BatchResultMissingError,
    BitrixError,
    DeadlineExceededError,
    OperationTimeLimitError,
    OverloadLimitError,
    QueryLimitExceededError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
)
from .._types import Random, Sleep
from ._backoff import Backoff
from ._hooks import Hooks, RetryEvent

__all__ = [
    "OperationLimitRetry",
    "QueryLimitRetry",
    "RetryDecision",
    "RetryHandler",
    "RetryPolicy",
    "RetryState",
    "TransientErrorRetry",
    "next_retry",
    "retry_loop",
]

logger: Final = logging.getLogger("bitrix_dialog")

_T = TypeVar("_T")

NEVER_RETRIED: Final = (OverloadLimitError, AuthError, AccessError, DeadlineExceededError)
"""Errors no handler may retry: a manual block, refused credentials or access, no time left."""

_TRANSIENT_STATUSES: Final = frozenset({500, 502, 504})
_TRANSIENT_CODES: Final = frozenset({"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"})
_TOKEN_METHOD: Final = "oauth/token"  # errors from the authorization server name it


@attrs.define(kw_only=True)
class RetryState:
    """What the retry handlers know about one call so far."""

    method: str
    """The REST method being called."""
    idempotent: bool
    """True when repeating the call cannot do anything twice."""
    attempt: int = 1
    """The number of the attempt that just failed (1 for the first)."""
    retries: dict[str, int] = attrs.field(factory=dict)
    """Retries granted so far, by handler name."""
    last: BitrixError | None = None
    """The error of the attempt that just failed (``None`` before any failed): the cause
    of a :class:`DeadlineExceededError` the next attempt runs into while waiting."""


@attrs.frozen(kw_only=True)
class RetryDecision:
    """Retry after ``delay`` seconds, on ``handler``'s budget."""

    handler: str
    delay: float


class RetryHandler(abc.ABC):
    """Recognises errors worth repeating; subclass it and implement :meth:`applies`.

    ``max_retries`` bounds this handler's retries within one call; ``backoff`` (or the
    policy's when ``None``) spaces them.
    """

    name: ClassVar[str] = "custom"
    """Names this handler's retry budget in :attr:`RetryState.retries` and in logs."""

    def __init__(self, *, max_retries: int = 3, backoff: Backoff | None = None) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            msg = f"max_retries must be an int >= 0, not {max_retries!r}"
            raise ValueError(msg)
        self.max_retries = max_retries
        self.backoff = backoff

    @abc.abstractmethod
    def applies(self, state: RetryState, error: BitrixError) -> bool:
        """True if ``error`` is one this handler retries (budget aside)."""

    def delay(
        self, state: RetryState, error: BitrixError, *, backoff: Backoff, random: Random
    ) -> float:
        """Seconds to wait before the retry; by default the jittered backoff."""
        failures = state.retries.get(self.name, 0) + 1
        return (self.backoff or backoff).delay(failures, random=random)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_retries={self.max_retries})"


class QueryLimitRetry(RetryHandler):
    """``QUERY_LIMIT_EXCEEDED``: the request was refused unrun, so it is always repeated."""

    name = "query_limit"

    def __init__(self, *, max_retries: int = 5, backoff: Backoff | None = None) -> None:
        super().__init__(max_retries=max_retries, backoff=backoff)

    def applies(self, state: RetryState, error: BitrixError) -> bool:
        return isinstance(error, QueryLimitExceededError)


class OperationLimitRetry(RetryHandler):
    """``OPERATION_TIME_LIMIT``: repeated once the method's budget frees (no extra backoff).

    Only when an earlier answer told when that is (``error.resume_in``); otherwise
    the error is raised at once rather than waiting blind.
    """

    name = "operation_limit"

    def applies(self, state: RetryState, error: BitrixError) -> bool:
        return isinstance(error, OperationTimeLimitError) and error.resume_in is not None

    def delay(
        self, state: RetryState, error: BitrixError, *, backoff: Backoff, random: Random
    ) -> float:
        return 0.0  # the operating gate holds the method until its reset time


def is_transient(error: BitrixError) -> bool:
    """No answer, a gateway/server failure, a non-JSON 5xx page, or a 200 that is not a REST
    envelope (an HTML page, truncated JSON): may work next time.

    A too-large answer and a batch answer silent on one command are not: asking again
    gets the same; nor is an unreadable refresh answer, whose refresh token may be spent.
    """
    if isinstance(error, TransportError):
        return True
    if isinstance(error, ResponseDecodeError):
        if isinstance(error, BatchResultMissingError | ResponseTooLargeError):
            return False
        if error.method == _TOKEN_METHOD:  # the refresh token it answered may be spent
            return False
        return error.status is not None and (error.status == 200 or error.status >= 500)
    if isinstance(error, ServerError) or type(error) is BitrixError:
        return error.code.upper() in _TRANSIENT_CODES or error.status in _TRANSIENT_STATUSES
    return False


class TransientErrorRetry(RetryHandler):
    """Connection errors, timeouts, HTTP 500/502/504, garbage 200s: repeated only for
    idempotent calls."""

    name = "transient"

    def applies(self, state: RetryState, error: BitrixError) -> bool:
        return state.idempotent and is_transient(error)


class RetryPolicy:
    """Decides, error by error, whether a call is repeated and after how long.

    ``handlers`` default to :meth:`default_handlers`; ``backoff`` spaces retries;
    ``random`` (``() -> [0, 1)``) is the jitter source, injectable for tests.
    """

    def __init__(
        self,
        handlers: Iterable[RetryHandler] | None = None,
        *,
        backoff: Backoff | None = None,
        random: Random = _random.random,
    ) -> None:
        self.handlers: Sequence[RetryHandler] = tuple(
            self.default_handlers() if handlers is None else handlers
        )
        for handler in self.handlers:
            if not isinstance(handler, RetryHandler):
                msg = f"handlers must be RetryHandler instances, not {type(handler).__name__}"
                raise TypeError(msg)
        self.backoff = backoff or Backoff()
        self.random = random

    @staticmethod
    def default_handlers() -> list[RetryHandler]:
        """Fresh default handlers: query limit, operating limit, transient errors."""
        return [QueryLimitRetry(), OperationLimitRetry(), TransientErrorRetry()]

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that never retries (the limiter still paces requests)."""
        return cls([])

    def decide(self, state: RetryState, error: BitrixError) -> RetryDecision | None:
        """The retry to make after ``error``, or ``None`` to raise it."""
        if isinstance(error, NEVER_RETRIED):
            return None
        for handler in self.handlers:
            if handler.applies(state, error):
                if state.retries.get(handler.name, 0) >= handler.max_retries:
                    return None
                delay = handler.delay(state, error, backoff=self.backoff, random=self.random)
                return RetryDecision(handler=handler.name, delay=max(delay, 0.0))
        return None

    def __repr__(self) -> str:
        return f"RetryPolicy(handlers={list(self.handlers)!r}, backoff={self.backoff!r})"


async def next_retry(
    state: RetryState,
    error: BitrixError,
    *,
    policy: RetryPolicy,
    hooks: Hooks,
    deadline: Deadline | None = None,
) -> RetryDecision | None:
    """Grant the retry ``policy`` allows after ``error``, or ``None`` to give up.

    The one place retries are counted and reported, whether the whole call is
    repeated (:func:`retry_loop`) or one command of a batch is re-sent in a later
    request (the bulk lookups). A retry that cannot start before ``deadline`` is not
    granted: :class:`DeadlineExceededError` is raised at once, caused by ``error``.
    """
    state.last = error
    if isinstance(error, OverloadLimitError):
        logger.warning("%s: %s", state.method, error)
    decision = policy.decide(state, error)
    if decision is None:
        return None
    if deadline is not None and not deadline.fits(decision.delay):
        raise deadline.exceeded(
            state.method, f"a retry after {decision.delay:.2f} s", error
        ) from error
    await hooks.retry(
        RetryEvent(
            method=state.method,
            attempt=state.attempt,
            reason=error.code or type(error).__name__,
            delay=decision.delay,
            error=error,
        )
    )
    state.retries[decision.handler] = state.retries.get(decision.handler, 0) + 1
    state.attempt += 1
    return decision


async def retry_loop(
    attempt: Callable[[RetryState], Awaitable[_T]],
    *,
    state: RetryState,
    policy: RetryPolicy,
    deadline: Deadline,
    sleep: Sleep,
    hooks: Hooks,
) -> _T:
    """Run ``attempt(state)`` until it succeeds, the policy gives up, or time runs out.

    The one retry loop of the SDK. A backoff that would outlast the deadline is not
    slept: :class:`RequestTimeoutError` is raised at once, caused by the last error.
    An attempt that runs out of time itself names ``state.last`` as the cause.
    """
    while True:
        try:
            return await attempt(state)
        except DeadlineExceededError:
            raise
        except BitrixError as error:
            decision = await next_retry(state, error, policy=policy, hooks=hooks, deadline=deadline)
            if decision is None:
                raise
            if decision.delay > 0:
                await sleep(decision.delay)
