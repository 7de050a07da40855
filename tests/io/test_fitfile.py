"""Fit files: save -> load is the identity; damaged or foreign files are refused."""

import dataclasses
import errno
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescount
from bayescount import CountModel, FitFileError, NotFittedError
from bayescount.exceptions import (
    CorruptFitFileError,
    ForeignFileError,
    OutputError,
    SpecHashMismatchError,
)
from bayescount.io import atomic, load_fit, save_fit


@pytest.fixture(scope="module")
def saved(fake_fit, tmp_path_factory) -> Path:
    """The rich fake fit (every kind of variable), saved."""
    path = tmp_path_factory.mktemp("fits") / "fit.nc"
    assert fake_fit.save(path) == path
    return path


@pytest.fixture(scope="module")
def small_fit(telemetry, fake_sampler, loose_thresholds) -> CountModel:
    """A small Poisson fit (few variables: fast to write and read) for the refusals."""
    model = CountModel("errors", "requests", groups=["region", "service"])
    return model.fit(telemetry, draws=20, chains=2, random_seed=1,
                     thresholds=loose_thresholds, sample_fn=fake_sampler)


@pytest.fixture(scope="module")
def small(small_fit, tmp_path_factory) -> Path:
    return small_fit.save(tmp_path_factory.mktemp("fits") / "small.nc")


@pytest.fixture
def edited(small, tmp_path):
    """Copy the small fit file and open the copy with h5py for editing."""

    def edit(name="edited.nc"):
        target = tmp_path / name
        target.write_bytes(small.read_bytes())
        return target, h5py.File(target, "r+")

    return edit


def new_rows(telemetry) -> pd.DataFrame:
    rows = telemetry.iloc[[0, 40, 90, 143]].drop(columns="errors").reset_index(drop=True)
    rows.loc[3, "node"] = "r1-s2-new"  # an unseen node: drawn from the population
    return rows


# ------------------------------------------------------------------ round trip


def test_save_load_restores_the_fitted_state(fake_fit, saved):
    loaded = bayescount.load(saved)  # what save wrote: a Fit
    assert isinstance(loaded, bayescount.Fit)
    assert loaded.spec == fake_fit.spec and loaded.spec.hash() == fake_fit.spec.hash()
    assert loaded.design == fake_fit.design_
    assert loaded.parameterization == fake_fit.parameterization_
    assert loaded.sampler_config == fake_fit.sampler_config_
    assert loaded.convergence == fake_fit.convergence_
    assert loaded.versions == fake_fit.versions_
    model = CountModel.load(saved)  # the façade wraps the same fit
    assert model.is_fitted and model.design_ == fake_fit.design_
    for group in ("posterior", "sample_stats", "observed_data", "constant_data"):
        expected = fake_fit.idata_[group].to_dataset()
        got = loaded.tree[group].to_dataset()
        assert set(got.data_vars) == set(expected.data_vars)
        for name in expected.data_vars:
            np.testing.assert_array_equal(got[name].values, expected[name].values)


def test_loaded_fit_predicts_identical_numbers(fake_fit, saved, telemetry):
    loaded = CountModel.load(saved)
    rows = new_rows(telemetry)
    for scale in ("counts", "rate"):
        before = fake_fit.predict(rows, scale=scale, random_seed=42).draws
        after = loaded.predict(rows, scale=scale, random_seed=42).draws
        np.testing.assert_array_equal(after.values, before.values)
    np.testing.assert_array_equal(
        loaded.predict(random_seed=3).draws.values, fake_fit.predict(random_seed=3).draws.values
    )
    pd.testing.assert_frame_equal(loaded.summary(), fake_fit.summary())


def test_a_fit_file_with_the_row_fourier_design_still_loads_and_predicts(
    fake_fit, telemetry, tmp_path
):
    """Fit files written before the distinct-timestamp layout store ``F`` per row (and no
    ``F_times`` / ``fourier_idx``): they load, rebuild the training rows, and predict the
    same numbers as the new layout."""
    const = fake_fit.idata_["constant_data"].to_dataset()
    assert {"F_times", "fourier_idx"} <= set(const.data_vars) and "F" not in const
    assert "y_logfact" not in const  # recomputed from the counts, never stored
    rows_fourier = const["F_times"].values[const["fourier_idx"].values]
    old = const.drop_vars(["F_times", "fourier_idx"]).drop_dims("fourier_time", errors="ignore")
    old["F"] = (("obs", "fourier_term"), rows_fourier)
    tree = fake_fit.idata_.copy()
    tree["constant_data"] = xr.DataTree(old)
    old_fit = dataclasses.replace(fake_fit.fit_, tree=tree)
    path = save_fit(old_fit, tmp_path / "old.nc")
    with h5py.File(path, "r") as f:
        assert "F" in f["constant_data"] and "F_times" not in f["constant_data"]
    loaded = bayescount.load(path)
    np.testing.assert_array_equal(
        loaded.training_rows()[0].fourier, fake_fit.fit_.training_rows()[0].fourier
    )
    rows = new_rows(telemetry)
    model = CountModel.load(path)
    np.testing.assert_array_equal(
        model.predict(rows, random_seed=42).draws.values,
        fake_fit.predict(rows, random_seed=42).draws.values,
    )
    np.testing.assert_array_equal(
        model.predict(random_seed=3).draws.values, fake_fit.predict(random_seed=3).draws.values
    )


