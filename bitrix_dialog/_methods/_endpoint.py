"""A method spec bound to a client: what ``client.im.chat.get`` is.

    chat_id = await client.im.chat.get(entity_type="CRM", entity_id="DEAL|1663")

An :class:`Endpoint` checks the arguments with the spec's builder, then hands the spec
and the checked parameters to the client's :data:`Read` (the dialog cache if one is set,
then the coalescer, then the executor: limiter, retries, deadline and all), which
returns the spec's decoded result. Its call signature is the builder's, so type
checkers and IDEs see the method's real arguments. :attr:`Endpoint.spec` is the spec
itself, which is how ``client.dialogs.get_many(ids, method=client.imbot.v2.chat.get)``
knows what to send.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, ParamSpec, TypeAlias, TypeVar

import attrs

from . import _checks as check
from ._spec import MethodSpec, Params

__all__ = ["BotCredentials", "Endpoint", "Read"]

P = ParamSpec("P")
R = TypeVar("R")

Read: TypeAlias = Callable[[MethodSpec[..., Any], Params], Coroutine[Any, Any, Any]]
"""The client's typed read path: ``read(spec, params)`` is a coroutine that sends
``spec.name`` with the checked ``params`` (coalesced with concurrent lookups unless
turned off) and returns ``spec.decode`` of the answer, or raises the call's
``BitrixError``. Nothing runs until it is awaited (a closed client raises then)."""


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
            bot_id=None if bot_id is None else check.bot_id(bot_id),
            bot_token=None if bot_token is None else check.bot_token(bot_token),
        )

    def resolve(self, bot_id: int | None, bot_token: str | None) -> tuple[int | None, str | None]:
        """The bot for one call: the call's own ``bot_id`` wins; the client's token is
        used only for the client's bot, never sent on behalf of another one."""
        if bot_id is None:
            return self.bot_id, bot_token if bot_token is not None else self.bot_token
        if bot_token is None and bot_id == self.bot_id:
            return bot_id, self.bot_token
        return bot_id, bot_token

    def fill(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` of a bot method with ``bot_id``/``bot_token`` resolved (see
        :meth:`resolve`)."""
        bot_id, bot_token = self.resolve(kwargs.get("bot_id"), kwargs.get("bot_token"))
        return {**kwargs, "bot_id": bot_id, "bot_token": bot_token}


class Endpoint(Generic[P, R]):
    """A typed REST method on a client namespace; call it like the method it names."""

    def __init__(
        self, spec: MethodSpec[P, R], read: Read, bot: BotCredentials | None = None
    ) -> None:
        self.spec: MethodSpec[P, R] = spec
        """The method this calls (its name, parameter builder and result type)."""
        self._read = read
        self._bot = bot or BotCredentials()
        self.__doc__ = spec.build.__doc__
        # The arguments are the builder's; what comes back is the spec's result, not params.
        self.__signature__ = inspect.signature(spec.build).replace(
            return_annotation=inspect.Signature.empty
        )

    def params(self, *args: P.args, **kwargs: P.kwargs) -> Params:
        """The request parameters these arguments make, checked; for a bot method with
        the client's ``bot_id``/``bot_token`` filled in where the call gives none."""
        if self.spec.acts_as_bot:
            build: Callable[..., Params] = self.spec.build
            return build(*args, **self._bot.fill(kwargs))
        return self.spec.build(*args, **kwargs)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]:
        # The read's own coroutine, not one wrapping it: a burst of 1,000 awaits then
        # keeps 1,000 fewer coroutines (and their argument tuples) alive. Bad arguments
        # still raise where the call is awaited, as from any coroutine.
        try:
            if self.spec.acts_as_bot:
                params = self.params(*args, **kwargs)
            else:  # what params() does for the other methods, one call fewer
                params = self.spec.build(*args, **kwargs)
        except Exception as error:  # re-raised, unchanged, where the call is awaited
            return _raising(error)
        read: Coroutine[Any, Any, R] = self._read(self.spec, params)
        return read

    def __repr__(self) -> str:
        return f"<typed method {self.spec.name}>"


async def _raising(error: Exception) -> Any:
    """A coroutine that raises ``error`` when awaited (an argument check that failed)."""
    raise error
