"""One REST call, start to finish.

The :class:`Executor` is the spine every call (single, typed or batch) runs
through. Each step is one call into one module; nothing here knows about dialogs::

    retry_loop (_retry)                 repeat the attempt while the policy says so
      operating.wait_turn (_operating)  hold a method near or past its time budget
      limiter.acquire (_limiter)        one slot of the leaky bucket per HTTP request
      auth.authorize (_auth)            URL and credentials, fresh at sending time
      transport.send (_transports)      one HTTP request, timeouts cut to the deadline
      limiter.release                   the answer is back: the slot starts draining
      decode_response (_envelope)       the one place error codes become exceptions
      learn                             QUERY_LIMIT_EXCEEDED fills the bucket,
                                        OPERATION_TIME_LIMIT blocks the method
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine, Mapping
from typing import Any, Final

from .._auth import Auth, Authorization, WebhookAuth
from .._deadline import Deadline
from .._errors import (
    AuthError,
    BitrixError,
    OperationTimeLimitError,
    PortalMovedError,
    QueryLimitExceededError,
)
from .._pacing._limiter import Limiter, Plan, Slot, loop_clock, report_refusal
from .._pacing._operating import OperatingBudget, OperatingTracker
from .._pacing._pool import LimiterPool
from .._transports import Transport
from .._types import Clock, Sleep
from .._wire._envelope import RestResponse, decode_response
from .._wire._http import HttpRequest, HttpResponse, Timeout
from ._hooks import CallEndEvent, CallStartEvent, Hooks, LimiterWaitEvent, RequestEvent
from ._idempotent import is_known_read
from ._plan_probe import read_plan
from ._retry import RetryPolicy, RetryState, retry_loop

__all__ = ["Executor", "encode_json_body"]

logger: Final = logging.getLogger("bitrix_dialog")

_HEADERS: Final[Mapping[str, str]] = {
    # Exactly this type: the portal silently drops a body whose type it does not parse.
    "Content-Type": "application/json",
    "Accept": "application/json",
}


# Built once: ``json.dumps`` with options makes a new encoder on every call.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_json_body(method: str, params: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON for the body; a value JSON cannot carry fails here, before sending."""
    try:
        return _ENCODER.encode(params).encode()
    except (TypeError, ValueError) as exc:
        msg = f"params for {method} are not JSON-serialisable: {exc}"
        raise TypeError(msg) from None


