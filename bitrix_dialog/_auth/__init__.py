"""Auth strategies: how a call is shaped for the portal, and how refused credentials recover."""

from __future__ import annotations

from ._base import Auth, Authorization
from ._token import AccessTokenAuth
from ._webhook import WebhookAuth

__all__ = ["AccessTokenAuth", "Auth", "Authorization", "WebhookAuth"]
