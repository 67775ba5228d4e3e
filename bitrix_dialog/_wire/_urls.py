"""Validation of the URLs credentials are sent to, by where each URL came from.

Two policies:

- :func:`require_secure_url` for URLs the *user* configures (a webhook URL,
  ``oauth_server=``, the fake portal's helpers): https, or plain http to a loopback
  host, so tests and embedded demos can run a portal on 127.0.0.1.
- :func:`require_public_url` for URLs that *arrive from outside* (refresh answers,
  portal moves, install and event posts): https to a public host name only. No IP
  literal in a loopback, private, link-local, reserved or multicast range (so no
  ``169.254.169.254`` cloud metadata, no ``10.0.0.1``), no ``localhost``, no numeric
  host forms a resolver would read as an address (``127.1``, ``0x7f000001``), and no
  userinfo. ``allow_local=True`` is the explicit, documented opt-in that relaxes this
  to :func:`require_secure_url` for tests and demos against a fake portal on
  127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from typing import Final

from yarl import URL

__all__ = ["is_loopback", "public_url_problem", "require_public_url", "require_secure_url"]

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


def _parse(url: URL | str, parameter: str) -> URL:
    if not isinstance(url, str | URL):
        msg = f"{parameter} must be a str or yarl.URL, not {type(url).__name__}"
        raise TypeError(msg)
    try:
        parsed = URL(url)
    except ValueError:
        msg = f"{parameter} is not a URL"
        raise ValueError(msg) from None
    if not parsed.is_absolute() or not parsed.host:
        msg = f"{parameter} must be an absolute URL such as https://portal.bitrix24.com/rest/"
        raise ValueError(msg)
    return parsed


def require_secure_url(url: URL | str, *, parameter: str) -> URL:
    """Parse ``url`` and insist on https (or http to a loopback host), naming ``parameter``."""
    parsed = _parse(url, parameter)
    if parsed.scheme == "https":
        return parsed
    if parsed.scheme == "http" and is_loopback(parsed.host):
        return parsed
    msg = (
        f"{parameter} must use https (plain http is allowed only to a loopback host "
        f"for tests), got scheme {parsed.scheme!r}"
    )
    raise ValueError(msg)


def public_url_problem(url: URL) -> str | None:
    """Why ``url`` (from outside) may not receive credentials, or ``None`` when it may."""
    if url.scheme != "https":
        return f"it must use https, not {url.scheme!r}"
    if url.raw_user or url.raw_password:
        return "it must not carry a user name or password"
    host = (url.host or "").rstrip(".").lower()
    if not host:
        return "it names no host"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        if not address.is_global or address.is_multicast:
            return "its host is an IP address in a loopback, private or link-local range"
        return None
    last = host.rsplit(".", 1)[-1]
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "its host is a loopback name"
    if last.isdigit() or last.startswith("0x"):
        return "its host is a numeric address form, not a host name"
    return None


def require_public_url(url: URL | str, *, parameter: str, allow_local: bool = False) -> URL:
    """Parse a URL that arrived from outside: https to a public host name, or raise ``ValueError``.

    ``allow_local=True`` accepts what :func:`require_secure_url` accepts (loopback http
    for a fake portal on 127.0.0.1), and still refuses userinfo.
    """
    parsed = _parse(url, parameter)
    if allow_local:
        if parsed.raw_user or parsed.raw_password:
            msg = f"{parameter} must not carry a user name or password"
            raise ValueError(msg)
        return require_secure_url(parsed, parameter=parameter)
    problem = public_url_problem(parsed)
    if problem is not None:
        msg = f"{parameter} must be https to a public host name: {problem}"
        raise ValueError(msg)
    return parsed
