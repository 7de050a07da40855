"""CountModel.predict on a fake fit: rows, scales, seeds, unseen groups, bad exposure."""

import numpy as np
import pandas as pd
import pytest

from bayescount import DataError, SpecError
from bayescount.exceptions import ColumnNotFoundError, ExposureError, UnknownGroupError


def rows_of(telemetry, picks=(0, 40, 90, 143)) -> pd.DataFrame:
    return telemetry.iloc[list(picks)].drop(columns="errors")


def test_fitted_rows_and_the_same_rows_as_a_frame_give_identical_counts(fake_fit, telemetry):
    fitted = fake_fit.predict(random_seed=8)
    framed = fake_fit.predict(telemetry, random_seed=8)
    assert fitted.draws.dims == ("chain", "draw", "obs")
    assert fitted.draws.shape == (2, 50, len(telemetry))
    np.testing.assert_array_equal(fitted.draws.values, framed.draws.values)
    for col in ("region", "service", "node", "errors"):
        assert list(fitted.rows[col]) == list(telemetry[col])


def test_fitted_rows_keep_their_exact_exposure(fake_fit, telemetry):
    fitted = fake_fit.predict(scale="rate", random_seed=8)
    framed = fake_fit.predict(telemetry, scale="rate", random_seed=8)
    np.testing.assert_array_equal(fitted.rows["requests"], telemetry["requests"])
    np.testing.assert_array_equal(fitted.draws.values, framed.draws.values)


def test_same_seed_same_draws_other_seed_other_draws(fake_fit, telemetry):
    rows = rows_of(telemetry)
    a = fake_fit.predict(rows, random_seed=1).draws.values
    b = fake_fit.predict(rows, random_seed=1).draws.values
    c = fake_fit.predict(rows, random_seed=2).draws.values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rate_is_counts_divided_by_exposure(fake_fit, telemetry):
    rows = rows_of(telemetry)
    counts = fake_fit.predict(rows, random_seed=4)
    rate = fake_fit.predict(rows, scale="rate", random_seed=4)
    assert rate.scale == "rate" and counts.scale == "counts"
    np.testing.assert_array_equal(
        rate.draws.values, counts.draws.values / rows["requests"].to_numpy()
    )
    assert np.issubdtype(counts.draws.dtype, np.integer)


def test_rows_keep_their_order_and_index_and_the_input_is_untouched(fake_fit, telemetry):
    rows = rows_of(telemetry, (90, 0, 143)).set_axis(["c", "a", "b"])
    before = rows.copy()
    prediction = fake_fit.predict(rows, random_seed=0)
    pd.testing.assert_frame_equal(rows, before)
    assert list(prediction.rows.index) == ["c", "a", "b"]
    frame = prediction.to_frame([0.1, 0.9])
    assert list(frame.columns) == [*rows.columns, "mean", "q0.1", "q0.9"]
    np.testing.assert_allclose(frame["mean"], prediction.draws.mean(("chain", "draw")))
    assert (frame["q0.1"] <= frame["q0.9"]).all()
    with pytest.raises(SpecError, match=r"\[1.5\]"):
        prediction.to_frame([0.5, 1.5])


def test_counts_column_is_optional_in_new_rows(fake_fit, telemetry):
    rows = rows_of(telemetry)
    with_counts = telemetry.iloc[[0, 40, 90, 143]]
    np.testing.assert_array_equal(
        fake_fit.predict(rows, random_seed=3).draws.values,
        fake_fit.predict(with_counts, random_seed=3).draws.values,
    )


def test_unseen_labels_are_drawn_or_refused(fake_fit, telemetry):
    rows = rows_of(telemetry).assign(node=lambda d: d["node"] + "-replacement")
    prediction = fake_fit.predict(rows, random_seed=0)
    assert prediction.draws.shape == (2, 50, 4)
    with pytest.raises(UnknownGroupError, match="unseen='population'") as err:
        fake_fit.predict(rows, unseen="error")
    assert "r0-s0-n0-replacement" in str(err.value)
    with pytest.raises(SpecError, match="unseen"):
        fake_fit.predict(rows, unseen="ignore")


