"""Tier 2: tiny real nutpie fits (2 chains x 200 draws): reproducibility, prediction, gate.

Two fits in all, of the same model, data and seed: ``fit`` (a module fixture, judged
with thresholds a tiny fit can meet) and a second one judged by the default gate,
which must warn and must reproduce the first bit for bit.
"""

import numpy as np
import pandas as pd
import pytest

from bayescount import ConvergenceThresholds, ConvergenceWarning, CountModel, load
from bayescount.exceptions import UnknownGroupError
from bayescount.testing import simulate_telemetry

pytestmark = pytest.mark.fit

SETTINGS = {"draws": 200, "tune": 200, "chains": 2, "random_seed": 20260105,
            "progressbar": False}
#: What 2 x 200 draws of this model reliably reach (the default gate asks for ESS 400).
TINY = ConvergenceThresholds(max_rhat=1.05, min_ess=60)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate_telemetry(
        n_regions=2, n_services=2, n_nodes=3, n_windows=24, rate=1e-3, sd=(0.3, 0.3, 0.5),
        beta=0.3, seed=11,
    ).frame


def new_model() -> CountModel:
    # Two levels keep nutpie's numba compilation (most of a tiny fit's time) short.
    return CountModel("errors", "requests", groups=["service", "node"],
                      covariates=["load"], family="poisson")


@pytest.fixture(scope="module")
def fit(data) -> CountModel:
    return new_model().fit(data, thresholds=TINY, **SETTINGS)


def test_same_seed_gives_a_bit_identical_posterior_and_the_default_gate_warns(fit, data):
    assert fit.convergence_.passed, fit.convergence_
    with pytest.warns(ConvergenceWarning, match=r"ESS as low as \d+ \(< 400\) for ") as record:
        again = new_model().fit(data, **SETTINGS)
    (warning,) = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    message = str(warning.message)
    assert message.startswith("Convergence gate: FAILED")
    assert warning.filename == __file__  # points at the caller's line
    # The warning names the worst parameters, as listed in the report.
    assert again.convergence_.worst_ess and all(
        name in message for name in again.convergence_.worst_ess
    )
    assert not again.convergence_.passed

    first, second = fit.idata_["posterior"], again.idata_["posterior"]
    assert set(first.data_vars) == set(second.data_vars)
    for name in first.data_vars:
        np.testing.assert_array_equal(first[name].values, second[name].values, err_msg=name)
    np.testing.assert_array_equal(
        fit.idata_["sample_stats"]["energy"].values, again.idata_["sample_stats"]["energy"].values
    )


def test_predicting_the_fitted_rows_or_the_same_rows_as_a_frame_is_identical(fit, data):
    fitted = fit.predict(random_seed=5)
    framed = fit.predict(data, random_seed=5)
    assert fitted.draws.shape == (2, 200, len(data))
    np.testing.assert_array_equal(fitted.draws.values, framed.draws.values)
    # A sanity check on the fit: predictive means track the observed counts.
    assert np.corrcoef(framed.mean(), data["errors"])[0, 1] > 0.6


def test_rate_scale_is_counts_over_exposure(fit, data):
    rows = data.iloc[::37]
    counts = fit.predict(rows, random_seed=9).draws.values
    rate = fit.predict(rows, scale="rate", random_seed=9).draws.values
    np.testing.assert_array_equal(rate, counts / rows["requests"].to_numpy())


def test_an_unseen_node_gets_wider_intervals_than_a_seen_one(fit, data):
    seen = data.groupby("service", as_index=False).first().drop(columns="errors")
    seen["requests"] = 1e6  # ~1,000 errors: Poisson noise small next to node effects
    unseen = seen.assign(node=seen["service"] + "-new-node")
    prediction = fit.predict(pd.concat([seen, unseen], ignore_index=True), random_seed=0)
    lo, hi = prediction.quantiles([0.05, 0.95])
    width = np.log(hi) - np.log(lo)
    n = len(seen)
    assert np.all(width[n:] > width[:n])
    assert width[n:].mean() > 2 * width[:n].mean()
    with pytest.raises(UnknownGroupError, match="-new-node"):
        fit.predict(unseen, unseen="error")


def test_a_real_fit_survives_save_and_load(fit, data, tmp_path):
    loaded = load(fit.save(tmp_path / "fit.nc"))
    assert loaded.convergence == fit.convergence_
    for group in ("posterior", "sample_stats"):
        for name, values in fit.idata_[group].data_vars.items():
            if values.dtype != object:  # nutpie's divergence messages are not stored
                np.testing.assert_array_equal(loaded.tree[group][name].values, values.values)
    rows = data.iloc[::50]
    np.testing.assert_array_equal(
        loaded.predict(rows, random_seed=2).draws.values,
        fit.predict(rows, random_seed=2).draws.values,
    )


def test_summary_rows_and_columns(fit):
    table = fit.summary()
    assert table.index.is_unique
    assert set(table.index) == {"intercept", "service_sd", "node_sd", "beta[load]"}
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub", "r_hat", "ess_bulk", "ess_tail"):
        assert column in table.columns, column
    assert (table["hdi94_lb"] < table["mean"]).all() and (table["mean"] < table["hdi94_ub"]).all()
    # The data were simulated with beta = 0.3 per sd of load, intercept log(1e-3) (plus
    # a region effect the model folds into the services).
    assert table.loc["beta[load]", "hdi94_lb"] < 0.3 < table.loc["beta[load]", "hdi94_ub"]
    assert abs(table.loc["intercept", "mean"] - np.log(1e-3)) < 1.0
    effects = fit.summary(var_names=["node_effect"])
    assert len(effects) == 12 and effects.index[0].startswith("node_effect[")
