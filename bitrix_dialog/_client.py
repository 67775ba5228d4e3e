"""The public entry point: :class:`Client`.

async with Client("https://example.bitrix24.com/rest/1/CODE/") as client:
    response = await client.call("im.dialog.get", {"DIALOG_ID": "chat29"})
    print(response.result["name"])
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, Self

from yarl import URL

from ._auth import Auth, WebhookAuth
from ._batch import BatchResult, run_batch
from ._batch_plan import BatchCalls, plan_batch
from ._envelope import RestResponse
from ._executor import Executor
from ._namespaces import BotCredentials, ImApi, ImbotApi, ImopenlinesApi
from ._transports import AiohttpTransport, Transport
from ._validate import check_method as _check_method
from ._validate import check_params as _check_params

__all__ = ["Client"]


class Client:
    """An async Bitrix24 REST client for one portal and one set of credentials.

    ``auth`` is an auth strategy (``WebhookAuth``, ``AccessTokenAuth``, ``OAuthAuth``)
    or an incoming-webhook URL string. ``transport`` defaults to an
    :class:`AiohttpTransport` the client owns and closes; a transport passed in
    belongs to the caller and is left open by :meth:`aclose`.

    Use it as ``async with Client(...) as client:``, or call :meth:`aclose` yourself.

    Typed dialog methods mirror the REST names: ``client.im.dialog.get(...)``,
    ``client.imbot.dialog.get(...)``, ``client.imopenlines.dialog.get(...)`` and
    ``client.imbot.v2.chat.get(...)``; ``bot_id``/``bot_token`` set the bot those
    ``imbot.v2`` calls act as (the token is never shown in reprs or logs).
    """

    def __init__(
        self,
        auth: Auth | str | URL,
        *,
        transport: Transport | None = None,
        bot_id: int | None = None,
        bot_token: str | None = None,
    ) -> None:
        if isinstance(auth, str | URL):
            auth = WebhookAuth(auth)
        elif not isinstance(auth, Auth):
            msg = f"auth must be an Auth strategy or a webhook URL, not {type(auth).__name__}"
            raise TypeError(msg)
        if transport is not None and not isinstance(transport, Transport):
            msg = f"transport must implement Transport, not {type(transport).__name__}"
            raise TypeError(msg)
        bot = BotCredentials.checked(bot_id, bot_token)
        self._owns_transport = transport is None
        self._transport: Transport = transport if transport is not None else AiohttpTransport()
        self._executor = Executor(auth, self._transport)
        self._closed = False
        self.im: Final = ImApi(self.call)
        self.imbot: Final = ImbotApi(self.call, bot)
        self.imopenlines: Final = ImopenlinesApi(self.call)

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

    async def call(self, method: str, params: Mapping[str, Any] | None = None) -> RestResponse:
        """Send one REST call and return its decoded answer, or raise a ``BitrixError``.

        ``method`` is sent exactly as given (``imbot.v2.Chat.get`` is case-sensitive);
        ``params`` go as a JSON body.
        """
        method = _check_method(method)
        checked = _check_params(method, params)
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        return await self._executor.execute(method, checked)

    async def batch(self, calls: BatchCalls, *, halt: bool = False) -> BatchResult:
        """Run many calls through the ``batch`` method; every call gets its own outcome.

        ``calls`` maps names to ``(method, params)`` tuples or :class:`BatchCall` values, or
        is a sequence of them (named ``c0``, ``c1``, ...). More than 50 are split into
        several requests, sent in order; ``$result[name][field]`` references work within
        a request. With ``halt=True`` the portal stops at the first failing command and
        the rest are reported as :class:`BatchNotExecutedError`. Bad input raises
        ``TypeError``/``ValueError`` before anything is sent.
        """
        if not isinstance(halt, bool):
            msg = f"halt must be a bool, not {type(halt).__name__}"
            raise TypeError(msg)
        chunks = plan_batch(calls)
        if self._closed:
            msg = "the client is closed"
            raise RuntimeError(msg)
        return await run_batch(self._executor, chunks, halt=halt)

    async def aclose(self) -> None:
        """Close the transport if the client made it. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
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
