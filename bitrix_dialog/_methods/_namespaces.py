"""Typed methods on the client, named after the REST methods they call.

A reader of the official docs finds each method where its name says::

    await client.im.dialog.get("chat29")                    # im.dialog.get
    await client.imbot.dialog.get(256)                      # imbot.dialog.get
    await client.imopenlines.dialog.get(session_id=1743)    # imopenlines.dialog.get
    await client.imbot.v2.chat.get("chat5", bot_id=456)     # imbot.v2.Chat.get
    await client.imbot.v2.event.get(bot_id=456, offset=1002)  # imbot.v2.Event.get
    await client.im.chat.get(entity_type="CRM", entity_id="DEAL|1663")   # im.chat.get
    await client.imbot.chat.get(entity_type="CRM", entity_id="DEAL|1663")

Each ``get`` is an :class:`Endpoint` of one method spec: it checks its arguments before
sending (``ValueError``/``TypeError`` naming the parameter), sends the method under its
documented name and returns the spec's typed result. Adding a method is a spec (in
``_dialogs.py``, ``_chats.py`` or a new module), one ``Endpoint`` line here and its
entry in :data:`METHODS`.
"""

from __future__ import annotations

from typing import Final, Generic, TypeVar

from ._chats import IM_CHAT_GET, IMBOT_CHAT_GET
from ._dialogs import IM_DIALOG_GET, IMBOT_DIALOG_GET, IMBOT_V2_CHAT_GET, IMOPENLINES_DIALOG_GET
from ._endpoint import BotCredentials, Endpoint, Read
from ._events import IMBOT_V2_EVENT_GET
from ._spec import MethodTable

__all__ = [
    "METHODS",
    "ImApi",
    "ImChatApi",
    "ImDialogApi",
    "ImbotApi",
    "ImbotChatApi",
    "ImbotDialogApi",
    "ImbotV2Api",
    "ImbotV2ChatApi",
    "ImbotV2EventApi",
    "ImopenlinesApi",
    "ImopenlinesDialogApi",
]

METHODS: Final = MethodTable(
    (
        IM_DIALOG_GET,
        IMBOT_DIALOG_GET,
        IMOPENLINES_DIALOG_GET,
        IMBOT_V2_CHAT_GET,
        IM_CHAT_GET,
        IMBOT_CHAT_GET,
        IMBOT_V2_EVENT_GET,
    )
)
"""Every typed method by REST name, case-insensitively: what ``client.call`` and
``client.batch`` use to send a known method under its documented spelling."""


class ImDialogApi:
    """``im.dialog.*``: ``get``."""

    def __init__(self, read: Read) -> None:
        self.get: Final = Endpoint(IM_DIALOG_GET, read)


class ImChatApi:
    """``im.chat.*``: ``get`` (the id of the chat linked to an entity)."""

    def __init__(self, read: Read) -> None:
        self.get: Final = Endpoint(IM_CHAT_GET, read)


class ImApi:
    """The ``im.*`` methods: ``client.im.dialog.get(...)``, ``client.im.chat.get(...)``."""

    def __init__(self, read: Read) -> None:
        self.dialog: Final = ImDialogApi(read)
        self.chat: Final = ImChatApi(read)


class ImbotDialogApi:
    """``imbot.dialog.*`` (deprecated by Bitrix24 in favour of ``imbot.v2.Chat.get``);
    the portal serves it exactly like ``im.dialog.get``."""

    def __init__(self, read: Read) -> None:
        self.get: Final = Endpoint(IMBOT_DIALOG_GET, read)


class ImbotChatApi:
    """``imbot.chat.*``: ``get``, served exactly like ``im.chat.get`` (deprecated)."""

    def __init__(self, read: Read) -> None:
        self.get: Final = Endpoint(IMBOT_CHAT_GET, read)


class ImbotV2ChatApi:
    """``imbot.v2.Chat.*``: ``get``, acting as the client's bot unless told otherwise."""

    def __init__(self, read: Read, bot: BotCredentials) -> None:
        self.get: Final = Endpoint(IMBOT_V2_CHAT_GET, read, bot)


class ImbotV2EventApi:
    """``imbot.v2.Event.*``: ``get`` (one page of a fetch-mode bot's events), acting as
    the client's bot unless told otherwise."""

    def __init__(self, read: Read, bot: BotCredentials) -> None:
        self.get: Final = Endpoint(IMBOT_V2_EVENT_GET, read, bot)


class ImbotV2Api:
    """The ``imbot.v2.*`` methods: ``client.imbot.v2.chat.get(...)``,
    ``client.imbot.v2.event.get(...)``."""

    def __init__(self, read: Read, bot: BotCredentials) -> None:
        self.chat: Final = ImbotV2ChatApi(read, bot)
        self.event: Final = ImbotV2EventApi(read, bot)


V2 = TypeVar("V2", bound=ImbotV2Api)


class ImbotApi(Generic[V2]):
    """The ``imbot.*`` methods: ``client.imbot.dialog.get(...)``,
    ``client.imbot.chat.get(...)``, ``client.imbot.v2`` (the ``imbot.v2`` namespace given)."""

    def __init__(self, read: Read, v2: V2) -> None:
        self.dialog: Final = ImbotDialogApi(read)
        self.chat: Final = ImbotChatApi(read)
        self.v2: Final = v2


class ImopenlinesDialogApi:
    """``imopenlines.dialog.*``: ``get``."""

    def __init__(self, read: Read) -> None:
        self.get: Final = Endpoint(IMOPENLINES_DIALOG_GET, read)


class ImopenlinesApi:
    """The ``imopenlines.*`` methods: ``client.imopenlines.dialog.get(...)``."""

    def __init__(self, read: Read) -> None:
        self.dialog: Final = ImopenlinesDialogApi(read)
