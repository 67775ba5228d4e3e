"""The one place ``error`` codes become classes: the portal's codes mapped onto the tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._base import BitrixError
from ._classes import (
    AccessDeniedError,
    BadRequestError,
    BatchError,
    InsufficientScopeError,
    InvalidClientError,
    InvalidCredentialsError,
    InvalidDialogIdError,
    InvalidTokenError,
    MethodNotFoundError,
    ModuleNotInstalledError,
    NotFoundError,
    OperationTimeLimitError,
    OverloadLimitError,
    PaymentRequiredError,
    PortalUnavailableError,
    QueryLimitExceededError,
    ReauthorizationRequiredError,
    ServerError,
    TokenExpiredError,
)

__all__ = ["error_class", "error_for"]


# Codes are compared upper-cased: the portal emits OAuth codes in lower case and the
# rest in upper case, and peers (PYSDK, PHPSDK) compare case-insensitively.
_CLASS_BY_CODE: Final[Mapping[str, type[BitrixError]]] = {
    # auth
    "INVALID_CREDENTIALS": InvalidCredentialsError,
    "NO_AUTH_FOUND": InvalidCredentialsError,
    "AUTHORIZATION_ERROR": InvalidCredentialsError,
    "AUTH_ERROR": InvalidCredentialsError,  # imbot.v2: the current user is unknown
    "APPLICATION_NOT_FOUND": InvalidCredentialsError,
    "METHOD_CONFIRM_WAITING": InvalidCredentialsError,
    "EXPIRED_TOKEN": TokenExpiredError,
    "INVALID_TOKEN": InvalidTokenError,
    "INVALID_GRANT": ReauthorizationRequiredError,
    "INVALID_CLIENT": InvalidClientError,
    "WRONG_CLIENT": InvalidClientError,
    "PAYMENT_REQUIRED": PaymentRequiredError,
    # access
    "ACCESS_DENIED": AccessDeniedError,
    "ACCESS_ERROR": AccessDeniedError,
    "USER_ACCESS_ERROR": AccessDeniedError,
    "AUTHORIZE_ERROR": AccessDeniedError,
    "WRONG_AUTH_TYPE": AccessDeniedError,
    "METHOD_CONFIRM_DENIED": AccessDeniedError,
    "WRONG_LICENSE": AccessDeniedError,
    "BOT_OWNERSHIP_ERROR": AccessDeniedError,  # imbot.v2: the bot is another app's
    "INSUFFICIENT_SCOPE": InsufficientScopeError,
    "INVALID_SCOPE": InsufficientScopeError,
    "SCOPE_ERROR": InsufficientScopeError,  # imbot.v2.Event.get: withUserEvents needs im
    # rate limits
    "QUERY_LIMIT_EXCEEDED": QueryLimitExceededError,
    "OPERATION_TIME_LIMIT": OperationTimeLimitError,
    # bad request
    "DIALOG_ID_EMPTY": InvalidDialogIdError,
    "INVALID_REQUEST": BadRequestError,
    "ERROR_ARGUMENT": BadRequestError,
    "WRONG_ENCODING": BadRequestError,
    "ERROR_METHOD_NOT_FOUND": MethodNotFoundError,
    "ERROR_BATCH_LENGTH_EXCEEDED": BatchError,
    "ERROR_BATCH_METHOD_NOT_ALLOWED": BatchError,
    "BOT_ID_REQUIRED": BadRequestError,
    "BOT_TOKEN_NOT_SPECIFIED": BadRequestError,
    "BOT_TOKEN_INVALID_LENGTH": BadRequestError,  # imbot.v2: botToken over 40 characters
    "USER_NOT_SUBSCRIBED": BadRequestError,  # imbot.v2: im.v2.Event.subscribe first
    "CLIENT_ID_NOT_SPECIFIED": BadRequestError,
    "EMPTY_MESSAGE": BadRequestError,  # imbot.v2.Chat.Message.send: no text, no attachments
    # not found
    "BOT_NOT_FOUND": NotFoundError,
    "CHAT_NOT_FOUND": NotFoundError,
    "ERROR_MANIFEST_IS_NOT_AVAILABLE": NotFoundError,
    # server
    "INTERNAL_SERVER_ERROR": ServerError,
    "ERROR_UNEXPECTED_ANSWER": ServerError,
    "ERROR_CORE": ServerError,
    "INTERNAL_WRONG_TRANSPORT": ServerError,
    "INTERNAL_WRONG_HANDLER_CLASS": ServerError,
    "CONNECTION_ERROR": ServerError,
    # portal unavailable
    "OVERLOAD_LIMIT": OverloadLimitError,
    "PORTAL_DELETED": PortalUnavailableError,
    "IM_NOT_INSTALLED": ModuleNotInstalledError,
}


def error_class(code: str) -> type[BitrixError]:
    """The exception class an ``error`` code maps to (:class:`BitrixError` if unknown)."""
    return _CLASS_BY_CODE.get(code.upper(), BitrixError)


def error_for(
    code: str,
    description: str = "",
    *,
    status: int | None = None,
    method: str | None = None,
    body: bytes | None = None,
    resume_in: float | None = None,
) -> BitrixError:
    """Build the exception for an ``error`` code, complete with every piece of context.

    Errors are never amended once built, so whatever a caller will read goes in here:
    ``resume_in`` is kept by an :class:`OperationTimeLimitError` (and ignored by others).

    >>> error_for("query_limit_exceeded", status=503)
    QueryLimitExceededError(code='query_limit_exceeded', description='', status=503, method=None)
    """
    cls = error_class(code)
    if issubclass(cls, OperationTimeLimitError):
        return cls(
            description, code=code, status=status, method=method, body=body, resume_in=resume_in
        )
    return cls(description, code=code, status=status, method=method, body=body)
