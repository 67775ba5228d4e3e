"""Every failure the SDK reports, as one tree rooted at :class:`BitrixError`.

The tree groups errors by what a caller does about them, not by HTTP status
(Bitrix24's docs, its server source and live portals disagree on statuses; the
``error`` code in the body is the only stable signal)::

    BitrixError                      code, description, status, method, body
    ├── AuthError                    the credentials were refused
    │   ├── InvalidCredentialsError      INVALID_CREDENTIALS, NO_AUTH_FOUND, ...
    │   ├── TokenExpiredError            expired_token (OAuth: refresh and retry)
    │   ├── InvalidTokenError            invalid_token (OAuth: refresh and retry)
    │   └── OAuthError                   the authorization server refused a refresh
    │       ├── ReauthorizationRequiredError  invalid_grant: a human must reinstall/re-authorise
    │       ├── InvalidClientError            invalid_client, wrong_client
    │       └── PaymentRequiredError          PAYMENT_REQUIRED
    ├── AccessError                  authenticated, but not allowed
    │   ├── AccessDeniedError            ACCESS_DENIED, ACCESS_ERROR, user_access_error, ...
    │   └── InsufficientScopeError       insufficient_scope
    ├── RateLimitError               slow down; the call may be repeated later
    │   ├── QueryLimitExceededError      QUERY_LIMIT_EXCEEDED (the leaky bucket is full)
    │   └── OperationTimeLimitError      OPERATION_TIME_LIMIT (one method's time budget)
    ├── BadRequestError              the request itself is wrong; fix the code
    │   ├── InvalidDialogIdError         not a dialog id (checked before sending), DIALOG_ID_EMPTY
    │   ├── MethodNotFoundError          ERROR_METHOD_NOT_FOUND
    │   └── BatchError                   ERROR_BATCH_LENGTH_EXCEEDED, ERROR_BATCH_METHOD_NOT_ALLOWED
    ├── NotFoundError                a named object does not exist (BOT_NOT_FOUND, CHAT_NOT_FOUND)
    ├── ServerError                  the portal failed; often transient
    ├── PortalUnavailableError       the portal will not serve this app now
    │   ├── OverloadLimitError           OVERLOAD_LIMIT: manual block, never retried
    │   ├── PortalMovedError             HTTP 3xx: the portal has a new address
    │   └── ModuleNotInstalledError      IM_NOT_INSTALLED: a setup error, never retried
    ├── TokenStoreError              the token store failed; the tokens in use are unchanged
    │   └── TokenConflictError           save(replaces=old) found another pair stored
    ├── LimiterUnavailableError      a shared rate limiter's backend failed; nothing was sent
    ├── TransportError               no HTTP answer at all (network, TLS, dropped connection)
    │   └── RequestTimeoutError          no answer in time (also a builtin TimeoutError)
    │       └── DeadlineExceededError        the call's own deadline left no time (never retried)
    ├── ResponseDecodeError          an answer that is not a Bitrix24 envelope
    │   ├── ResponseTooLargeError        an answer longer than the transport's max_body
    │   └── BatchResultMissingError      a batch answer says nothing about one command
    ├── BatchNotExecutedError        a batch command never ran (halt, or an earlier request failed)
    └── ModelDecodeError             an envelope whose result does not fit the typed model

An unknown code still raises :class:`BitrixError` with the code kept, so nothing is
ever lost; :func:`error_for` is the one place codes become classes.

This module defines the branches the portal answers with (from ``AuthError`` to
``PortalUnavailableError``); the failures on the SDK's side of the wire (from
``TokenStoreError`` down) are in :mod:`._local`.
"""

from __future__ import annotations

from ._base import BitrixError

__all__ = [
    "AccessDeniedError",
    "AccessError",
    "AuthError",
    "BadRequestError",
    "BatchError",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidCredentialsError",
    "InvalidDialogIdError",
    "InvalidTokenError",
    "MethodNotFoundError",
    "ModuleNotInstalledError",
    "NotFoundError",
    "OAuthError",
    "OperationTimeLimitError",
    "OverloadLimitError",
    "PaymentRequiredError",
    "PortalMovedError",
    "PortalUnavailableError",
    "QueryLimitExceededError",
    "RateLimitError",
    "ReauthorizationRequiredError",
    "ServerError",
    "TokenExpiredError",
]


class AuthError(BitrixError):
    """The portal refused the credentials (webhook code or OAuth token)."""


class InvalidCredentialsError(AuthError):
    """Wrong webhook code or no usable authorization data; retrying will not help."""

    default_code = "INVALID_CREDENTIALS"


class TokenExpiredError(AuthError):
    """The OAuth access token has expired; an OAuth auth refreshes once and retries."""

    default_code = "expired_token"


