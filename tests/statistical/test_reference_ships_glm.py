"""Weak-prior Poisson with an exposure offset vs the maximum-likelihood GLM (ships data).

McCullagh & Nelder's ship-damage table (``data/ships``): ``incidents ~ type + year +
period`` with offset ``log(service)``, 34 rows with service > 0. With Normal(0, 10)
priors the posterior is dominated by the likelihood, so the posterior mean should sit
at the MLE and the posterior sd at the GLM standard error, up to Monte-Carlo error and
the O(1/n) skewness of a Poisson log-rate posterior.

bayescount picks the most frequent level as reference (year "65", period "75") while
the GLM uses the first (year 60, period 60), so the comparison is made on the basis-free
contrasts ``level - GLM reference`` of each factor, computed from bayescount's own
encoding of one row per level.
"""

from __future__ import annotations

import json
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount import ConvergenceThresholds, CountModel, Normal, Priors, validate_frame

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[2] / "data" / "ships"
FACTORS = {"type": ["A", "B", "C", "D", "E"], "year": ["60", "65", "70", "75"],
           "period": ["60", "75"]}
# GLM (treatment coding, first level as reference) term -> (factor, level)
TERMS = {f"{f}{lvl}": (f, lvl) for f, levels in FACTORS.items() for lvl in levels[1:]}
# Tolerances. Mean: Monte-Carlo error (MCSE ~0.02-0.03 SE with ~1500-3000 ESS, so 3 MCSE
# ~0.1 SE) plus the skew of a Poisson log-rate posterior: under a flat prior the MLE is the
# posterior *mode*, and the mean sits about SE^2 / 2 below it (log of a Gamma(y) variable),
# i.e. SE / 2 in SE units: ~0.11 SE for the intercept (SE 0.22). Sd: the Laplace
# approximation behind the GLM SE is exact only as counts grow (O(1/sqrt(y)) relative error
# for the sparse cells) plus ~2% Monte-Carlo error of a posterior sd.
MEAN_TOL_SE = 0.2
SD_TOL = 0.15


@pytest.fixture(scope="module")
def ships() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "ships.csv", dtype={"type": str, "year": str, "period": str})
    return frame[frame["use_in_fit"] == 1].reset_index(drop=True)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "reference_fit_statsmodels.csv", index_col="term")


@pytest.fixture(scope="module")
def fit(ships):
    model = CountModel(
        "incidents",
        "service",
        covariates=list(FACTORS),
        family="poisson",
        priors=Priors(intercept=Normal(0.0, 10.0), coefficients=Normal(0.0, 10.0)),
    )
    return model.fit(ships, draws=1500, tune=700, chains=2, random_seed=20260105,
                     progressbar=False, thresholds=ConvergenceThresholds(min_ess=300))


def _glm_parameters(model: CountModel) -> xr.DataArray:
    """Posterior draws of the GLM's parameters, rebuilt from bayescount's encoding.

    Row 0 is the GLM's reference cell (A, 60, 60); each further row changes one factor
    to one level, so ``eta[row] - eta[0]`` is the GLM coefficient of that level.
    """
    base = {f: levels[0] for f, levels in FACTORS.items()}
    rows = [base] + [{**base, f: lvl} for f, lvl in TERMS.values()]
    cells = pd.DataFrame(rows).assign(service=1.0)
    frame = validate_frame(cells, model.schema, for_prediction=True)
    X = xr.DataArray(model.design_.transform(frame, for_prediction=True).covariates,
                     dims=("cell", "covariate"))
    post = model.idata_["posterior"].to_dataset()
    eta = post["intercept"] + xr.dot(X, post["beta"], dim="covariate")  # log rate per month
    params = xr.concat([eta.isel(cell=0), eta.isel(cell=slice(1, None)) - eta.isel(cell=0)],
                       dim="cell")
    return params.assign_coords(cell=["(Intercept)", *TERMS]).rename(cell="term")


def _comparison(fit, reference) -> pd.DataFrame:
    params = _glm_parameters(fit)
    summary = azs.summary(xr.Dataset({"p": params}), round_to="none")
    summary.index = list(params["term"].values)
    table = pd.DataFrame({
        "bayescount_mean": summary["mean"],
        "bayescount_sd": summary["sd"],
        "mcse_mean": summary["mcse_mean"],
        "ess_bulk": summary["ess_bulk"],
        "glm_estimate": reference["estimate"],
        "glm_se": reference["se_poisson"],
    }).loc[reference.index]
    table["diff_in_se"] = (table["bayescount_mean"] - table["glm_estimate"]) / table["glm_se"]
    table["sd_ratio"] = table["bayescount_sd"] / table["glm_se"]
    return table


def test_statsmodels_reproduces_the_published_glm(ships, reference):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    glm = smf.glm("incidents ~ type + year + period", ships, family=sm.families.Poisson(),
                  offset=np.log(ships["service"])).fit()
    names = {"(Intercept)": "Intercept", **{t: f"{f}[T.{lvl}]" for t, (f, lvl) in TERMS.items()}}
    for term, sm_name in names.items():
        assert glm.params[sm_name] == pytest.approx(reference.loc[term, "estimate"], abs=1e-5)
        assert glm.bse[sm_name] == pytest.approx(reference.loc[term, "se_poisson"], abs=1e-5)
    summary = json.loads((DATA / "reference_fit_statsmodels_summary.json").read_text())
    assert glm.deviance == pytest.approx(summary["deviance"], rel=1e-8)


def test_encoding_uses_most_frequent_reference_levels(fit):
    refs = {e.name: e.reference for e in fit.design_.encodings}
    assert refs == {"type": "A", "year": "65", "period": "75"}
    assert all(e.kind == "categorical" for e in fit.design_.encodings)


def test_sampler_is_clean(fit):
    assert fit.convergence_.divergences == 0
    assert fit.convergence_.max_rhat < 1.01


def test_posterior_matches_glm_mle_and_standard_errors(fit, reference):
    table = _comparison(fit, reference)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nships: bayescount (Normal(0, 10) priors) vs Poisson GLM\n", table.round(4))
    bad_mean = table[table["diff_in_se"].abs() > MEAN_TOL_SE]
    assert bad_mean.empty, f"posterior means off the MLE by > {MEAN_TOL_SE} SE:\n{bad_mean}"
    bad_sd = table[(table["sd_ratio"] - 1).abs() > SD_TOL]
    assert bad_sd.empty, f"posterior sds off the GLM SE by > {SD_TOL:.0%}:\n{bad_sd}"
