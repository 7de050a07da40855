"""Exact compression of the Poisson likelihood: same log density, same gradient.

The compressed model (:mod:`bayescount.models.compression`) evaluates the Poisson log
density on sufficient statistics. It includes the parameter-free constant, so at every
parameter point its log density and gradient equal the per-row model's up to rounding;
a bug in any statistic (a count, an exposure, a cell's group or timestamp) shifts them.
"""

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pytensor.compile.mode import Mode

from bayescount import CountModel
from bayescount.inference.compiled import data_updates
from bayescount.models import FAMILIES, build_model, choose_parameterization
from bayescount.models.builder import compressed_data, compression_form
from bayescount.models.compression import compressible, distinct_rows, histogram_applies

FAST = Mode(linker="py", optimizer=None)
LEVELS = ["region", "service", "node"]

CASES = {
    # name: (CountModel options, expected form)
    "nested": ({"groups": LEVELS}, "dense"),
    "seasonal": ({"groups": LEVELS, "time": "timestamp", "seasonality": "daily,weekly"},
                 "dense"),
    "covariates": ({"groups": LEVELS, "time": "timestamp", "seasonality": "daily",
                    "covariates": ["load", "tier"]}, "cells"),
    "crossed": ({"groups": ["node", "tier"], "nesting": "crossed", "time": "timestamp",
                 "seasonality": "daily"}, "dense"),
    "no_groups": ({"groups": []}, "dense"),  # every row in one cell
}


def models(frame: pd.DataFrame, options: dict, family: str = "poisson"):
    cm = CountModel("errors", "requests", family=family, **options)
    design, prepared = cm.prepare(frame)
    how = choose_parameterization(cm.spec, design, prepared)
    return (
        build_model(cm.spec, design, prepared, how, compress=True),
        build_model(cm.spec, design, prepared, how, compress=False),
        design,
        prepared,
    )


def logp_dlogp(model: pm.Model):
    return model.compile_fn([model.logp(), model.dlogp()], mode=FAST)


