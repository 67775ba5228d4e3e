"""Run the benchmarks and print a table of ratios: ``python -m benchmarks [--quick] [NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from datetime import UTC, datetime

from ._table import Row, render

BENCHMARKS = ("decode", "formencode", "overhead", "bulk", "service", "memory", "workers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    rows: list[Row] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run(quick=args.quick))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"bitrix_dialog benchmarks, {stamp}, Python {platform.python_version()}, "
        f"{platform.machine()}, {platform.system()}"
    )
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
