"""The events the executor reports: a call between its start and end (for tracers,
``Hooks.on_call_start/_end``), each request, each operating wait.

The call events stay out of the attempt loop: the executor takes that path only when a
call hook is set, so calls without tracing pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from .._errors import BitrixError
from .._types import Clock
from .._wire._envelope import RestResponse
from ._hooks import CallEndEvent, CallStartEvent, Hooks, LimiterWaitEvent, RequestEvent
from ._request import Request
from ._retry import RetryState

__all__ = [
    "Announced",
    "announce",
    "observed",
    "observed_source",
    "report_request",
    "report_waits",
    "start_event",
]

_T = TypeVar("_T")


def start_event(
    method: str, params: Mapping[str, Any], host: str, callers: int = 1
) -> CallStartEvent:
    """The start of a call of ``method`` (a ``batch`` counts its commands) serving ``callers``."""
    commands = params.get("cmd") if method == "batch" else None
    return CallStartEvent(
        method=method,
        host=host,
        commands=len(commands) if isinstance(commands, Mapping | list) else None,
        coalesced_callers=callers,
    )


async def observed(
    run: Coroutine[Any, Any, _T],
    *,
    hooks: Hooks,
    start: CallStartEvent,
    state: RetryState,
    clock: Clock,
    seen: list[RestResponse] | None = None,
) -> _T:
    """``run`` between ``start`` and its end event, whatever the outcome.

    The end event carries the last answer's envelope: ``seen[-1]`` for a request whose
    result is decoded further (a batch), the result itself otherwise.
    """
    started = clock()
    try:
        await hooks.call_start(start)
    except BaseException:
        run.close()
        raise
    response: RestResponse | None = None
    failure: BaseException | None = None
    try:
        result = await run
        if seen:
            response = seen[-1]
        elif isinstance(result, RestResponse):
            response = result
        return result
    except BaseException as error:
        failure = error
        raise
    finally:
        await hooks.call_end(
            CallEndEvent(
                method=start.method,
                host=start.host,
                commands=start.commands,
                coalesced_callers=start.coalesced_callers,
                attempts=state.attempt,
                elapsed=clock() - started,
                response=response,
                error=failure,
            )
        )


class Announced:
    """The start event of a request a source builds, once it has been built and reported.

    A request whose contents are decided at slot-grant time (``Executor.send_from``)
    cannot announce itself before it waits: its method, command count and callers are
    not known yet. Its start is reported when the source first builds it, from the
    task that sends it; nothing is reported if the source never builds anything.
    """

    __slots__ = ("event", "started")

    def __init__(self) -> None:
        self.event: CallStartEvent | None = None
        self.started = 0.0


async def observed_source(
    run: Coroutine[Any, Any, _T],
    *,
    hooks: Hooks,
    announced: Announced,
    state: RetryState,
    clock: Clock,
    seen: list[RestResponse],
) -> _T:
    """``run`` followed by the end event of the request it announced, if it announced one."""
    failure: BaseException | None = None
    try:
        return await run
    except BaseException as error:
        failure = error
        raise
    finally:
        start = announced.event
        if start is not None:
            await hooks.call_end(
                CallEndEvent(
                    method=start.method,
                    host=start.host,
                    commands=start.commands,
                    coalesced_callers=start.coalesced_callers,
                    attempts=state.attempt,
                    elapsed=clock() - announced.started,
                    response=seen[-1] if seen and failure is None else None,
                    error=failure,
                )
            )


async def announce(
    hooks: Hooks, announced: Announced, request: Request[Any], host: str | None, now: float
) -> None:
    """Report the start of the request a source has just built (see :class:`Announced`)."""
    announced.event = start_event(request.method, request.params, host or "", request.callers)
    announced.started = now
    await hooks.call_start(announced.event)


async def report_waits(hooks: Hooks, waited: Mapping[str, float]) -> None:
    """Report the seconds each billed method waited for its operating budget."""
    for method, seconds in waited.items():
        await hooks.limiter_wait(LimiterWaitEvent(method=method, kind="operating", waited=seconds))


async def report_request(  # noqa: PLR0917 - the event's fields, in its order
    hooks: Hooks,
    method: str,
    attempt: int,
    status: int | None,
    error: BitrixError | None,
    elapsed: float,
) -> None:
    """Report one finished HTTP request, with an answer or without one."""
    await hooks.request(
        RequestEvent(method=method, attempt=attempt, status=status, error=error, elapsed=elapsed)
    )
