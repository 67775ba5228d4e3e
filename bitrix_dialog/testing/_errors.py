"""Errors the fake portal answers with, and the HTTP statuses the docs give them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["DOCUMENTED_STATUS", "PortalError"]

# Statuses from the official system-errors table (EN ``_includes/system-errors.md``)
# and the dialog methods' pages; upper-cased codes.
DOCUMENTED_STATUS: Final[Mapping[str, int]] = {
    "INTERNAL_SERVER_ERROR": 500,
    "ERROR_UNEXPECTED_ANSWER": 500,
    "QUERY_LIMIT_EXCEEDED": 503,
    "OPERATION_TIME_LIMIT": 429,
    "ERROR_BATCH_METHOD_NOT_ALLOWED": 405,
    "ERROR_BATCH_LENGTH_EXCEEDED": 400,
    "NO_AUTH_FOUND": 401,
    "INVALID_REQUEST": 400,
    "OVERLOAD_LIMIT": 503,
    "ACCESS_DENIED": 403,
    "INVALID_CREDENTIALS": 403,
    "ERROR_MANIFEST_IS_NOT_AVAILABLE": 404,
    "INSUFFICIENT_SCOPE": 403,
    "EXPIRED_TOKEN": 401,
    "INVALID_TOKEN": 401,
    "USER_ACCESS_ERROR": 403,
    "PORTAL_DELETED": 500,
    "ERROR_METHOD_NOT_FOUND": 404,
    "DIALOG_ID_EMPTY": 400,
    "ACCESS_ERROR": 403,
    "BOT_ID_REQUIRED": 400,
    "BOT_NOT_FOUND": 400,
    "BOT_TOKEN_NOT_SPECIFIED": 400,
    "BOT_OWNERSHIP_ERROR": 403,
    "CHAT_NOT_FOUND": 400,
    "WRONG_AUTH_TYPE": 403,
    "AUTHORIZE_ERROR": 403,
}


class PortalError(Exception):
    """Raised by fake method handlers; becomes an ``{"error", "error_description"}`` answer.

    ``status`` defaults to the documented status for ``code`` (400 when undocumented).
    """

    def __init__(self, code: str, description: str = "", *, status: int | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status if status is not None else DOCUMENTED_STATUS.get(code.upper(), 400)
