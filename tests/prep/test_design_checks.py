"""Degenerate designs are refused at fit time with the columns named; extrapolation warns."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from bayescount import CountModel, CountSchema, DataWarning, SpecError, validate_frame
from bayescount.exceptions import (
    ColumnNotFoundError,
    CountValueError,
    DataError,
    DesignError,
    ExposureError,
)
from bayescount.io import read_table


def frame(n: int = 24, step: str = "1h", seed: int = 0, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-05", periods=n, freq=step),
            "requests": rng.integers(900, 1300, n),
            "errors": rng.integers(0, 9, n),
            "x": rng.normal(size=n),
            "region": np.resize(["eu", "us"], n),
        }
    )
    return base.assign(**columns)


def prepare(data: pd.DataFrame, **model):
    return CountModel("errors", "requests", time="timestamp", **model).prepare(data)


# ------------------------------------------------------------------ covariates


def test_a_constant_covariate_is_refused_by_name():
    # c11: ten 15-minute rows with cpu_limit always 4 (predicting at 8 gave 2,600 per 1,000).
    data = frame(10, "15min", cpu_limit=4)
    with pytest.raises(DesignError, match=r"Covariate 'cpu_limit' is constant .*\(4 on all 10 "):
        prepare(data, covariates=["cpu_limit"])


def test_a_covariate_that_is_a_rescaled_copy_is_refused_naming_both():
    data = frame(x2=lambda d: 2 * d["x"] + 1)
    with pytest.raises(DesignError, match=r"terms 'x' and 'x2' are linearly dependent in the "
                                          r"training data: the model cannot tell"):
        prepare(data, covariates=["x", "x2"])


def test_a_sum_of_covariates_is_refused_naming_the_three():
    rng = np.random.default_rng(1)
    data = frame(y=rng.normal(size=24)).assign(z=lambda d: d["x"] - 3 * d["y"])
    with pytest.raises(DesignError, match=r"'x', 'y' and 'z' are linearly dependent in the "
                                          r"training data:"):
        prepare(data, covariates=["x", "y", "z"])


def test_one_hot_levels_that_repeat_another_categorical_are_refused():
    data = frame(size=lambda d: d["region"].map({"eu": "small", "us": "large"}), kind="a")
    data["kind"] = data["region"].map({"eu": "k1", "us": "k2"})
    with pytest.raises(DesignError, match=r"'size\[small\]' and 'kind\[k\d\]' are linearly "):
        prepare(data.drop(columns="region"), covariates=["size", "kind"])


def test_an_interaction_of_levels_that_never_meet_is_refused():
    rows = np.arange(24)
    a = np.where(rows < 14, "eu", "us")  # reference: eu (the most frequent)
    b = np.where(rows % 2 == 0, "p", np.where(rows < 14, "q", "r"))  # q only with eu
    with pytest.raises(DesignError, match=r"term 'a\[us\]:b\[q\]' is zero on every training "):
        prepare(frame(a=a, b=b), covariates=["a", "b", "a:b"])


def test_a_categorical_with_one_level_is_refused():
    with pytest.raises(DesignError, match=r"'tier' has a single level \('gold'\)"):
        prepare(frame(tier="gold"), covariates=["tier"])


def test_fewer_rows_than_coefficients_is_refused():
    data = frame(3, y=[1.0, 2.0, 4.0], z=[0.0, 5.0, 1.0])
    with pytest.raises(DesignError, match="3 rows for 4 covariate coefficients"):
        prepare(data, covariates=["x", "y", "z"])


def test_distinct_covariates_pass():
    rng = np.random.default_rng(2)
    data = frame(y=rng.normal(size=24))
    design, prepared = prepare(data, covariates=["x", "y", "x:y"])
    assert prepared.covariates.shape == (24, 3)
    (enc,) = [e for e in design.encodings if e.name == "x"]
    assert (enc.low, enc.high) == (data["x"].min(), data["x"].max())


# ------------------------------------------------------------------ columns


def test_counts_and_exposure_naming_one_column_is_a_spec_error():
    with pytest.raises(SpecError, match="'errors' is named as both counts and exposure"):
        CountSchema("errors", "errors")
    with pytest.raises(SpecError, match="'t' is named as both time and group 't'"):
        CountSchema("errors", "requests", time="t", groups=("t",))


def test_a_repeated_covariate_term_is_a_spec_error():
    with pytest.raises(SpecError, match=r"covariates repeat a term: \['a:b', 'b:a'\]"):
        CountSchema("errors", "requests", covariates=("a", "b", "a:b", "b:a"))


# ------------------------------------------------------------------ seasonality


def test_hourly_seasonality_on_hourly_rows_is_refused():
    with pytest.raises(DesignError, match=r"'hourly' has a period of 1h, no longer than the "
                                          r"data's time step of 1h"):
        prepare(frame(), seasonality="hourly")


def test_harmonics_beyond_the_nyquist_limit_are_refused_with_the_usable_order():
    with pytest.raises(DesignError, match=r"'daily' of order 12: harmonic 12 has a period of "
                                          r"2h, .* Use at most order 11 \('daily:11'\)"):
        prepare(frame(48), seasonality="daily:12")
    with pytest.raises(DesignError, match=r"Drop 'daily'"):
        prepare(frame(8, "12h"), seasonality="daily:1")
    design, prepared = prepare(frame(48), seasonality="daily:11")
    assert prepared.fourier.shape == (48, 22)


# ------------------------------------------------------------------ group levels


def test_a_single_label_level_warns_at_fit_and_when_a_new_label_is_predicted(
    fake_sampler, loose_thresholds
):
    data = frame(region="eu")
    model = CountModel("errors", "requests", groups=["region"])
    with pytest.warns(DataWarning, match=r"'region' has a single label \('eu'\).*prior alone"):
        model.fit(data, draws=10, chains=2, random_seed=1, sample_fn=fake_sampler,
                  thresholds=loose_thresholds)
    new = data.head(2).assign(region=["eu", "apac"])
    with pytest.warns(DataWarning, match=r"1 new region label \('apac'\) predicted from a "
                                         r"level fitted on a single label \('eu'\)"):
        model.predict(new, random_seed=1)
    model.predict(data.head(2), random_seed=1)  # known labels: no warning


# ------------------------------------------------------------------ numeric cells


def test_one_bad_cell_among_96_is_named_by_row_and_value(tmp_path):
    data = frame(96).astype({"errors": str})
    data.loc[17, "errors"] = "1,234"
    path = tmp_path / "t.csv"
    data.to_csv(path, index=False)
    schema = CountSchema("errors", "requests", time="timestamp")
    with pytest.raises(CountValueError) as info:
        validate_frame(read_table(path), schema)
    message = str(info.value)
    assert "holds 1 non-numeric value (dtype str; row 17: '1,234') among 96 rows" in message
    assert "write 1234, not 1,234" in message


def test_a_null_word_in_the_exposure_is_named(tmp_path):
    path = tmp_path / "t.csv"
    frame(5).astype({"requests": str}).assign(requests=["1", "2", "NA", "4", "5"]).to_csv(
        path, index=False)
    schema = CountSchema("errors", "requests")
    with pytest.raises(ExposureError, match=r"1 non-numeric value \(dtype str; row 2: 'NA'\).*"
                                            r"Only an empty cell counts as missing"):
        validate_frame(read_table(path), schema)


def test_a_numeric_covariate_with_a_word_is_not_read_as_categorical(tmp_path):
    path = tmp_path / "t.csv"
    data = frame(10).astype({"x": str})
    data.loc[4, "x"] = "n/a"
    data.to_csv(path, index=False)
    schema = CountSchema("errors", "requests", covariates=("x",))
    with pytest.raises(DataError, match=r"'x' looks numeric \(9 of 10 cells are numbers\) but "
                                        r"holds 1 cell that is not \(row 4: 'n/a'\)"):
        validate_frame(read_table(path), schema)


# ------------------------------------------------------------------ prediction


@pytest.fixture(scope="module")
def fitted(fake_sampler, loose_thresholds):
    model = CountModel("errors", "requests", time="timestamp", groups=["region"],
                       covariates=["x"])
    return model.fit(frame(), draws=10, chains=2, random_seed=1, sample_fn=fake_sampler,
                     thresholds=loose_thresholds)


def test_predict_needs_no_time_column_when_the_model_does_not_use_time(fitted):
    rows = frame(3).drop(columns=["timestamp", "errors"])
    prediction = fitted.predict(rows, random_seed=1)
    assert prediction.draws.shape[-1] == 3


def test_predict_asks_for_time_when_the_model_is_seasonal(fake_sampler, loose_thresholds):
    model = CountModel("errors", "requests", time="timestamp", seasonality="daily:2")
    model.fit(frame(48), draws=50, chains=2, random_seed=1, sample_fn=fake_sampler,
              thresholds=loose_thresholds)
    with pytest.raises(ColumnNotFoundError, match="'timestamp'"):
        model.predict(frame(3).drop(columns=["timestamp"]))


def test_far_outside_the_training_range_warns_and_says_how_far(fitted):
    (enc,) = fitted.design_.encodings
    width = enc.high - enc.low
    near = frame(2).assign(x=[enc.high + 0.4 * width, enc.low - 0.4 * width])
    fitted.predict(near, random_seed=1)  # within half a width: no warning
    far = frame(2).assign(x=[enc.high + 0.6 * width, 0.0])
    with pytest.warns(DataWarning, match=r"'x' lies far outside its training range .* \(more "
                                         r"than half the range's width beyond it\) on 1 row "
                                         r"\(0: "):
        fitted.predict(far, random_seed=1)


def test_designs_saved_before_ranges_were_stored_warn_beyond_4_sd(fitted):
    (enc,) = fitted.design_.encodings
    old = dataclasses.replace(enc, low=None, high=None)
    design = dataclasses.replace(fitted.design_, encodings=(old,))
    rows = validate_frame(frame(2).assign(x=[enc.mean + 3 * enc.scale,
                                             enc.mean + 5 * enc.scale]), fitted.schema,
                          for_prediction=True)
    with pytest.warns(DataWarning, match=r"more than 4 training sd from the training mean\) "
                                         r"on 1 row \(1: "):
        design.transform(rows, for_prediction=True)


# --------------------------------------------------------- seasonality span
def test_a_period_longer_than_the_training_span_warns():
    with pytest.warns(DataWarning) as caught:
        prepare(frame(12), seasonality="daily")
    text = str(caught[0].message)
    assert "'daily'" in text and "1d" in text and "12h" in text and "less than one cycle" in text
    with pytest.warns(DataWarning, match=r"'weekly' has a period of 7d.* span of 2d"):
        prepare(frame(48), seasonality="daily,weekly")


def test_a_full_cycle_of_training_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        prepare(frame(24), seasonality="daily")  # 24 hourly windows: exactly one day
        prepare(frame(14 * 24), seasonality="daily,weekly")
