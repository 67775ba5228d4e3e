"""The fake portal's side of the wire: which method a URL names, the parameters a request
carries (read the way the portal's PHP reads them), and JSON answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from yarl import URL

from .._wire._http import HttpRequest, HttpResponse
from ._errors import PortalError
from ._php import parse_str

__all__ = ["bearer_token", "json_response", "parse_params", "route"]

_JSON_HEADERS: Final[Mapping[str, str]] = {"Content-Type": "application/json; charset=utf-8"}


def route(url: URL) -> tuple[str, tuple[str, str] | None]:
    """The method ``/rest/[USER/CODE/]METHOD[.json]`` names, and the webhook's
    ``(user, code)`` when the URL carries one; ``PortalError`` for any other path."""
    parts = [p for p in url.path.split("/") if p]
    if not parts or parts[0] != "rest" or len(parts) not in (2, 4):
        raise PortalError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404)
    method = parts[-1]
    if method.endswith(".json"):
        method = method[: -len(".json")]
    elif method.endswith(".xml"):
        raise PortalError("INTERNAL_WRONG_TRANSPORT", "Wrong transport!", status=500)
    webhook = (parts[1], parts[2]) if len(parts) == 4 else None
    return method, webhook


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    for key, value in request.headers.items():
        if key.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[7:].strip() or None
    return None


def parse_params(request: HttpRequest) -> dict[str, Any]:
    """GET/POST values the way the portal's ``getRequestData`` reads them.

    Query values first; a JSON body only when the content type is exactly
    ``application/json`` (a body that does not parse yields *no* parameters, silently,
    as on the real server); any other body goes through ``parse_str``.
    """
    params: dict[str, Any] = parse_str(request.url.raw_query_string)
    if not request.body:
        return params
    content_type = ""
    for key, value in request.headers.items():
        if key.lower() == "content-type":
            content_type = value.split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            return params
        if isinstance(body, dict):
            params.update(body)
        return params
    params.update(parse_str(request.body))
    return params


def json_response(status: int, payload: Mapping[str, Any]) -> HttpResponse:
    """``payload`` as the portal's JSON answer with ``status``."""
    return HttpResponse(
        status=status,
        headers=_JSON_HEADERS,
        body=json.dumps(payload, ensure_ascii=False).encode(),
    )
