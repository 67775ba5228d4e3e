"""A transport answering from a recording: the SDK's own CPU, with no socket or portal.

    replay = Replay(portal)           # a FakePortal answers each request the first time
    Client(url, transport=replay)     # ... and the same request again gets the same bytes

The first time a request (its URL path and body) is seen, the fake portal answers it and
the answer is kept; afterwards it is handed back as it is, so a warmed-up run spends its
CPU in the client alone (``misses`` counts the requests the portal had to answer). Each
answer comes one loop iteration later, as a socket's would: a request sent while a loop
iteration is still making calls is not answered within it.
"""

from __future__ import annotations

import asyncio

from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal

__all__ = ["Replay"]


class Replay:
    """Answers each request with the recorded answer to the same path and body."""

    def __init__(self, portal: FakePortal) -> None:
        self._portal = portal
        self._answers: dict[tuple[str, bytes], HttpResponse] = {}
        self.misses = 0
        """Requests not seen before, answered by the portal."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        key = (request.url.path, request.body)
        answer = self._answers.get(key)
        if answer is None:
            self.misses += 1
            answer = self._answers[key] = await self._portal.handle(request)
        await asyncio.sleep(0)
        return answer

    async def aclose(self) -> None:
        return None
