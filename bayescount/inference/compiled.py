"""Compile a PyMC model once with nutpie and sample it on other data.

Rolling-origin backtests (:mod:`bayescount.checks.backtest`) and simulation-based
calibration (:mod:`bayescount.checks.sbc`) refit one model structure many times. The
builder's data enter through ``pm.Data`` containers, so :class:`CompiledSampler`
swaps them with nutpie's ``CompiledModel.with_data`` instead of recompiling, and
:func:`data_updates` gives the containers' values for encoded rows.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from bayescount.exceptions import SpecError
from bayescount.inference.interrupt import interruptible
from bayescount.models.builder import (
    compressed_data,
    compression_form,
    counts_as_data,
    fourier_times,
)
from bayescount.models.compression import CompressionForm
from bayescount.models.likelihood import count_histogram, log_factorial

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

    from bayescount.inference.sampling import SamplerConfig
    from bayescount.prep.design import Design, PreparedData

__all__ = ["CompiledSampler", "data_updates"]

log = logging.getLogger(__name__)



def data_updates(
    design: Design, data: PreparedData, compression: CompressionForm | None = None
) -> dict[str, np.ndarray]:
    """Return the values of the builder's ``pm.Data`` containers for ``data``.

    Parameters
    ----------
    design : Design
        The encoding the compiled model was built with.
    data : PreparedData
        Encoded rows, dim ``obs``.
    compression : {"dense", "cells", "histogram"}, optional
        The compiled model's compressed form (:attr:`CompiledSampler.compression`):
        a compressed Poisson model's sufficient statistics
        (:func:`~bayescount.models.builder.compressed_data`), or the counts'
        histogram instead of their ``log y!`` (NB,
        :func:`~bayescount.models.likelihood.count_histogram`).

    Returns
    -------
    dict of str to numpy.ndarray
        ``log_exposure``, ``y_obs`` (counts as float64), ``y_logfact`` (their
        ``log y!``), ``<level>_idx`` and, when the
        design has them, ``X``, ``F_times`` with ``fourier_idx`` (the distinct Fourier rows and
        each row's position among them) and ``time_idx``; each along ``obs``.

    Raises
    ------
    CountValueError
        A count above 2**53.
    """
    if compression in ("dense", "cells"):
        counts_as_data(data.counts)  # refuses counts above 2**53
        return compressed_data(design, data, compression)[1]
    out = {"log_exposure": data.log_exposure, "y_obs": counts_as_data(data.counts)}
    if compression == "histogram":
        out.update(count_histogram(data.counts))
    else:
        out["y_logfact"] = log_factorial(data.counts)
    for lvl in design.levels:
        out[f"{lvl.name}_idx"] = data.group_codes[lvl.name]
    if design.covariate_terms:
        out["X"] = data.covariates
    if design.fourier_terms:
        out["F_times"], out["fourier_idx"] = fourier_times(data.fourier)
    if data.time_steps is not None:
        out["time_idx"] = data.time_steps
    return out


class CompiledSampler:
    """A PyMC model compiled once by nutpie and sampled on other data.

    ``sample(updates, seed)`` swaps the model's ``pm.Data`` containers with
    ``CompiledModel.with_data`` (any number of rows) and runs nutpie. With the same
    data and seed it gives the same draws as compiling the model afresh.

    The model is compiled with numba's ``fastmath`` off: with it on, a freshly
    compiled kernel and the same kernel loaded from PyTensor's on-disk cache round
    differently, so the same seed gave different draws depending on the cache state
    (and serial and parallel backtests disagreed in the fourth digit).

    Parameters
    ----------
    model : pymc.Model
        The model to compile (its data are only a template).
    config : SamplerConfig
        Draws, warm-up, chains and target acceptance of every run.
    """

    def __init__(self, model: pm.Model, config: SamplerConfig) -> None:
        import nutpie
        import pytensor

        start = time.perf_counter()
        with pytensor.config.change_flags(numba__fastmath=False):
            self._compiled = nutpie.compile_pymc_model(model)
        self.compile_seconds = time.perf_counter() - start
        self.config = config
        self.data_names = frozenset(v.name for v in self._compiled.shared_var_keys)
        # Containers of the model that the compiled graph does not use (e.g. the row
        # Fourier design of a centered latent level) need no update.
        self.unused_names = frozenset(v.name for v in model.data_vars) - self.data_names
        #: The compressed likelihood's form (``None``: one term per row).
        self.compression = compression_form(v.name for v in model.data_vars)
        log.info("compiled the model with nutpie in %.1fs", self.compile_seconds)

    def sample(
        self, updates: Mapping[str, np.ndarray], seed: int, cores: int | None = None
    ) -> xr.DataTree:
        """Sample the model with ``updates`` as its data; return the nutpie DataTree.

        Parameters
        ----------
        updates : mapping of str to numpy.ndarray
            New values of the model's ``pm.Data`` containers (:func:`data_updates`).
        seed : int
            nutpie's seed; the same data and seed give the same draws.
        cores : int, optional
            Chains run in parallel; default the config's, else one per chain up to
            the CPU count.

        Returns
        -------
        xarray.DataTree
            nutpie's output: ``posterior`` and ``sample_stats``, dims
            ``(chain, draw, ...)``.

        Raises
        ------
        SpecError
            ``updates`` names a container the model does not hold.
        FitInterrupted
            SIGINT or SIGTERM arrived while sampling.
        """
        import nutpie

        unknown = sorted(set(updates) - self.data_names - self.unused_names)
        if unknown:
            raise SpecError(
                f"Unknown model data {unknown}; the model holds {sorted(self.data_names)}."
            )
        updates = {k: v for k, v in updates.items() if k in self.data_names}
        if updates.get("y_obs") is not None:
            updates["y_obs"] = counts_as_data(updates["y_obs"])
            if "y_logfact" in self.data_names:
                updates["y_logfact"] = log_factorial(updates["y_obs"])
            if "count_values" in self.data_names:
                updates.update(count_histogram(updates["y_obs"]))
        compiled = self._compiled.with_data(**updates)
        c = self.config
        with interruptible():  # an aborted run raises FitInterrupted, never partial draws
            return nutpie.sample(
                compiled,
                draws=c.draws,
                tune=max(c.tune, 1),  # nuts-rs needs at least one warm-up step
                chains=c.chains,
                cores=cores or c.cores or min(c.chains, os.cpu_count() or 1),
                seed=seed,
                progress_bar=False,
                target_accept=c.target_accept,
            )
