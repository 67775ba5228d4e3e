"""Every Python block in ``docs/`` and the README runs, so the examples cannot rot.

The blocks of one page run in order in one namespace, as in a REPL session, so a page
can build on its earlier blocks. Top-level ``await`` works. Requests to the docs'
example portal (``https://example.bitrix24.com``, webhook code ``WEBHOOK_CODE``) and to
the Bitrix24 authorization server go to an in-memory :class:`FakePortal` seeded by
:func:`docs_portal`; any other host (``127.0.0.1`` of a served fake) goes over a real
socket. A ```` ```text ```` block right after a Python block is what that block prints,
and is compared. A block that needs what no test has (a real portal, a database) says so in its
title: ```` ```python title="... (not run by the docs tests)" ````, and only those are
skipped.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import os
import pathlib
import re
import textwrap

import attrs
import pytest
from yarl import URL

from bitrix_dialog import AiohttpTransport
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakePortal, redis_server_path

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = [DOCS.parent / "README.md", *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```python(?P<info>[^\n]*)\n(?P<code>.*?)^(?P=indent)```[ ]*$",
    re.MULTILINE | re.DOTALL,
)
OUTPUT = re.compile(r"\s*```text\n(?P<output>.*?)^```[ ]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = "(not run by the docs tests)"
DOCS_HOSTS = {"example.bitrix24.com", "oauth.bitrix.info", "oauth.bitrix24.tech"}


@attrs.frozen
class Block:
    page: str
    line: int
    code: str
    run: bool
    output: str | None
    """A ```` ```text ```` block right after this one: what the block must print."""


def blocks(page: pathlib.Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        code = textwrap.dedent(
            "\n".join(row.removeprefix(match["indent"]) for row in match["code"].splitlines())
        )
        shown = OUTPUT.match(text, match.end())
        output = shown["output"] if shown else None
        found.append(Block(page.name, line, code, NOT_RUN not in match["info"], output))
    return found


def docs_portal() -> FakePortal:
    """The docs' portal: chats 1-40 (``chat29`` is "Support"), a private dialog with user 256,
    an open line (session 1743) and bot 456 (token ``my_bot_token``) in every chat."""
    portal = FakePortal(domain="example.bitrix24.com")
    portal.add_webhook(1, code="WEBHOOK_CODE")
    for number in range(1, 41):
        name = "Support" if number == 29 else f"Chat {number}"
        portal.add_chat(name=name, members=frozenset({1, 7, 256}))
    portal.add_chat(name="Anna", message_type="P", type="private", members=frozenset({1, 256}))
    portal.add_openline_chat("livechat|1|1373|211", session_ids=(1743,), operator_id=1)
    portal.add_bot(456, token="my_bot_token", chats=tuple(range(1, 41)))
    return portal


def route_docs_hosts(portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``AiohttpTransport`` (what a ``Client`` made without a transport sends with)
    reaches the docs' example hosts in memory; anything else (a served fake) over a socket."""
    memory = portal.transport()
    network = AiohttpTransport.send

    async def send(self: AiohttpTransport, request: HttpRequest) -> HttpResponse:
        if URL(request.url).host in DOCS_HOSTS:
            return await memory.send(request)
        return await network(self, request)

    monkeypatch.setattr(AiohttpTransport, "send", send)


def test_the_docs_have_python_blocks_and_few_are_not_run() -> None:
    every = [block for page in PAGES for block in blocks(page)]
    skipped = [f"{block.page}:{block.line}" for block in every if not block.run]
    assert len(every) > 40
    assert len(skipped) <= len(every) // 8, skipped


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS.parent)))
def test_every_python_block_of_the_page_runs(
    page: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "run_redis_server()" in page.read_text(encoding="utf-8") and redis_server_path() is None:
        reason = f"{page.name} starts a redis-server, and none is installed"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every docs page, but {reason}", pytrace=False)
        pytest.skip(reason)
    portal = docs_portal()
    route_docs_hosts(portal, monkeypatch)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    loop = asyncio.new_event_loop()
    try:
        for block in blocks(page):
            if not block.run:
                continue
            code = compile(
                block.code,
                f"{page.relative_to(DOCS.parent)}:{block.line}",
                "exec",
                flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            )
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                result = eval(code, namespace)
                if asyncio.iscoroutine(result):
                    loop.run_until_complete(result)
            if block.output is not None:
                assert printed.getvalue() == block.output, f"{page.name}:{block.line}"
        namespace.clear()
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
