"""Shared fixtures: a fake portal and clients talking to it in memory or over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bitrix_dialog import Client
from bitrix_dialog.testing import FakePortal


@pytest.fixture
def portal() -> FakePortal:
    return FakePortal()


@pytest.fixture(params=["memory", "socket"])
async def client(request: pytest.FixtureRequest, portal: FakePortal) -> AsyncIterator[Client]:
    """A webhook client for ``portal``, once in memory and once over a real socket."""
    if request.param == "memory":
        async with Client(portal.webhook_url(), transport=portal.transport()) as client:
            yield client
    else:
        async with portal.serve() as base_url, Client(portal.webhook_url(base_url)) as client:
            yield client