class Executor:
    """Runs calls for one client: paces, authorises and sends each attempt, decodes, retries.

    Only ``auth`` and ``transport`` are required; the rest default to a
    :data:`Plan.AUTO` bucket per credential identity (``app.info`` tells an app its
    portal's plan; webhooks pace as Standard), the default
    :class:`RetryPolicy`, the documented operating budget, no hooks, the
    transport's own timeouts, no overall deadline, and the running loop's clock and
    ``asyncio.sleep``.
    """

    def __init__(
        self,
        auth: Auth,
        transport: Transport,
        *,
        limiter: Limiter | Plan | None = None,
        retry: RetryPolicy | None = None,
        operating: OperatingBudget | None = None,
        hooks: Hooks | None = None,
        timeout: Timeout | None = None,
        deadline: float | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.auth = auth
        self.transport = transport
        self.clock: Clock = clock or loop_clock
        self.sleep: Sleep = sleep or asyncio.sleep
        probe = None if isinstance(auth, WebhookAuth) else (lambda: read_plan(self))
        self.limiters = LimiterPool(limiter, probe=probe, clock=clock, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self.operating = OperatingTracker(
            operating or OperatingBudget(), clock=self.clock, sleep=self.sleep
        )
        self.hooks = hooks or Hooks()
        self.timeout = timeout
        self.deadline = deadline

    async def execute(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        idempotent: bool | None = None,
        deadline: float | None = None,
    ) -> RestResponse:
        """Send ``method`` with ``params``, retrying as the policy allows, within ``deadline`` s.

        ``idempotent=None`` guesses from the method (reads are safe to repeat);
        ``deadline=None`` takes the executor's default (``math.inf``: none).
        """
        state = RetryState(
            method=method,
            idempotent=is_known_read(method, params) if idempotent is None else idempotent,
        )
        budget = Deadline(self.deadline if deadline is None else deadline, self.clock)
        run = retry_loop(
            lambda attempt: self._attempt(method, params, budget, attempt),
            state=state,
            policy=self.retry,
            deadline=budget,
            sleep=self.sleep,
            hooks=self.hooks,
        )
        if not self.hooks.observes_calls:
            return await run
        return await self._observed(run, method, params, state)

    async def _observed(
        self,
        run: Coroutine[Any, Any, RestResponse],
        method: str,
        params: Mapping[str, Any],
        state: RetryState,
    ) -> RestResponse:
        """``run`` between a call start and a call end event (for tracing)."""
        commands = params.get("cmd") if method == "batch" else None
        start = CallStartEvent(
            method=method,
            host=self.auth.portal.host or "",
            commands=len(commands) if isinstance(commands, Mapping | list) else None,
        )
        started = self.clock()
        try:
            await self.hooks.call_start(start)
        except BaseException:
            run.close()
            raise
        response: RestResponse | None = None
        failure: BaseException | None = None
        try:
            response = await run
        except BaseException as error:
            failure = error
            raise
        finally:
            await self.hooks.call_end(
                CallEndEvent(
                    method=method,
                    host=start.host,
                    commands=start.commands,
                    attempts=state.attempt,
                    elapsed=self.clock() - started,
                    response=response,
                    error=failure,
                )
            )
        return response

    async def _attempt(
        self, method: str, params: Mapping[str, Any], deadline: Deadline, attempt: int
    ) -> RestResponse:
        """One attempt; on refused credentials or a redirect, let the auth recover once
        (refresh, or switch to the portal's verified new address).

        The auth is asked for credentials only once the request has its turn, right
        before sending: a token fetched before a long wait in the queue could expire
        in it.
        """
        authorization: Authorization | None = None
        limiter, slot = await self._take_turn(method, deadline)
        try:
            authorization = await self.auth.authorize(method, self.transport)
            return await self._send(
                method,
                authorization,
                params,
                deadline=deadline,
                attempt=attempt,
                limiter=limiter,
                slot=slot,
            )
        except (AuthError, PortalMovedError) as error:
            if authorization is None or not await self.auth.recover(
                authorization, error, self.transport
            ):
                raise
        finally:
            await limiter.release(slot)
        limiter, slot = await self._take_turn(method, deadline)
        try:
            authorization = await self.auth.authorize(method, self.transport)
            return await self._send(
                method,
                authorization,
                params,
                deadline=deadline,
                attempt=attempt,
                limiter=limiter,
                slot=slot,
            )
        finally:
            await limiter.release(slot)

    async def _take_turn(self, method: str, deadline: Deadline) -> tuple[Limiter, Slot]:
        """Wait for the method's operating budget, then for a bucket slot (release it after)."""
        if deadline.expired():
            raise deadline.exceeded(method, "another attempt")
        waited = await self.operating.wait_turn(method, deadline)
        if waited > 0:
            await self.hooks.limiter_wait(
                LimiterWaitEvent(method=method, kind="operating", waited=waited)
            )
        try:
            limiter = await self.limiters.ready(self.auth.identity, max_wait=deadline.remaining())
        except TimeoutError:
            raise deadline.exceeded(method, "the portal's plan (app.info)") from None
        try:
            slot = await limiter.acquire(max_wait=deadline.remaining())
        except TimeoutError:
            raise deadline.exceeded(method, "a slot in the rate limiter") from None
        if slot.waited > 0:
            try:
                await self.hooks.limiter_wait(
                    LimiterWaitEvent(method=method, kind="bucket", waited=slot.waited)
                )
            except BaseException:
                await limiter.release(slot)
                raise
        return limiter, slot

    async def _send(
        self,
        method: str,
        authorization: Authorization,
        params: Mapping[str, Any],
        *,
        deadline: Deadline,
        attempt: int,
        limiter: Limiter,
        slot: Slot,
    ) -> RestResponse:
        body = encode_json_body(method, {**params, **authorization.params})
        request = HttpRequest(
            method="POST",
            url=authorization.url,
            headers=_HEADERS,
            body=body,
            timeout=self._timeout(deadline),
        )
        reporting = self.hooks.on_request is not None
        started = self.clock() if reporting else 0.0
        try:
            response = await self.send_http(method, request)
        except BitrixError as error:
            if reporting:
                await self.hooks.request(
                    RequestEvent(
                        method=method,
                        attempt=attempt,
                        status=None,
                        error=error,
                        elapsed=self.clock() - started,
                    )
                )
            raise
        elapsed = self.clock() - started if reporting else 0.0
        try:
            result = decode_response(response, method)
        except BitrixError as error:
            if isinstance(error, QueryLimitExceededError):
                await report_refusal(limiter, slot)
            elif isinstance(error, OperationTimeLimitError):
                error.resume_in = self.operating.block(method)
                logger.debug("%s hit OPERATION_TIME_LIMIT: held for %s s", method, error.resume_in)
            if reporting:
                await self.hooks.request(
                    RequestEvent(
                        method=method,
                        attempt=attempt,
                        status=response.status,
                        error=error,
                        elapsed=elapsed,
                    )
                )
            raise
        self.operating.observe(method, result.time)
        if reporting:
            await self.hooks.request(
                RequestEvent(
                    method=method,
                    attempt=attempt,
                    status=response.status,
                    error=None,
                    elapsed=elapsed,
                )
            )
        return result

    def _timeout(self, deadline: Deadline) -> Timeout | None:
        """The request's timeouts: the client's (or transport's) cut to the deadline's rest."""
        remaining = deadline.remaining()
        if remaining is None:
            return self.timeout
        base = self.timeout or getattr(self.transport, "timeout", None)
        if not isinstance(base, Timeout):
            base = Timeout()
        return base.capped(remaining)

    async def send_http(self, method: str, request: HttpRequest) -> HttpResponse:
        """Send one HTTP request, logging it (redacted) and naming ``method`` in errors."""
        if not logger.isEnabledFor(logging.DEBUG):  # the common case: nothing to time or log
            try:
                return await self.transport.send(request)
            except BitrixError as error:
                error._bind_method(method)
                raise
        started = time.perf_counter()
        logger.debug("-> %s %s (%d bytes)", request.method, method, len(request.body))
        try:
            response = await self.transport.send(request)
        except BitrixError as error:
            error._bind_method(method)
            logger.debug(
                "<- %s failed after %.1f ms: %s",
                method,
                (time.perf_counter() - started) * 1000,
                type(error).__name__,
            )
            raise
        logger.debug(
            "<- %s HTTP %d in %.1f ms (%d bytes)",
            method,
            response.status,
            (time.perf_counter() - started) * 1000,
            len(response.body),
        )
        return response
