"""Cell predicates and the row formatting shared by the validators' error messages.

Pure pandas/numpy.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

#: Offending rows shown in a message; the rest are counted.
LIMIT = 5
_LIMIT = LIMIT


def _fmt(value: Any) -> str:
    """Format one value or row label for an error message."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def _format_rows(
    index_labels: Sequence[Hashable],
    values: Sequence[Any],
    limit: int = 5,
    *,
    total: int | None = None,
) -> str:
    """Format the first ``limit`` offending rows as ``"rows 4: -1, 17: -2"``.

    Parameters
    ----------
    index_labels : sequence of hashable
        Row labels (the input frame's index labels) of the offending rows.
    values : sequence
        The offending value of each row, in the same order.
    limit : int, default 5
        How many rows to show; the rest are summarised as ``"and N more"``.
    total : int, optional
        How many rows offend in all, when only the first ones are passed.

    Returns
    -------
    str
        ``"row 4: -1"`` for one row, ``"rows 4: -1, 17: -2 and 3 more"`` for several.
    """
    pairs = list(zip(index_labels, values, strict=True))
    total = len(pairs) if total is None else total
    shown = ", ".join(f"{_fmt(label)}: {_fmt(value)}" for label, value in pairs[:limit])
    word = "row" if total == 1 else "rows"
    more = f" and {total - limit} more" if total > limit else ""
    return f"{word} {shown}{more}"


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    """Return ``"1 count"`` / ``"3 counts"``."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _rows(index: pd.Index, series: pd.Series, mask: np.ndarray) -> str:
    """Format the rows selected by ``mask``: labels from ``index``, values from ``series``."""
    positions = np.flatnonzero(mask)
    first = positions[:_LIMIT]
    return _format_rows(list(index[first]), list(series.iloc[first]), _LIMIT, total=len(positions))


def _labels(index: pd.Index, mask: np.ndarray) -> str:
    """Format only the row labels selected by ``mask``: ``"rows 3, 7 and 2 more"``."""
    positions = np.flatnonzero(mask)
    shown = ", ".join(_fmt(label) for label in index[positions[:_LIMIT]])
    more = f" and {len(positions) - _LIMIT} more" if len(positions) > _LIMIT else ""
    return f"{'row' if len(positions) == 1 else 'rows'} {shown}{more}"


# --------------------------------------------------------------------------- helpers


def _is_blank(value: Any) -> bool:
    """Return True for strings that are empty or only whitespace."""
    return isinstance(value, str) and not value.strip()


def _is_na(value: Any) -> bool:
    """Return True for a missing scalar (None, NaN, NaT, NA); False for anything else."""
    result = pd.isna(value)
    return bool(result) if isinstance(result, (bool, np.bool_)) else False


def _missing_mask(series: pd.Series) -> np.ndarray:
    """Return where ``series`` is NaN/None/NaT/NA or a blank (empty/whitespace) string."""
    mask = series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_object_dtype(dtype):
        values = series.to_numpy(dtype=object)
        blank = np.fromiter((_is_blank(v) for v in values), dtype=bool, count=len(values))
        mask = mask | blank
    elif ptypes.is_string_dtype(dtype):
        mask = mask | series.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
    return mask


def _is_real_number(value: Any) -> bool:
    """Return True for int/float-like values that are not booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_numeric_column(series: pd.Series) -> bool:
    """Return True for real-number dtypes (booleans and complex numbers excluded)."""
    dtype = series.dtype
    return (
        ptypes.is_numeric_dtype(dtype)
        and not ptypes.is_bool_dtype(dtype)
        and not ptypes.is_complex_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
    )


