"""The SDK's PHP form handling, seen only through public paths.

Encoding: a ``client.batch`` command travels as ``method?query``; :func:`sent_query`
returns that query as it left the client and the parameters the fake portal (PHP's
``parse_str``, written independently in ``bitrix_dialog.testing``) read from it.
Parsing: :func:`read_data` hands a form to ``bitrix_dialog.aiohttp.parse_event`` as
a raw body and returns the event's ``data`` as the SDK parsed it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bitrix_dialog import Client, EventAuth, RestResponse
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.aiohttp import parse_event
from bitrix_dialog.testing import CallContext, FakePortal, MemoryTransport

AUTH = EventAuth.from_auth_block({"member_id": "m1", "application_token": "t"})


async def _echo(context: CallContext) -> Any:
    return dict(context.params)


async def sent_query(params: Mapping[str, Any]) -> tuple[str, Any]:
    """``(query, read)``: the wire query of one batch command and what the portal read."""
    portal = FakePortal()
    portal.register_method("test.echo", _echo)
    bodies: list[bytes] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        bodies.append(request.body)
        return await portal.handle(request)

    async with Client(portal.webhook_url(), transport=MemoryTransport(handler)) as client:
        result = await client.batch({"c": ("test.echo", params)})
    outcome = result["c"]
    assert isinstance(outcome, RestResponse), outcome
    (body,) = bodies
    command = json.loads(body)["cmd"]["c"]
    method, _, query = command.partition("?")
    assert method == "test.echo"
    return query, outcome.result


def read_data(query: str | bytes) -> Any:
    """What the SDK's event parser reads from ``event=ONTEST&`` + ``query``'s ``data``."""
    prefix = "event=ONTEST&"
    body = prefix.encode() + query if isinstance(query, bytes) else prefix + query
    return parse_event(body, AUTH).data
