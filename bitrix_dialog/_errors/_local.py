"""Failures on the SDK's side of the wire: the lower branches of the tree in :mod:`._classes`.

Nothing here is an error code the portal chose to answer with. These say that no
answer came (``TransportError``, a timeout, the call's own deadline), that an answer
could not be read (``ResponseDecodeError``, ``ModelDecodeError``, a ``batch`` answer
missing a command), that a command never ran (``BatchNotExecutedError``), or that a
store or shared limiter the SDK relies on failed before anything was sent.
"""

from __future__ import annotations

from ._base import BitrixError

__all__ = [
    "BatchNotExecutedError",
    "BatchResultMissingError",
    "DeadlineExceededError",
    "LimiterUnavailableError",
    "ModelDecodeError",
    "OffsetStoreError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "TokenConflictError",
    "TokenStoreError",
    "TransportError",
]


class TokenStoreError(BitrixError):
    """The token store failed to load, lock or save a token pair.

    Raised by ``OAuthAuth`` around your store's own exception (kept as
    ``__cause__``). Whatever failed, the pair in use stays as it was, in memory and
    in the store: a refreshed pair that could not be saved is never used, and is
    saved again before the next call goes out.
    """

    default_code = "TOKEN_STORE_ERROR"


class TokenConflictError(TokenStoreError):
    """``TokenStore.save(token, replaces=old)`` found a different pair stored.

    Another worker replaced ``old`` first; the stored pair is the newer one and is
    kept. Stores raise it; ``OAuthAuth`` handles it by adopting the stored pair.
    """

    default_code = "TOKEN_CONFLICT"


class OffsetStoreError(BitrixError):
    """A fetch-mode bot's offset store failed to load or save an offset, or to take or
    keep the polling lease (its Redis or its disk is unreachable).

    Stores raise it (``RedisOffsetStore``, ``FileOffsetStore``; your own store should
    too, for a failure that may pass) around the cause, kept as ``__cause__``. An event
    stream or ``EventPoller`` logs it and tries again after an idle wait, confirming
    nothing meanwhile: no event is lost, at most the unconfirmed page comes again.
    """

    default_code = "OFFSET_STORE_ERROR"


class LimiterUnavailableError(BitrixError):
    """A shared rate limiter could not be asked for a slot (its Redis is unreachable).

    Raised before the request is sent, so nothing went to the portal: a worker
    that cannot see the shared bucket does not guess. Never retried. To keep going
    on a local share of the budget instead, give the limiter a ``fallback``.
    """

    default_code = "LIMITER_UNAVAILABLE"


class TransportError(BitrixError):
    """No HTTP answer was received: connection refused or dropped, DNS, TLS."""

    default_code = "TRANSPORT_ERROR"


class RequestTimeoutError(TransportError, TimeoutError):
    """The answer did not arrive within the request timeout or the call's deadline.

    Also the builtin ``TimeoutError``, so ``except TimeoutError`` catches it too.
    """

    default_code = "TIMEOUT"


class DeadlineExceededError(RequestTimeoutError):
    """The call's overall deadline ran out (waiting for the limiter, backing off, or in a request).

    Raised as soon as a wait could not end in time, not after sleeping through it;
    ``__cause__`` is the last error the call met, if any. Never retried.
    """

    default_code = "DEADLINE_EXCEEDED"


class ResponseDecodeError(BitrixError):
    """The answer is not a Bitrix24 envelope (not JSON, or neither ``result`` nor ``error``).

    ``status`` and ``body`` keep what arrived; ``body_preview`` shows its first bytes.
    """

    default_code = "RESPONSE_DECODE_ERROR"

    def _message(self) -> str:
        base = super()._message()
        preview = self.body_preview[:120]
        return f"{base}; body starts {preview!r}" if preview else base


class ResponseTooLargeError(ResponseDecodeError):
    """The answer is longer than the transport's ``max_body`` (default 16 MiB).

    Reading stopped there, so ``body`` is empty; ``limit`` is the cap in bytes. Never
    retried: the portal would send the same again.
    """

    default_code = "RESPONSE_TOO_LARGE"

    def __init__(self, description: str = "", *, limit: int = 0, **kwargs: object) -> None:
        self.limit = limit
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class BatchResultMissingError(ResponseDecodeError):
    """A batch answer has no outcome at all for one command (in no section of it).

    The portal skips nothing it ran, so this marks a malformed or truncated answer;
    ``body`` keeps the batch's ``result`` as received so nothing is lost.
    """

    default_code = "BATCH_RESULT_MISSING"


class BatchNotExecutedError(BitrixError):
    """A batch command that never ran, reported instead of being left out.

    With ``halt=True`` the portal stops at the first failing command; every command
    after it (in that request and in the requests after it) gets this error.
    ``halted_by`` names the command whose failure stopped the batch, or is ``None``
    when an earlier batch *request* failed as a whole; ``cause`` is that failure.
    Sending the command again is safe: the portal never saw it.
    """

    default_code = "BATCH_NOT_EXECUTED"

    def __init__(
        self,
        description: str = "",
        *,
        halted_by: str | None = None,
        cause: BitrixError | None = None,
        **kwargs: object,
    ) -> None:
        self.halted_by = halted_by
        self.cause = cause
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class ModelDecodeError(BitrixError):
    """The result does not fit the typed model: ``path`` names the failing field.

    ``payload`` is the decoded JSON that failed, ``body`` the raw bytes when known.
    """

    default_code = "MODEL_DECODE_ERROR"

    def __init__(
        self,
        description: str = "",
        *,
        path: str = "",
        payload: object = None,
        **kwargs: object,
    ) -> None:
        self.path = path
        self.payload = payload
        super().__init__(description, **kwargs)  # type: ignore[arg-type]
