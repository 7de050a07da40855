"""Parameter recovery on simulated nested telemetry with known truth.

``simulate_telemetry`` draws region -> service -> node effects (zero-sum within each
parent, the model's convention), a numeric covariate ``load`` and Poisson or NB2
counts per window with a ``requests`` exposure. The fit uses bayescount's default
priors. Checks:

* every scalar parameter (intercept, the three level sds, the covariate coefficient
  and the NB shape alpha) lies inside its 95% central posterior interval;
* at least 80% of the group effects lie inside their 90% central intervals (the
  nominal rate is 90%; effects of a parent's only child are identically zero in both
  the truth and the model and are left out of the count);
* no divergent transitions.

bayescount standardises ``load``; the truth is on the raw scale, so
``beta = beta_std / scale`` and ``intercept = intercept_std - beta_std * mean / scale``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount import ConvergenceThresholds, CountModel
from bayescount.testing import simulate_telemetry

pytestmark = pytest.mark.slow

LEVELS = ("region", "service", "node")
SCALAR_PROB = 0.95
EFFECT_PROB = 0.90
MIN_EFFECT_COVERAGE = 0.80
SIM = {"n_regions": 4, "n_services": 5, "n_nodes": 3, "n_windows": 16, "unbalanced": True,
       "beta": 0.3, "alpha": 5.0, "rate": 1e-3, "sd": (0.4, 0.3, 0.2)}
FAMILIES = {"poisson": 11, "negative_binomial": 12}  # family: data seed


@pytest.fixture(scope="module", params=list(FAMILIES))
def recovery(request):
    family = request.param
    sim = simulate_telemetry(**SIM, family=family, seed=FAMILIES[family])
    model = CountModel("errors", "requests", groups=list(LEVELS), covariates=["load"],
                       family=family)
    # Nearly all of a fit's time is compiling the model (~15-25 s); 1000 draws cost ~3 s.
    model.fit(sim.frame, draws=1000, tune=700, chains=2, random_seed=FAMILIES[family],
              progressbar=False, thresholds=ConvergenceThresholds(min_ess=200, max_rhat=1.02))
    return family, sim, model


def _interval(da: xr.DataArray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - prob) / 2
    q = da.quantile([tail, 1 - tail], dim=("chain", "draw"))
    return q.isel(quantile=0).values, q.isel(quantile=1).values


def _scalars(model: CountModel, family: str) -> dict[str, xr.DataArray]:
    post = model.idata_["posterior"].to_dataset()
    (enc,) = model.design_.encodings
    beta_std = post["beta"].sel(covariate="load")
    out = {
        "intercept": post["intercept"] - beta_std * enc.mean / enc.scale,
        "beta": beta_std / enc.scale,
        **{f"{lvl}_sd": post[f"{lvl}_sd"] for lvl in LEVELS},
    }
    if family == "negative_binomial":
        out["alpha"] = post["alpha"]
    return out


def scalar_table(model: CountModel, family: str, truth: dict) -> pd.DataFrame:
    rows = {}
    for name, da in _scalars(model, family).items():
        lo, hi = _interval(da, SCALAR_PROB)
        rows[name] = {"truth": truth[name], "mean": float(da.mean()), "sd": float(da.std()),
                      "q2.5": float(lo), "q97.5": float(hi)}
    table = pd.DataFrame(rows).T
    table["inside"] = (table["truth"] >= table["q2.5"]) & (table["truth"] <= table["q97.5"])
    return table


def effect_table(model: CountModel, truth: dict) -> pd.DataFrame:
    post = model.idata_["posterior"]
    frames = []
    for lvl in LEVELS:
        eff = post[f"{lvl}_effect"]
        lo, hi = _interval(eff, EFFECT_PROB)
        labels = [str(x) for x in eff[lvl].values]
        level = model.design_.level(lvl)
        only_child = np.bincount(level.parent_index)[list(level.parent_index)] == 1
        frames.append(pd.DataFrame({
            "level": lvl, "label": labels,
            "truth": [truth[f"{lvl}_effect"][lab] for lab in labels],
            "lo": lo, "hi": hi, "only_child": only_child,
        }))
    table = pd.concat(frames, ignore_index=True)
    table["inside"] = (table["truth"] >= table["lo"]) & (table["truth"] <= table["hi"])
    return table


def test_scalar_parameters_inside_95_percent_intervals(recovery):
    family, sim, model = recovery
    table = scalar_table(model, family, sim.truth)
    with pd.option_context("display.width", 200):
        print(f"\nrecovery ({family}, {len(sim.frame)} rows): scalars\n", table.round(4))
    assert table["inside"].all(), f"truth outside the {SCALAR_PROB:.0%} interval:\n{table}"


def test_group_effects_covered_by_90_percent_intervals(recovery):
    family, sim, model = recovery
    table = effect_table(model, sim.truth)
    informative = table[~table["only_child"]]
    by_level = informative.groupby("level", sort=False)["inside"].agg(["mean", "size"])
    coverage = float(informative["inside"].mean())
    print(f"\nrecovery ({family}): 90% coverage of group effects {coverage:.3f} "
          f"of {len(informative)}\n", by_level.round(3))
    # effects of an only child are exactly zero in the model
    np.testing.assert_allclose(table.loc[table["only_child"], ["lo", "hi"]], 0.0, atol=1e-12)
    assert coverage >= MIN_EFFECT_COVERAGE, by_level


def test_no_divergences(recovery):
    _, _, model = recovery
    assert model.convergence_.divergences == 0
    assert model.convergence_.max_rhat <= 1.02

