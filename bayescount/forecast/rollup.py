"""Coherent rollups of predictive draws: node → service → region → global.

Totals of a group are computed draw by draw (sum the rows' draws, then summarise), so
a parent's distribution is the distribution of the sum of its children. Adding the
children's quantiles instead would overstate the spread (quantiles are not additive).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from bayescount.exceptions import ColumnNotFoundError, DataError
from bayescount.forecast._results import summarise

__all__ = ["GLOBAL", "group_paths", "rollup_draws", "sum_by_codes",
           "sum_by_label", "summarise_draws"]

#: Name of the level that sums every row.
GLOBAL = "global"


def group_paths(rows: pd.DataFrame, levels: Sequence[str], level: str) -> np.ndarray:
    """Label each row by its path down to ``level`` (``"r0/r0-s1"``); ``"all"`` for global."""
    if level == GLOBAL:
        return np.full(len(rows), "all", dtype=object)
    if level not in levels:
        raise ColumnNotFoundError(f"No group level {level!r}; levels are {list(levels)}.")
    upto = list(levels)[: list(levels).index(level) + 1]
    missing = [c for c in upto if c not in rows]
    if missing:
        raise ColumnNotFoundError(f"Columns {missing} not in the rows {list(rows.columns)}.")
    parts = rows[upto].astype(str).to_numpy()
    return np.array(["/".join(p) for p in parts], dtype=object)


def sum_by_codes(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the columns of ``values (sample, obs)`` into ``n_groups`` columns by ``codes``."""
    n = len(codes)
    onehot = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
    return np.asarray(onehot @ np.asarray(values, dtype=float).T).T


def sum_by_label(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the columns of ``values (sample, obs)`` sharing a label; labels sorted."""
    codes, uniques = pd.factorize(labels, sort=True)
    return np.asarray(uniques, dtype=object), sum_by_codes(values, codes, len(uniques))


def rollup_draws(
    draws: np.ndarray,
    rows: pd.DataFrame,
    levels: Sequence[str],
    *,
    include_global: bool = True,
) -> dict[str, xr.DataArray]:
    """Sum draws within each group of each level, draw by draw.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(..., obs)``; leading (sample) axes are flattened.
    rows : pandas.DataFrame
        The rows of ``obs``, with the group columns.
    levels : sequence of str
        Group columns, outer to inner (``["region", "service", "node"]``).
    include_global : bool
        Add the ``"global"`` level (every row).

    Returns
    -------
    dict of str to xarray.DataArray
        One ``(sample, group)`` array per level; ``group`` holds the path labels.
    """
    values = np.asarray(draws, dtype=float)
    values = values.reshape(-1, values.shape[-1])
    if values.shape[1] != len(rows):
        raise DataError(f"{values.shape[1]} columns of draws for {len(rows)} rows.")
    out = {}
    names = [*levels, GLOBAL] if include_global else list(levels)
    for level in names:
        labels, sums = sum_by_label(values, group_paths(rows, levels, level))
        out[level] = xr.DataArray(
            sums, dims=("sample", "group"), coords={"group": labels}, name=level
        )
    return out


def summarise_draws(
    sums: dict[str, xr.DataArray], quantiles: Sequence[float] = (0.05, 0.5, 0.95)
) -> pd.DataFrame:
    """One row per (level, group): mean and quantiles of the summed draws."""
    records = []
    for level, da in sums.items():
        for j, group in enumerate(da["group"].values):
            records.append({"level": level, "group": group,
                            **summarise(da.values[:, j], quantiles)})
    return pd.DataFrame(records)
