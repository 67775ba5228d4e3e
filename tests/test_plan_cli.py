"""``bitrix-dialog --plan`` (#14): the command line paces by the plan it is told."""

from __future__ import annotations

import pytest

from bitrix_dialog import Plan
from bitrix_dialog.testing import FakePortal

from .test_cli import cli


@pytest.mark.parametrize(
    ("flags", "paced"),
    [
        ((), "paced as Standard: 50 requests, 2/s"),  # auto: a webhook cannot ask
        (("--plan", "auto"), "paced as Standard: 50 requests, 2/s"),
        (("--plan", "standard"), "paced as Standard: 50 requests, 2/s"),
        (("--plan", "enterprise"), "paced as Enterprise: 250 requests, 5/s"),
    ],
)
async def test_get_many_paces_by_the_plan_it_is_told(flags: tuple[str, ...], paced: str) -> None:
    portal = FakePortal(bucket=Plan.ENTERPRISE)
    portal.add_chat(1, name="Support")
    async with portal.serve() as base:
        run = await cli("get-many", "chat1", "--webhook", portal.webhook_url(base), *flags)
    assert run.status == 0, run.stderr
    assert paced in run.stderr
    assert not [call for call in portal.calls if call.method == "app.info"]


async def test_an_unknown_plan_is_a_usage_error() -> None:
    run = await cli(
        "get-many", "chat1", "--webhook", "https://x.example/rest/1/c/", "--plan", "vip"
    )
    assert run.status == 2
    assert "--plan" in run.stderr
