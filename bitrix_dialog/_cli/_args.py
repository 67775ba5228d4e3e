"""Argument parsing for ``bitrix-dialog``: one place that knows every flag.

Exit statuses: 0 when everything succeeded, 1 when some ids failed, 2 for usage
errors (bad flags, a missing webhook, an invalid id for ``get``).
"""

from __future__ import annotations

import argparse
import os
from typing import Final

from .._methods._dialogs import (
    IM_DIALOG_GET,
    IMBOT_DIALOG_GET,
    IMBOT_V2_CHAT_GET,
    IMOPENLINES_DIALOG_GET,
)
from .._methods._spec import MethodSpec
from .._models import Dialog
from .._pacing._plan import Plan
from .._wire._redact import redact_url

__all__ = ["METHOD_CHOICES", "USAGE_ERROR", "UsageError", "build_parser", "webhook_from"]

USAGE_ERROR: Final = 2
WEBHOOK_ENV: Final = "BITRIX_WEBHOOK_URL"
BOT_TOKEN_ENV: Final = "BITRIX_BOT_TOKEN"

# The CLI spells the v2 method in lower case, as the issue and shells like it; the SDK
# sends the documented case.
METHOD_CHOICES: Final[dict[str, MethodSpec[..., Dialog]]] = {
    "im.dialog.get": IM_DIALOG_GET,
    "imbot.dialog.get": IMBOT_DIALOG_GET,
    "imopenlines.dialog.get": IMOPENLINES_DIALOG_GET,
    "imbot.v2.chat.get": IMBOT_V2_CHAT_GET,
}


class UsageError(Exception):
    """A mistake in how the command was called; printed without a traceback, exit 2."""


def _add_method_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        choices=list(METHOD_CHOICES),
        default="im.dialog.get",
        help="the REST method to look dialogs up with (default: im.dialog.get)",
    )
    parser.add_argument(
        "--webhook",
        metavar="URL",
        help=f"incoming webhook URL https://PORTAL/rest/USER_ID/CODE/ (default: ${WEBHOOK_ENV})",
    )
    parser.add_argument(
        "--plan",
        choices=[plan.value for plan in Plan],
        default=Plan.AUTO.value,
        help=(
            "the portal's plan, which sizes the request bucket: standard (50, 2/s), "
            "enterprise (250, 5/s), or auto (default; a webhook cannot ask the portal, "
            "so auto paces as standard)"
        ),
    )
    parser.add_argument("--bot-id", type=int, help="bot id, for imbot.v2.chat.get")
    parser.add_argument(
        "--bot-token",
        help=f"bot token for imbot.v2.chat.get over a webhook (default: ${BOT_TOKEN_ENV})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bitrix-dialog",
        description="Look Bitrix24 dialogs up, one or thousands, as JSON.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    get = commands.add_parser("get", help="print one dialog as JSON")
    get.add_argument("dialog_id", help="chatNNN, sgNNN, crmNNN or a user id")
    _add_method_options(get)

    many = commands.add_parser(
        "get-many", help="look many dialogs up; one JSON line per distinct id"
    )
    many.add_argument(
        "ids",
        nargs="*",
        help="dialog ids; '-' reads ids from stdin, one per line",
    )
    many.add_argument("--file", "-f", help="read ids from this file, one per line")
    _add_method_options(many)
    _add_progress_options(many)

    demo = commands.add_parser(
        "demo",
        help="run a bulk lookup against an embedded fake portal on 127.0.0.1",
    )
    demo.add_argument("--dialogs", type=int, default=3000, help="dialogs to seed (3000)")
    demo.add_argument(
        "--capacity", type=int, default=50, help="the fake portal's bucket capacity (50)"
    )
    demo.add_argument(
        "--drain-rate",
        type=float,
        default=2.0,
        help="the fake portal's bucket drain rate per second (2, as most plans)",
    )
    _add_progress_options(demo)
    return parser


def _add_progress_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr even when it is not a terminal",
    )
    group.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress"
    )


def webhook_from(value: str | None) -> str:
    """The webhook URL from ``--webhook`` or the environment, or a usage error."""
    url = value or os.environ.get(WEBHOOK_ENV, "")
    if not url:
        msg = f"no webhook: pass --webhook URL or set {WEBHOOK_ENV}"
        raise UsageError(msg)
    return url


def describe_url(url: str) -> str:
    """A webhook URL fit to print: the code masked."""
    return redact_url(url)
