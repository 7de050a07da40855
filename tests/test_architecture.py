"""The tree keeps its shape: no part imports another part's private modules, no module
grows past 600 lines (the layer contracts themselves run as ``lint-imports`` in CI)."""

from __future__ import annotations

import ast
from pathlib import Path

import bayescount

PACKAGE = Path(bayescount.__file__).parent
MAX_LINES = 600


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def imported(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
    return out


def test_no_part_imports_a_private_module_of_another_part():
    offenders = []
    for path in modules():
        for name in imported(path):
            parts = name.split(".")
            if parts[0] != "bayescount" or len(parts) < 3:
                continue
            private = any(p.startswith("_") for p in parts[2:])
            if private and parts[1] != part_of(path):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders


def test_no_module_is_longer_than_600_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_test_modules_have_unique_basenames():
    # tests/ has no __init__.py files: pytest imports test modules by basename, so two
    # test_x.py files in different folders fail collection on a clean checkout
    from collections import Counter

    tests = Path(__file__).resolve().parent
    names = Counter(p.name for p in tests.rglob("test_*.py"))
    assert not [n for n, k in names.items() if k > 1]