def test_save_creates_missing_directories(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "a" / "b" / "fit.nc")
    assert path.is_file() and load_fit(path).n_rows == small_fit.fit_.n_rows


# ------------------------------------------------------------------ atomic write


def test_a_failed_save_leaves_the_existing_file_intact(small_fit, small, tmp_path, monkeypatch):
    path = tmp_path / "fit.nc"
    path.write_bytes(small.read_bytes())
    original = path.read_bytes()
    written = []

    def full_disk(fd):
        written.append(fd)  # the content was written to the temporary file; then
        raise OSError(errno.ENOSPC, "No space left on device")  # the disk fills up

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(OutputError, match="no space left on device; the existing file is "):
        small_fit.save(path)
    monkeypatch.undo()

    assert written
    assert path.read_bytes() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["fit.nc"]  # no temp file left
    assert load_fit(path).n_rows == small_fit.fit_.n_rows


def test_save_replaces_an_existing_file(small_fit, tmp_path):
    path = tmp_path / "fit.nc"
    path.write_text("an older, unrelated file")
    small_fit.save(path)
    assert load_fit(path).spec == small_fit.spec
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_truncated_file_is_corrupt(small, tmp_path, keep):
    data = small.read_bytes()
    path = tmp_path / "cut.nc"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptFitFileError, match="truncated or corrupted"):
        load_fit(path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(np.random.default_rng(0).bytes(4096), id="random-bytes"),
        pytest.param(b"errors,requests\n1,100\n", id="csv"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89HDF", id="half-a-signature"),
    ],
)
def test_foreign_files_are_refused(tmp_path, content):
    path = tmp_path / "fit.nc"
    path.write_bytes(content)
    with pytest.raises(ForeignFileError, match="not a bayescount fit"):
        load_fit(path)


@pytest.mark.parametrize(
    "dataset",
    [xr.Dataset(), xr.Dataset({"y": ("obs", np.arange(3))}, attrs={"title": "counts"})],
    ids=["empty", "data"],
)
def test_a_netcdf_that_is_not_a_fit_is_foreign(tmp_path, dataset):
    path = tmp_path / "other.nc"
    dataset.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(ForeignFileError, match="NetCDF file but not a bayescount fit"):
        load_fit(path)


def test_an_edited_spec_fails_its_hash(edited, small_fit):
    path, f = edited()
    with f:
        spec = json.loads(f.attrs["bayescount_spec"])
        spec["priors"]["group_sd"]["sigma"] = 0.01  # a silently tighter prior
        f.attrs["bayescount_spec"] = json.dumps(spec)
        assert f.attrs["bayescount_spec_hash"] == small_fit.spec.hash()
    with pytest.raises(SpecHashMismatchError, match="does not match its hash"):
        load_fit(path)


def test_an_invalid_stored_spec_is_corrupt(edited):
    path, f = edited()
    with f:
        spec = json.loads(f.attrs["bayescount_spec"])
        spec["family"] = "gaussian"
        f.attrs["bayescount_spec"] = json.dumps(spec)
    with pytest.raises(CorruptFitFileError, match="invalid model description"):
        load_fit(path)


@pytest.mark.parametrize(
    ("attr", "value", "match"),
    [
        ("bayescount_format_version", np.int64(99), "format 99"),
        ("bayescount_design", "{not json", "metadata"),
        ("bayescount_format", "someone-elses-fit", "not a bayescount fit"),
    ],
)
def test_wrong_format_or_broken_metadata_is_refused(edited, attr, value, match):
    path, f = edited()
    with f:
        f.attrs[attr] = value
    with pytest.raises(FitFileError, match=match):
        load_fit(path)


def test_posterior_labels_inconsistent_with_the_design_are_corrupt(edited):
    path, f = edited()
    with f:
        labels = f["posterior/service"][...]
        f["posterior/service"][...] = labels[::-1]
    with pytest.raises(CorruptFitFileError, match="'service' labels"):
        load_fit(path)


def test_non_finite_draws_are_corrupt(edited):
    path, f = edited()
    with f:
        f["posterior/intercept"][0, 3] = np.nan
    with pytest.raises(CorruptFitFileError, match="non-finite"):
        load_fit(path)


def test_every_refusal_is_a_fit_file_error():
    assert issubclass(ForeignFileError, FitFileError)
    assert issubclass(CorruptFitFileError, FitFileError)
    assert issubclass(SpecHashMismatchError, FitFileError)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No fit file"):
        load_fit(tmp_path / "nope.nc")


# ------------------------------------------------------------------ not fitted


def test_unfitted_model_refuses_fitted_only_methods(tmp_path, telemetry):
    model = CountModel("errors", "requests", groups=["region"])
    assert not model.is_fitted
    for call in (lambda: model.predict(telemetry), lambda: model.predict(),
                 model.summary, lambda: model.save(tmp_path / "fit.nc")):
        with pytest.raises(NotFittedError, match=r"call \.fit"):
            call()
    assert not os.listdir(tmp_path)
