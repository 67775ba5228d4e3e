"""One row per measurement, printed as a table of ratios against same-run baselines."""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen(kw_only=True)
class Row:
    """A measured figure beside its baseline; ``ratio`` is what we judge."""

    benchmark: str
    case: str
    value: float
    baseline: float
    unit: str
    goal: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        return "meets goal" if self.ratio <= self.goal else "MISSES goal"


def render(rows: Iterable[Row]) -> str:
    """A plain-text table: benchmark, case, value, baseline, ratio, goal, verdict, note."""
    header = ("benchmark", "case", "value", "baseline", "ratio", "goal", "verdict", "note")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.benchmark,
                row.case,
                f"{row.value:.3f} {row.unit}",
                f"{row.baseline:.3f} {row.unit}",
                f"{row.ratio:.3f}x",
                f"<= {row.goal}x" if row.goal is not None else "",
                row.verdict,
                row.note,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)
