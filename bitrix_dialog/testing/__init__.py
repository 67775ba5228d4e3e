"""A fake Bitrix24 portal for tests: in memory or over a real 127.0.0.1 socket.

    from bitrix_dialog import Client
    from bitrix_dialog.testing import FakePortal

    portal = FakePortal()
    chat = portal.add_chat(name="Support")
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        response = await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})

    async with portal.serve() as base_url:            # real HTTP on 127.0.0.1
        async with Client(portal.webhook_url(base_url)) as client:
            ...

OAuth apps get token pairs from ``portal.issue_tokens()``; ``portal.oauth`` is the
fake authorization server that refreshes them (single-use refresh tokens, counted).
``portal.events`` builds event posts shaped like the portal's (``install()``,
``bot_message(...)`` ...) to test your event handlers; bots answer with
``imbot.message.add``, recorded in ``portal.messages``.

It checks webhook codes and tokens, answers with the documented error envelopes
and HTTP statuses, and records every call in ``portal.calls``. It can meter requests
with the cloud's leaky bucket and per-method operating budget, inject faults, and
count what it answered (``portal.counters``); :func:`run_in_virtual_time` runs
rate-limited scenarios in virtual time. :func:`run_redis_server` starts a throwaway
``redis-server`` for tests of workers sharing ``bitrix_dialog.redis``.

The portal reads forms with its own :func:`parse_str` and writes event posts with its
own :func:`http_build_query`, PHP's rules written independently of the SDK's encoder,
so a test against the fake portal checks the SDK's encoding rather than repeating it.
"""

from __future__ import annotations

from .._public import publish
from ._bots import FakeBot, QueuedEvent
from ._bound import BucketBound
from ._bucket import BucketSpec, PortalBucket
from ._chats import PAYLOAD_STYLES, FakeChat, PayloadStyle
from ._context import CallContext, Caller, MethodHandler, RecordedCall
from ._errors import DOCUMENTED_STATUS, PortalError
from ._events import FORM_CONTENT_TYPE, FakeEvents
from ._faults import Faults
from ._imbot import FakeMessage
from ._limits import PortalCounters, PortalLimits
from ._memory import MemoryTransport
from ._oauth import FakeApp, FakeOAuthServer, RecordedRefresh
from ._operating import OperatingModel
from ._php import http_build_query, parse_str
from ._portal import FakePortal
from ._redis_server import RedisServerError, redis_server_path, run_redis_server
from ._virtual import VirtualTimeLoop, run_in_virtual_time

__all__ = [
    "DOCUMENTED_STATUS",
    "FORM_CONTENT_TYPE",
    "PAYLOAD_STYLES",
    "BucketBound",
    "BucketSpec",
    "CallContext",
    "Caller",
    "FakeApp",
    "FakeBot",
    "FakeChat",
    "FakeEvents",
    "FakeMessage",
    "FakeOAuthServer",
    "FakePortal",
    "Faults",
    "MemoryTransport",
    "MethodHandler",
    "OperatingModel",
    "PayloadStyle",
    "PortalBucket",
    "PortalCounters",
    "PortalError",
    "PortalLimits",
    "QueuedEvent",
    "RecordedCall",
    "RecordedRefresh",
    "RedisServerError",
    "VirtualTimeLoop",
    "http_build_query",
    "parse_str",
    "redis_server_path",
    "run_in_virtual_time",
    "run_redis_server",
]

publish(globals(), __all__, "bitrix_dialog.testing")
del publish
