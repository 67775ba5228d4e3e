"""Decode: response bytes to a typed :class:`Dialog`, against ``json.loads`` of the same bytes.

For each payload generation (the official docs' examples in ``tests/fixtures/payloads``)
three things are timed in the same run, interleaved in rounds so that machine noise
hits them alike:

- ``json.loads(body)``: the baseline, what parsing the bytes costs at all;
- the path a user pays: ``decode_response`` (parsing, the envelope's error check and
  ``time`` block) and then the method's ``decode`` (what ``client.im.dialog.get`` runs);
- the model decode alone, from the already parsed ``result``.

The full path is measured twice: in this process, parsing with ``orjson`` (the
``speedups`` extra; skipped when it is not installed), and in a child process where
importing ``orjson`` fails, parsing with :mod:`json` (``python -m
benchmarks.bench_decode --child``). Each run has its own ``json.loads`` baseline.

Each figure is the median over rounds of CPU time per payload (``time.process_time``,
so time the process spends descheduled on a busy machine does not count), with the
garbage collector off during timing as ``timeit`` does. Goals (issue #12), for every
payload: at most 2.5x ``json.loads`` with ``orjson``, at most 3.5x without.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from bitrix_dialog._decode._json import PARSER
from bitrix_dialog._methods._namespaces import METHODS
from bitrix_dialog._wire._envelope import decode_response
from bitrix_dialog.abc import HttpResponse

from ._table import Row

GOALS: Final = {"orjson": 2.5, "json": 3.5}
ROOT: Final = Path(__file__).resolve().parent.parent
FIXTURES: Final = ROOT / "tests" / "fixtures" / "payloads"

# label -> (REST method, fixture file)
PAYLOADS: Final[dict[str, tuple[str, str]]] = {
    "legacy": ("im.dialog.get", "im.dialog.get__b24restdocs-en__legacy-2017.json"),
    "rich": ("im.dialog.get", "im.dialog.get__b24restdocs-en__rich-2026.json"),
    "open-lines": (
        "imopenlines.dialog.get",
        "imopenlines.dialog.get__b24restdocs-en__rich-2026.json",
    ),
    "v2": ("imbot.v2.Chat.get", "imbot.v2.Chat.get__b24restdocs-en__2026-current.json"),
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


def _medians(quick: bool) -> dict[str, dict[str, float]]:
    """Per payload label: median microseconds of ``json``, ``full`` and ``model``."""
    number, rounds = (200, 7) if quick else (2000, 25)
    figures: dict[str, dict[str, float]] = {}
    for label, (method, fixture) in PAYLOADS.items():
        body = (FIXTURES / fixture).read_bytes()
        medians = _measure(_cases(method, body), number, rounds)
        figures[label] = {name: seconds * 1e6 for name, seconds in medians.items()}
    return figures


def _without_orjson(quick: bool) -> dict[str, dict[str, float]]:
    code = (
        "import sys; sys.modules['orjson'] = None; "  # import orjson now raises ImportError
        "from benchmarks.bench_decode import main; main()"
    )
    argv = [sys.executable, "-c", code, "--child", *(["--quick"] if quick else [])]
    output = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    figures: dict[str, dict[str, float]] = json.loads(output)
    return figures


def _full_rows(figures: dict[str, dict[str, float]], parser: str) -> list[Row]:
    rows = []
    for label, (method, fixture) in PAYLOADS.items():
        size = (FIXTURES / fixture).stat().st_size
        rows.append(
            Row(
                benchmark="decode",
                case=f"{label}: bytes -> Dialog ({size} B), {parser}",
                value=figures[label]["full"],
                baseline=figures[label]["json"],
                unit="us",
                goal=GOALS[parser],
                note=f"{method}: decode_response + decode vs json.loads",
            )
        )
    return rows


def run(*, quick: bool = False) -> list[Row]:
    here = _medians(quick)
    rows = _full_rows(here, PARSER)
    if PARSER == "orjson":
        rows += _full_rows(_without_orjson(quick), "json")
    for label in PAYLOADS:
        rows.append(
            Row(
                benchmark="decode",
                case=f"{label}: model only",
                value=here[label]["model"],
                baseline=here[label]["json"],
                unit="us",
                note="decode of the parsed result vs json.loads",
            )
        )
    return rows


def main() -> None:
    """``--child``: print this process's medians as JSON (for the run without orjson)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child:
        if PARSER != "json":
            raise SystemExit("the child must run without orjson")
        print(json.dumps(_medians(args.quick)))


if __name__ == "__main__":
    main()
