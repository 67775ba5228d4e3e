"""One REST call, start to finish, and the one attempt loop every request runs through.

Single calls, ``batch`` chunks and the bulk lookups' requests all go through
:meth:`Executor._attempt`, under one :class:`Deadline` per call or chunk, made once by
whoever starts it. Each step is one call into one module; nothing here knows dialogs::

    retry_loop (_retry)                  repeat the attempt while the policy says so
      take_turn (_turn)                  hold each method the request bills near its
                                         operating budget (a batch: each command's),
                                         then one slot of the leaky bucket per request
      source()                           (send_from only) the contents, decided now
      auth.authorize (_auth)             URL and credentials, fresh at sending time
      transport.send (_transports)       one HTTP request, timeouts cut to the deadline
      mask_answer (_send)                the call's known secrets masked in the answer
      limiter.release                    the answer is back: the slot starts draining
      decode_response (_envelope)        error codes become exceptions, built complete
      learn                              time feeds the method's budget (a batch's
                                         decode: each command's); 503 fills the bucket

The narrow interface for the layers above (batch, bulk, the coalescer of #13):
``execute`` (a single call, on a fast path that builds no request object),
``start_deadline`` (the one deadline of a call or chunk), ``send`` (a :class:`Request`
of fixed contents; ``billed``: the methods whose operating turns it takes, a batch's
commands'), ``take_operating_turn``, ``retry_command``, ``limiter``, ``plan``,
``operating_usage``, ``clock``, ``sleep``, ``aclose``; and the **seam for coalescing**:

``send_from(source, *, method, deadline, idempotent, billed=()) -> T | None``.
``source`` (a :data:`RequestSource`) is called in each attempt *after* the operating
turns of ``billed`` and the limiter slot are granted (before the auth, whose URL
depends on the method it picks). It returns the :class:`Request` to send (a plain
call, or a ``batch`` of every compatible call queued at that moment) with the
``decode`` that hands each caller its outcome, or ``None`` when all its callers went
away: nothing is sent, ``send_from`` returns ``None``, and the slot is released as if
used (a rare, conservative waste). ``method`` names the request in errors raised
before it exists. A retry calls the source again, so it carries whatever is queued
by then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

from .._auth import Auth, Authorization, WebhookAuth
from .._deadline import Deadline
from .._errors import AuthError, BitrixError, PortalMovedError, QueryLimitExceededError
from .._pacing._limiter import Limiter, Plan, Slot, loop_clock, report_refusal
from .._pacing._operating import OperatingBudget, OperatingTracker, OperatingUsage
from .._pacing._pool import LimiterPool
from .._transports import Transport
from .._types import Clock, Sleep
from .._wire._envelope import RestResponse, decode_response
from .._wire._http import HttpRequest, Timeout
from .._wire._redact import secrets_in
from ._hooks import Hooks
from ._idempotent import is_known_read
from ._observe import (
    Announced,
    announce,
    observed,
    observed_source,
    report_request,
    start_event,
)
from ._plan_probe import read_plan
from ._request import Decode, Learn, Request, RequestSource, as_is
from ._retry import RetryDecision, RetryPolicy, RetryState, next_retry, retry_loop
from ._send import JSON_HEADERS, encode_json_body, mask_answer, request_timeout, send_logged
from ._turn import operating_turn, take_turn

__all__ = ["Executor"]

_T = TypeVar("_T")


class _NothingToSend(Exception):  # noqa: N818 - a signal, not an error
    """A request source had nothing left to send: ends ``send_from`` with ``None``."""


def _from_source(response: RestResponse, learn: Learn) -> NoReturn:
    """Stands for the decode a request source has not built yet; never called."""
    msg = "a request source's attempt decodes with the request it built"
    raise AssertionError(msg)


class Executor:
    """Runs calls for one client: paces, authorises and sends each attempt, decodes, retries.

    Only ``auth`` and ``transport`` are required; the rest default to a
    :data:`Plan.AUTO` bucket per credential identity (``app.info`` tells an app its
    portal's plan; webhooks pace as Standard), the default :class:`RetryPolicy`, the
    documented operating budget, no hooks, the transport's own timeouts, no overall
    deadline, and the running loop's clock and ``asyncio.sleep``.
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
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.auth = auth
        self.transport = transport
        self._secrets = secrets  # the client's beyond its auth's (a bot token)
        self.clock: Clock = clock or loop_clock
        self.sleep: Sleep = sleep or asyncio.sleep
        probe = None if isinstance(auth, WebhookAuth) else (lambda: read_plan(self))
        self._limiters = LimiterPool(limiter, probe=probe, clock=clock, sleep=sleep)
        self._retry = retry or RetryPolicy()
        self._operating = OperatingTracker(
            operating or OperatingBudget(), clock=self.clock, sleep=self.sleep
        )
        self._hold = self._operating.block  # bound once: asked on every OPERATION_TIME_LIMIT
        self._learn = self._operating.learn
        self._hooks = hooks or Hooks()
        self._timeout = timeout
        self._deadline = deadline
        self.requests_sent = 0
        """HTTP requests sent so far, every attempt of every path (``client.stats()``)."""

    # ------------------------------------------------------------ interface
    @property
    def limiter(self) -> Limiter:
        """The limiter the calls made with the auth's current credentials take slots from."""
        return self._limiters.for_identity(self.auth.identity)

    @property
    def plan(self) -> Plan:
        """The plan the current credentials' bucket is sized by (see ``LimiterPool.plan_for``)."""
        return self._limiters.plan_for(self.auth.identity)

    async def aclose(self) -> None:
        """Stop work of the executor's own still running (the plan probes)."""
        await self._limiters.aclose()

    def operating_usage(self, method: str) -> OperatingUsage:
        """What is known of ``method``'s operating budget right now."""
        return self._operating.usage(method)

    @property
    def default_deadline(self) -> float | None:
        """The seconds a call may take when it names no deadline (``None``: no limit)."""
        return self._deadline

    def start_deadline(self, seconds: float | None = None) -> Deadline:
        """The one deadline of a call or chunk: ``seconds`` from now, or the client's default."""
        return Deadline(self._deadline if seconds is None else seconds, self.clock)

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
        budget = Deadline(self._deadline if deadline is None else deadline, self.clock)
        billed = (method,)
        run = retry_loop(
            lambda state: self._attempt(method, params, as_is, None, billed, budget, state),
            state=state,
            policy=self._retry,
            deadline=budget,
            sleep=self.sleep,
            hooks=self._hooks,
        )
        if not self._hooks.observes_calls:
            return await run
        start = start_event(method, params, self.auth.portal.host or "")
        return await observed(run, hooks=self._hooks, start=start, state=state, clock=self.clock)

    async def send(
        self,
        request: Request[_T],
        *,
        deadline: Deadline,
        billed: Sequence[str] | None = None,
        idempotent: bool | None = None,
    ) -> _T:
        """Send ``request`` (fixed contents) as :meth:`execute` would; its ``decode``'s result.

        ``deadline`` comes from :meth:`start_deadline`, made once for the whole call or
        chunk; ``billed`` are the methods whose operating turns each attempt takes.
        """
        method, params = request.method, request.params
        state = RetryState(
            method=method,
            idempotent=is_known_read(method, params) if idempotent is None else idempotent,
        )
        charged = (method,) if billed is None else tuple(billed)
        return await self._run(method, params, request.decode, None, charged, deadline, state)

    async def send_from(
        self,
        source: RequestSource[_T],
        *,
        method: str,
        deadline: Deadline,
        idempotent: bool,
        billed: Sequence[str] = (),
    ) -> _T | None:
        """Send what ``source`` builds once each attempt's slot is granted (the coalescing seam).

        ``None`` when the source had nothing to send. See the module docs.
        """
        state = RetryState(method=method, idempotent=idempotent)
        try:
            return await self._run(method, {}, _from_source, source, tuple(billed), deadline, state)
        except _NothingToSend:
            return None

    async def _run(  # noqa: PLR0917 - the arguments of _attempt, passed on
        self,
        method: str,
        params: Mapping[str, Any],
        decode: Decode[_T],
        source: RequestSource[_T] | None,
        billed: Sequence[str],
        deadline: Deadline,
        state: RetryState,
    ) -> _T:
        """The retry loop over :meth:`_attempt`, between call events when they are observed.

        A request a ``source`` builds is announced when it is first built (see
        :class:`Announced`): only then are its method, commands and callers known.
        """
        seen: list[RestResponse] | None = [] if self._hooks.observes_calls else None
        announced = Announced() if seen is not None and source is not None else None
        run = retry_loop(
            lambda state: self._attempt(
                method, params, decode, source, billed, deadline, state, seen, announced
            ),
            state=state,
            policy=self._retry,
            deadline=deadline,
            sleep=self.sleep,
            hooks=self._hooks,
        )
        if seen is None:
            return await run
        if announced is not None:
            return await observed_source(
                run,
                hooks=self._hooks,
                announced=announced,
                state=state,
                clock=self.clock,
                seen=seen,
            )
        start = start_event(method, params, self.auth.portal.host or "")
        return await observed(
            run, hooks=self._hooks, start=start, state=state, clock=self.clock, seen=seen
        )

    async def take_operating_turn(
        self, methods: Iterable[str], deadline: Deadline, cause: BitrixError | None = None
    ) -> None:
        """Wait for the operating budget of each of ``methods``; report the waits to the hooks."""
        await operating_turn(self._operating, self._hooks, methods, deadline, cause)

    async def retry_command(self, state: RetryState, error: BitrixError) -> RetryDecision | None:
        """Grant the retry of one command to be re-sent in a later request, or ``None``."""
        return await next_retry(state, error, policy=self._retry, hooks=self._hooks)

    # -------------------------------------------------------- the attempt
    async def _attempt(  # noqa: PLR0917 - positional: called once per attempt, kept cheap
        self,
        method: str,
        params: Mapping[str, Any],
        decode: Decode[_T],
        source: RequestSource[_T] | None,
        billed: Sequence[str],
        deadline: Deadline,
        state: RetryState,
        seen: list[RestResponse] | None = None,
        announced: Announced | None = None,
    ) -> _T:
        """One attempt; on refused credentials or a redirect, let the auth recover once
        (refresh, or switch to the portal's verified new address).

        The auth is asked for credentials only once the request has its turn, right
        before sending: a token fetched before a long wait in the queue could expire
        in it. A ``source`` builds the request at that moment too.
        """
        recovered = False
        while True:
            authorization: Authorization | None = None
            limiter, slot = await take_turn(
                method,
                billed,
                deadline,
                state.last,
                operating=self._operating,
                limiters=self._limiters,
                identity=self.auth.identity,
                hooks=self._hooks,
            )
            try:
                if source is not None and not recovered:
                    request = source()
                    if request is None:
                        raise _NothingToSend
                    method, params, decode = request.method, request.params, request.decode
                    if announced is not None and announced.event is None:
                        await announce(
                            self._hooks, announced, request, self.auth.portal.host, self.clock()
                        )
                authorization = await self.auth.authorize(method, self.transport)
                result = await self._send(
                    method, authorization, params, deadline, state, (limiter, slot)
                )
                if seen is not None:
                    seen.append(result)
                return decode(result, self._learn)
            except (AuthError, PortalMovedError) as error:
                if (
                    recovered
                    or authorization is None
                    or not await self.auth.recover(authorization, error, self.transport)
                ):
                    raise
                recovered = True  # once more, with what the auth recovered, as it was built
            finally:
                await limiter.release(slot)

    async def _send(  # noqa: PLR0917 - the attempt's own state, passed on as it is
        self,
        method: str,
        authorization: Authorization,
        params: Mapping[str, Any],
        deadline: Deadline,
        state: RetryState,
        turn: tuple[Limiter, Slot],
    ) -> RestResponse:
        request = HttpRequest(
            method="POST",
            url=authorization.url,
            headers=JSON_HEADERS,
            body=encode_json_body(method, {**params, **authorization.params}),
            timeout=request_timeout(deadline, self._timeout, self.transport),
            rest_method=method,
        )
        reporting = self._hooks.on_request is not None
        started = self.clock() if reporting else 0.0
        self.requests_sent += 1
        try:
            response = await send_logged(self.transport, method, request)
        except BitrixError as error:
            if reporting:
                await report_request(
                    self._hooks, method, state.attempt, None, error, self.clock() - started
                )
            raise
        elapsed = self.clock() - started if reporting else 0.0
        response = mask_answer(
            response, (*authorization.secrets, *self._secrets, *secrets_in(params))
        )
        try:
            result = decode_response(response, method, hold=self._hold)
        except BitrixError as error:
            if isinstance(error, QueryLimitExceededError):
                await report_refusal(*turn)
            if reporting:
                await report_request(
                    self._hooks, method, state.attempt, response.status, error, elapsed
                )
            raise
        self._operating.observe(method, result.time)
        if reporting:
            await report_request(self._hooks, method, state.attempt, response.status, None, elapsed)
        return result
