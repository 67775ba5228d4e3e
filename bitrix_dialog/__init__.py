"""bitrix_dialog: an asyncio SDK for the Bitrix24 REST dialog and chat lookups.

    from bitrix_dialog import Client

    async with Client("https://example.bitrix24.com/rest/1/CODE/") as client:
        dialog = await client.im.dialog.get("chat29")      # a typed Dialog
        response = await client.call("im.dialog.get", {"DIALOG_ID": "chat29"})

The fake portal for tests lives in :mod:`bitrix_dialog.testing`.
"""

from __future__ import annotations

from ._auth import (
    AccessTokenAuth,
    Auth,
    Authorization,
    EventAuth,
    MemoryTokenStore,
    OAuthAuth,
    OAuthToken,
    PortalMove,
    TokenStore,
    WebhookAuth,
    parse_event_auth,
    verify_application_token,
)
from ._batch._plan import BatchCall
from ._batch._run import BatchResult
from ._bulk._api import DialogsApi
from ._bulk._stream import DialogStream
from ._bulk._types import DialogKey, DialogOutcome, DialogResults, InvalidDialogId, ProgressCallback
from ._call._backoff import Backoff
from ._call._hooks import Hooks, LimiterWaitEvent, RequestEvent, RetryEvent
from ._call._retry import (
    OperationLimitRetry,
    QueryLimitRetry,
    RetryDecision,
    RetryHandler,
    RetryPolicy,
    RetryState,
    TransientErrorRetry,
)
from ._client import Client
from ._decode._converter import dialog_to_json
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
    DialogIdEmptyError,
    InsufficientScopeError,
    InvalidClientError,
    InvalidCredentialsError,
    InvalidDialogIdError,
    InvalidTokenError,
    LimiterUnavailableError,
    MethodNotFoundError,
    ModelDecodeError,
    NotFoundError,
    OAuthError,
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
    ServerError,
    TokenConflictError,
    TokenExpiredError,
    TokenStoreError,
    TransportError,
)
from ._methods._dialog_id import DialogId, DialogIdError
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
    Viewer,
)
from ._pacing._limiter import LeakyBucket, Limiter, Plan, Slot
from ._pacing._operating import OperatingBudget, OperatingUsage
from ._transports import AiohttpTransport, MemoryTransport, Transport
from ._wire._envelope import RestResponse, Time
from ._wire._formencode import build_query, parse_query
from ._wire._http import HttpRequest, HttpResponse, Timeout

__version__ = "0.1.0.dev0"

__all__ = [
    "AccessDeniedError",
    "AccessError",
    "AccessTokenAuth",
    "AiohttpTransport",
    "Auth",
    "AuthError",
    "Authorization",
    "Backoff",
    "BadRequestError",
    "BatchCall",
    "BatchError",
    "BatchNotExecutedError",
    "BatchResult",
    "BatchResultMissingError",
    "BitrixError",
    "ChatType",
    "Client",
    "DeadlineExceededError",
    "Dialog",
    "DialogId",
    "DialogIdEmptyError",
    "DialogIdError",
    "DialogKey",
    "DialogOutcome",
    "DialogResults",
    "DialogStream",
    "DialogsApi",
    "EntityLink",
    "EventAuth",
    "Hooks",
    "HttpRequest",
    "HttpResponse",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidCredentialsError",
    "InvalidDialogId",
    "InvalidDialogIdError",
    "InvalidTokenError",
    "LastMessageViews",
    "LeakyBucket",
    "Limiter",
    "LimiterUnavailableError",
    "LimiterWaitEvent",
    "MemoryTokenStore",
    "MemoryTransport",
    "MessageType",
    "MethodNotFoundError",
    "ModelDecodeError",
    "NotFoundError",
    "OAuthAuth",
    "OAuthError",
    "OAuthToken",
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
    "RequestEvent",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "RestResponse",
    "Restrictions",
    "RetryDecision",
    "RetryEvent",
    "RetryHandler",
    "RetryPolicy",
    "RetryState",
    "Role",
    "ServerError",
    "Slot",
    "Time",
    "Timeout",
    "TokenConflictError",
    "TokenExpiredError",
    "TokenStore",
    "TokenStoreError",
    "TransientErrorRetry",
    "Transport",
    "TransportError",
    "Viewer",
    "WebhookAuth",
    "build_query",
    "decode_dialog",
    "dialog_to_json",
    "parse_event_auth",
    "parse_query",
    "verify_application_token",
]
