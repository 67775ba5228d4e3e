"""Validation of URLs by where they came from.

- URLs the user configures (a webhook URL, ``oauth_server=``, a stored pair):
  :func:`require_secure_url`, https, or plain http to a loopback host for tests.
- URLs that arrive from outside (install and event posts): :func:`require_public_url`
  and :func:`require_public_host`, https to a public host name only, unless the
  caller opts in to loopback hosts for a fake portal on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from yarl import URL

__all__ = [
    "is_loopback",
    "public_host_problem",
    "require_public_host",
    "require_public_url",
    "require_secure_url",
]

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


# Special-use names that never name a portal on the internet (RFC 6761, 6762, 8375 ...).
_PRIVATE_SUFFIXES: Final = ("localhost", "local", "internal", "home.arpa", "localdomain", "lan")
_TLD: Final = re.compile(r"(?:[a-z][a-z0-9-]*|xn--[a-z0-9-]+)", re.ASCII)
_HOST_PORT: Final = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII,
)


def public_host_problem(host: str | None, *, allow_loopback: bool = False) -> str | None:
    """Why ``host`` is not a public host name a post may point the app at, or None.

    Refused: IP literals outside the global unicast range (loopback, private,
    link-local such as the cloud metadata ``169.254.169.254``, shared, reserved,
    multicast, unspecified), names that only resolve inside a network
    (``localhost``, ``*.local``, ``*.internal`` ...), single-label names, and names
    whose last label is numeric, which resolvers read as an IPv4 address
    (``127.1``, ``2130706433``, ``0x7f.1``). ``allow_loopback`` admits loopback hosts
    (``127.0.0.0/8``, ``::1``, ``localhost``) and nothing else: the opt-in for a fake
    portal on 127.0.0.1. Host names are checked as written; what they resolve to is
    the network's business (an egress policy).
    """
    if not host:
        return "it names no host"
    name = host.lower().strip("[]").rstrip(".")
    if allow_loopback and is_loopback(name):
        return None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        if address.is_global and not address.is_multicast:
            return None
        return f"{host!r} is not a public address"
    labels = name.split(".")
    if len(labels) < 2 or any(name == s or name.endswith("." + s) for s in _PRIVATE_SUFFIXES):
        return f"{host!r} is not a public host name"
    if not _TLD.fullmatch(labels[-1]):
        return f"{host!r} is not a public host name (its last label reads as a number)"
    return None


def require_public_url(url: URL | str, *, parameter: str, allow_loopback: bool = False) -> URL:
    """A URL that arrived from outside (an install or event post): https to a public host.

    No userinfo, no plain http, no host :func:`public_host_problem` refuses. With
    ``allow_loopback`` (tests and demos against a fake portal on 127.0.0.1) http and
    https to a loopback host pass too. URLs the user configures are checked by
    :func:`require_secure_url` instead. Raises ``ValueError`` naming ``parameter``.
    """
    if not isinstance(url, str | URL):
        msg = f"{parameter} must be a str or yarl.URL, not {type(url).__name__}"
        raise TypeError(msg)
    try:
        parsed = URL(url)
    except ValueError:
        msg = f"{parameter} is not a URL"
        raise ValueError(msg) from None
    if not parsed.is_absolute() or not parsed.host:
        msg = f"{parameter} is not an absolute URL"
        raise ValueError(msg)
    if parsed.user is not None or parsed.password is not None:
        msg = f"{parameter} carries userinfo"
        raise ValueError(msg)
    loopback = allow_loopback and is_loopback(parsed.host)
    if parsed.scheme != "https" and not (loopback and parsed.scheme == "http"):
        msg = f"{parameter} must use https, got scheme {parsed.scheme[:16]!r}"
        raise ValueError(msg)
    problem = public_host_problem(parsed.host, allow_loopback=allow_loopback)
    if problem is not None:
        msg = f"{parameter}: {problem}"
        raise ValueError(msg)
    return parsed


def require_public_host(value: str, *, parameter: str, allow_loopback: bool = False) -> str:
    """A ``host[:port]`` that arrived from outside (an event's ``domain``); see
    :func:`public_host_problem`. Returns it lower-cased; raises ``ValueError``."""
    match = _HOST_PORT.fullmatch(value) if isinstance(value, str) else None
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        msg = f"{parameter} is not a host name with an optional port"
        raise ValueError(msg)
    problem = public_host_problem(match["host"], allow_loopback=allow_loopback)
    if problem is not None:
        msg = f"{parameter}: {problem}"
        raise ValueError(msg)
    return value.lower()
