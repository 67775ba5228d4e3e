"""The public entry point: :class:`Client`.

async with Client("https://example.bitrix24.com/rest/1/CODE/") as client:
    response = await client.call("im.dialog.get", {"DIALOG_ID": "chat29"})
    print(response.result["name"])
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import attrs
from yarl import URL

from ._auth import Auth, WebhookAuth
from ._batch._plan import BatchCalls, make_command, plan_batch
from ._batch._run import BatchResult, run_batch
from ._bulk._api import DialogsApi
from ._cache import CachedReads, DialogCacheBackend, scope_of
from ._call._executor import Executor
from ._call._hooks import Hooks
from ._call._idempotent import is_known_read
from ._call._retry import RetryPolicy
from ._call._validate import check_method, check_params
from ._coalesce._coalescer import Coalescer
from ._coalesce._options import ClientStats, Coalesce
from ._deadline import check_deadline_seconds
from ._methods._endpoint import BotCredentials, Read
from ._methods._namespaces import METHODS, ImApi, ImbotApi, ImopenlinesApi
from ._methods._spec import MethodSpec, Params
from ._pacing._limiter import Limiter, Plan
from ._pacing._operating import OperatingBudget, OperatingUsage
from ._poll._api import ImbotV2EventsApi
from ._transports import AiohttpTransport, Transport
from ._types import Clock, Sleep
from ._wire._envelope import RestResponse
from ._wire._http import Timeout

__all__ = ["Client"]

R = TypeVar("R")


def _check_type(name: str, value: object, kind: type) -> None:
    if value is not None and not isinstance(value, kind):
        msg = f"{name} must be a {kind.__name__} or None, not {type(value).__name__}"
        raise TypeError(msg)


class Client:
    """An async Bitrix24 REST client for one portal and one set of credentials.

    ``auth`` is an auth strategy (``WebhookAuth``, ``AccessTokenAuth``, ``OAuthAuth``)
    or an incoming-webhook URL string. ``transport`` defaults to an
    :class:`AiohttpTransport` the client owns and closes; a transport passed in
    belongs to the caller and is left open by :meth:`aclose`.

    Staying under the portal's limits (see the README's "Rate limits" section):

    - ``limiter``: a :class:`Plan` sizes the bucket the client keeps per set of
      credentials: ``Plan.STANDARD`` (50 requests draining at 2/s),
      ``Plan.ENTERPRISE`` (250 at 5/s), or ``Plan.AUTO`` (the default): paced as
      Standard until 49 requests are in the bucket, where an app reads its
      portal's plan with one ``app.info`` call; a webhook stays Standard. Whatever
      the plan, ``QUERY_LIMIT_EXCEEDED`` answers lower the bucket's estimates when
      they were too high. A :class:`Limiter`
      instance (such as a :class:`LeakyBucket`) is used as given and may be shared
      between clients.
    - ``retry``: the :class:`RetryPolicy` deciding which failures are repeated.
    - ``operating``: the per-method execution-time budget (:class:`OperatingBudget`).
    - ``timeout``: per-request connect/read limits (default: the transport's own).
    - ``deadline``: seconds one :meth:`call` may take in all, limiter waits and
      backoff included (default ``None``: no overall limit; each request is still
      bounded by ``timeout`` and retries by the policy).
    - ``hooks``: :class:`Hooks` callbacks for metrics.
    - ``coalesce``: how concurrent typed reads are merged into ``batch`` requests
      (:class:`Coalesce`; on by default): calls made in the same event-loop iteration,
      or waiting for a limiter slot, share one request of up to 50 commands, and
      identical lookups in flight share one command; a lone call still goes out at
      once as a plain call. ``False`` sends every call as its own request.
      :meth:`stats` shows what was sent for how many callers.
    - ``cache``: a dialog cache (:class:`DialogCache`, or
      ``bitrix_dialog.redis.RedisDialogCache`` shared by many workers) answering the
      typed dialog and chat lookups again without asking the portal; ``None`` (the
      default): every lookup is sent. ``client.dialogs.invalidate(dialog_id)`` drops
      a dialog's entries.
    - ``clock`` / ``sleep``: monotonic time and sleeping, injectable for tests.

    Use it as ``async with Client(...) as client:``, or call :meth:`aclose` yourself.

    Typed methods mirror the REST names: ``client.im.dialog.get(...)``,
    ``client.imbot.dialog.get(...)``, ``client.imopenlines.dialog.get(...)``,
    ``client.imbot.v2.chat.get(...)``, and the chat-id-by-entity lookups
    ``client.im.chat.get(...)``/``client.imbot.chat.get(...)``, one page of a fetch-mode
    bot's events ``client.imbot.v2.event.get(...)`` and all of them, confirmed as they are
    handled, ``client.imbot.v2.events(...)``; ``bot_id``/``bot_token``
    set the bot the ``imbot.v2`` calls act as (the token is never shown in reprs or logs).
    ``client.dialogs.get_many(ids)`` looks up thousands of dialogs, 50 per batch,
    streaming each id's outcome as it arrives (``get_all`` gathers them).
    """

    def __init__(
        self,
        auth: Auth | str | URL,
        *,
        transport: Transport | None = None,
        limiter: Limiter | Plan | None = None,
        retry: RetryPolicy | None = None,
        operating: OperatingBudget | None = None,
        timeout: Timeout | None = None,
        deadline: float | None = None,
        hooks: Hooks | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        bot_id: int | None = None,
        bot_token: str | None = None,
        coalesce: Coalesce | bool | None = None,
        cache: DialogCacheBackend | None = None,
    ) -> None:
        if isinstance(auth, str | URL):
            auth = WebhookAuth(auth)
        elif not isinstance(auth, Auth):
            msg = f"auth must be an Auth strategy or a webhook URL, not {type(auth).__name__}"
            raise TypeError(msg)
        if transport is not None and not isinstance(transport, Transport):
            msg = f"transport must implement Transport, not {type(transport).__name__}"
            raise TypeError(msg)
        _check_type("retry", retry, RetryPolicy)
        _check_type("operating", operating, OperatingBudget)
        _check_type("timeout", timeout, Timeout)
        _check_type("hooks", hooks, Hooks)
        if coalesce is None or coalesce is True:
            coalesce = Coalesce()
        elif coalesce is not False and not isinstance(coalesce, Coalesce):
            msg = f"coalesce must be a Coalesce, True or False, not {type(coalesce).__name__}"
            raise TypeError(msg)
        if cache is not None and not isinstance(cache, DialogCacheBackend):
            msg = f"cache must be a DialogCache (or another backend), not {type(cache).__name__}"
            raise TypeError(msg)
        default_deadline = check_deadline_seconds("deadline", deadline)
        bot = BotCredentials.checked(bot_id, bot_token)
        self._owns_transport = transport is None
        self._transport: Transport = transport if transport is not None else AiohttpTransport()
        self._executor = Executor(
            auth,
            self._transport,
            limiter=limiter,
            retry=retry,
            operating=operating,
            hooks=hooks,
            timeout=timeout,
            deadline=default_deadline,
            clock=clock,
            sleep=sleep,
            secrets=() if bot.bot_token is None else (bot.bot_token,),
        )
        self._coalescer = None if coalesce is False else Coalescer(self._executor, coalesce)
        self._closed = False
        # The typed read path: the coalescer's entry point itself (one call fewer per
        # lookup), or a plain call each; the dialog cache in front when there is one.
        read: Read = self._read_alone if self._coalescer is None else self._coalescer.get
        self._cache = (
            None
            if cache is None
            else CachedReads(cache, read, scope=scope_of(auth), hooks=hooks or Hooks())
        )
        reads: Read = read if self._cache is None else self._cache
        self.im: Final = ImApi(reads)
        self.imbot: Final = ImbotApi(
            reads,
            ImbotV2EventsApi(
                reads,
                bot,
                host=auth.portal.host or "",
                sleep=self._executor.sleep,
                random=random.random,
            ),
        )
        self.imopenlines: Final = ImopenlinesApi(reads)
        self.dialogs: Final = DialogsApi(self._executor, bot, lambda: self._closed, self._cache)

    @property
    def auth(self) -> Auth:
        """The auth strategy the client signs its calls with."""
        return self._executor.auth

    @property
    def transport(self) -> Transport:
        """The transport the client sends through."""
        return self._transport

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` has run."""
        return self._closed

    @property
    def plan(self) -> Plan:
        """The plan this client's bucket is sized by: the one given, or what ``Plan.AUTO``
        found out (``Plan.AUTO`` until ``app.info`` was needed and has answered;
        Standard for webhooks).
        A :class:`Limiter` given as ``limiter`` is sized by whoever made it: ``Plan.AUTO``."""
        return self._executor.plan

    @property
    def limiter(self) -> Limiter:
        """The limiter this client's calls take their slots from."""
        return self._executor.limiter

    def operating_usage(self, method: str) -> OperatingUsage:
        """How much of its execution-time budget ``method`` has used, per the last answers.

        >>> client.operating_usage("im.dialog.get").fraction  # e.g. 0.12, or None if unknown
        """
        return self._executor.operating_usage(check_method(method))

    @property
    def cache(self) -> DialogCacheBackend | None:
        """The dialog cache the typed lookups ask first, or ``None``."""
        return None if self._cache is None else self._cache.backend

    def stats(self) -> ClientStats:
        """A read-only snapshot of the requests sent and the callers served so far.

        >>> client.stats()   # after 1,000 concurrent lookups of 548 distinct dialogs
        ClientStats(requests=11, callers=1000, commands=548, batched=11, shared=452, ...)
        """
        if self._coalescer is None:
            stats = ClientStats(requests=self._executor.requests_sent)
        else:
            stats = self._coalescer.stats()
        if self._cache is None:
            return stats
        return attrs.evolve(stats, hits=self._cache.hits, misses=self._cache.misses)

    async def _read_alone(self, spec: MethodSpec[..., R], params: Params) -> R:
        """The typed read path with coalescing off: ``spec`` with checked ``params``."""
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        response = await self._executor.execute(spec.name, params)
        result: R = spec.decode(response.result, response.body)
        return result

    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
        deadline: float | None = None,
        coalesce: bool = False,
    ) -> RestResponse:
        """Send one REST call and return its decoded answer, or raise a ``BitrixError``.

        ``method`` is matched case-insensitively, as the portal does: one of the typed
        methods' is sent under its documented spelling (``imbot.v2.chat.get`` goes as
        ``imbot.v2.Chat.get``), any other exactly as given; ``params`` go as a JSON body.
        ``idempotent`` says whether the call may be repeated after a failure whose
        outcome is unknown (default: ``True`` for reads such as ``*.get``, ``*.list``
        and batches of them, ``False`` otherwise).
        ``deadline`` overrides the client's overall time limit for this call
        (``math.inf`` lifts it); past it :class:`DeadlineExceededError` is raised.
        ``coalesce=True`` lets a known read (``*.get``, ``*.list`` ...) share a
        ``batch`` request with concurrent calls, as the typed methods do (unless the
        client's coalescing is off); a write with it raises ``ValueError``.
        """
        method = METHODS.canonical(check_method(method))
        checked = check_params(method, params)
        if idempotent is not None and not isinstance(idempotent, bool):
            msg = f"idempotent must be a bool or None, not {type(idempotent).__name__}"
            raise TypeError(msg)
        seconds = check_deadline_seconds("deadline", deadline)
        if not isinstance(coalesce, bool):
            msg = f"coalesce must be a bool, not {type(coalesce).__name__}"
            raise TypeError(msg)
        if coalesce and (method.lower() == "batch" or not is_known_read(method, checked)):
            msg = (
                f"{method} is not a known read; writes are never coalesced "
                "(call it without coalesce=True)"
            )
            raise ValueError(msg)
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        if coalesce and self._coalescer is not None and idempotent is not False:
            try:
                command = make_command("q", method, checked)
            except (TypeError, ValueError):
                command = None  # fine as JSON, not as a batch command: sent alone
            if command is not None:
                return await self._coalescer.call(method, checked, command, deadline=seconds)
        return await self._executor.execute(
            method, checked, idempotent=idempotent, deadline=seconds
        )

    async def batch(
        self, calls: BatchCalls, *, halt: bool = False, deadline: float | None = None
    ) -> BatchResult:
        """Run many calls through the ``batch`` method; every call gets its own outcome.

        ``calls`` maps names to ``(method, params)`` tuples or :class:`BatchCall` values, or
        is a sequence of them (named ``c0``, ``c1``, ...). More than 50 are split into
        several requests, sent in order; ``$result[name][field]`` references work within
        a request. With ``halt=True`` the portal stops at the first failing command and
        the rest are reported as :class:`BatchNotExecutedError`. ``deadline`` overrides
        the client's overall time limit for the whole ``batch()`` (all its requests,
        their waits and retries; ``math.inf`` lifts it): the request that runs out of
        time gives its commands :class:`DeadlineExceededError`, and later ones are not
        sent. Bad input raises ``TypeError``/``ValueError`` before anything is sent.
        """
        if not isinstance(halt, bool):
            msg = f"halt must be a bool, not {type(halt).__name__}"
            raise TypeError(msg)
        seconds = check_deadline_seconds("deadline", deadline)
        chunks = plan_batch(calls)
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        return await run_batch(self._executor, chunks, halt=halt, deadline=seconds)

    async def aclose(self) -> None:
        """Close the transport if the client made it. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self._coalescer is not None:
            await self._coalescer.aclose()
        await self._executor.aclose()
        if self._owns_transport:
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Client({self.auth!r})"
