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


def renamed_keywords(**old_to_new: str):
    """Decorate a function whose keyword ``old`` became ``new`` (one release of grace).

    A call with an old name warns with :class:`FutureWarning` and is passed on under
    the new name; giving both names is a :class:`~bayescount.exceptions.SpecError`.

    Parameters
    ----------
    **old_to_new : str
        ``old_name="new_name"`` pairs.
    """
    import functools

    from bayescount.exceptions import SpecError

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise SpecError(
                            f"{fn.__name__}: give {new}= only ({old}= is its old name)."
                        )
                    warn_deprecated(
                        f"{fn.__name__}({old}=...) is now {fn.__name__}({new}=...); "
                        f"the old name goes in the next release."
                    )
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
