"""The package's layers import only downwards, so the call flow reads top to bottom.

A module may import from its own layer or any layer listed before it. Moving a module or
adding an import that reaches back up the flow fails here, naming the offending line.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "bitrix_dialog"

# Lowest first. Each entry is a top-level name inside the package.
LAYERS: list[set[str]] = [
    {"_types", "_errors", "_deadline", "_public", "_cancel"},
    {"_models"},
    {"_decode"},
    {"_wire"},
    {"_transports"},
    {"_auth"},
    {"_events"},
    {"_pacing"},
    {"_call"},
    {"_methods"},
    {"_batch"},
    {"_coalesce"},
    {"_cache"},
    {"_bulk"},
    {"_poll"},
    {"_client"},
    {"__init__", "__main__", "_cli", "abc", "aiohttp", "redis", "testing", "otel"},
]


def _layer_of(top: str) -> int:
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    msg = f"bitrix_dialog.{top} is in no layer: add it to LAYERS in {__file__}"
    raise AssertionError(msg)


def _top(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imported_tops(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel_parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    here = rel_parts[:-1]  # the package that relative imports start from
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else list(here)
                target = base + (node.module.split(".") if node.module else [])
                if not target:
                    target = [alias.name for alias in node.names][:1]
            elif node.module and node.module.startswith("bitrix_dialog."):
                target = node.module.split(".")[1:]
            else:
                continue
            found.append((node.lineno, target[0]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bitrix_dialog."):
                    found.append((node.lineno, alias.name.split(".")[1]))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_its_own_or_lower_layers(path: pathlib.Path) -> None:
    mine = _layer_of(_top(path))
    upward = [
        f"line {line}: imports bitrix_dialog.{top}"
        for line, top in _imported_tops(path)
        if _layer_of(top) > mine
    ]
    assert not upward, f"{path.relative_to(PACKAGE)} reaches up the flow: {upward}"


def test_few_modules_stay_at_the_package_root() -> None:
    root_modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root_modules) <= 12, root_modules
