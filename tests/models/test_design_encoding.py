"""Design: encoding new rows the way the training rows were encoded.

(The Design lives in ``bayescount.prep``; these tests sit with the models because they
pin what the builder and the prediction path consume.)
"""

import json

import numpy as np
import pandas as pd
import pytest

from bayescount import CountModel, DataError, DataWarning, validate_frame
from bayescount.exceptions import UnknownGroupError
from bayescount.prep import Design, fourier_features, parse_seasonality
from bayescount.prep.seasonality import information_weights


@pytest.fixture(scope="module")
def model() -> CountModel:
    return CountModel(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        covariates=["load", "tier", "load:tier"], seasonality="daily,weekly",
    )


@pytest.fixture(scope="module")
def design(model, telemetry) -> Design:
    return model.prepare(telemetry)[0]


def encode(model, design, frame, for_prediction=True):
    clean = validate_frame(frame, model.schema, for_prediction=for_prediction)
    return design.transform(clean, for_prediction=for_prediction)


def new_rows(telemetry, **columns) -> pd.DataFrame:
    rows = telemetry.iloc[[0, 1, 2]].drop(columns="errors").reset_index(drop=True)
    return rows.assign(**columns)


def test_training_rows_get_the_codes_of_their_labels(model, design, telemetry):
    data = encode(model, design, telemetry, for_prediction=False)
    for level in design.levels:
        labels = np.asarray(level.labels, dtype=object)[data.group_codes[level.name]]
        assert list(labels) == list(telemetry[level.name])
    assert data.new_labels == {}
    # Children of a parent are contiguous, ordered by parent.
    for level in design.levels:
        assert list(level.parent_index) == sorted(level.parent_index)


def test_unseen_labels_get_codes_past_the_known_ones(model, design, telemetry):
    rows = new_rows(
        telemetry,
        service=["r0-s0", "r0-s0", "r0-new-service"],
        node=["r0-s0-n0", "r0-s0-new", "r0-new-service-n0"],
    )
    data = encode(model, design, rows)
    n_services = len(design.level("service").labels)
    n_nodes = len(design.level("node").labels)
    assert data.new_labels == {
        "service": ("r0-new-service",),
        "node": ("r0-new-service-n0", "r0-s0-new"),  # sorted
    }
    assert data.group_codes["node"].tolist() == [
        design.level("node").labels.index("r0-s0-n0"), n_nodes + 1, n_nodes,
    ]
    assert data.group_codes["service"].tolist() == [0, 0, n_services]


def test_unseen_labels_are_refused_when_fitting(model, design, telemetry):
    rows = new_rows(telemetry, node=["r0-s0-n0", "r0-s0-new", "r0-s0-n1"]).assign(errors=1)
    with pytest.raises(UnknownGroupError, match="r0-s0-new"):
        encode(model, design, rows, for_prediction=False)


def test_nesting_is_strict_in_prediction(model, design, telemetry):
    # A fitted node put under another (fitted) service is an error, not a new group.
    rows = new_rows(telemetry, service=["r0-s0", "r0-s1", "r0-s0"],
                    node=["r0-s0-n0", "r0-s0-n1", "r0-s0-n2"])
    with pytest.raises(UnknownGroupError, match="Nesting is strict") as err:
        encode(model, design, rows)
    message = str(err.value)
    assert "'r0-s0-n1' under 'r0-s1' (fitted under 'r0-s0')" in message
    assert "r0-s0-n0" not in message and "r0-s0-n2" not in message


def test_unseen_level_of_a_categorical_covariate_is_a_data_error(model, design, telemetry):
    rows = new_rows(telemetry, tier=["hi", "medium", "lo"])
    with pytest.raises(DataError, match="'tier'") as err:
        encode(model, design, rows)
    assert "'medium'" in str(err.value) and "['hi', 'lo']" in str(err.value)


