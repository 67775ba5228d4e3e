"""Keeping secrets (webhook codes, tokens, client secrets) out of logs, reprs and errors.

Every place that turns a URL or a parameter mapping into text goes through here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from yarl import URL

__all__ = ["MASK", "SECRET_PARAMS", "redact_params", "redact_text", "redact_url"]

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


def redact_url(url: URL | str) -> str:
    """``https://portal/rest/1/abc123/im.dialog.get?auth=t`` -> ``https://portal/rest/1/***/im.dialog.get?auth=***``."""
    text = str(url)
    text = _WEBHOOK_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


def redact_text(text: str) -> str:
    """Mask webhook codes and ``key=value`` / ``"key": "value"`` secrets inside free text."""
    return redact_url(text)


def redact_params(params: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``params`` with every secret-looking key's value masked."""
    return {key: MASK if key.lower() in SECRET_PARAMS else value for key, value in params.items()}
