"""The ``bitrix-dialog`` command line, driven as a subprocess against a served fake portal."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import attrs
import pytest

from bitrix_dialog.testing import FakePortal

ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen
class Run:
    status: int
    stdout: str
    stderr: str

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


async def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BITRIX_")}
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bitrix_dialog",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


@pytest.fixture
def seeded() -> FakePortal:
    portal = FakePortal()
    portal.add_chat(1, name="Support")
    portal.add_chat(2, name="Sales", owner=7)
    portal.add_chat(3, name="Board", members=frozenset({99}))
    return portal


async def test_get_prints_the_typed_dialog(seeded: FakePortal) -> None:
    async with seeded.serve() as base:
        run = await cli("get", "chat2", "--webhook", seeded.webhook_url(base))
    assert run.status == 0, run.stderr
    dialog = json.loads(run.stdout)
    assert dialog["id"] == 2
    assert dialog["name"] == "Sales"
    assert dialog["owner"] == 7
    assert seeded.webhook_code not in run.stdout + run.stderr


async def test_get_takes_the_webhook_from_the_environment(seeded: FakePortal) -> None:
    async with seeded.serve() as base:
        run = await cli(
            "get", "chat1", "--method", "imbot.dialog.get",
            env={"BITRIX_WEBHOOK_URL": seeded.webhook_url(base)},
        )  # fmt: skip
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout)["name"] == "Support"
    assert seeded.calls[-1].method == "imbot.dialog.get"


async def test_get_a_forbidden_dialog_exits_1_with_the_error(seeded: FakePortal) -> None:
    async with seeded.serve() as base:
        run = await cli("get", "chat3", "--webhook", seeded.webhook_url(base))
    assert run.status == 1
    (line,) = run.lines()
    assert line["ok"] is False
    assert isinstance(line["error"], dict)
    assert line["error"]["code"] == "ACCESS_ERROR"
    assert seeded.webhook_code not in run.stdout + run.stderr


async def test_get_v2_with_bot_credentials(seeded: FakePortal) -> None:
    seeded.add_bot(456, token="bot-secret", chats=(1,))
    async with seeded.serve() as base:
        run = await cli(
            "get", "chat1", "--method", "imbot.v2.chat.get", "--bot-id", "456",
            "--webhook", seeded.webhook_url(base), env={"BITRIX_BOT_TOKEN": "bot-secret"},
        )  # fmt: skip
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout)["name"] == "Support"
    assert seeded.calls[-1].method == "imbot.v2.Chat.get"
    assert "bot-secret" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("get", "chatx", "--webhook", "https://p.example.com/rest/1/code/"), "chatx"),
        (("get", "chat1"), "BITRIX_WEBHOOK_URL"),
        (("get", "chat1", "--webhook", "http://p.example.com/rest/1/code/"), "https"),
        (("get", "chat1", "--bot-id", "4", "--webhook", "https://p.example.com/rest/1/c/"), "bot"),
        (("get-many", "--webhook", "https://p.example.com/rest/1/code/"), "needs ids"),
        (("frobnicate",), "invalid choice"),
    ],
)
async def test_usage_errors_exit_2(args: tuple[str, ...], fragment: str) -> None:
    run = await cli(*args)
    assert run.status == 2
    assert fragment in run.stderr
    assert run.stdout == ""


async def test_get_many_streams_one_line_per_distinct_id(seeded: FakePortal) -> None:
    async with seeded.serve() as base:
        run = await cli(
            "get-many", "chat1", "-", "--webhook", seeded.webhook_url(base),
            stdin="chat2\n\nchat3\nchat1\nCHAT2\n",
        )  # fmt: skip
    assert run.status == 1, run.stderr
    lines = {str(line["id"]): line for line in run.lines()}
    assert sorted(lines) == ["chat1", "chat2", "chat3"]
    assert lines["chat1"]["ok"] is True
    assert isinstance(lines["chat2"]["dialog"], dict)
    assert lines["chat2"]["dialog"]["name"] == "Sales"
    assert lines["chat3"]["ok"] is False
    assert isinstance(lines["chat3"]["error"], dict)
    assert lines["chat3"]["error"]["code"] == "ACCESS_ERROR"
    assert "3 distinct ids: 2 found, 1 failed" in run.stderr
    assert seeded.webhook_code not in run.stdout + run.stderr


async def test_get_many_from_a_file_all_found_exits_0(seeded: FakePortal, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# my dialogs\nchat1\nchat2\n", encoding="utf-8")
    async with seeded.serve() as base:
        run = await cli("get-many", "--file", str(ids), "--webhook", seeded.webhook_url(base))
    assert run.status == 0, run.stderr
    assert [line["id"] for line in sorted(run.lines(), key=lambda x: str(x["id"]))] == [
        "chat1",
        "chat2",
    ]


async def test_demo_prints_its_summary() -> None:
    run = await cli(
        "demo", "--dialogs", "400", "--capacity", "3", "--drain-rate", "40", "--progress"
    )
    assert run.status == 0, run.stderr
    summary = run.stdout
    assert "ids given:           440 (400 distinct)" in summary
    assert "dialogs found:       396" in summary
    assert "AccessDeniedError" in summary
    assert "physical minimum:" in summary
    assert "ratio to minimum:" in summary
    assert "503s from portal:" in summary
