"""``bitrix-dialog get | get-many | demo``: the SDK's main job from a shell.

Output is JSON on stdout (``get``: one document; ``get-many``: one line per distinct
id, as results arrive); progress and the summary go to stderr. The webhook URL comes
from ``--webhook`` or ``BITRIX_WEBHOOK_URL`` and is never echoed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from .._bulk._input import DialogLookup
from .._client import Client
from .._decode._converter import dialog_to_json
from .._errors import BitrixError
from .._methods._dialog_id import DialogId
from .._pacing._plan import Plan
from ._args import (
    BOT_TOKEN_ENV,
    METHOD_CHOICES,
    USAGE_ERROR,
    UsageError,
    build_parser,
    webhook_from,
)
from ._demo import run_demo
from ._progress import ProgressBar

__all__ = ["main"]


def error_json(error: BitrixError) -> dict[str, Any]:
    """A typed error as JSON: class, code, description, status and method."""
    return {
        "type": type(error).__name__,
        "code": error.code,
        "description": error.description,
        "status": error.status,
        "method": error.method,
    }


def _dump(document: object, stream: TextIO, *, indent: int | None = None) -> None:
    stream.write(json.dumps(document, ensure_ascii=False, indent=indent) + "\n")
    stream.flush()


def _bot(args: argparse.Namespace) -> tuple[int | None, str | None]:
    """Bot credentials for imbot.v2 (flag, then environment); refused for other methods."""
    if not METHOD_CHOICES[args.method].acts_as_bot:
        if args.bot_id is not None or args.bot_token:
            msg = "--bot-id and --bot-token go with --method imbot.v2.chat.get"
            raise UsageError(msg)
        return None, None
    return args.bot_id, args.bot_token or os.environ.get(BOT_TOKEN_ENV) or None


def _client(args: argparse.Namespace) -> Client:
    bot_id, bot_token = _bot(args)
    try:
        return Client(
            webhook_from(args.webhook),
            limiter=Plan(args.plan),
            bot_id=bot_id,
            bot_token=bot_token,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


async def _get(args: argparse.Namespace) -> int:
    spec = METHOD_CHOICES[args.method]
    bot_id, bot_token = _bot(args)
    fixed = {"bot_id": bot_id, "bot_token": bot_token} if spec.acts_as_bot else {}
    lookup = DialogLookup(spec, fixed)
    try:
        params = lookup.params(DialogId.parse(args.dialog_id))
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    async with _client(args) as client:
        try:
            response = await client.call(spec.name, params)
            dialog = lookup.decode(response.result, response.body)
        except BitrixError as error:
            _dump({"id": args.dialog_id, "ok": False, "error": error_json(error)}, sys.stdout)
            print(f"bitrix-dialog: {args.dialog_id}: {error}", file=sys.stderr)
            return 1
    _dump(dialog_to_json(dialog), sys.stdout, indent=2)
    return 0


def _read_ids(args: argparse.Namespace, stdin: TextIO) -> Iterator[str]:
    sources: list[Iterator[str]] = []
    if args.file:
        try:
            handle = open(args.file, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            msg = f"cannot read --file {args.file}: {exc.strerror}"
            raise UsageError(msg) from None
        sources.append(_lines(handle))
    for value in args.ids:
        sources.append(_lines(stdin) if value == "-" else iter([value]))
    if not sources:
        msg = "get-many needs ids: as arguments, '-' for stdin, or --file"
        raise UsageError(msg)
    for source in sources:
        yield from source


def _lines(handle: TextIO) -> Iterator[str]:
    try:
        for line in handle:
            text = line.strip()
            if text and not text.startswith("#"):
                yield text
    finally:
        if handle is not sys.stdin:
            handle.close()


async def _get_many(args: argparse.Namespace) -> int:
    ids = list(_read_ids(args, sys.stdin))
    method = METHOD_CHOICES[args.method]
    ok = failed = 0
    async with _client(args) as client:
        plan = client.plan
        with ProgressBar(wanted=args.progress) as progress:
            async for dialog_id, outcome in client.dialogs.get_many(
                ids, method=method, progress=progress
            ):
                if isinstance(outcome, BitrixError):
                    failed += 1
                    line = {"id": str(dialog_id), "ok": False, "error": error_json(outcome)}
                else:
                    ok += 1
                    line = {"id": str(dialog_id), "ok": True, "dialog": dialog_to_json(outcome)}
                _dump(line, sys.stdout)
    print(
        f"bitrix-dialog: {ok + failed} distinct ids: {ok} found, {failed} failed "
        f"(paced as {plan.name.title()}: {plan.capacity} requests, {plan.drain_rate:g}/s)",
        file=sys.stderr,
    )
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 some ids failed, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"get": _get, "get-many": _get_many, "demo": run_demo}
    try:
        return asyncio.run(commands[args.command](args))
    except UsageError as exc:
        parser.exit(USAGE_ERROR, f"bitrix-dialog: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