class InvalidTokenError(AuthError):
    """The portal does not recognise the OAuth access token."""

    default_code = "invalid_token"


class OAuthError(AuthError):
    """The OAuth authorization server refused a token refresh; the old tokens are kept."""


class ReauthorizationRequiredError(OAuthError):
    """``invalid_grant``: the refresh token is spent or expired; the app must be re-authorised."""

    default_code = "invalid_grant"


class InvalidClientError(OAuthError):
    """``invalid_client`` / ``wrong_client``: the app's client id or secret is wrong."""

    default_code = "invalid_client"


class PaymentRequiredError(OAuthError):
    """``PAYMENT_REQUIRED``: the app's subscription has lapsed."""

    default_code = "PAYMENT_REQUIRED"


class AccessError(BitrixError):
    """Authenticated, but this user, token or plan may not do this."""


class AccessDeniedError(AccessError):
    """No access to the dialog, the method or the REST API on this plan."""

    default_code = "ACCESS_DENIED"


class InsufficientScopeError(AccessError):
    """The token or webhook lacks the scope the method needs (e.g. ``im``, ``imbot``)."""

    default_code = "insufficient_scope"


class RateLimitError(BitrixError):
    """The portal asks the app to slow down; the same call may succeed later."""


class QueryLimitExceededError(RateLimitError):
    """``QUERY_LIMIT_EXCEEDED``: the portal's leaky bucket for this app is full."""

    default_code = "QUERY_LIMIT_EXCEEDED"


class OperationTimeLimitError(RateLimitError):
    """``OPERATION_TIME_LIMIT``: this method used up its execution-time budget."""

    default_code = "OPERATION_TIME_LIMIT"

    def __init__(self, description: str = "", *, resume_in: float | None = None, **kwargs: object):
        self.resume_in = resume_in
        """Seconds until the client expects the method to be served again, from the
        ``operating_reset_at`` of an earlier answer; ``None`` when no answer told it."""
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class BadRequestError(BitrixError):
    """The request is malformed or names something the portal does not accept."""


class InvalidDialogIdError(BadRequestError, ValueError, TypeError):
    """A dialog id that is not one: refused before sending, or by the portal.

    Raised before any request by ``DialogId.parse`` and the typed methods for an input
    that is not a dialog id the method takes (code ``INVALID_DIALOG_ID``; ``value`` is
    the input as given), and for the portal's ``DIALOG_ID_EMPTY``. It is also a
    ``ValueError`` and a ``TypeError``, as input checks are. In
    ``client.dialogs.get_many(...)`` one bad id among thousands is that id's own outcome
    (``__cause__`` is what refused it), so it costs the others nothing.
    """

    default_code = "INVALID_DIALOG_ID"

    def __init__(self, description: str = "", *, value: object = None, **kwargs: object) -> None:
        self.value = value
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class MethodNotFoundError(BadRequestError):
    """``ERROR_METHOD_NOT_FOUND``: no such REST method (mind the case of v2 names)."""

    default_code = "ERROR_METHOD_NOT_FOUND"


class BatchError(BadRequestError):
    """A ``batch`` rule was broken: too many commands or a method batch refuses."""


class NotFoundError(BitrixError):
    """The object the call names does not exist (a bot, a session, a manifest)."""


class ServerError(BitrixError):
    """The portal failed while serving the call; usually transient."""

    default_code = "INTERNAL_SERVER_ERROR"


class PortalUnavailableError(BitrixError):
    """The portal will not serve this app at the moment (blocked, deleted, moved)."""


class OverloadLimitError(PortalUnavailableError):
    """``OVERLOAD_LIMIT``: a manual block by Bitrix24 support; never retried."""

    default_code = "OVERLOAD_LIMIT"

    def _message(self) -> str:
        # Said in the message itself: retrying a manual block only prolongs it.
        return (
            f"{super()._message()}; Bitrix24 has blocked REST calls of this app or webhook "
            "by hand: not retried, contact Bitrix24 support"
        )


class PortalMovedError(PortalUnavailableError):
    """The portal answered with a redirect: it has moved to ``location``.

    Redirects are never followed blindly: a POST body would be lost and the
    credentials sent to another host. The caller (or an auth strategy that knows
    the portal's ``member_id``) decides whether to switch.
    """

    default_code = "PORTAL_MOVED"

    def __init__(self, description: str = "", *, location: str | None = None, **kwargs: object):
        self.location = location
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class ModuleNotInstalledError(PortalUnavailableError):
    """``IM_NOT_INSTALLED``: the portal lacks the module the method needs (the messenger).

    A permanent setup error of that portal, not a server failure: never retried, and a
    bulk lookup stops sending to it. Someone must install the module there.
    """

    default_code = "IM_NOT_INSTALLED"
