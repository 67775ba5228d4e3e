"""Auth that Bitrix24 delivers to the app: event posts and placement (app page) posts.

Both arrive as ``application/x-www-form-urlencoded`` PHP forms, every scalar a string:

- **events** (``event.bind`` handlers, outgoing webhooks, ``ONAPPINSTALL``) carry an
  ``auth[...]`` block: ``access_token``, ``expires``/``expires_in``, ``scope``,
  ``domain``, ``server_endpoint``, ``status``, ``client_endpoint``, ``member_id``,
  ``user_id``, ``refresh_token``, ``application_token`` (EN
  ``_includes/auth-params-in-events.md``). Tokens are absent when no user caused the
  event (robots, workflows) and always for outgoing webhooks; ``refresh_token``
  comes only with a few events such as ``ONAPPINSTALL``.
- **placements** and the app page carry ``AUTH_ID``, ``AUTH_EXPIRES``,
  ``REFRESH_ID``, ``SERVER_ENDPOINT``, ``APPLICATION_TOKEN``, ``APPLICATION_SCOPE``,
  ``member_id``, ``status`` in the body and ``DOMAIN``, ``PROTOCOL`` in the query
  string (EN ``settings/oauth/simple-way.md``, the widget pages).

Nothing in a post is trustworthy until its ``application_token`` matches the one
you stored at install: check it with :func:`verify_application_token` before
using any token, endpoint or domain from it.

    auth = parse_event_auth(await request.read())
    if not auth.verify(stored_application_token):
        raise web.HTTPForbidden()
    if auth.token is not None:
        await store.save(auth.token)
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .._wire._formencode import parse_query
from .._wire._redact import MASK
from ._tokens import OAuthToken, _text

__all__ = ["EventAuth", "FormData", "as_form", "parse_event_auth", "verify_application_token"]

FormData = str | bytes | Mapping[str, Any]
"""A raw form body (``str``/``bytes``) or a mapping already parsed the PHP way."""

_PLACEMENT_KEYS: Final = ("AUTH_ID", "APPLICATION_TOKEN", "member_id")
# A DOMAIN is spliced into a URL: allow a host name or IP and a port, nothing else.
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST: Final = re.compile(
    rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]{{2,45}}\])(?::[0-9]{{1,5}})?"
)


def _mask(value: object) -> str:
    return MASK if value else repr(value)


@attrs.frozen(kw_only=True)
class EventAuth:
    """The auth part of one event or placement post. ``repr`` masks the secrets.

    Every field is as sent (``None`` when absent); ``token`` is the ready pair when
    the post carried an access token, else ``None``.
    """

    application_token: str | None = attrs.field(default=None, repr=_mask)
    """The secret proving the post came from Bitrix24; compare with :meth:`verify`."""
    member_id: str | None = None
    """The portal's permanent id: look up the stored ``application_token`` by it."""
    domain: str | None = None
    """The portal's domain as the post names it."""
    client_endpoint: str | None = None
    """The portal's REST base (built from ``DOMAIN``/``PROTOCOL`` for placements)."""
    server_endpoint: str | None = None
    """The authorization server's REST base, for refreshing ``token``."""
    scope: str | None = None
    """Comma-separated scopes of the app."""
    status: str | None = None
    """The app's status (informational: the docs say verify it with ``app.info``)."""
    user_id: int | None = None
    """The user who caused the event, when sent."""
    token: OAuthToken | None = None
    """The OAuth pair, when the post carried one (``refresh_token`` may be None)."""

    def verify(self, expected: str | None) -> bool:
        """Constant-time check of :attr:`application_token` against the stored value."""
        return verify_application_token(self.application_token, expected)

    @classmethod
    def from_auth_block(
        cls, block: Mapping[str, Any], *, clock: Callable[[], float] = time.time
    ) -> EventAuth:
        """Parse one ``auth`` mapping (an event's ``auth``, or imbot.v2's ``data.bot.auth``)."""
        if not isinstance(block, Mapping):
            msg = f"the auth block must be a mapping, not {type(block).__name__}"
            raise TypeError(msg)
        try:
            token = (
                OAuthToken.from_response(_with_endpoint(block), received_at=clock())
                if _text(block.get("access_token"))
                else None
            )
            return cls(
                application_token=_text(block.get("application_token")),
                member_id=_text(block.get("member_id")),
                domain=_text(block.get("domain")),
                client_endpoint=_text(block.get("client_endpoint")),
                server_endpoint=_text(block.get("server_endpoint")),
                scope=_text(block.get("scope")),
                status=_text(block.get("status")),
                user_id=_int(block.get("user_id")),
                token=token,
            )
        except (TypeError, ValueError) as exc:
            msg = f"malformed auth block in the Bitrix24 post: {exc}"
            raise ValueError(msg) from None


