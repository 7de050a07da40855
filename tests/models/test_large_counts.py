"""Counts are exact end to end up to 2**53 and refused above (robustness issue, item 0b).

PyMC's ``pm.Data`` stores integer arrays as int32, which wrapped 2**32 + k to k
without a word; the builder now stores counts as float64 (exact up to 2**53).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayescount import CountModel
from bayescount.exceptions import CountValueError
from bayescount.inference.compiled import data_updates
from bayescount.prep.schema import MAX_COUNT

HUGE = [2**31 - 1, 2**31, 2**31 + 1, 2**32, 2**32 + 7, 10**12]


def frame(counts) -> pd.DataFrame:
    n = len(counts)
    return pd.DataFrame({
        "service": [f"s{i % 2}" for i in range(n)],
        "requests": np.full(n, 1e13),
        "errors": np.asarray(counts, dtype=np.int64),
    })


def model() -> CountModel:
    return CountModel("errors", "requests", groups=["service"], family="poisson")


def test_the_model_data_hold_huge_counts_exactly():
    built = model().build(frame(HUGE), compress=False)
    stored = built["y_obs"].get_value()
    assert stored.dtype == np.float64
    assert [int(v) for v in stored] == HUGE


def test_the_log_likelihood_of_huge_counts_is_the_poisson_pmf():
    built = model().build(frame(HUGE), compress=False)
    point = built.initial_point()
    logp = built.compile_logp(vars=[built["y"]], sum=False)(point)[0]
    mu = np.exp(point["intercept"]) * 1e13 * np.ones(len(HUGE))  # effects start at zero
    np.testing.assert_allclose(logp, stats.poisson.logpmf(HUGE, mu), rtol=1e-9)
    # The compressed likelihood sums the same pmf.
    compressed = model().build(frame(HUGE))
    total = compressed.compile_logp(vars=[compressed["y_loglik"]])(point)
    np.testing.assert_allclose(total, stats.poisson.logpmf(HUGE, mu).sum(), rtol=1e-9)


def test_data_swaps_keep_huge_counts():
    m = model()
    design, prepared = m.prepare(frame(HUGE))
    assert [int(v) for v in data_updates(design, prepared)["y_obs"]] == HUGE


@pytest.mark.parametrize("count", [MAX_COUNT + 2, 2**62])
def test_counts_above_two_to_the_53_are_refused_by_name(count):
    with pytest.raises(CountValueError, match=r"'errors'.*2\*\*53"):
        model().prepare(frame([1, count]))


@pytest.mark.fit
def test_a_fit_of_counts_beyond_int32_saves_the_counts_given(tmp_path):
    counts = [2**32 + k for k in range(11)] + [2**32 + k for k in range(11)]
    data = frame(counts)
    data["requests"] = 1e9
    pooled = CountModel("errors", "requests", family="poisson")
    fitted = pooled.fit(data, draws=500, tune=300, chains=2, random_seed=1)
    fit = fitted.save(tmp_path / "fit.nc")
    from bayescount import load

    loaded = load(fit)
    assert list(loaded.observed_counts()) == counts
    rate = np.exp(loaded.posterior["intercept"].values.mean())
    assert rate == pytest.approx((2**32 + 5) / 1e9, rel=1e-3)
