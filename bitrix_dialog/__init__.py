"""bitrix_dialog: an asyncio SDK for the Bitrix24 REST dialog and chat lookups.

    from bitrix_dialog import Client

    async with Client("https://example.bitrix24.com/rest/1/CODE/") as client:
        dialog = await client.im.dialog.get("chat29")      # a typed Dialog
        response = await client.call("im.dialog.get", {"DIALOG_ID": "chat29"})

The fake portal for tests lives in :mod:`bitrix_dialog.testing`; the interfaces for
writing your own auth, token store, limiter, transport or retry handler in
:mod:`bitrix_dialog.abc`.

Module map: one call, top to bottom (each arrow one call into a lower layer)::

    Client (_client)  .call / .batch / typed methods (_methods: specs, dialog ids)
      │  _cache: cached dialogs ─► _coalesce: concurrent single reads joined in a batch
      │  _bulk: get_many streams ids as _batch chunks of 50
      ▼
    _call  Executor: input checks, one Deadline, the attempt loop, hooks
      ├─► _pacing      wait for the operating budget and a leaky-bucket Slot
      ├─► _auth        shape the request (webhook URL, OAuth token; refresh on 401)
      ├─► _transports  send the HttpRequest (_wire: form encoding, URLs, redaction)
      ├─► _call        retry policy: repeat after backoff, or give up
      ├─► _wire        envelope -> RestResponse, or _errors.error_for -> typed error
      └─► _decode      one cattrs converter: result -> frozen _models (Dialog)

Inbound, the other way: ``_auth`` reads event and placement auth, ``_events`` decodes
``imbot.v2`` events, ``aiohttp`` serves the verified endpoint. Shared below it all:
``_types`` (Clock, Sleep, Random), ``_deadline``, ``_errors``, ``_public``.
"""

from __future__ import annotations

from . import abc as abc  # the interfaces, importable as bitrix_dialog.abc
from ._auth import (
    AccessTokenAuth,
    EventAuth,
    MemoryTokenStore,
    OAuthAuth,
    OAuthToken,
    PortalMove,
    WebhookAuth,
    parse_event_auth,
    verify_application_token,
)
from ._batch._plan import BatchCall
from ._batch._run import BatchResult
from ._bulk._stream import DialogStream
from ._bulk._types import (
    DialogKey,
    DialogOutcome,
    DialogResults,
    ProgressCallback,
    RejectedInput,
)
from ._cache import DialogCache
from ._call._backoff import Backoff
from ._call._hooks import (
    CacheEvent,
    CallEndEvent,
    CallStartEvent,
    Hooks,
    LimiterWaitEvent,
    RequestEvent,
    RetryEvent,
)
from ._call._retry import OperationLimitRetry, QueryLimitRetry, RetryPolicy, TransientErrorRetry
from ._client import Client
from ._coalesce._options import ClientStats, Coalesce
from ._decode._converter import dialog_from_json, dialog_to_json
from ._errors import (
    AccessDeniedError,
    AccessError,
    AuthError,
    BadRequestError,
    BatchError,
    BatchNotExecutedError,
    BatchResultMissingError,
    BitrixError,
    DeadlineExceededError,
    InsufficientScopeError,
    InvalidClientError,
    InvalidCredentialsError,
    InvalidDialogIdError,
    InvalidTokenError,
    LimiterUnavailableError,
    MethodNotFoundError,
    ModelDecodeError,
    ModuleNotInstalledError,
    NotFoundError,
    OAuthError,
    OffsetStoreError,
    OperationTimeLimitError,
    OverloadLimitError,
    PaymentRequiredError,
    PortalMovedError,
    PortalUnavailableError,
    QueryLimitExceededError,
    RateLimitError,
    ReauthorizationRequiredError,
    RequestTimeoutError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    TokenConflictError,
    TokenExpiredError,
    TokenStoreError,
    TransportError,
)
from ._events._page import EventPage
from ._events._types import (
    V2BotDeleteEvent,
    V2CommandAddEvent,
    V2ContextGetEvent,
    V2Event,
    V2JoinChatEvent,
    V2MessageAddEvent,
    V2MessageDeleteEvent,
    V2MessageUpdateEvent,
    V2ReactionChangeEvent,
)
from ._methods._dialog_id import DialogId
from ._methods._dialogs import decode_dialog
from ._models import (
    ChatType,
    Dialog,
    EntityLink,
    LastMessageViews,
    MessageType,
    Permissions,
    PublicLink,
    Reader,
    Restrictions,
    Role,
    V2Bot,
    V2Command,
    V2Message,
    V2User,
    Viewer,
)
from ._pacing._limiter import LeakyBucket, Plan
from ._pacing._operating import OperatingBudget, OperatingUsage
from ._poll._offsets import FileOffsetStore, MemoryOffsetStore
from ._poll._stream import EventStream
from ._public import publish
from ._transports import AiohttpTransport
from ._wire._envelope import RestResponse, Time
from ._wire._http import Timeout

