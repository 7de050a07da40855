"""PPC statistics, residual diagnostics and check_model on fake fits (no sampling)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fakefit_helpers import fake_fit

from bayescount.checks import check_model, ppc_statistics, residual_diagnostics
from bayescount.count_model import CountModel
from bayescount.exceptions import ColumnNotFoundError, DataError, NotFittedError

HAND = pd.DataFrame(
    {
        "service": ["a"] * 4 + ["b"] * 4,
        "requests": [1000.0] * 8,
        "errors": [0, 0, 3, 1, 5, 6, 7, 2],
    }
)
# mu = 1000 * 0.001 = 1 on every row
HAND_TRUTH = {"intercept": np.log(0.001), "service_effect": {"a": 0.0, "b": 0.0},
              "service_sd": 0.1}


@pytest.fixture(scope="module")
def hand_poisson():
    return fake_fit(HAND, HAND_TRUTH, groups=["service"], time=None, jitter=0.0)


def _stat(report, group, name):
    (row,) = [s for s in report.statistics if s.group == group and s.statistic == name]
    return row


def test_ppc_observed_statistics_hand_computed(hand_poisson):
    report = ppc_statistics(hand_poisson, by="service", random_seed=1)
    expected = {
        None: {"share_zeros": 0.25, "dispersion": 52 / 21, "max": 7, "q99": 7, "total": 24},
        "a": {"share_zeros": 0.5, "dispersion": 2.0, "max": 3, "q99": 3, "total": 4},
        "b": {"share_zeros": 0.0, "dispersion": 14 / 15, "max": 7, "q99": 7, "total": 20},
    }
    for group, stats in expected.items():
        for name, value in stats.items():
            assert _stat(report, group, name).observed == pytest.approx(value)
    assert report.n_draws == 1000
    total = _stat(report, None, "total")
    # replicated totals are Poisson(8): mean 8, 90% interval [4, 13]
    assert total.mean == pytest.approx(8.0, abs=0.3)
    assert (total.lower, total.upper) == (4.0, 13.0)
    assert total.p_value < 0.001 and total.flagged
    assert total.verdict == "the model under-predicts the total count"
    zeros_a = _stat(report, "a", "share_zeros")  # 2 of 4 zeros vs P(0) = 0.37 a row
    assert not zeros_a.flagged
    assert zeros_a.verdict == "zeros in service 'a' consistent with the model"
    assert _stat(report, "b", "total").verdict == (
        "the model under-predicts the total count in service 'b'"
    )


def test_ppc_flags_excess_zeros_per_group(zip_data_poisson_fake):
    model, frame, _ = zip_data_poisson_fake
    report = ppc_statistics(model, by="service", max_draws=200)
    assert report.n_draws == 200
    overall = _stat(report, None, "share_zeros")
    assert overall.observed > overall.upper and overall.verdict == (
        "the model under-predicts zeros"
    )
    flagged = {s.group for s in report.flagged if s.statistic == "share_zeros"}
    assert flagged == {None, *frame["service"]}  # every service shows the excess zeros
    assert "the model under-predicts zeros in service 'r0-s0'" in [s.verdict for s in
                                                                    report.flagged]


def test_ppc_by_must_be_a_group_level(hand_poisson):
    with pytest.raises(ColumnNotFoundError, match=r"'region'.*\['service'\]"):
        ppc_statistics(hand_poisson, by="region")


def test_unfitted_model_is_refused():
    with pytest.raises(NotFittedError, match="fit"):
        check_model(CountModel("errors", "requests"))


def test_calibration_and_pearson_hand_computed(hand_poisson):
    res = residual_diagnostics(hand_poisson, by="service")
    assert res.calibration_ratio == pytest.approx(24 / 8)
    # sum (y - 1)^2 / 1 = 84; df = 8 rows - 1 intercept
    assert (res.pearson_chi2, res.df) == (pytest.approx(84.0), 7)
    assert res.dispersion_statistic == pytest.approx(12.0)
    by_group = {g.group: g for g in res.calibration}
    assert by_group["a"].ratio == pytest.approx(1.0) and not by_group["a"].flagged
    assert by_group["b"].ratio == pytest.approx(5.0) and by_group["b"].z == pytest.approx(8.0)
    assert by_group["b"].flagged
    # lag-1 ACF of service a's residuals [-1, -1, 2, 0]: -1 / 6
    acf = {a.series: a for a in res.autocorrelation}
    assert acf["a"].acf == pytest.approx(-1 / 6) and acf["a"].threshold == 1.0
    assert any("overdispersed" in p for p in res.problems)


def test_pearson_uses_the_negative_binomial_variance():
    model = fake_fit(HAND, HAND_TRUTH, family="negative_binomial", groups=["service"],
                     time=None, jitter=0.0, model_alpha=2.0)
    res = residual_diagnostics(model)
    # Var = mu + mu^2 / alpha = 1.5; df = 8 - intercept - alpha
    assert (res.pearson_chi2, res.df) == (pytest.approx(84 / 1.5), 6)


def _bursty(seed=0):
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-01-01", periods=40, freq="5min")
    level = np.where((np.arange(40) // 5) % 2 == 0, 1.0, 9.0)  # bursts of 5 windows
    rows = [
        {"node": node, "timestamp": t, "requests": 1000.0, "errors": rng.poisson(lam)}
        for node in ("n0", "n1") for t, lam in zip(times, level, strict=True)
    ]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    truth = {"intercept": np.log(0.005), "node_effect": {"n0": 0.0, "n1": 0.0}, "node_sd": 0.1}
    return fake_fit(frame, truth, groups=["node"], time="timestamp"), frame


def test_residual_autocorrelation_needs_time_order():
    model, frame = _bursty()
    shuffled = residual_diagnostics(model)
    assert not shuffled.time_ordered
    assert not any(a.flagged for a in shuffled.autocorrelation)
    ordered = residual_diagnostics(model, data=frame)
    assert ordered.time_ordered
    assert all(a.flagged and a.acf > 0.4 for a in ordered.autocorrelation)
    assert any("bursts the model ignores" in p for p in ordered.problems)
    with pytest.raises(DataError, match="same frame"):
        residual_diagnostics(model, data=frame.head(30))


def test_check_model_bundles_everything(zip_data_poisson_fake):
    model, _, _ = zip_data_poisson_fake
    result = check_model(model, by="region", max_draws=200)
    assert result.convergence is model.convergence_
    assert not result.passed
    assert "the model under-predicts zeros" in result.problems
    doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(doc) == {"passed", "problems", "ppc", "residuals", "convergence"}
    assert doc["residuals"]["calibration_ratio"] == pytest.approx(
        result.residuals.calibration_ratio
    )
    assert "Model check" in str(result) and "<strong>" in result._repr_html_()
