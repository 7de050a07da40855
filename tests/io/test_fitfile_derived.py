"""Fit files leave out per-row data that loading recomputes exactly, and still load old files."""

import h5py
import numpy as np
import pytest
import xarray as xr

from bayescount.exceptions import CorruptFitFileError
from bayescount.io import fitfile, load_fit, save_fit
from bayescount.io._derived import DERIVED_ATTR

LEFT_OUT = ["log_exposure", "service_idx", "region_idx"]


@pytest.fixture(scope="module")
def saved(fake_fit, tmp_path_factory):
    return save_fit(fake_fit, tmp_path_factory.mktemp("fits") / "fit.nc")


def _assert_same_constant_data(loaded, original):
    a = loaded.tree["constant_data"].to_dataset()
    b = original.tree["constant_data"].to_dataset()
    assert set(a.data_vars) == set(b.data_vars)
    for name in b.data_vars:
        assert a[name].dims == b[name].dims and a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_the_file_leaves_out_the_log_exposure_and_the_parent_codes(saved, fake_fit):
    const = fake_fit.fit_.tree["constant_data"]
    assert set(LEFT_OUT) <= set(const.data_vars)
    with h5py.File(saved, "r") as f:
        stored = set(f["constant_data"].keys())
        assert not set(LEFT_OUT) & stored
        assert {"exposure", "node_idx", "fourier_idx", "time"} <= stored
        assert f.attrs[DERIVED_ATTR] == '["log_exposure", "service_idx", "region_idx"]'
        assert np.asarray(f.attrs["bayescount_format_version"]).ravel()[0] == 3


def test_loading_recomputes_them_bit_for_bit_and_predicts_the_same(saved, fake_fit):
    loaded = load_fit(saved)
    _assert_same_constant_data(loaded, fake_fit.fit_)
    assert DERIVED_ATTR not in loaded.tree.attrs
    np.testing.assert_array_equal(loaded.predict(random_seed=3).draws.values,
                                  fake_fit.predict(random_seed=3).draws.values)
    again = save_fit(loaded, saved.with_name("again.nc"))
    assert again.read_bytes() == saved.read_bytes() or load_fit(again).n_rows == loaded.n_rows
    _assert_same_constant_data(load_fit(again), fake_fit.fit_)


def test_a_format_2_file_with_every_row_array_still_loads(fake_fit, tmp_path, monkeypatch):
    monkeypatch.setattr(fitfile, "FORMAT_VERSION", 2)
    monkeypatch.setattr(fitfile, "leave_out", lambda tree, design: tree)
    path = save_fit(fake_fit, tmp_path / "v2.nc")
    with h5py.File(path, "r") as f:
        assert set(LEFT_OUT) <= set(f["constant_data"].keys())
        assert DERIVED_ATTR not in f.attrs
    monkeypatch.undo()
    _assert_same_constant_data(load_fit(path), fake_fit.fit_)


def test_a_code_that_does_not_follow_the_nesting_is_kept(fake_fit, tmp_path):
    """Only exact recomputations are left out: a stored value that differs stays stored."""
    import dataclasses

    const = fake_fit.fit_.tree["constant_data"].to_dataset()
    odd = const.assign(log_exposure=const["log_exposure"] + 1e-12)
    tree = fake_fit.fit_.tree.copy()
    tree["constant_data"] = xr.DataTree(odd)
    path = save_fit(dataclasses.replace(fake_fit.fit_, tree=tree), tmp_path / "odd.nc")
    with h5py.File(path, "r") as f:
        assert "log_exposure" in f["constant_data"] and "region_idx" not in f["constant_data"]
    np.testing.assert_array_equal(
        load_fit(path).tree["constant_data"]["log_exposure"].values, odd["log_exposure"].values)


def test_a_file_that_lost_its_list_of_left_out_data_is_refused(saved, tmp_path):
    path = tmp_path / "edited.nc"
    path.write_bytes(saved.read_bytes())
    with h5py.File(path, "r+") as f:
        del f.attrs[DERIVED_ATTR]
    with pytest.raises(CorruptFitFileError, match=r"constant data lack \['region_idx', "
                                                  r"'service_idx'\]"):
        load_fit(path)


def test_a_list_naming_data_that_cannot_be_recomputed_is_refused(saved, tmp_path):
    path = tmp_path / "edited.nc"
    path.write_bytes(saved.read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs[DERIVED_ATTR] = '["node_idx"]'
    with pytest.raises(CorruptFitFileError, match="'node_idx' is left out of the file but "
                                                  "cannot be recomputed"):
        load_fit(path)
