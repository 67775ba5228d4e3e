"""What one attempt sends: a :class:`Request`, given up front or built at slot-grant time.

The executor's attempt loop is the same for every caller; what differs is who decides
the request's contents, and when:

- a single call knows them from the start (``Executor.execute``);
- a batch chunk or a bulk chunk does too, and reads the answer its own way (each
  command's outcome, each nested method's operating budget): ``Executor.send`` with a
  :class:`Request` whose ``decode`` does that;
- a caller that wants to decide only once the request may go hands over a
  :data:`RequestSource` (``Executor.send_from``). The executor calls it after the
  attempt's operating turn and limiter slot are granted, right before asking the auth
  for credentials, so the source sees everything queued by then. This is the seam for
  coalescing single calls (issue #13): calls wait while the limiter is full, and when
  a slot frees the source fills one ``batch`` with every compatible call queued at that
  moment, or returns ``None`` when all its callers went away (nothing is sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeAlias, TypeVar

import attrs

from .._wire._envelope import RestResponse, Time

__all__ = ["Decode", "Learn", "Request", "RequestSource", "as_is"]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

Learn: TypeAlias = Callable[
    [Iterable[tuple[str, Time | None]], Iterable[str]], Mapping[str, float | None]
]
"""``learn(answered, refused) -> holds``: the operating tracker's ``learn``, for an answer
that bills several methods (a ``batch``): ``answered`` are the ``(method, time)`` of the
commands that ran, ``refused`` the methods refused with ``OPERATION_TIME_LIMIT``; the
result is each refused method's hold in seconds, to become its errors' ``resume_in``."""

Decode: TypeAlias = Callable[[RestResponse, Learn], _T]
"""Reads a request's decoded envelope into what its caller wants; called once per answer."""


@attrs.frozen(kw_only=True)
class Request(Generic[_T_co]):
    """The contents of one HTTP request and how to read its answer: for a batch chunk,
    ``Request(method="batch", params=encode_body(chunk, halt=False), decode=read_outcomes)``.
    """

    method: str
    """The REST method the request calls (``batch`` for a batch)."""
    params: Mapping[str, Any] = attrs.field(repr=False)
    """Its parameters, sent as the JSON body (the auth adds its own)."""
    decode: Callable[[RestResponse, Learn], _T_co] = attrs.field(repr=False)
    """Turns the answer's envelope into the request's result (see :data:`Decode`)."""
    callers: int = 1
    """How many callers wait on this request's answer (more than 1: coalesced calls);
    reported as the call events' ``coalesced_callers``."""


RequestSource: TypeAlias = Callable[[], "Request[_T] | None"]
"""Builds the request of an attempt once its slot is granted; ``None``: nothing to send.

Called once per attempt (a retried request is rebuilt, so a retry carries whatever is
queued by then); an auth recovery inside one attempt resends the request it built.
"""


def as_is(response: RestResponse, learn: Learn) -> RestResponse:
    """The :data:`Decode` of a single call: the envelope is the result."""
    return response
