"""Auth strategies: how a call is shaped for the portal, and how refused credentials recover."""

from __future__ import annotations

from ._base import Auth, Authorization
from ._events import EventAuth, parse_event_auth, verify_application_token
from ._moves import PortalMove, PortalMoveCallback
from ._oauth import OAuthAuth
from ._token import AccessTokenAuth
from ._tokens import MemoryTokenStore, OAuthToken, TokenStore
from ._webhook import WebhookAuth

__all__ = [
    "AccessTokenAuth",
    "Auth",
    "Authorization",
    "EventAuth",
    "MemoryTokenStore",
    "OAuthAuth",
    "OAuthToken",
    "PortalMove",
    "PortalMoveCallback",
    "TokenStore",
    "WebhookAuth",
    "parse_event_auth",
    "verify_application_token",
]