def random_points(model: pm.Model, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    start = model.initial_point()
    for _ in range(n):
        yield {k: v + rng.normal(0.0, 0.5, size=np.shape(v)) for k, v in start.items()}


@pytest.mark.parametrize("case", CASES)
def test_compressed_log_density_and_gradient_equal_the_per_row_ones(telemetry, case):
    options, form = CASES[case]
    compressed, rows, _, _ = models(telemetry, options)
    assert compression_form(v.name for v in compressed.data_vars) == form
    assert [v.name for v in compressed.free_RVs] == [v.name for v in rows.free_RVs]
    f_c, f_r = logp_dlogp(compressed), logp_dlogp(rows)
    logps = []
    for point in random_points(rows, 6):
        (lc, gc), (lr, gr) = f_c(point), f_r(point)
        np.testing.assert_allclose(lc, lr, rtol=1e-10)
        np.testing.assert_allclose(gc, gr, rtol=1e-8, atol=1e-8)
        logps.append(lr)
    assert np.ptp(logps) > 10  # the points differ: a real comparison


def test_sparse_timestamps_use_cells(telemetry):
    # Every node on its own clock: the groups x times grid would be nearly empty.
    frame = telemetry.copy()
    frame["timestamp"] = frame["timestamp"] + pd.to_timedelta(
        frame.groupby("node").ngroup() * 7, unit="min"
    )
    options = {"groups": LEVELS, "time": "timestamp", "seasonality": "daily"}
    compressed, rows, design, prepared = models(frame, options)
    assert compression_form(v.name for v in compressed.data_vars) == "cells"
    point = next(random_points(rows, 1))
    np.testing.assert_allclose(logp_dlogp(compressed)(point)[0], logp_dlogp(rows)(point)[0],
                               rtol=1e-10)
    # The dense form is exact too (only slower here).
    cells, _ = compressed_data(design, prepared, "dense")
    assert cells.form == "dense" and cells.n_cells > 4 * len(np.unique(cells.row_cell))


def test_statistics_add_up_to_the_rows(telemetry):
    # A categorical covariate and no seasonality: rows of a node and tier share a cell.
    options = {"groups": LEVELS, "covariates": ["tier"]}
    _, _, design, prepared = models(telemetry, options)
    cells, values = compressed_data(design, prepared)
    assert cells.form == "cells" and cells.n_cells < prepared.n
    np.testing.assert_allclose(values["cell_counts"].sum(), prepared.counts.sum())
    np.testing.assert_allclose(np.exp(values["cell_log_exposure"]).sum(), prepared.exposure.sum())
    # Rows of one cell share group codes, timestamp and covariates.
    for lvl in design.levels:
        codes = values[f"{lvl.name}_group_idx"][values["cell_group"][cells.row_cell]]
        np.testing.assert_array_equal(codes, prepared.group_codes[lvl.name])
    np.testing.assert_array_equal(values["cell_X"][cells.row_cell], prepared.covariates)
    _, dense_values = compressed_data(design, prepared, "dense")
    assert dense_values["group_counts"].sum() == prepared.counts.sum()
    np.testing.assert_allclose(dense_values["exposure_grid"].sum(), prepared.exposure.sum())


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("latent", [None, "ar1"])
@pytest.mark.parametrize("dispersion_by", [None, "service"])
def test_which_likelihoods_are_compressed(telemetry, family, latent, dispersion_by):
    options = {"groups": LEVELS, "time": "timestamp"}
    if latent:
        options.update(latent=latent, latent_by="service")
    if dispersion_by and family.endswith("negative_binomial"):
        options.update(dispersion_by=dispersion_by)
    cm = CountModel("errors", "requests", family=family, **options)
    design, prepared = cm.prepare(telemetry)
    model = build_model(cm.spec, design, prepared)
    cells = family == "poisson" and latent is None
    histogram = family == "negative_binomial" and "dispersion_by" not in options
    assert compressible(cm.spec) == cells
    assert histogram_applies(cm.spec) == histogram
    assert ("y_loglik" in model.named_vars) == (cells or histogram)
    assert ("y" in model.named_vars) == (not (cells or histogram))
    form = compression_form(v.name for v in model.data_vars)
    assert form == ("histogram" if histogram else form if cells else None)
    assert (form in ("dense", "cells")) == cells


def test_data_updates_follow_the_compiled_form(telemetry):
    options = CASES["seasonal"][0]
    compressed, _, design, prepared = models(telemetry, options)
    names = {v.name for v in compressed.data_vars}
    half = prepared.take(np.arange(prepared.n // 2))
    updates = data_updates(design, half, "dense")
    assert set(updates) == names
    assert updates["group_counts"].sum() == half.counts.sum()
    # A per-row model's updates are per row.
    assert "y_obs" in data_updates(design, half)


NB_CASES = {**CASES, "latent": ({"groups": LEVELS, "time": "timestamp", "latent": "ar1"}, None)}


@pytest.mark.parametrize("case", ["nested", "covariates", "latent"])
def test_nb_histogram_log_density_and_gradient_equal_the_per_row_ones(telemetry, case):
    options = NB_CASES[case][0]
    histogram, rows, design, prepared = models(telemetry, options, "negative_binomial")
    values = histogram["count_values"].get_value()
    assert len(values) < prepared.n / 2  # the gamma terms run over far fewer values
    np.testing.assert_array_equal(values, np.unique(prepared.counts))
    f_h, f_r = logp_dlogp(histogram), logp_dlogp(rows)
    for point in random_points(rows, 6):
        (lh, gh), (lr, gr) = f_h(point), f_r(point)
        np.testing.assert_allclose(lh, lr, rtol=1e-10)
        np.testing.assert_allclose(gh, gr, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.05, 1e6])
def test_nb_histogram_holds_for_extreme_shapes(telemetry, alpha):
    # alpha = 1e6: all but Poisson (lgamma(y + a) - lgamma(a) cancels ~7 digits in both
    # forms); alpha = 0.05: wildly overdispersed.
    histogram, rows, _, _ = models(telemetry, {"groups": LEVELS}, "negative_binomial")
    point = rows.initial_point()
    point["inv_sqrt_alpha_log__"] = np.log(alpha ** -0.5)
    (lh, gh), (lr, gr) = logp_dlogp(histogram)(point), logp_dlogp(rows)(point)
    np.testing.assert_allclose(lh, lr, rtol=1e-8)
    np.testing.assert_allclose(gh, gr, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["float", "int", "one_column", "no_columns"])
def test_distinct_rows_agree_with_numpy_unique(kind):
    rng = np.random.default_rng(11)
    if kind == "float":
        a = rng.choice([-0.5, 0.0, 0.25, 1.0], size=(500, 3)) + rng.choice([0, 1e-12], (500, 1))
    elif kind == "int":
        a = rng.integers(0, 4, size=(500, 2))
    elif kind == "one_column":
        a = rng.integers(0, 7, size=(500, 1)).astype(float)
    else:
        a = np.zeros((5, 0))
    rows, first, index = distinct_rows(a)
    np.testing.assert_array_equal(rows[index], a)  # every row maps to its distinct row
    assert len(rows) == len(np.unique(a, axis=0))
    assert np.all(np.diff(first) != 0) and np.array_equal(a[first], rows)
    for j, f in enumerate(first):  # the first occurrence
        assert not np.any(index[:f] == j)
    # Sorted lexicographically by value, column 0 first.
    assert all(tuple(r) < tuple(s) for r, s in zip(rows[:-1], rows[1:], strict=True))
