"""Fake fits for the forecast tests: posterior draws sitting on the simulation's truth.

``truth_sampler(truth)`` plugs into the sampler seam of ``CountModel.fit`` and returns a
fit-shaped DataTree whose posterior draws are the true parameters plus small noise, so
the decision layer can be tested against known rates in milliseconds, without NUTS.
(A uniquely named module, not conftest, so test modules can import it unambiguously.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from bayescount import ConvergenceThresholds, CountModel

GROUPS = ["region", "service", "node"]
LOOSE = ConvergenceThresholds(max_rhat=1.5, min_ess=5.0, min_bfmi=0.0)


def truth_sampler(truth: dict, noise: float = 0.02, seed: int = 0):
    """Return a ``sample_fn`` whose posterior is ``truth`` plus ``Normal(0, noise)`` jitter."""

    def sample(model, config):
        rng = np.random.default_rng(seed)
        c, d = config.chains, config.draws
        coords = {"chain": np.arange(c), "draw": np.arange(d)}
        jitter = noise * rng.normal(size=(c, d))
        post = {"intercept": (("chain", "draw"), truth["intercept"] + jitter)}
        for level in model.coords:
            if f"{level}_effect" not in model.named_vars:
                continue
            labels = list(model.coords[level])
            values = np.array([truth[f"{level}_effect"][lab] for lab in labels])
            post[f"{level}_effect"] = (("chain", "draw", level),
                                       values + noise * rng.normal(size=(c, d, len(labels))))
            post[f"{level}_sd"] = (("chain", "draw"),
                                   truth[f"{level}_sd"] * np.exp(noise * rng.normal(size=(c, d))))
            coords[level] = labels
        if "beta" in model.named_vars:
            terms = list(model.coords["covariate"])
            post["beta"] = (("chain", "draw", "covariate"),
                            np.array(truth["beta"])[None, None, :] + noise * rng.normal(
                                size=(c, d, len(terms))))
            coords["covariate"] = terms
        if "alpha" in model.named_vars:
            post["alpha"] = (("chain", "draw"),
                             truth["alpha"] * np.exp(noise * rng.normal(size=(c, d))))
        if "psi" in model.named_vars:
            post["psi"] = (("chain", "draw"),
                           np.clip(truth["psi"] + noise * rng.normal(size=(c, d)), 0.01, 0.99))
        stats = xr.Dataset(
            {"diverging": (("chain", "draw"), np.zeros((c, d), bool)),
             "energy": (("chain", "draw"), rng.normal(size=(c, d)))},
            coords={"chain": coords["chain"], "draw": coords["draw"]},
        )
        # The fit adds the rows' observed and constant data itself.
        return xr.DataTree.from_dict({
            "posterior": xr.Dataset(post, coords=coords),
            "sample_stats": stats,
        })

    return sample


def truth_fit(frame: pd.DataFrame, truth: dict, family: str = "negative_binomial",
              covariates=(), noise: float = 0.02, draws: int = 100) -> CountModel:
    model = CountModel("errors", "requests", time="timestamp", groups=GROUPS, family=family,
                       covariates=covariates)
    if covariates:  # the model's coefficients act on standardised covariates
        x = frame[list(covariates)].to_numpy(float)
        beta = np.broadcast_to(np.atleast_1d(truth["beta"]), (x.shape[1],))
        truth = {**truth, "beta": beta * x.std(axis=0),
                 "intercept": truth["intercept"] + float(beta @ x.mean(axis=0))}
    with warnings.catch_warnings():  # a one-region fleet: that level's sd is the prior
        warnings.filterwarnings("ignore", message="Group level 'region' has a single label")
        return model.fit(frame, draws=draws, chains=2, random_seed=0, thresholds=LOOSE,
                         sample_fn=truth_sampler(truth, noise))
