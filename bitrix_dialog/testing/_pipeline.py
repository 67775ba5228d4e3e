"""The path of every request through the fake portal: :class:`RequestPath`.

Every request, in memory or over a socket (``_serve.py``), goes through
:meth:`RequestPath.handle` (what ``FakePortal.handle`` runs)::

    arrival (latency in, faults, leaky bucket, OVERLOAD_LIMIT; ``_limits.py``)
    -> route (/rest/[USER/CODE/]METHOD[.json]) -> parse params the PHP way (``_wire.py``)
    -> authenticate (webhook code or OAuth token; ``_access.py``) -> operating budget
    -> scripted errors, method handler (``_routes.py``; handlers in ``_methods.py``)
    -> envelope + time -> latency out

Handlers raise :class:`PortalError` for documented errors; the path turns it into
``{"error", "error_description"}`` with the documented HTTP status. The portal's
state (chats, bots, credentials, limits) stays on :class:`~._portal.FakePortal`; the
path only reads it, and records each call in ``portal.calls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yarl import URL

from .._wire._http import HttpRequest, HttpResponse
from ._access import Credentials
from ._context import CallContext, Caller, RecordedCall
from ._errors import DOCUMENTED_STATUS, PortalError
from ._oauth import TOKEN_PATH
from ._routes import MethodRoutes, ScriptedErrors
from ._wire import json_response, parse_params, route

if TYPE_CHECKING:
    from ._portal import FakePortal

__all__ = ["RequestPath"]


class RequestPath:
    """Serves requests for one :class:`~._portal.FakePortal`, with its credentials,
    method routes and scripted errors."""

    def __init__(
        self,
        portal: FakePortal,
        *,
        credentials: Credentials,
        routes: MethodRoutes,
        scripted: ScriptedErrors,
    ) -> None:
        self._portal = portal
        self._credentials = credentials
        self._routes = routes
        self._scripted = scripted

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Serve one request exactly as the portal would: see the module docs."""
        portal = self._portal  # read at every request: a test may swap its clock or limits
        if request.url.path == TOKEN_PATH:
            return await portal.oauth.handle(request)
        if portal.moved_to is not None and request.url.origin() != portal.moved_to:
            location = portal.moved_to.with_path(request.url.path).with_query(request.url.query)
            return HttpResponse(status=302, headers={"Location": str(location)})
        method = "?"
        params: dict[str, Any] = {}
        visit = await portal.limits.arrive(request.url.path)
        started = portal.clock()
        if visit.refused is not None:
            response, code = visit.refused
            self._record(self._method_of(request.url), params, response.status, code)
            return await portal.limits.leave(visit, response)
        try:
            method, webhook = route(request.url)
            params = parse_params(request)
            caller = self._credentials.authenticate(request, webhook, params)
            handler = self._routes.resolve(method)
            payer = portal.limits.caller_key(caller.kind, caller.credential)
            portal.limits.check(payer, method)
            self._scripted.raise_next(method)
            result = await handler(
                CallContext(portal=portal, caller=caller, method=method, params=params)
            )
        except PortalError as error:
            status = error.status or DOCUMENTED_STATUS.get(error.code.upper(), 400)
            self._record(method, params, status, error.code)
            body = {"error": error.code, "error_description": error.description}
            return await portal.limits.leave(visit, json_response(status, body))
        cost = portal.limits.charge(payer, method)
        portal.limits.counters.succeeded += 1
        self._record(method, params, 200, None)
        time_block = portal.time_block(started, payer=payer, method=method, processing=cost)
        answer = json_response(200, {"result": result, "time": time_block})
        return await portal.limits.leave(visit, answer)

    def _method_of(self, url: URL) -> str:
        try:
            return route(url)[0]
        except PortalError:
            return "?"

    def _record(
        self, method: str, params: Mapping[str, Any], status: int, error: str | None
    ) -> None:
        if self._portal.record_calls:
            self._portal.calls.append(
                RecordedCall(
                    method=method,
                    params=params,
                    status=status,
                    error=error,
                    at=self._portal.clock(),
                )
            )

    async def dispatch(self, caller: Caller, method: str, params: Mapping[str, Any]) -> Any:
        """Run ``method`` as ``caller`` through the handlers (``FakePortal.dispatch``)."""
        handler = self._routes.resolve(method)
        payer = self._portal.limits.caller_key(caller.kind, caller.credential)
        self._portal.limits.check(payer, method)
        self._scripted.raise_next(method, any_method=False)
        result = await handler(
            CallContext(portal=self._portal, caller=caller, method=method, params=params)
        )
        self._portal.limits.charge(payer, method)
        return result
