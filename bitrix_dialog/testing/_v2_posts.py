"""``imbot.v2`` webhook posts of the fake portal: ``portal.events.v2(event, data)``.

In webhook mode the portal posts each event as a PHP form with two ``auth`` blocks
(EN ``api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.md``, "Webhook
Notification Structure"): the top-level one to verify the post with, and
``data[bot][auth]``, the bot's pair for calling back. Every scalar is a string
(``"1"``/``"0"``, ``""`` for ``null``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yarl import URL

from ._php import http_build_query

if TYPE_CHECKING:
    from ._oauth import FakeApp
    from ._portal import FakePortal

__all__ = ["V2Posts"]


def _null_as_empty(value: Any) -> Any:
    """``null`` as a v2 webhook post sends it: ``""`` (``http_build_query`` drops ``None``)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return {key: _null_as_empty(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_null_as_empty(item) for item in value]
    return value


class V2Posts:
    """The ``imbot.v2`` part of :class:`~._events.FakeEvents`."""

    if TYPE_CHECKING:  # what FakeEvents provides
        portal: FakePortal

        def auth(
            self,
            client_id: str | None = None,
            *,
            user_id: int | None = 1,
            refresh_token: bool = True,
            application_token: str | None = None,
            base: str | URL | None = None,
        ) -> dict[str, str]: ...

        def _app(self, client_id: str | None) -> FakeApp: ...

    def v2(
        self,
        event: str,
        data: Mapping[str, Any],
        *,
        bot_id: int | None = None,
        client_id: str | None = None,
        user_id: int | None = None,
        refresh_token: bool = True,
        application_token: str | None = None,
        bot_application_token: str | None = None,
        top_member_id: bool = True,
        base: str | URL | None = None,
        ts: float | None = None,
    ) -> bytes:
        """An ``imbot.v2`` webhook post of ``event`` with ``data`` (an ``Event.get``
        item's ``data``, e.g. a documented example), as the portal sends it.

        ``data["bot"]`` (or ``bot_id``) names the bot; the post carries the simplified
        ``{id, code, auth}`` object, ``auth`` a fresh pair for ``user_id`` (default: the
        bot's own id; ``refresh_token=False`` leaves the refresh token out). Every scalar
        is a string (``null`` as ``""``), as ``http_build_query`` sends it. The top-level
        ``auth`` holds ``domain``, ``member_id`` (left out with ``top_member_id=False``)
        and the app's ``application_token`` (``application_token=`` forges it);
        ``bot_application_token`` forges the one in ``data[bot][auth]``. A user event
        (``ONIMV2*``) without a bot carries no ``data[bot]``.
        """
        app = self._app(client_id)
        body = {key: value for key, value in data.items() if key != "bot"}
        given = data.get("bot")
        if bot_id is None and isinstance(given, Mapping) and given.get("id") is not None:
            bot_id = int(given["id"])
        if bot_id is not None:
            known = self.portal.bots.get(bot_id)
            code = known.code if known is not None and known.code else None
            if code is None and isinstance(given, Mapping):
                code = given.get("code")
            pair = self.auth(
                app.client_id,
                user_id=bot_id if user_id is None else user_id,
                refresh_token=refresh_token,
                application_token=bot_application_token,
                base=base,
            )
            body["bot"] = {"id": str(bot_id), "code": code or "bot", "auth": pair}
        top = self.auth(app.client_id, user_id=None, application_token=application_token, base=base)
        auth = {key: top[key] for key in ("domain", "member_id", "application_token")}
        if not top_member_id:
            del auth["member_id"]
        form = {
            "event": event.upper(),
            "data": _null_as_empty(body),
            "ts": str(int(self.portal.clock() if ts is None else ts)),
            "auth": auth,
        }
        return http_build_query(form).encode()
