"""Whether a refresh answer may be saved: the checks made before a new pair is used.

The refresh token sent is spent once the authorization server answers, so a refused
answer cannot be retried: :func:`check_refresh_answer` raises
``ReauthorizationRequiredError`` and ``OAuthAuth`` sends that refresh token never again.
Refused: a pair for another ``member_id``; a ``client_endpoint`` on another origin
(a portal move: an address from outside) that is not https to a public host name; a
``server_endpoint`` outside the allowed authorization servers (when the user did not
name one with ``oauth_server=``).
"""

from __future__ import annotations

from yarl import URL

from .._errors import ReauthorizationRequiredError
from .._wire._urls import require_public_url
from ._oauth_server import server_problem
from ._tokens import OAuthToken

__all__ = ["check_refresh_answer"]


def check_refresh_answer(
    new: OAuthToken,
    *,
    member_id: str,
    portal: URL,
    allow_loopback: bool,
    servers: frozenset[str] | None,
) -> None:
    """Raise ``ReauthorizationRequiredError`` unless ``new`` may replace the spent pair.

    ``portal`` is the origin served now; ``servers`` the allowed authorization-server
    hosts, or ``None`` when ``oauth_server=`` fixes where refreshes go.
    """
    problem: str | None
    if new.member_id != member_id:
        problem = f"it is a pair for member {new.member_id}, not {member_id}"
        code = "MEMBER_ID_MISMATCH"
    else:
        problem = _endpoint_problem(new, portal, allow_loopback, servers)
        code = "REFRESH_ANSWER_REFUSED"
    if problem is not None:
        msg = (
            f"the authorization server's answer for member {member_id} is refused: "
            f"{problem}; the refresh token it replaced is spent, so the app must be "
            "authorised again"
        )
        raise ReauthorizationRequiredError(msg, code=code)


def _endpoint_problem(
    new: OAuthToken, portal: URL, allow_loopback: bool, servers: frozenset[str] | None
) -> str | None:
    try:
        moved = URL(new.client_endpoint).origin() != portal
    except ValueError:
        moved = True
    if moved:  # an address from outside: https to a public host name only
        try:
            require_public_url(
                new.client_endpoint, parameter="client_endpoint", allow_loopback=allow_loopback
            )
        except ValueError as exc:
            return str(exc)
    if servers is not None:
        return server_problem(new.server_endpoint, servers)
    return None
