"""Warnings that point at the user's line, not at bayescount's internals."""

from __future__ import annotations

import inspect
import os
import warnings

import bayescount

_PACKAGE_DIR = os.path.dirname(bayescount.__file__)


def find_stack_level() -> int:
    """Return the ``stacklevel`` of the first frame outside bayescount (numpyro's idea).

    Returns
    -------
    int
        At least 1; as numpyro's ``find_stack_level``.
    """
    frame = inspect.currentframe()
    level = 0
    while frame is not None:
        if not inspect.getfile(frame).startswith(_PACKAGE_DIR):
            break
        frame = frame.f_back
        level += 1
    return max(level, 1)


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` as ``category`` attributed to the caller's own code.

    Parameters
    ----------
    message : str
        The warning text.
    category : type of Warning
        Usually a :class:`~bayescount.exceptions.BayescountWarning` subclass.
    """
    warnings.warn(message, category, stacklevel=find_stack_level())


def warn_deprecated(message: str) -> None:
    """Issue a :class:`FutureWarning` (an old name that still works for one release).

    Parameters
    ----------
    message : str
        Names the old and the new spelling.
    """
    warnings.warn(message, FutureWarning, stacklevel=find_stack_level())
