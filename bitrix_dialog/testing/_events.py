"""Event posts shaped like the portal's, to test event handlers (``portal.events``).

The portal posts events as ``application/x-www-form-urlencoded`` PHP forms with
every scalar a string (EN ``api-reference/events/index.md``)::

    body = portal.events.install()                        # ONAPPINSTALL with a fresh pair
    await test_client.post("/bitrix/events", data=body, headers=portal.events.headers)
    body = portal.events.bot_message(bot_id, "Hello", dialog_id="chat5", from_user_id=7)
    body = portal.events.v2("ONIMBOTV2JOINCHAT", data)     # an imbot.v2 webhook post

Each body carries the app's ``application_token`` (``FakeApp.application_token``,
or ``application_token=`` to forge one) and, where the docs show them, token
pairs freshly issued by ``portal.oauth``, so a handler can call the portal with
them. The shapes follow the event pages (``on-app-install.md``,
``on-app-update.md``, ``on-app-uninstall.md``, ``on-imbot-message-add.md``,
``on-imbot-join-chat.md``, ``on-imbot-delete.md``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from ._bots import FakeBot
from ._chats import FakeChat
from ._php import http_build_query
from ._v2_posts import V2Posts

if TYPE_CHECKING:
    from ._oauth import FakeApp
    from ._portal import FakePortal

__all__ = ["FORM_CONTENT_TYPE", "FakeEvents"]

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"


def _yn(value: bool) -> str:
    return "Y" if value else "N"


class FakeEvents(V2Posts):
    """Builds event post bodies for one :class:`FakePortal` (``portal.events``).

    Every method returns the form body as ``bytes``; post it with :attr:`headers`.
    ``client_id`` picks the app (default: the only registered one), ``base`` the
    served URL from ``portal.serve()`` (endpoints then point there), and
    ``application_token`` overrides the app's token (a forged post).
    """

    headers: Final[Mapping[str, str]] = {"Content-Type": FORM_CONTENT_TYPE}
    """The headers the portal posts events with."""

    def __init__(self, portal: FakePortal) -> None:
        self.portal = portal
        self._handler_ids: dict[str, int] = {}

    # ---------------------------------------------------------------- generic
    def auth(
        self,
        client_id: str | None = None,
        *,
        user_id: int | None = 1,
        refresh_token: bool = True,
        application_token: str | None = None,
        base: str | URL | None = None,
    ) -> dict[str, str]:
        """An event's ``auth`` block; with ``user_id`` it holds a new pair for that user
        (without its refresh token when ``refresh_token=False``), else only the
        portal's endpoints and ``member_id``, as for events no user caused."""
        app = self._app(client_id)
        origin = URL(base).origin() if base is not None else URL(f"https://{self.portal.domain}")
        block = {
            "domain": (origin.host or "") if origin.is_default_port() else origin.authority,
            "server_endpoint": "https://oauth.bitrix.info/rest/",
            "client_endpoint": self.portal.client_endpoint(base),
            "member_id": self.portal.oauth.member_id,
            "application_token": application_token or app.application_token,
        }
        if base is not None:
            block["server_endpoint"] = str(origin.with_path("/rest/"))
        if user_id is None:
            return block
        token = self.portal.oauth.issue_tokens(app.client_id, user_id=user_id, base=base)
        pair = {
            "access_token": token.access_token,
            "expires": str(int(token.expires_at)),
            "expires_in": str(token.expires_in),
            "scope": token.scope or "",
            "status": app.status,
            "user_id": str(user_id),
        }
        if refresh_token and token.refresh_token:
            pair["refresh_token"] = token.refresh_token
        return pair | block

    def body(
        self,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        client_id: str | None = None,
        user_id: int | None = 1,
        refresh_token: bool = True,
        application_token: str | None = None,
        base: str | URL | None = None,
        ts: float | None = None,
    ) -> bytes:
        """Any event's post: ``event``, ``event_handler_id``, ``data``, ``ts``, ``auth``.

        ``ts`` (Unix seconds) defaults to the portal clock's now; pass another to post
        a late or early one (the endpoint refuses installs outside its ``max_age``).
        """
        name = event.upper()
        handler_id = self._handler_ids.setdefault(name, 400 + len(self._handler_ids) + 1)
        form = {
            "event": name,
            "event_handler_id": str(handler_id),
            "data": dict(data or {}),
            "ts": str(int(self.portal.clock() if ts is None else ts)),
            "auth": self.auth(
                client_id,
                user_id=user_id,
                refresh_token=refresh_token,
                application_token=application_token,
                base=base,
            ),
        }
        return http_build_query(form).encode()

    # ------------------------------------------------------------------- app
    def install(
        self,
        client_id: str | None = None,
        *,
        user_id: int = 1,
        version: str = "1",
        language: str = "en",
        application_token: str | None = None,
        base: str | URL | None = None,
        ts: float | None = None,
    ) -> bytes:
        """``ONAPPINSTALL`` with the installing user's pair (refresh token included)."""
        data = {"VERSION": version, "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": language}
        return self.body(
            "ONAPPINSTALL",
            data,
            client_id=client_id,
            user_id=user_id,
            application_token=application_token,
            base=base,
            ts=ts,
        )

    def update(
        self,
        client_id: str | None = None,
        *,
        user_id: int | None = 1,
        version: str = "2",
        previous_version: str = "1",
        language: str = "en",
        application_token: str | None = None,
        base: str | URL | None = None,
        ts: float | None = None,
    ) -> bytes:
        """``ONAPPUPDATE``: a new version was installed."""
        data = {"VERSION": version, "PREVIOUS_VERSION": previous_version, "LANGUAGE_ID": language}
        return self.body(
            "ONAPPUPDATE",
            data,
            client_id=client_id,
            user_id=user_id,
            application_token=application_token,
            base=base,
            ts=ts,
        )

    def uninstall(
        self,
        client_id: str | None = None,
        *,
        clean: bool = True,
        language: str = "en",
        application_token: str | None = None,
        base: str | URL | None = None,
        ts: float | None = None,
    ) -> bytes:
        """``ONAPPUNINSTALL``: no tokens, only the application token to check."""
        data = {"LANGUAGE_ID": language, "CLEAN": "1" if clean else "0"}
        return self.body(
            "ONAPPUNINSTALL",
            data,
            client_id=client_id,
            user_id=None,
            application_token=application_token,
            base=base,
            ts=ts,
        )

    # ------------------------------------------------------------------- bots
    def bot_message(
        self,
        bot_id: int,
        message: str,
        *,
        dialog_id: str | None = None,
        from_user_id: int = 1,
        client_id: str | None = None,
        application_token: str | None = None,
        base: str | URL | None = None,
    ) -> bytes:
        """``ONIMBOTMESSAGEADD``: ``from_user_id`` writes ``message`` to the bot.

        ``dialog_id="chatNNN"`` sends it in that seeded group chat, mentioning the
        bot; without it, in the private dialog of the user and the bot (made on
        first use, as the portal does).
        """
        bot = self._bot(bot_id)
        chat = self._chat(dialog_id) if dialog_id is not None else self._private(bot, from_user_id)
        message_id = max([chat.last_message_id, *(m.id for m in self.portal.messages[-1:])]) + 1
        chat.message_count += 1
        chat.last_message_id = message_id
        params: dict[str, Any] = {
            "MESSAGE": message,
            "TEMPLATE_ID": str(uuid.uuid4()),
            "MESSAGE_TYPE": chat.message_type,
            "FROM_USER_ID": str(from_user_id),
            "DIALOG_ID": str(from_user_id) if dialog_id is None else chat.dialog_id,
            "TO_CHAT_ID": str(chat.id),
            "AUTHOR_ID": str(from_user_id),
            "SYSTEM": "N",
            "TO_USER_ID": str(bot.id),
            "COMMAND_CONTEXT": "TEXTAREA",
            "PLATFORM_CONTEXT": "web",
            "MESSAGE_ID": str(message_id),
            "CHAT_TYPE": chat.message_type,
            "LANGUAGE": "en",
        }
        if dialog_id is not None:
            params |= self._group_params(chat) | {
                "CHAT_ID": str(chat.id),
                "CHAT_TITLE": chat.name,
                "MENTIONED_LIST": {str(bot.id): str(bot.id)},
                "MESSAGE_ORIGINAL": f"[USER={bot.id}]{bot.name}[/USER] {message}",
            }
        data = {
            "BOT": self._bots_block(bot, client_id, base),
            "PARAMS": params,
            "USER": self._user(chat, from_user_id),
        }
        return self.body(
            "ONIMBOTMESSAGEADD",
            data,
            client_id=client_id,
            user_id=from_user_id,
            application_token=application_token,
            base=base,
        )

    def bot_join_chat(
        self,
        bot_id: int,
        *,
        dialog_id: str | None = None,
        user_id: int = 1,
        client_id: str | None = None,
        application_token: str | None = None,
        base: str | URL | None = None,
    ) -> bytes:
        """``ONIMBOTJOINCHAT``: ``user_id`` added the bot to a seeded group chat
        (``dialog_id="chatNNN"``) or opened a private dialog with it."""
        bot = self._bot(bot_id)
        chat = self._chat(dialog_id) if dialog_id is not None else self._private(bot, user_id)
        params: dict[str, Any] = {
            "CHAT_TYPE": chat.message_type,
            "MESSAGE_TYPE": chat.message_type,
            "BOT_ID": str(bot.id),
            "USER_ID": str(user_id),
            "LANGUAGE": "en",
        }
        if dialog_id is None:
            params |= {
                "TO_USER_ID": str(user_id),
                "FROM_USER_ID": str(bot.id),
                "DIALOG_ID": str(user_id),
            }
        else:
            params |= self._group_params(chat) | {
                "CHAT_ID": str(chat.id),
                "ACCESS_HISTORY": "1",
                "DIALOG_ID": chat.dialog_id,
            }
            if chat.members is not None:
                chat.members = chat.members | {bot.id}
        data = {
            "BOT": self._bots_block(bot, client_id, base),
            "PARAMS": params,
            "USER": self._user(chat, user_id),
        }
        return self.body(
            "ONIMBOTJOINCHAT",
            data,
            client_id=client_id,
            user_id=user_id,
            refresh_token=False,
            application_token=application_token,
            base=base,
        )

    def bot_delete(
        self,
        bot_id: int,
        *,
        user_id: int = 1,
        client_id: str | None = None,
        application_token: str | None = None,
        base: str | URL | None = None,
    ) -> bytes:
        """``ONIMBOTDELETE``: the bot was deleted (it is removed from the portal)."""
        bot = self._bot(bot_id)
        del self.portal.bots[bot.id]
        data = {"BOT_ID": str(bot.id), "BOT_CODE": bot.code or "bot"}
        return self.body(
            "ONIMBOTDELETE",
            data,
            client_id=client_id,
            user_id=user_id,
            refresh_token=False,
            application_token=application_token,
            base=base,
        )

    # ---------------------------------------------------------------- private
    def _app(self, client_id: str | None) -> FakeApp:
        return self.portal.oauth._app(client_id)

    def _bot(self, bot_id: int) -> FakeBot:
        bot = self.portal.bots.get(bot_id)
        if bot is None:
            msg = f"no bot {bot_id}; register it (imbot.register) or add_bot() first"
            raise ValueError(msg)
        return bot

    def _chat(self, dialog_id: str) -> FakeChat:
        number = dialog_id[4:] if dialog_id.lower().startswith("chat") else ""
        chat = self.portal.chats.get(int(number)) if number.isdigit() else None
        if chat is None:
            msg = f"dialog_id must name a seeded chat (chatNNN), got {dialog_id!r}"
            raise ValueError(msg)
        return chat

    def _private(self, bot: FakeBot, user_id: int) -> FakeChat:
        members = frozenset({bot.id, user_id})
        for chat in self.portal.chats.values():
            if chat.message_type == "P" and chat.members == members:
                return chat
        return self.portal.add_chat(
            name=bot.name, type="private", message_type="P", owner=0, members=members
        )

    def _bots_block(
        self, bot: FakeBot, client_id: str | None, base: str | URL | None
    ) -> dict[str, Any]:
        app = self._app(client_id)
        auth = self.auth(app.client_id, user_id=bot.id, base=base) | {"client_id": app.client_id}
        item = auth | {"AUTH": auth, "BOT_ID": str(bot.id), "BOT_CODE": bot.code or "bot"}
        return {str(bot.id): item}

    @staticmethod
    def _group_params(chat: FakeChat) -> dict[str, str]:
        return {
            "CHAT_AUTHOR_ID": str(chat.owner),
            "CHAT_ENTITY_TYPE": chat.entity_type,
            "CHAT_ENTITY_ID": chat.entity_id,
        }

    @staticmethod
    def _user(chat: FakeChat, user_id: int) -> dict[str, str]:
        name = chat.user_name(user_id)
        first, _, last = name.partition(" ")
        return {
            "ID": str(user_id),
            "NAME": name,
            "FIRST_NAME": first,
            "LAST_NAME": last,
            "WORK_POSITION": "",
            "GENDER": "M",
            "IS_BOT": _yn(False),
            "IS_CONNECTOR": _yn(False),
            "IS_NETWORK": _yn(False),
            "IS_EXTRANET": _yn(False),
        }

    def __repr__(self) -> str:
        return f"FakeEvents(portal={self.portal.domain!r})"
