"""One REST call, start to finish: auth -> transport -> envelope decoding.

The :class:`Executor` is the spine every call (single, typed or batch) runs
through. Each step is one call into one module; nothing here knows about dialogs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from ._auth import Auth, Authorization
from ._envelope import RestResponse, decode_response
from ._errors import AuthError, BitrixError, PortalMovedError
from ._http import HttpRequest, HttpResponse
from ._transports import Transport

__all__ = ["Executor", "encode_json_body"]

logger: Final = logging.getLogger("bitrix_dialog")

_HEADERS: Final[Mapping[str, str]] = {
    # Exactly this type: the portal silently drops a body whose type it does not parse.
    "Content-Type": "application/json",
    "Accept": "application/json",
}


def encode_json_body(method: str, params: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON for the body; a value JSON cannot carry fails here, before sending."""
    try:
        return json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        msg = f"params for {method} are not JSON-serialisable: {exc}"
        raise TypeError(msg) from None


class Executor:
    """Runs calls for one client: authorises each attempt, sends it, decodes the answer."""

    def __init__(self, auth: Auth, transport: Transport) -> None:
        self.auth = auth
        self.transport = transport

    async def execute(self, method: str, params: Mapping[str, Any]) -> RestResponse:
        """Send ``method`` with ``params``; on refused credentials or a redirect, let the
        auth recover once (refresh, or switch to the portal's verified new address)."""
        authorization = await self.auth.authorize(method, self.transport)
        try:
            return await self._send(method, authorization, params)
        except (AuthError, PortalMovedError) as error:
            if not await self.auth.recover(authorization, error, self.transport):
                raise
        authorization = await self.auth.authorize(method, self.transport)
        return await self._send(method, authorization, params)

    async def _send(
        self, method: str, authorization: Authorization, params: Mapping[str, Any]
    ) -> RestResponse:
        body = encode_json_body(method, {**params, **authorization.params})
        request = HttpRequest(method="POST", url=authorization.url, headers=_HEADERS, body=body)
        response = await self.send_http(method, request)
        return decode_response(response, method)

    async def send_http(self, method: str, request: HttpRequest) -> HttpResponse:
        """Send one HTTP request, logging it (redacted) and naming ``method`` in errors."""
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
