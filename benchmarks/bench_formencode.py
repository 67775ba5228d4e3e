"""Form parsing: ``parse_query`` of 8,000 keys against 1,000 of the same shape.

The event endpoint parses every post before it knows who sent it, so the parse must
cost time linear in the form: 8x the keys, 8x the time (a quadratic parse, as the
``a[]`` next-index search once was, is 64x). Three shapes, each timed at 1,000 keys
(the baseline, PHP's default ``max_input_vars``) and at 8,000 in the same run, the
two interleaved in rounds: ``a[]=x`` appends (what froze the server), ``a[b][]=x``
appends one level down, and 8,000 distinct names. CPU time (``time.process_time``),
median of the rounds. Goal: at most 10x (linear is 8x).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Final

from bitrix_dialog._wire._formencode import parse_query

from ._table import Row

GOAL: Final = 10.0
SMALL: Final = 1000
LARGE: Final = 8000
SHAPES: Final[dict[str, Callable[[int], str]]] = {
    "a[]=x appends": lambda n: "&".join(["a%5B%5D=x"] * n),
    "a[b][]=x appends": lambda n: "&".join(["a%5Bb%5D%5B%5D=x"] * n),
    "distinct names": lambda n: "&".join(f"k{i}=v" for i in range(n)),
}


def _seconds(query: str) -> float:
    started = time.process_time()
    parse_query(query, max_vars=None)
    return time.process_time() - started


def run(*, quick: bool = False) -> list[Row]:
    rounds = 5 if quick else 21
    rows: list[Row] = []
    for label, build in SHAPES.items():
        small, large = build(SMALL), build(LARGE)
        _seconds(small), _seconds(large)  # warm up
        samples: dict[str, list[float]] = {"small": [], "large": []}
        for index in range(rounds):
            order = ("small", "large") if index % 2 == 0 else ("large", "small")
            for name in order:
                samples[name].append(_seconds(small if name == "small" else large))
        rows.append(
            Row(
                benchmark="formencode",
                case=f"{label}: {LARGE:,} keys vs {SMALL:,}",
                value=statistics.median(samples["large"]) * 1e3,
                baseline=statistics.median(samples["small"]) * 1e3,
                unit="ms",
                goal=GOAL,
                note="parse_query; linear is 8x, quadratic 64x",
            )
        )
    return rows