def parse_event_auth(
    data: FormData,
    *,
    query: str | Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.time,
) -> EventAuth:
    """Parse the auth of an event or placement post (raw body or parsed mapping).

    ``query`` is the request's query string (placements put ``DOMAIN`` and
    ``PROTOCOL`` there); body values win over query values, as in PHP's
    ``$_REQUEST``. ``clock`` turns ``expires_in``/``AUTH_EXPIRES`` into an absolute
    expiry. Raises ``ValueError`` when the post has no Bitrix24 auth at all.

    >>> parse_event_auth("event=ONAPPINSTALL&auth%5Bmember_id%5D=m1").member_id
    'm1'
    """
    values = {**as_form(query, "query"), **as_form(data, "data")}
    block = values.get("auth")
    if isinstance(block, Mapping):
        return EventAuth.from_auth_block(block, clock=clock)
    if any(key in values for key in _PLACEMENT_KEYS):
        return _placement(values, clock)
    msg = (
        "the post carries no Bitrix24 auth: expected an auth[...] block (events) "
        "or AUTH_ID / APPLICATION_TOKEN / member_id (placements)"
    )
    raise ValueError(msg)


def verify_application_token(received: str | None, expected: str | None) -> bool:
    """True only when both tokens are non-empty and equal, compared in constant time.

    >>> verify_application_token("51856fef", "51856fef"), verify_application_token("", "")
    (True, False)
    """
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


def as_form(data: FormData | None, parameter: str) -> dict[str, Any]:
    """A post as a mapping: a raw body (``bytes``/``str``) parsed as PHP reads forms."""
    if data is None:
        return {}
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        return parse_query(data.lstrip("?"))
    if isinstance(data, Mapping):
        return dict(data)
    msg = f"{parameter} must be str, bytes or a mapping, not {type(data).__name__}"
    raise TypeError(msg)


def _placement(values: Mapping[str, Any], clock: Callable[[], float]) -> EventAuth:
    domain = _text(values.get("DOMAIN"))
    client_endpoint = None
    if domain is not None:
        scheme = "http" if _text(values.get("PROTOCOL")) == "0" else "https"
        client_endpoint = _endpoint(scheme, domain)
    block = {
        "access_token": values.get("AUTH_ID"),
        "refresh_token": values.get("REFRESH_ID"),
        "expires_in": values.get("AUTH_EXPIRES"),
        "server_endpoint": values.get("SERVER_ENDPOINT"),
        "application_token": values.get("APPLICATION_TOKEN"),
        "scope": values.get("APPLICATION_SCOPE"),
        "member_id": values.get("member_id"),
        "status": values.get("status"),
        "domain": domain,
        "client_endpoint": client_endpoint,
    }
    return EventAuth.from_auth_block(block, clock=clock)


def _with_endpoint(block: Mapping[str, Any]) -> Mapping[str, Any]:
    """The older documented form names only ``domain``: its REST base is https://DOMAIN/rest/."""
    domain = _text(block.get("domain"))
    if _text(block.get("client_endpoint")) is not None or domain is None:
        return block
    return {**block, "client_endpoint": _endpoint("https", domain)}


def _endpoint(scheme: str, domain: str) -> str:
    if len(domain) > 260 or not _HOST.fullmatch(domain):
        msg = f"DOMAIN {domain!r} is not a host name (with an optional port)"
        raise ValueError(msg)
    return f"{scheme}://{domain.lower()}/rest/"


def _int(value: object) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        msg = f"expected an integer, got {text!r}"
        raise ValueError(msg) from None
