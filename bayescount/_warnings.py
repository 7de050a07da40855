"""Warnings that point at the user's line, not at bayescount's internals."""

from __future__ import annotations

import inspect
import os
import warnings

import bayescount

_PACKAGE_DIR = os.path.dirname(bayescount.__file__)


def find_stack_level() -> int:
    """Return the ``stacklevel`` of the first frame outside bayescount (numpyro's idea)."""
    frame = inspect.currentframe()
    level = 0
    while frame is not None:
        if not inspect.getfile(frame).startswith(_PACKAGE_DIR):
            break
        frame = frame.f_back
        level += 1
    return max(level, 1)


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` as ``category`` attributed to the caller's own code."""
    warnings.warn(message, category, stacklevel=find_stack_level())


def warn_deprecated(message: str) -> None:
    """Issue a :class:`FutureWarning` (an old name that still works for one release)."""
    warnings.warn(message, FutureWarning, stacklevel=find_stack_level())
