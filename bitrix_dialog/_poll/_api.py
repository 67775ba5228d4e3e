"""``client.imbot.v2``: the typed ``imbot.v2`` methods, and ``events()`` to follow a bot.

    async with client.imbot.v2.events(bot_id=456, offsets=store) as events:
        async for event in events:
            ...

``events()`` is :class:`EventStream` over ``client.imbot.v2.event.get``; its offset and
lease are kept under ``"<portal host>:<bot id>"`` unless ``key`` names another.
"""

from __future__ import annotations

from .._methods._endpoint import BotCredentials, Read
from .._methods._namespaces import ImbotV2Api
from .._types import Random, Sleep
from ._offsets import MemoryOffsetStore, OffsetStore
from ._stream import DEFAULT_IDLE, EventStream

__all__ = ["ImbotV2EventsApi"]


class ImbotV2EventsApi(ImbotV2Api):
    """The ``imbot.v2.*`` methods (``chat.get``, ``event.get``) and :meth:`events`."""

    def __init__(
        self, read: Read, bot: BotCredentials, *, host: str, sleep: Sleep, random: Random
    ) -> None:
        super().__init__(read, bot)
        self._bot = bot
        self._host = host
        self._sleep = sleep
        self._random = random
        self._memory = MemoryOffsetStore()

    def events(
        self,
        *,
        bot_id: int | None = None,
        bot_token: str | None = None,
        offsets: OffsetStore | None = None,
        limit: int = 100,
        with_user_events: bool = False,
        idle: tuple[float, float] = DEFAULT_IDLE,
        key: str | None = None,
        random: Random | None = None,
    ) -> EventStream:
        """The events of fetch-mode bot ``bot_id`` (default: the client's bot), typed and
        confirmed as they are handled; see :class:`EventStream`.

        ``offsets`` keeps the offset reached and the single-consumer lease
        (``FileOffsetStore``, ``bitrix_dialog.redis.RedisOffsetStore``; default: in this
        client's memory). ``limit``: events per poll, 1-1000. ``with_user_events`` adds
        the calling user's ``ONIMV2*`` events. ``idle``: ``(min, max)`` seconds between
        polls while nothing comes. ``key``: what the offset is stored under (default
        ``"<portal host>:<bot id>"``). Arguments are checked here, before any request.
        """
        resolved_id, resolved_token = self._bot.resolve(bot_id, bot_token)
        params = self.event.get.params(
            bot_id=resolved_id, bot_token=resolved_token, limit=limit
        )  # checks bot_id, bot_token and limit now
        if key is None:
            key = f"{self._host}:{params['botId']}"
        elif not isinstance(key, str) or not key.strip():
            msg = f"key must be a non-empty str, not {key!r}"
            raise ValueError(msg)
        return EventStream(
            self.event.get,
            key=key,
            offsets=self._memory if offsets is None else offsets,
            limit=limit,
            with_user_events=with_user_events,
            idle=idle,
            sleep=self._sleep,
            random=self._random if random is None else random,
            fetch_kwargs={"bot_id": resolved_id, "bot_token": resolved_token},
        )
