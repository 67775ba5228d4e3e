"""Validation of the URLs credentials are sent to: https only, loopback excepted for tests."""

from __future__ import annotations

import ipaddress
from typing import Final

from yarl import URL

__all__ = ["is_loopback", "require_secure_url"]

_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback(host: str | None) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``: the only hosts plain http may reach."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_url(url: URL | str, *, parameter: str) -> URL:
    """Parse ``url`` and insist on https (or http to a loopback host), naming ``parameter``."""
    if not isinstance(url, str | URL):
        msg = f"{parameter} must be a str or yarl.URL, not {type(url).__name__}"
        raise TypeError(msg)
    parsed = URL(url)
    if not parsed.is_absolute() or not parsed.host:
        msg = f"{parameter} must be an absolute URL such as https://portal.bitrix24.com/rest/"
        raise ValueError(msg)
    if parsed.scheme == "https":
        return parsed
    if parsed.scheme == "http" and is_loopback(parsed.host):
        return parsed
    msg = (
        f"{parameter} must use https (plain http is allowed only to a loopback host "
        f"for tests), got scheme {parsed.scheme!r}"
    )
    raise ValueError(msg)