def test_standardisation_uses_the_training_mean_and_scale(model, design, telemetry):
    load = telemetry["load"].to_numpy()
    (enc,) = [e for e in design.encodings if e.name == "load"]
    assert enc.mean == pytest.approx(load.mean(), rel=1e-12)
    assert enc.scale == pytest.approx(load.std(), rel=1e-12)
    # New rows far from the training distribution are not re-standardised.
    rows = new_rows(telemetry, load=[10.0, 20.0, 30.0], tier=["lo", "hi", "lo"])
    with pytest.warns(DataWarning, match="'load' lies far outside its training range"):
        data = encode(model, design, rows)
    z = (np.array([10.0, 20.0, 30.0]) - load.mean()) / load.std()
    lo = np.array([1.0, 0.0, 1.0])  # "hi" is the reference (the most frequent level)
    assert design.covariate_terms == ["load", "tier[lo]", "load:tier[lo]"]
    np.testing.assert_allclose(data.covariates, np.column_stack([z, lo, z * lo]), rtol=1e-12)


def test_reference_level_is_the_most_frequent(model, telemetry):
    frame = telemetry.assign(tier=np.where(np.arange(len(telemetry)) % 4 == 0, "a", "b"))
    design = model.prepare(frame)[0]
    (enc,) = [e for e in design.encodings if e.name == "tier"]
    assert enc.reference == "b" and enc.terms == ["tier[a]"]


def test_fourier_phase_is_absolute(model, design, telemetry):
    train = encode(model, design, telemetry, for_prediction=False)
    # The same timestamps, in another order and among others, predicted later.
    picked = [100, 5, 77]
    rows = telemetry.iloc[picked].drop(columns="errors")
    later = rows.assign(timestamp=rows["timestamp"] + pd.Timedelta(days=700))
    data = encode(model, design, pd.concat([later, rows], ignore_index=True))
    np.testing.assert_array_equal(data.fourier[3:], train.fourier[picked])
    # 700 days is 100 weeks: the same phase of every component, up to rounding.
    np.testing.assert_allclose(data.fourier[:3], train.fourier[picked], atol=1e-9)
    # Absolute: days since the epoch, not since the first training row; less the
    # design's training centre.
    t = (telemetry["timestamp"].iloc[0] - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    center = np.asarray(design.fourier_center[:2])
    assert train.fourier[0, :2] == pytest.approx(
        np.array([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)]) - center
    )


def test_fourier_columns_are_centred_at_their_information_weighted_training_mean(
    model, design, telemetry
):
    train = encode(model, design, telemetry, for_prediction=False)
    weights = information_weights(train.counts, train.exposure)
    np.testing.assert_allclose(weights @ train.fourier / weights.sum(), 0.0, atol=1e-12)
    assert np.abs(np.asarray(design.fourier_center)).max() > 1e-3  # a real shift
    # Weights: the count, plus the exposure times the pooled rate.
    rate = train.counts.sum() / train.exposure.sum()
    np.testing.assert_allclose(weights, train.counts + rate * train.exposure)


def test_a_design_saved_without_a_fourier_centre_encodes_uncentred_features(
    model, design, telemetry
):
    old = design.to_dict()
    del old["fourier_center"]
    again = Design.from_dict(old)
    assert again.fourier_center == ()
    raw = fourier_features(telemetry["timestamp"], design.seasonality)
    np.testing.assert_array_equal(encode(model, again, telemetry).fourier, raw)


def test_fourier_features_of_an_aware_timestamp_use_utc():
    components = parse_seasonality("daily:2")
    naive = pd.Series(pd.to_datetime(["2026-01-05 12:00"]))
    aware = pd.Series(pd.to_datetime(["2026-01-05 13:00"]).tz_localize("Europe/Berlin"))
    np.testing.assert_allclose(
        fourier_features(aware, components), fourier_features(naive, components), atol=1e-12
    )


def test_design_round_trips_through_json(model, design, telemetry):
    again = Design.from_dict(json.loads(json.dumps(design.to_dict())))
    assert again == design
    rows = new_rows(telemetry, node=["r0-s0-n0", "r0-s0-new", "r0-s0-n1"])
    a, b = encode(model, design, rows), encode(model, again, rows)
    for name in ("exposure", "covariates", "fourier"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.new_labels == b.new_labels
    assert all(np.array_equal(a.group_codes[k], b.group_codes[k]) for k in a.group_codes)
