"""Decode: response bytes to a typed :class:`Dialog`, against ``json.loads`` of the same bytes.

For each payload generation (the official docs' examples in ``tests/fixtures/payloads``)
three things are timed in the same run, interleaved in rounds so that machine noise
hits them alike:

- ``json.loads(body)``: the baseline, what parsing the bytes costs at all;
- the path a user pays: ``decode_response`` (the envelope: error check, ``time`` block)
  and then the method's ``decode`` (what ``client.im.dialog.get`` runs);
- the model decode alone, from the already parsed ``result``.

Each figure is the median over rounds of CPU time per payload (``time.process_time``,
so time the process spends descheduled on a busy machine does not count), with the
garbage collector off during timing as ``timeit`` does. Goal: the rich payload's full
path at most 2.5x ``json.loads``.
"""

from __future__ import annotations

import json
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from bitrix_dialog._methods._namespaces import METHODS
from bitrix_dialog._wire._envelope import decode_response
from bitrix_dialog.abc import HttpResponse

from ._table import Row

GOAL: Final = 2.5
FIXTURES: Final = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "payloads"

# label -> (REST method, fixture file, goal); the goal applies to the full path.
PAYLOADS: Final[dict[str, tuple[str, str, float | None]]] = {
    "legacy": ("im.dialog.get", "im.dialog.get__b24restdocs-en__legacy-2017.json", None),
    "rich": ("im.dialog.get", "im.dialog.get__b24restdocs-en__rich-2026.json", GOAL),
    "open-lines": (
        "imopenlines.dialog.get",
        "imopenlines.dialog.get__b24restdocs-en__rich-2026.json",
        None,
    ),
    "v2": ("imbot.v2.Chat.get", "imbot.v2.Chat.get__b24restdocs-en__2026-current.json", None),
}


def _cases(method: str, body: bytes) -> dict[str, Callable[[], object]]:
    spec = METHODS[method]
    response = HttpResponse(status=200, headers={"Content-Type": "application/json"}, body=body)
    parsed: Any = json.loads(body)["result"]

    def full() -> object:
        decoded = decode_response(response, method)
        return spec.decode(decoded.result, decoded.body)

    def model() -> object:
        return spec.decode(parsed)

    def baseline() -> object:
        return json.loads(body)

    full()  # a payload that does not decode fails here, not in the table
    return {"json": baseline, "full": full, "model": model}


def _measure(cases: dict[str, Callable[[], object]], number: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each case; the order rotates every round."""
    timers = {name: timeit.Timer(case, timer=time.process_time) for name, case in cases.items()}
    for timer in timers.values():
        timer.timeit(number)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timers[name].timeit(number) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(*, quick: bool = False) -> list[Row]:
    number, rounds = (200, 7) if quick else (2000, 25)
    rows: list[Row] = []
    for label, (method, fixture, goal) in PAYLOADS.items():
        body = (FIXTURES / fixture).read_bytes()
        medians = _measure(_cases(method, body), number, rounds)
        baseline = medians["json"] * 1e6
        rows.append(
            Row(
                benchmark="decode",
                case=f"{label}: bytes -> Dialog ({len(body)} B)",
                value=medians["full"] * 1e6,
                baseline=baseline,
                unit="us",
                goal=goal,
                note=f"{method}: decode_response + decode vs json.loads",
            )
        )
        rows.append(
            Row(
                benchmark="decode",
                case=f"{label}: model only",
                value=medians["model"] * 1e6,
                baseline=baseline,
                unit="us",
                note="decode of the parsed result vs json.loads",
            )
        )
    return rows