__version__ = "0.1.0.dev0"

__all__ = [
    "AccessDeniedError",
    "AccessError",
    "AccessTokenAuth",
    "AiohttpTransport",
    "AuthError",
    "Backoff",
    "BadRequestError",
    "BatchCall",
    "BatchError",
    "BatchNotExecutedError",
    "BatchResult",
    "BatchResultMissingError",
    "BitrixError",
    "CacheEvent",
    "CallEndEvent",
    "CallStartEvent",
    "ChatType",
    "Client",
    "ClientStats",
    "Coalesce",
    "DeadlineExceededError",
    "Dialog",
    "DialogCache",
    "DialogId",
    "DialogKey",
    "DialogOutcome",
    "DialogResults",
    "DialogStream",
    "EntityLink",
    "EventAuth",
    "EventPage",
    "EventStream",
    "FileOffsetStore",
    "Hooks",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidCredentialsError",
    "InvalidDialogIdError",
    "InvalidTokenError",
    "LastMessageViews",
    "LeakyBucket",
    "LimiterUnavailableError",
    "LimiterWaitEvent",
    "MemoryOffsetStore",
    "MemoryTokenStore",
    "MessageType",
    "MethodNotFoundError",
    "ModelDecodeError",
    "ModuleNotInstalledError",
    "NotFoundError",
    "OAuthAuth",
    "OAuthError",
    "OAuthToken",
    "OffsetStoreError",
    "OperatingBudget",
    "OperatingUsage",
    "OperationLimitRetry",
    "OperationTimeLimitError",
    "OverloadLimitError",
    "PaymentRequiredError",
    "Permissions",
    "Plan",
    "PortalMove",
    "PortalMovedError",
    "PortalUnavailableError",
    "ProgressCallback",
    "PublicLink",
    "QueryLimitExceededError",
    "QueryLimitRetry",
    "RateLimitError",
    "Reader",
    "ReauthorizationRequiredError",
    "RejectedInput",
    "RequestEvent",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RestResponse",
    "Restrictions",
    "RetryEvent",
    "RetryPolicy",
    "Role",
    "ServerError",
    "Time",
    "Timeout",
    "TokenConflictError",
    "TokenExpiredError",
    "TokenStoreError",
    "TransientErrorRetry",
    "TransportError",
    "V2Bot",
    "V2BotDeleteEvent",
    "V2Command",
    "V2CommandAddEvent",
    "V2ContextGetEvent",
    "V2Event",
    "V2JoinChatEvent",
    "V2Message",
    "V2MessageAddEvent",
    "V2MessageDeleteEvent",
    "V2MessageUpdateEvent",
    "V2ReactionChangeEvent",
    "V2User",
    "Viewer",
    "WebhookAuth",
    "decode_dialog",
    "dialog_from_json",
    "dialog_to_json",
    "parse_event_auth",
    "verify_application_token",
]

publish(globals(), __all__, "bitrix_dialog")
del publish
