"""Every error bayescount raises on purpose is one of its own (``bayescount.exceptions``).

Walks the package's syntax trees and fails on ``raise`` of a builtin exception type,
so an error a user meets can always be caught with ``except BayescountError``.
Allowed: ``NotImplementedError`` (an abstract method), ``AttributeError`` in a module
``__getattr__`` (the import protocol needs it), ``KeyboardInterrupt`` from the
signal handler of :mod:`bayescount.inference.interrupt`, and re-raising a caught error.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import bayescount
from bayescount.exceptions import BayescountError, BayescountWarning, RuleWarning

PACKAGE = Path(bayescount.__file__).parent
BUILTIN_ERRORS = {
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
ALLOWED = {"NotImplementedError"}
ALLOWED_IN = {"__getattr__": {"AttributeError"}, "handler": {"KeyboardInterrupt"}}


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(exc, ast.Name):
        return exc.id
    return None  # bare ``raise``, ``raise err`` of a caught error, or ``module.Error(...)``


def _bare_raises(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            scope = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else function
            if isinstance(child, ast.Raise) and child.exc is not None:
                name = _raised_name(child)
                if (name in BUILTIN_ERRORS and name not in ALLOWED
                        and name not in ALLOWED_IN.get(function or "", set())):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{child.lineno} raise {name}")
            visit(child, scope)

    visit(tree, None)
    return found


def test_no_bare_builtin_raises_in_the_package():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _bare_raises(path)]
    assert not found, "raise a bayescount.exceptions type instead:\n" + "\n".join(found)


def test_the_walker_sees_a_bare_raise(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    if x:\n        raise ValueError('no')\n")
    assert [h.split(" ", 1)[1] for h in _bare_raises_at(bad)] == ["raise ValueError"]


def _bare_raises_at(path: Path) -> list[str]:
    global PACKAGE
    saved, PACKAGE = PACKAGE, path.parent
    try:
        return _bare_raises(path)
    finally:
        PACKAGE = saved


def test_rule_warning_is_a_bayescount_warning_at_both_paths():
    from bayescount.forecast import RuleWarning as from_forecast
    from bayescount.forecast.burn_rules import RuleWarning as from_rules

    assert from_forecast is from_rules is RuleWarning
    assert issubclass(RuleWarning, BayescountWarning)


def test_new_errors_keep_the_builtin_bases():
    from bayescount.exceptions import LevelNotFoundError, SpecError, WrongTypeError

    assert issubclass(LevelNotFoundError, SpecError) and issubclass(LevelNotFoundError, KeyError)
    assert issubclass(WrongTypeError, BayescountError) and issubclass(WrongTypeError, TypeError)
    assert str(LevelNotFoundError("No group level 'x'")) == "No group level 'x'"
