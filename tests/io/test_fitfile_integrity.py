"""Fit files hash everything prediction reads: an edited design or draw is refused."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from bayescount import CountModel
from bayescount.exceptions import (
    ContentHashMismatchError,
    CorruptFitFileError,
    FitFileWarning,
    SpecHashMismatchError,
)
from bayescount.io import load_fit, save_fit


@pytest.fixture(scope="module")
def fit(telemetry, fake_sampler, loose_thresholds) -> CountModel:
    model = CountModel("errors", "requests", time="timestamp",
                       groups=["region", "service", "node"], covariates=["load", "tier"])
    return model.fit(telemetry, draws=20, chains=2, random_seed=1,
                     thresholds=loose_thresholds, sample_fn=fake_sampler)


@pytest.fixture(scope="module")
def saved(fit, tmp_path_factory) -> Path:
    return fit.save(tmp_path_factory.mktemp("fits") / "fit.nc")


def copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "edited.nc"
    target.write_bytes(saved.read_bytes())
    return target


def edit_json(path: Path, attr: str, change) -> None:
    with h5py.File(path, "r+") as f:
        doc = json.loads(f.attrs[f"bayescount_{attr}"])
        change(doc)
        f.attrs[f"bayescount_{attr}"] = json.dumps(doc)


def encoding(doc: dict, name: str) -> dict:
    return next(e for e in doc["encodings"] if e["name"] == name)


DESIGN_EDITS = {
    "covariate scale": lambda d: encoding(d, "load").update(scale=3.0),
    "covariate mean": lambda d: encoding(d, "load").update(mean=1.0),
    "training range": lambda d: encoding(d, "load").update(high=100.0),
    "reference level": lambda d: encoding(d, "tier").update(reference="lo"),
    "pooled rate": lambda d: d.update(pooled_log_rate=d["pooled_log_rate"] + 1),
    "time grid": lambda d: d.update(time_grid={"origin": "2026-01-05T00:00:00",
                                               "step": "0 days 00:05:00", "length": 12}),
}


@pytest.mark.parametrize("change", DESIGN_EDITS.values(), ids=DESIGN_EDITS.keys())
def test_an_edited_design_is_refused_naming_the_design(saved, tmp_path, change):
    path = copy(saved, tmp_path)
    edit_json(path, "design", change)
    with pytest.raises(ContentHashMismatchError, match=r"the design does not match the stored "
                                                       r"hash; the file was edited or damaged"):
        load_fit(path)


def test_the_refusal_is_a_spec_hash_mismatch_too(saved, tmp_path):
    path = copy(saved, tmp_path)
    edit_json(path, "design", DESIGN_EDITS["covariate scale"])
    with pytest.raises(SpecHashMismatchError):
        load_fit(path)
    assert issubclass(ContentHashMismatchError, SpecHashMismatchError)


def test_an_edited_parameterization_is_refused(saved, tmp_path):
    path = copy(saved, tmp_path)
    edit_json(path, "parameterization", lambda d: d.update(region="centered"))
    with pytest.raises(ContentHashMismatchError, match="the parameterization does not match"):
        load_fit(path)


@pytest.mark.parametrize(("variable", "group"), [("posterior/intercept", "posterior"),
                                                 ("constant_data/X", "constant_data"),
                                                 ("observed_data/y", "observed_data")])
def test_edited_draws_or_data_are_refused_naming_the_group(saved, tmp_path, variable, group):
    path = copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        values = f[variable][...]
        f[variable][...] = values + 1
    with pytest.raises(ContentHashMismatchError, match=f"the {group} group does not match"):
        load_fit(path)


def test_an_untouched_file_loads_and_predicts_as_saved(fit, saved, telemetry):
    loaded = load_fit(saved)
    rows = telemetry.head(5).drop(columns="errors")
    np.testing.assert_array_equal(loaded.predict(rows, random_seed=2).draws.values,
                                  fit.predict(rows, random_seed=2).draws.values)


def test_hashes_are_stable_across_save_and_load(saved, tmp_path):
    again = save_fit(load_fit(saved), tmp_path / "again.nc")
    with h5py.File(saved) as a, h5py.File(again) as b:
        first = json.loads(a.attrs["bayescount_hashes"])
        second = json.loads(b.attrs["bayescount_hashes"])
    assert first == second
    assert {"design", "parameterization", "spec", "group:posterior",
            "group:constant_data"} <= set(first)


def test_a_format_2_file_without_hashes_is_corrupt(saved, tmp_path):
    path = copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        del f.attrs["bayescount_hashes"]
    with pytest.raises(CorruptFitFileError, match="missing or unreadable hashes"):
        load_fit(path)


def test_a_format_1_file_loads_with_a_warning_that_it_cannot_be_verified(saved, tmp_path):
    path = copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:  # what bayescount wrote before design hashing
        del f.attrs["bayescount_hashes"]
        f.attrs["bayescount_format_version"] = np.int64(1)
    with pytest.warns(FitFileWarning, match=r"format-1 fit file: only its spec is hashed"):
        model = load_fit(path)
    assert model.n_rows > 0
