"""The façade: a sorted, importable, public-only ``__all__``; no side effects on import."""

import importlib
import logging

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


def test_submodule_all_lists_are_importable():
    for module_name in ("bayescount.exceptions", "bayescount.inference", "bayescount.io",
                        "bayescount.models", "bayescount.prep"):
        module = importlib.import_module(module_name)
        assert len(set(module.__all__)) == len(module.__all__), module_name
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"


def test_import_configures_no_logging_handlers():
    loggers = [
        logger for name, logger in logging.Logger.manager.loggerDict.items()
        if name.split(".")[0] == "bayescount" and isinstance(logger, logging.Logger)
    ]
    assert all(not logger.handlers for logger in loggers)
    assert logging.getLogger("bayescount").level == logging.NOTSET