def test_a_node_under_another_service_is_refused(fake_fit, telemetry):
    rows = rows_of(telemetry, (0,)).assign(service="r0-s1")  # node r0-s0-n0 moved
    with pytest.raises(UnknownGroupError, match="Nesting is strict"):
        fake_fit.predict(rows)


def test_scale_must_be_counts_or_rate(fake_fit, telemetry):
    with pytest.raises(SpecError, match="'probability'"):
        fake_fit.predict(rows_of(telemetry), scale="probability")


@pytest.mark.parametrize(
    "bad", [np.nan, None, -5.0, np.inf], ids=["nan", "none", "negative", "inf"]
)
def test_new_rows_need_non_negative_finite_exposure(fake_fit, telemetry, bad):
    rows = rows_of(telemetry).astype({"requests": object})
    rows.iloc[2, rows.columns.get_loc("requests")] = bad
    with pytest.raises(ExposureError, match="'requests'") as err:
        fake_fit.predict(rows)
    assert str(rows.index[2]) in str(err.value)


def test_new_rows_need_the_exposure_column(fake_fit, telemetry):
    rows = rows_of(telemetry).drop(columns="requests")
    with pytest.raises(ColumnNotFoundError, match="required for new rows too"):
        fake_fit.predict(rows)
    assert issubclass(ColumnNotFoundError, DataError)


def test_rows_with_duplicate_index_labels(fake_fit, telemetry):
    rows = rows_of(telemetry, (0, 40))
    doubled = pd.concat([rows, rows])  # index [0, 40, 0, 40]
    prediction = fake_fit.predict(doubled, random_seed=1)
    assert prediction.draws.sizes["obs"] == 4
    assert len(prediction.rows) == 4
    assert len(prediction.to_frame()) == 4


@pytest.mark.parametrize(("family", "scales"), [
    ("poisson", False), ("negative_binomial", False), ("negative_binomial", True),
    ("zero_inflated_negative_binomial", True)])
def test_zero_exposure_rows_predict_exactly_zero(telemetry, fake_sampler, loose_thresholds,
                                                 family, scales):
    """Issue 12, kind 7: a window with no traffic has zero expected events, in every family."""
    import warnings

    from bayescount import CountModel

    model = CountModel("errors", "requests", time="timestamp",
                       groups=["region", "service", "node"],
                       family=family, dispersion_scales_with_exposure=scales)
    model.fit(telemetry, draws=20, chains=2, random_seed=1, thresholds=loose_thresholds,
              sample_fn=fake_sampler)
    rows = rows_of(telemetry).assign(requests=[0.0, 500.0, 0.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or NaN warnings
        counts = model.predict(rows, random_seed=3)
        rate = model.predict(rows, scale="rate", random_seed=3)
        frame = rate.to_frame()
    assert np.all(counts.draws.values[..., [0, 2]] == 0)
    assert counts.to_frame()["q0.95"].iloc[[0, 2]].tolist() == [0.0, 0.0]
    assert np.isnan(rate.draws.values[..., [0, 2]]).all()
    assert np.isfinite(rate.draws.values[..., [1, 3]]).all()
    assert frame["mean"].isna().tolist() == [True, False, True, False]


def test_count_quantiles_are_integer_quantiles_of_the_predictive_mixture(fake_fit, telemetry):
    from bayescount.inference.predictive_cdf import mixture_quantile

    prediction = fake_fit.predict(rows_of(telemetry), random_seed=1)
    q = prediction.quantiles([0.05, 0.5, 0.95])
    assert np.array_equal(q, np.round(q))  # a count quantile is a count
    for row, p in zip(q, (0.05, 0.5, 0.95), strict=True):
        np.testing.assert_array_equal(row, mixture_quantile(prediction.params, p))
    assert (np.diff(q, axis=0) >= 0).all()
    # the rule on the draws agrees within Monte Carlo error: the same integers mostly
    draws = np.quantile(prediction.draws.values.reshape(-1, q.shape[1]), 0.5, axis=0,
                        method="inverted_cdf")
    assert np.abs(draws - q[1]).max() <= 1 + 0.1 * q[1].max()
    rate = fake_fit.predict(rows_of(telemetry), scale="rate", random_seed=1)
    np.testing.assert_allclose(rate.quantiles([0.5])[0] * rate.params.exposure, q[1])
