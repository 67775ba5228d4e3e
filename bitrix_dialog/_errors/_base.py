"""The root of the error tree: what every failure carries (code, status, method, body)."""

from __future__ import annotations

from typing import ClassVar, Final

__all__ = ["BitrixError"]

_BODY_PREVIEW: Final = 512


class BitrixError(Exception):
    """Base of every error the SDK raises for a failed REST call.

    ``code`` is the portal's ``error`` string exactly as sent (it may be ``""``),
    ``description`` its ``error_description``, ``status`` the HTTP status (``None``
    when no HTTP answer came), ``method`` the REST method, and ``body`` the raw
    answer bytes, kept so nothing the portal said is lost.
    """

    default_code: ClassVar[str] = ""

    def __init__(
        self,
        description: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        method: str | None = None,
        body: bytes | None = None,
    ) -> None:
        self.code: str = self.default_code if code is None else code
        self.description = description
        self.status = status
        self.method = method
        self.body = body
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.method:
            parts.append(self.method)
        if self.code:
            parts.append(self.code)
        text = ": ".join(parts)
        if self.description:
            text = f"{text}: {self.description}" if text else self.description
        if self.status is not None:
            text = f"{text} (HTTP {self.status})"
        return text or type(self).__name__

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, description={self.description!r}, "
            f"status={self.status!r}, method={self.method!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor: teach pickle (multiprocessing workers) to rebuild it.
        return (_rebuild, (type(self), self.description, dict(self.__dict__)))

    @property
    def body_preview(self) -> str:
        """The first bytes of the raw answer, decoded leniently, for logs and messages."""
        if not self.body:
            return ""
        return self.body[:_BODY_PREVIEW].decode("utf-8", "replace")


def _rebuild(cls: type[BitrixError], description: str, state: dict[str, object]) -> BitrixError:
    error = cls.__new__(cls)
    Exception.__init__(error, description)
    error.__dict__.update(state)
    error.args = (error._message(),)
    return error
