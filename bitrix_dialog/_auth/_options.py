"""Checking what an app configures its OAuth auth with, before anything is sent.

``OAuthAuth`` and the aiohttp ``Portals`` (one ``OAuthAuth`` per portal) take the
same app options; both refuse a bad one up front, with a ``TypeError`` or
``ValueError`` naming it, rather than on the first refresh an hour later.
"""

from __future__ import annotations

import math

from ._tokens import TokenStore

__all__ = ["check_app_credentials", "check_refresh_options"]


def check_app_credentials(client_id: object, client_secret: object, store: object) -> None:
    """Refuse an empty ``client_id``/``client_secret`` or a ``store`` that is no ``TokenStore``."""
    for name, value in (("client_id", client_id), ("client_secret", client_secret)):
        if not isinstance(value, str) or not value.strip():
            msg = f"{name} must be a non-empty string"
            raise ValueError(msg)
    if store is not None and not isinstance(store, TokenStore):
        msg = f"store must implement TokenStore (load, save, refresh_lock), not {store!r}"
        raise TypeError(msg)


def check_refresh_options(
    skew: object, on_portal_moved: object, clock: object, allow_loopback: object
) -> float:
    """Refuse bad refresh options of ``OAuthAuth``; ``skew`` as a float."""
    if isinstance(skew, bool) or not isinstance(skew, int | float) or not math.isfinite(skew):
        msg = f"skew must be a finite number of seconds, not {skew!r}"
        raise TypeError(msg)
    if skew < 0:
        msg = f"skew must be >= 0 seconds, got {skew!r}"
        raise ValueError(msg)
    if on_portal_moved is not None and not callable(on_portal_moved):
        msg = "on_portal_moved must be callable or None"
        raise TypeError(msg)
    if not callable(clock):
        msg = "clock must be a callable returning Unix seconds"
        raise TypeError(msg)
    if not isinstance(allow_loopback, bool):
        msg = "allow_loopback must be a bool"
        raise TypeError(msg)
    return float(skew)
