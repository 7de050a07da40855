"""The façade: a sorted, importable, public-only ``__all__``; no side effects on import."""

import importlib
import logging
import types

import pytest

import bayescount
from bayescount.exceptions import BayescountError, BayescountWarning


def test_all_is_sorted_and_unique():
    assert bayescount.__all__ == sorted(bayescount.__all__)
    assert len(set(bayescount.__all__)) == len(bayescount.__all__)


def test_every_name_is_importable_and_public():
    for name in bayescount.__all__:
        assert not name.startswith("_"), name
        assert getattr(bayescount, name) is not None, name
    namespace: dict = {}
    exec("from bayescount import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(bayescount.__all__)


def test_nothing_public_is_left_out_of_all():
    modules = {"count_model", "exceptions", "inference", "io", "models", "prep", "testing",
               "cli"}
    public = {
        name for name, value in vars(bayescount).items()
        if not name.startswith("_") and not (hasattr(value, "__path__") or name in modules)
        and type(value).__name__ != "module"
    }
    assert public <= set(bayescount.__all__), sorted(public - set(bayescount.__all__))


def test_exported_errors_and_warnings_share_their_bases():
    for name in bayescount.__all__:
        obj = getattr(bayescount, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            if issubclass(obj, Warning):
                assert issubclass(obj, BayescountWarning), name
            else:
                assert issubclass(obj, BayescountError), name


def test_load_is_the_fit_file_reader():
    from bayescount.io import load_fit

    assert bayescount.load is load_fit


SUBPACKAGES = (
    "bayescount.checks",
    "bayescount.constants",
    "bayescount.cli",
    "bayescount.demo",
    "bayescount.examples",
    "bayescount.exceptions",
    "bayescount.forecast",
    "bayescount.inference",
    "bayescount.inference.executors",
    "bayescount.io",
    "bayescount.models",
    "bayescount.multiplicity",
    "bayescount.plots",
    "bayescount.prep",
    "bayescount.reports",
    "bayescount.results",
    "bayescount.testing",
)


def _public_names(module) -> set[str]:
    """Public names of ``module``: no privates, no modules, no helpers it only imports.

    A class or function counts when bayescount defines it: anywhere in bayescount for
    a package (its ``__init__`` re-exports), in the module itself for a plain module
    (``typing.Any`` or another module's helper imported for internal use is not part of
    its API). Constants and instances always count.
    """
    package = hasattr(module, "__path__")
    out = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if name in {"annotations", "TYPE_CHECKING"}:
            continue
        if isinstance(value, type) or callable(value) or hasattr(value, "__origin__"):
            home = getattr(value, "__module__", "") or ""
            ours = home.startswith("bayescount") if package else home == module.__name__
            if home == "bayescount.exceptions" != module.__name__:
                ours = False  # errors are exported by bayescount.exceptions
            if not ours:
                continue
        out.add(name)
    return out


@pytest.mark.parametrize("module_name", SUBPACKAGES)
def test_subpackage_all_is_sorted_unique_importable_and_complete(module_name):
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert names == sorted(names), f"{module_name}.__all__ is not sorted"
    assert len(set(names)) == len(names), f"{module_name}.__all__ has duplicates"
    namespace: dict = {}
    exec(f"from {module_name} import *", namespace)
    for name in names:
        assert not name.startswith("_"), f"{module_name}.{name}"
        assert name in namespace, f"{module_name}.{name} is not importable"
    left_out = _public_names(module) - set(names)
    assert not left_out, f"{module_name}: public but not in __all__: {sorted(left_out)}"


def test_import_configures_no_logging_handlers():
    loggers = [
        logger for name, logger in logging.Logger.manager.loggerDict.items()
        if name.split(".")[0] == "bayescount" and isinstance(logger, logging.Logger)
    ]
    assert all(not logger.handlers for logger in loggers)
    assert logging.getLogger("bayescount").level == logging.NOTSET
