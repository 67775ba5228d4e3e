"""Typed dialog methods on the client, named after the REST methods they call.

A reader of the official docs finds each method where its name says::

    await client.im.dialog.get("chat29")                    # im.dialog.get
    await client.imbot.dialog.get(256)                      # imbot.dialog.get
    await client.imopenlines.dialog.get(session_id=1743)    # imopenlines.dialog.get
    await client.imbot.v2.chat.get("chat5", bot_id=456)     # imbot.v2.Chat.get

Each checks its arguments before sending (``ValueError``/``TypeError`` naming the
parameter), sends the method under its exact documented name, and returns a
:class:`Dialog` whichever payload generation the portal answers with.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeAlias

import attrs

from .._models import Dialog
from .._wire._envelope import RestResponse
from ._dialog_id import DialogIdLike
from ._dialogs import (
    DIALOG_METHODS,
    DialogMethod,
    check_bot_id,
    check_bot_token,
    openlines_params,
)

__all__ = [
    "BotCredentials",
    "ImApi",
    "ImDialogApi",
    "ImbotApi",
    "ImbotDialogApi",
    "ImbotV2Api",
    "ImbotV2ChatApi",
    "ImopenlinesApi",
    "ImopenlinesDialogApi",
]

Call: TypeAlias = Callable[[str, Mapping[str, Any] | None], Awaitable[RestResponse]]

_IM: Final = DIALOG_METHODS["im.dialog.get"]
_IMBOT: Final = DIALOG_METHODS["imbot.dialog.get"]
_OPENLINES: Final = DIALOG_METHODS["imopenlines.dialog.get"]
_V2: Final = DIALOG_METHODS["imbot.v2.Chat.get"]


@attrs.frozen(kw_only=True)
class BotCredentials:
    """The bot an ``imbot.v2`` call acts as, set once on the client. The token never
    appears in ``repr()`` or logs."""

    bot_id: int | None = None
    bot_token: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def checked(cls, bot_id: object, bot_token: object) -> BotCredentials:
        """Validate the client's ``bot_id``/``bot_token`` keyword arguments."""
        if bot_token is not None and bot_id is None:
            msg = "bot_token was given without bot_id; the token belongs to one bot"
            raise ValueError(msg)
        return cls(
            bot_id=None if bot_id is None else check_bot_id(bot_id),
            bot_token=None if bot_token is None else check_bot_token(bot_token),
        )

    def resolve(self, bot_id: int | None, bot_token: str | None) -> tuple[int | None, str | None]:
        """The bot for one call: the call's own ``bot_id`` wins; the client's token is
        used only for the client's bot, never sent on behalf of another one."""
        if bot_id is None:
            return self.bot_id, bot_token if bot_token is not None else self.bot_token
        if bot_token is None and bot_id == self.bot_id:
            return bot_id, self.bot_token
        return bot_id, bot_token


async def _get(call: Call, method: DialogMethod, params: Mapping[str, Any]) -> Dialog:
    response = await call(method.name, params)
    return method.decode(response.result, response.body)


class ImDialogApi:
    """``im.dialog.get``."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def get(self, dialog_id: DialogIdLike) -> Dialog:
        """The dialog ``dialog_id`` (``"chat29"``, ``"sg12"``, ``"crm7"``, a user id, or a
        ``DialogId``) as the calling user sees it."""
        return await _get(self._call, _IM, _IM.params(dialog_id))


class ImApi:
    """The ``im.*`` methods: ``client.im.dialog.get(...)``."""

    def __init__(self, call: Call) -> None:
        self.dialog: Final = ImDialogApi(call)


class ImbotDialogApi:
    """``imbot.dialog.get`` (deprecated by Bitrix24 in favour of ``imbot.v2.Chat.get``)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def get(self, dialog_id: DialogIdLike) -> Dialog:
        """The dialog ``dialog_id``; the portal serves it exactly like ``im.dialog.get``."""
        return await _get(self._call, _IMBOT, _IMBOT.params(dialog_id))


class ImbotV2ChatApi:
    """``imbot.v2.Chat.get``."""

    def __init__(self, call: Call, bot: BotCredentials) -> None:
        self._call = call
        self._bot = bot

    async def get(
        self,
        dialog_id: DialogIdLike,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
    ) -> Dialog:
        """The chat ``dialog_id`` as the bot ``bot_id`` sees it (the bot must be a member,
        except of open chats). ``bot_token`` is needed when calling through a webhook.

        Both default to the ``bot_id``/``bot_token`` given to the client.
        """
        bot_id, bot_token = self._bot.resolve(bot_id, bot_token)
        params = _V2.params(dialog_id, bot_id=bot_id, bot_token=bot_token)
        return await _get(self._call, _V2, params)


class ImbotV2Api:
    """The ``imbot.v2.*`` methods: ``client.imbot.v2.chat.get(...)``."""

    def __init__(self, call: Call, bot: BotCredentials) -> None:
        self.chat: Final = ImbotV2ChatApi(call, bot)


class ImbotApi:
    """The ``imbot.*`` methods: ``client.imbot.dialog.get(...)``, ``client.imbot.v2``."""

    def __init__(self, call: Call, bot: BotCredentials) -> None:
        self.dialog: Final = ImbotDialogApi(call)
        self.v2: Final = ImbotV2Api(call, bot)


class ImopenlinesDialogApi:
    """``imopenlines.dialog.get``."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def get(
        self,
        *,
        chat_id: int | None = None,
        dialog_id: DialogIdLike | None = None,
        session_id: int | None = None,
        user_code: str | None = None,
    ) -> Dialog:
        """The open-line dialog named by exactly one of ``chat_id``, ``dialog_id``
        (``chatNNN`` only), ``session_id`` or ``user_code`` (``livechat|1|1373|211``,
        optionally ``imol|``-prefixed)."""
        params = openlines_params(
            chat_id=chat_id, dialog_id=dialog_id, session_id=session_id, user_code=user_code
        )
        return await _get(self._call, _OPENLINES, params)


class ImopenlinesApi:
    """The ``imopenlines.*`` methods: ``client.imopenlines.dialog.get(...)``."""

    def __init__(self, call: Call) -> None:
        self.dialog: Final = ImopenlinesDialogApi(call)
