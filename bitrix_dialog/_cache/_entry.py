"""What the dialog cache holds for one lookup: a value, or a refusal kept for a short while.

A :class:`CacheEntry` is what a backend stores and gives back. A positive entry holds the
decoded value itself (a frozen ``Dialog``, or the ``int`` chat id of ``im.chat.get``),
which is safe to hand to every caller. A negative entry holds only what a caller would
read off the error (class by its code, description, HTTP status, method) and builds a
new exception at each hit, so no two callers ever share one exception (and its
traceback). An answer of ``None`` ("no chat is linked to that entity") is negative too:
such a chat may be created a second later.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

from .._errors import AccessDeniedError, BitrixError, NotFoundError, error_for
from .._models import Dialog

__all__ = ["NEGATIVE_ERRORS", "CacheEntry", "is_negative"]

NEGATIVE_ERRORS: Final[tuple[type[BitrixError], ...]] = (NotFoundError, AccessDeniedError)
"""The refusals a negative TTL may keep: "no such object" (``CHAT_NOT_FOUND``,
``BOT_NOT_FOUND``) and ``ACCESS_ERROR``-like denials, which is how the classic dialog
methods answer a dialog that does not exist. Nothing else is ever cached: not auth
failures, rate limits, server or transport errors, nor answers that did not decode."""

Kind = Literal["dialog", "int", "none", "error"]


def is_negative(error: BaseException) -> bool:
    """Whether ``error`` is a refusal a negative TTL may keep (see :data:`NEGATIVE_ERRORS`)."""
    return isinstance(error, NEGATIVE_ERRORS)


@attrs.frozen(kw_only=True)
class CacheEntry:
    """One cached outcome: ``value`` for an answer, the error's fields for a refusal."""

    kind: Kind
    value: Dialog | int | None = None
    code: str = ""
    description: str = ""
    status: int | None = None
    method: str | None = None
    error_type: type[BitrixError] | None = None
    """The refusal's class when known (in memory); else the class its ``code`` maps to."""

    @classmethod
    def answer(cls, value: object) -> CacheEntry:
        """The entry of a successful lookup; ``TypeError`` for a value it cannot hold."""
        if value is None:
            return cls(kind="none")
        if isinstance(value, Dialog):
            return cls(kind="dialog", value=value)
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(kind="int", value=value)
        msg = f"the dialog cache holds dialogs and chat ids, not {type(value).__name__}"
        raise TypeError(msg)

    @classmethod
    def refusal(cls, error: BitrixError) -> CacheEntry:
        return cls(
            kind="error",
            code=error.code,
            description=error.description,
            status=error.status,
            method=error.method,
            error_type=type(error),
        )

    @property
    def negative(self) -> bool:
        """A refusal or a ``None`` answer: kept only for the negative TTL."""
        return self.kind in ("none", "error")

    def outcome(self) -> Any:
        """The value, or raise a new exception equal in class and fields to the refusal."""
        if self.kind != "error":
            return self.value
        if self.error_type is None:
            raise error_for(self.code, self.description, status=self.status, method=self.method)
        raise self.error_type(
            self.description, code=self.code, status=self.status, method=self.method
        )
