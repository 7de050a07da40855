"""Per-row model data kept in, or left out of, a fit's DataTree."""

from __future__ import annotations

import numpy as np
import xarray as xr


def _row_fourier(const: xr.Dataset, n: int) -> np.ndarray:
    """Return the rows' Fourier features from the stored distinct rows (or a row design)."""
    if "F_times" in const:
        return const["F_times"].values[const["fourier_idx"].values]
    return const["F"].values if "F" in const else np.zeros((n, 0))


def _drop_recomputable(tree: xr.DataTree) -> None:
    """Leave out per-row model data recomputed from the counts (``log y!``)."""
    if "constant_data" in tree.children and "y_logfact" in tree["constant_data"].data_vars:
        const = tree["constant_data"].to_dataset().drop_vars("y_logfact")
        tree["constant_data"] = xr.DataTree(const)
