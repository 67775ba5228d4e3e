"""Shared fixtures: a fake portal and clients talking to it in memory or over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bitrix_dialog import Backoff, Client, RetryPolicy
from bitrix_dialog.testing import FakePortal

# Retries as the client makes them, with millisecond backoff so error tests stay fast.
QUICK_RETRY = RetryPolicy(backoff=Backoff(base=0.001, cap=0.01))


@pytest.fixture
def portal() -> FakePortal:
    return FakePortal()


@pytest.fixture(params=["memory", "socket"])
async def client(request: pytest.FixtureRequest, portal: FakePortal) -> AsyncIterator[Client]:
    """A webhook client for ``portal``, once in memory and once over a real socket."""
    if request.param == "memory":
        async with Client(
            portal.webhook_url(), transport=portal.transport(), retry=QUICK_RETRY
        ) as client:
            yield client
    else:
        async with (
            portal.serve() as base_url,
            Client(portal.webhook_url(base_url), retry=QUICK_RETRY) as client,
        ):
            yield client
