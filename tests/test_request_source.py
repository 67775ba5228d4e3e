"""The executor's seam for coalescing (#13): a request built once its slot is granted.

``Executor.send_from`` has no public caller yet; these tests pin the contract the
coalescer will rely on, through a fake portal in virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bitrix_dialog import LeakyBucket, RestResponse, RetryPolicy, WebhookAuth
from bitrix_dialog._call._executor import Executor
from bitrix_dialog._call._request import Learn, Request
from bitrix_dialog.testing import FakePortal, VirtualTimeLoop, run_in_virtual_time


def _executor(portal: FakePortal) -> Executor:
    return Executor(
        WebhookAuth(portal.webhook_url()),
        portal.transport(),
        limiter=LeakyBucket(1, 0.1),  # after one request, the next slot frees 10 s later
        retry=RetryPolicy(random=lambda: 0.0),  # retries without backoff
    )


def _ids(response: RestResponse, learn: Learn) -> list[int]:
    return [entry["id"] for entry in response.result["result"].values()]


def test_the_source_is_built_when_the_slot_frees_with_everything_queued_by_then() -> None:
    async def scenario() -> None:
        loop = VirtualTimeLoop.running()
        portal = FakePortal(clock=loop.wall)
        chats = [portal.add_chat() for _ in range(3)]
        executor = _executor(portal)
        await executor.execute("im.dialog.get", {"DIALOG_ID": chats[0].dialog_id})
        queued = [chats[0].dialog_id]
        built_at: list[float] = []

        def source() -> Request[list[int]]:
            built_at.append(loop.time())
            commands: Mapping[str, Any] = {
                f"q{n}": f"im.dialog.get?DIALOG_ID={dialog_id}"
                for n, dialog_id in enumerate(queued)
            }
            return Request(method="batch", params={"cmd": commands}, decode=_ids)

        async def more_callers() -> None:
            await asyncio.sleep(5)  # arrive while the request waits for its slot
            queued.extend(chat.dialog_id for chat in chats[1:])

        late = asyncio.ensure_future(more_callers())
        ids = await executor.send_from(
            source, method="batch", deadline=executor.start_deadline(), idempotent=True
        )
        await late
        assert built_at == [10.0]
        assert ids == [chat.id for chat in chats]
        assert [call.method for call in portal.calls] == ["im.dialog.get", "batch"]

    run_in_virtual_time(scenario())


def test_a_source_with_nothing_left_sends_nothing() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        executor = _executor(portal)

        def every_caller_left() -> Request[RestResponse] | None:
            return None

        result = await executor.send_from(
            every_caller_left, method="batch", deadline=executor.start_deadline(), idempotent=True
        )
        assert result is None
        assert portal.counters.received == 0

    run_in_virtual_time(scenario())


def test_a_retried_attempt_builds_its_request_again() -> None:
    async def scenario() -> None:
        portal = FakePortal(clock=VirtualTimeLoop.running().wall)
        chat = portal.add_chat()
        executor = _executor(portal)
        portal.fail_next("QUERY_LIMIT_EXCEEDED")
        builds = 0

        def source() -> Request[RestResponse]:
            nonlocal builds
            builds += 1
            return Request(
                method="im.dialog.get",
                params={"DIALOG_ID": chat.dialog_id},
                decode=lambda response, learn: response,
            )

        response = await executor.send_from(
            source, method="im.dialog.get", deadline=executor.start_deadline(), idempotent=True
        )
        assert response is not None
        assert response.result["id"] == chat.id
        assert builds == 2
        assert [call.status for call in portal.calls] == [503, 200]

    run_in_virtual_time(scenario())
