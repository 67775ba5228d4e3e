"""Keeping secrets (webhook codes, tokens, client secrets) out of logs, reprs and errors.

Every place that turns a URL, a parameter mapping or a foreign exception into text, or
chains a foreign exception as the cause of one of ours, goes through here:

- :func:`redact_url` / :func:`redact_text` mask webhook codes (``/rest/1/***/``) and
  ``key=value`` / ``"key": "value"`` pairs of secret-named keys, plus any secret value
  the caller knows (``secrets=``) wherever it appears;
- :func:`redact_params` masks the values of secret-named keys, at any depth;
- :func:`secrets_in` finds the secret values a call's parameters carry (``botToken``,
  also inside ``batch`` command strings) and :func:`mask_body` masks every known
  secret in an answer's bytes *before* anything is built from them: a portal's
  HTML error page that echoes the request path (Apache and nginx pages do) would
  otherwise put the webhook code into an error's message and ``body``;
- :func:`safe_cause` decides whether a caught exception may be kept as ``__cause__``: only
  when nothing along its chain would be masked. Exceptions from aiohttp name the full
  URL (and so a webhook code, or a refresh query), and a token store's may quote a
  token; those are dropped, their type and redacted text kept in our own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final
from urllib.parse import unquote_plus

from yarl import URL

__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "mask_body",
    "redact_params",
    "redact_text",
    "redact_url",
    "safe_cause",
    "secrets_in",
]

MASK: Final = "***"

SECRET_PARAMS: Final = frozenset(
    {
        "auth",
        "access_token",
        "refresh_token",
        "client_secret",
        "application_token",
        "bottoken",
        "bot_token",
        "code",
        "ap",
        "auth_id",
        "refresh_id",
    }
)

# /rest/<user id>/<webhook code>/ : the code is the secret.
_WEBHOOK_PATH: Final = re.compile(r"(/rest/\d+/)([^/?#]+)")
_QUERY_SECRET: Final = re.compile(
    r"((?:^|[?&\"' ,{])(?:"
    + "|".join(sorted(SECRET_PARAMS))
    + r")[\"']?\s*[=:]\s*[\"']?)([^&\"' ,}]+)",
    re.IGNORECASE,
)
# scheme://user:PASSWORD@host: the password of a URL's userinfo.
_USERINFO_PASSWORD: Final = re.compile(r"([a-z][a-z0-9+.-]*://[^/?#@\s:]*:)[^/?#@\s]*@", re.I)
# Shorter values are not secrets worth masking (and would mask half of any text).
_MIN_SECRET: Final = 6
_MASK_BYTES: Final = MASK.encode()
# Parameters nest no deeper than PHP parses them (max_input_nesting_level).
_MAX_DEPTH: Final = 64


def redact_url(url: URL | str) -> str:
    """``https://portal/rest/1/abc123/im.dialog.get?auth=t`` -> ``https://portal/rest/1/***/im.dialog.get?auth=***``.

    A userinfo password is masked too (``https://user:***@host/``).
    """
    text = str(url)
    if "@" in text:
        text = _USERINFO_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _WEBHOOK_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


def redact_text(text: str, *, secrets: Iterable[str | None] = ()) -> str:
    """Mask webhook codes and ``key=value`` / ``"key": "value"`` secrets inside free text,
    and every occurrence of the known ``secrets`` (tokens the caller holds)."""
    for secret in _known(secrets):
        text = text.replace(secret, MASK)
    return redact_url(text)


def redact_params(params: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``params`` with every secret-looking key's value masked, at any depth."""
    return {key: _masked(key, value) for key, value in params.items()}


def secrets_in(params: Mapping[str, object]) -> list[str]:
    """The values of secret-named keys in ``params`` (top level and nested mappings), and
    of secret-named query parameters inside string values (``batch`` commands)."""
    found: list[str] = []
    _collect(params, found, 0)
    return found


def _collect(value: object, found: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SECRET_PARAMS and isinstance(item, str):
                found.append(item)
            elif not isinstance(item, int | float | bool | None):
                _collect(item, found, depth + 1)
    elif isinstance(value, str):
        if "=" in value:
            for match in _QUERY_SECRET.finditer(value):
                found.append(match.group(2))
                found.append(unquote_plus(match.group(2)))
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found, depth + 1)


def mask_body(body: bytes, secrets: Iterable[str | None]) -> bytes:
    """``body`` with every known secret (6 characters or more) replaced by ``***``.

    Bytes in, bytes out: an answer that names no secret is returned as it is (the
    common case costs one substring search per secret), and one in any encoding
    keeps every other byte.
    """
    for secret in _known(secrets):
        encoded = secret.encode()
        if encoded in body:
            body = body.replace(encoded, _MASK_BYTES)
    return body


def safe_cause(error: BaseException, *, secrets: Iterable[str | None] = ()) -> BaseException | None:
    """``error`` if it may be chained as a cause (nothing in its chain needs masking), else None.

    Raise with it *outside* the ``except`` block (``raise ours from safe_cause(exc)``), so
    that a dropped cause does not linger as ``__context__`` either.
    """
    known = _known(secrets)
    for link in _chain(error):
        for text in (str(link), repr(link)):
            if redact_url(text) != text or any(secret in text for secret in known):
                return None
    return error


def _masked(key: object, value: object) -> object:
    if isinstance(key, str) and key.lower() in SECRET_PARAMS:
        return MASK
    if isinstance(value, Mapping):
        return {inner: _masked(inner, item) for inner, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_masked(None, item) for item in value]
    return value


def _known(secrets: Iterable[str | None]) -> list[str]:
    # Longest first, so a secret that contains another is masked whole.
    found = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET}
    return sorted(found, key=len, reverse=True)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception reachable through ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending.extend(e for e in (link.__cause__, link.__context__) if e is not None)
