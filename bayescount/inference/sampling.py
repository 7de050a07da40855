"""Run NUTS on a PyMC model behind one seam, returning an ``xarray.DataTree``."""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from numbers import Integral
from typing import Any, Literal

import pymc as pm
import pytensor
import xarray as xr

from bayescount.constants import SAMPLERS
from bayescount.exceptions import SamplerError, SpecError
from bayescount.inference.interrupt import interruptible

__all__ = ["SAMPLERS", "SamplerConfig", "run_sampler"]

log = logging.getLogger(__name__)

_MODULE = {"nutpie": "nutpie", "numpyro": "numpyro", "pymc": "pymc"}


def _default_progressbar() -> bool:
    from bayescount.progress import progress_enabled

    return progress_enabled()  # one rule for every bar: terminal or notebook, never in CI


@dataclass(frozen=True)
class SamplerConfig:
    """How to run NUTS.

    Parameters
    ----------
    sampler : {"nutpie", "numpyro", "pymc"}
        NUTS implementation; nutpie (default) compiles the model with numba.
    draws, tune : int
        Kept draws and warm-up iterations per chain.
    chains : int
        Independent chains (at least 2 for R-hat).
    cores : int, optional
        Chains run in parallel; default: as many as the machine offers, up to ``chains``.
    random_seed : int, optional
        The same integer gives bit-identical draws on the same machine and versions
        (numba's fastmath is switched off so a warm or cold compile cache agrees).
    target_accept : float
        NUTS target acceptance rate (raise towards 0.95 against divergences).
    progressbar : bool, optional
        Default: on, except when the ``CI`` environment variable is set.
    log_likelihood : bool
        Store the pointwise log-likelihood (needed for LOO; costs rows x draws memory),
        computed per row after sampling (:mod:`bayescount.inference.loglik`).
    mass_matrix : {"diag", "low_rank"}
        Mass-matrix adaptation. ``"low_rank"`` (nutpie only) adds low-rank
        corrections that capture correlated directions, e.g. group-constant
        covariates against group effects: several times the ESS per second there.
    """

    sampler: Literal["nutpie", "numpyro", "pymc"] = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    random_seed: int | None = None
    target_accept: float = 0.8
    progressbar: bool | None = None
    log_likelihood: bool = False
    mass_matrix: Literal["diag", "low_rank"] = "diag"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise SpecError(f"Unknown sampler {self.sampler!r}; choose from {list(SAMPLERS)}.")
        for name in ("draws", "tune", "chains"):
            value = getattr(self, name)
            if (
                not isinstance(value, Integral)
                or isinstance(value, bool)
                or value < (1 if name != "tune" else 0)
            ):
                raise SpecError(f"{name} must be a positive integer, got {value!r}.")
            object.__setattr__(self, name, int(value))
        if self.mass_matrix not in ("diag", "low_rank"):
            raise SpecError(f"mass_matrix must be 'diag' or 'low_rank', got {self.mass_matrix!r}.")
        if self.mass_matrix == "low_rank" and self.sampler != "nutpie":
            raise SpecError("mass_matrix='low_rank' needs sampler='nutpie'.")
        if not 0.5 <= self.target_accept < 1:
            raise SpecError(f"target_accept must be in [0.5, 1), got {self.target_accept}.")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return asdict(self)


#: Signature of a sampling function: the seam tests replace with a fake.
SampleFn = Callable[[pm.Model, SamplerConfig], xr.DataTree]


def _nuts_options(config: SamplerConfig) -> dict[str, Any]:
    options: dict[str, Any] = {"target_accept": config.target_accept}
    if config.mass_matrix == "low_rank":
        options["adaptation"] = "low_rank"
    return options


def run_sampler(model: pm.Model, config: SamplerConfig) -> xr.DataTree:
    """Sample ``model`` with ``config``; return posterior, sample stats and data.

    Runs :func:`pymc.sample` with the chosen NUTS implementation (nutpie, NumPyro or
    PyMC). The fit adds the rows' data and, when ``config.log_likelihood``, the
    pointwise log-likelihood afterwards (:func:`~bayescount.inference.fit.fit_prepared`).

    Parameters
    ----------
    model : pymc.Model
        The model to sample (:func:`~bayescount.models.build_model`).
    config : SamplerConfig
        Draws, warm-up, chains, cores, seed, target acceptance and mass matrix.

    Returns
    -------
    xarray.DataTree
        ``posterior`` and ``sample_stats`` (dims ``(chain, draw, ...)``) and the
        model's data containers (``constant_data``, ``observed_data``); the sampling
        time in seconds in ``attrs["bayescount_sampling_seconds"]``.

    Raises
    ------
    SamplerError
        When the chosen sampler is not installed or fails.
    FitInterrupted
        SIGINT or SIGTERM arrived while compiling or sampling (no partial draws are
        returned).
    """
    if importlib.util.find_spec(_MODULE[config.sampler]) is None:
        raise SamplerError(
            f"Sampler {config.sampler!r} is not installed; install it or choose one of "
            f"{[s for s in SAMPLERS if importlib.util.find_spec(_MODULE[s])]}."
        )
    progress = _default_progressbar() if config.progressbar is None else config.progressbar
    cores = config.cores or min(config.chains, os.cpu_count() or 1)
    start = time.perf_counter()
    try:
        # numba's fastmath makes a fresh kernel and the same kernel loaded from
        # PyTensor's disk cache round differently: the same seed would then give
        # different draws depending on the cache state. Off, draws are reproducible.
        with (
            interruptible(),
            model,
            pytensor.config.change_flags(numba__fastmath=False),
        ):
            tree = pm.sample(
                draws=config.draws,
                tune=config.tune,
                chains=config.chains,
                cores=cores,
                random_seed=config.random_seed,
                progressbar=progress,
                nuts_sampler=config.sampler,
                nuts=_nuts_options(config),
                compute_convergence_checks=False,
                quiet=not progress,
            )
    except (ImportError, RuntimeError) as err:
        raise SamplerError(f"Sampler {config.sampler!r} failed: {err}") from err
    tree.attrs["bayescount_sampling_seconds"] = time.perf_counter() - start
    log.info("sampled %s chains x %s draws in %.1fs", config.chains, config.draws,
             tree.attrs["bayescount_sampling_seconds"])
    return tree
