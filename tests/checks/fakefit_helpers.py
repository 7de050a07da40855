"""A fitted CountModel without sampling: posterior draws scattered around a known truth.

Used by the checks and plots tests (and worth moving to ``bayescount.testing``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayescount import CountModel, SamplerConfig
from bayescount.inference.convergence import check_convergence
from bayescount.inference.fit import Fit, package_versions
from bayescount.models.builder import OBS_DIM
from bayescount.testing import simulate_telemetry

GROUPS = ["region", "service", "node"]


def fake_fit(
    frame: pd.DataFrame,
    truth: dict,
    *,
    family: str = "poisson",
    chains: int = 4,
    draws: int = 250,
    jitter: float = 0.02,
    model_alpha: float | None = None,
    model_psi: float | None = None,
    groups: list[str] = GROUPS,
    time: str | None = "timestamp",
    seed: int = 0,
) -> CountModel:
    """Return a 'fitted' model of ``frame`` whose posterior sits at ``truth`` (+ jitter)."""
    rng = np.random.default_rng(seed)
    model = CountModel("errors", "requests", time=time, groups=groups, family=family)
    design, prepared = model.prepare(frame)
    shape = (chains, draws)

    def around(value):
        return value + jitter * rng.normal(size=shape)

    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    post = {"intercept": (("chain", "draw"), around(truth["intercept"]))}
    for lvl in design.levels:
        effects = np.array([truth[f"{lvl.name}_effect"][lab] for lab in lvl.labels])
        post[f"{lvl.name}_effect"] = (
            ("chain", "draw", lvl.name),
            effects + jitter * rng.normal(size=shape + effects.shape),
        )
        post[f"{lvl.name}_sd"] = (("chain", "draw"), np.abs(around(truth[f"{lvl.name}_sd"])))
        coords[lvl.name] = list(lvl.labels)
    if model.spec.is_negative_binomial:
        a = truth["alpha"] if model_alpha is None else model_alpha
        post["alpha"] = (("chain", "draw"), a * np.exp(around(0.0)))
    if model.spec.is_zero_inflated:
        p = truth["psi"] if model_psi is None else model_psi
        post["psi"] = (("chain", "draw"), np.clip(around(p), 0.01, 0.999))
    posterior = xr.Dataset(post, coords=coords)
    obs = {OBS_DIM: np.arange(prepared.n)}
    # mirrors the pm.Data containers of bayescount.models.builder
    const = {"exposure": ((OBS_DIM,), prepared.exposure),
             "log_exposure": ((OBS_DIM,), prepared.log_exposure)}
    for lvl in design.levels:
        const[f"{lvl.name}_idx"] = ((OBS_DIM,), prepared.group_codes[lvl.name])
    tree = xr.DataTree.from_dict(
        {
            "posterior": posterior,
            "sample_stats": xr.Dataset(
                {"diverging": (("chain", "draw"), np.zeros(shape, dtype=bool))},
                coords={"chain": coords["chain"], "draw": coords["draw"]},
            ),
            "observed_data": xr.Dataset({"y": ((OBS_DIM,), prepared.counts)}, coords=obs),
            "constant_data": xr.Dataset(const, coords=obs),
        }
    )
    with warnings.catch_warnings():  # R-hat of a constant (jitter=0) posterior is 0/0
        warnings.simplefilter("ignore", RuntimeWarning)
        convergence = check_convergence(tree, emit_warning=False)
    return CountModel.from_fit(
        Fit(
            spec=model.spec,
            design=design,
            parameterization={},
            tree=tree,
            sampler_config=SamplerConfig(draws=draws, tune=0, chains=chains, random_seed=seed),
            convergence=convergence,
            versions=package_versions(),
        )
    )


def simulated_fake(family: str = "poisson", seed: int = 0, **kwargs) -> tuple:
    """``(model, frame, truth)``: simulated telemetry and a fake fit at its truth."""
    sim_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in _SIM_ARGS}
    sim = simulate_telemetry(family=family, seed=seed, **sim_kw)
    model = fake_fit(sim.frame, sim.truth, family=family, seed=seed, **kwargs)
    return model, sim.frame, sim.truth


_SIM_ARGS = {
    "n_regions",
    "n_services",
    "n_nodes",
    "n_windows",
    "rate",
    "sd",
    "alpha",
    "psi",
    "daily_amplitude",
    "beta",
}


@dataclass(frozen=True, eq=False)
class TruthSampler:
    """A stand-in for NUTS: posterior draws at ``truth`` with the pointwise log-likelihood.

    The family is read off the PyMC model (``inv_sqrt_alpha`` / ``psi``), so
    :func:`bayescount.checks.compare_families` can fit every candidate with it. A
    picklable object, so worker processes and Dask workers (with this directory on
    their path) can run it.
    """

    frame: pd.DataFrame
    truth: dict
    alpha: float | None = None

    def __call__(self, pm_model, config):
        from scipy import stats

        from bayescount.inference.predict import predictive_parameters

        names = set(pm_model.named_vars)
        nb, zi = "inv_sqrt_alpha" in names, "psi" in names
        family = ("zero_inflated_" if zi else "") + ("negative_binomial" if nb else "poisson")
        model = fake_fit(self.frame, self.truth, family=family, chains=config.chains,
                         draws=config.draws, model_alpha=self.alpha,
                         seed=config.random_seed or 0)
        prepared, _ = model.training_rows()
        params = predictive_parameters(model.idata_["posterior"].to_dataset(), model.spec,
                                       model.design_, prepared, rng=np.random.default_rng(0))
        y = prepared.counts
        mu = params.mu.values
        if params.alpha is None:
            logp = stats.poisson.logpmf(y, mu)
        else:
            a = params.alpha.values
            logp = stats.nbinom.logpmf(y, a, a / (a + mu))
        if params.psi is not None:
            psi = params.psi.values
            logp = np.log(np.where(y == 0, 1 - psi, 0.0) + psi * np.exp(logp))
        tree = model.idata_.copy()
        if config.log_likelihood:
            tree["log_likelihood"] = xr.DataTree(
                xr.Dataset({"y": (("chain", "draw", OBS_DIM), logp)},
                           coords={"chain": np.arange(config.chains),
                                   "draw": np.arange(config.draws),
                                   OBS_DIM: np.arange(len(y))})
            )
        return tree


def truth_sampler(frame: pd.DataFrame, truth: dict, *, alpha: float | None = None):
    """Return a :class:`TruthSampler` of ``frame`` at ``truth``."""
    return TruthSampler(frame, truth, alpha)
