"""Per-row model data kept in, or left out of, a fit's DataTree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescount.models.builder import fourier_times
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData


def _row_fourier(const: xr.Dataset, n: int) -> np.ndarray:
    """Return the rows' Fourier features from the stored distinct rows (or a row design)."""
    if "F_times" in const:
        return const["F_times"].values[const["fourier_idx"].values]
    return const["F"].values if "F" in const else np.zeros((n, 0))


def _data_groups(design: Design, prepared: PreparedData) -> dict[str, xr.Dataset]:
    """``observed_data`` and ``constant_data`` of encoded rows, one entry per row.

    Whatever the sampled graph held (per-row containers or a compressed likelihood's
    sufficient statistics), a fit stores its training rows in this one layout.
    """
    obs = ("obs",)
    const: dict[str, Any] = {"exposure": (obs, prepared.exposure),
                             "log_exposure": (obs, prepared.log_exposure)}
    for lvl in design.levels:
        const[f"{lvl.name}_idx"] = (obs, prepared.group_codes[lvl.name])
    if design.covariate_terms:
        const["X"] = (("obs", "covariate"), prepared.covariates)
    if design.fourier_terms:
        times, index = fourier_times(prepared.fourier)
        const["F_times"] = (("fourier_time", "fourier_term"), times)
        const["fourier_idx"] = (obs, index)
    if prepared.time_steps is not None:
        const["time_idx"] = (obs, prepared.time_steps)
    return {
        "observed_data": xr.Dataset({"y": (obs, np.asarray(prepared.counts))}),
        "constant_data": xr.Dataset(const),
    }


def _finish_tree(
    tree: xr.DataTree,
    spec: ModelSpec,
    design: Design,
    prepared: PreparedData,
    *,
    log_likelihood: bool,
    times: pd.Series | None = None,
) -> None:
    """Give a sampled tree its per-row data, timestamps and (asked for) log-likelihood.

    Used by every fitting path (a fresh model, a re-used compiled one), so fits look
    alike whatever graph was sampled (warm-up draws are not kept). A sampling
    function that returns its own ``log_likelihood`` group (a test's stand-in for
    NUTS) keeps it.
    """
    from bayescount.inference.loglik import pointwise_log_likelihood

    for name, ds in _data_groups(design, prepared).items():
        tree[name] = xr.DataTree(ds)
    for name in ("warmup_posterior", "warmup_sample_stats"):  # nutpie's, on one path only
        if name in tree.children:
            del tree[name]
    if times is not None:
        values = times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz else times
        const = tree["constant_data"].to_dataset()
        tree["constant_data"] = xr.DataTree(const.assign(time=("obs", values.to_numpy())))
    if log_likelihood and "log_likelihood" not in tree.children:
        posterior = tree["posterior"].to_dataset()
        tree["log_likelihood"] = xr.DataTree(
            pointwise_log_likelihood(posterior, spec, design, prepared)
        )
