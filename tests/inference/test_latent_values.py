"""Latent level values of rows inside, after and before the fitted grid, and new paths."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount import CountModel
from bayescount.exceptions import TimestampError
from bayescount.inference.latent import latent_values

RHO, SD, N_DRAWS = 0.7, 0.5, 40000


def _setup(latent="ar1", skew=0.0):
    frame = pd.DataFrame({
        "time": np.tile(pd.date_range("2026-03-02", periods=5, freq="h"), 2),
        "node": np.repeat(["a", "b"], 5), "count": 5, "hours": 1.0,
    })
    model = CountModel("count", "hours", time="time", groups=["node"], latent=latent)
    design, _ = model.prepare(frame)
    states = np.zeros((1, N_DRAWS, 2, 5))
    states[..., 0, -1] = 1.0   # path a ends at +1
    states[..., 1, 0] = -1.0   # path b starts at -1
    states[..., 1, 2] = 0.25
    posterior = xr.Dataset({
        "latent": (("chain", "draw", "node", "latent_time"), states),
        "latent_sd": (("chain", "draw"), np.full((1, N_DRAWS), SD)),
        "latent_rho": (("chain", "draw"), np.full((1, N_DRAWS), RHO)),
        "latent_skew": (("chain", "draw"), np.full((1, N_DRAWS), skew)),
    })
    return model, design, posterior


def _rows(model, design, node, hours):
    times = pd.Timestamp("2026-03-02") + pd.to_timedelta(hours, unit="h")
    frame = pd.DataFrame({"time": times, "node": node, "hours": 1.0})
    return design.transform(frame, for_prediction=True)


@pytest.mark.parametrize(("latent", "skew"), [("ar1", 0.0), ("ar1_laplace", 0.0),
                                              ("ar1_skew_laplace", 0.6)])
def test_paths_continue_with_the_ar1_moments(latent, skew):
    model, design, posterior = _setup(latent, skew)
    # Path a: inside (step 4), then 1, 2 and 10 steps after the grid; path b: 3 before.
    data = _rows(model, design, ["a", "a", "a", "a", "b", "b"], [4, 5, 6, 14, -3, 2])
    values = latent_values(posterior, model.spec, design, data, np.random.default_rng(0))
    v = values.reshape(N_DRAWS, 6)
    np.testing.assert_array_equal(v[:, 0], 1.0)
    np.testing.assert_array_equal(v[:, 5], 0.25)
    for col, h, start in ((1, 1, 1.0), (2, 2, 1.0), (3, 10, 1.0), (4, 3, -1.0)):
        mean = RHO**h * start
        sd = SD * np.sqrt(1 - RHO ** (2 * h))
        assert abs(v[:, col].mean() - mean) < 4 * sd / np.sqrt(N_DRAWS), (col, latent)
        assert abs(v[:, col].std() / sd - 1) < 0.03, (col, latent)
    # One path per draw: consecutive steps share the walk (corr = rho * sd1 / sd2).
    expected = RHO * np.sqrt(1 - RHO**2) / np.sqrt(1 - RHO**4)
    assert abs(np.corrcoef(v[:, 1], v[:, 2])[0, 1] - expected) < 0.02
    if skew:  # upward jumps larger than downward ones
        assert np.mean(v[:, 1] - RHO) > -0.01 and np.quantile(v[:, 1] - RHO, 0.5) < -0.02


def test_unseen_paths_start_from_the_stationary_law():
    model, design, posterior = _setup()
    data = _rows(model, design, ["new", "new", "other"], [7, 8, 7])
    assert data.new_labels == {"node": ("new", "other")}
    v = latent_values(posterior, model.spec, design, data,
                      np.random.default_rng(1)).reshape(N_DRAWS, 3)
    for col in range(3):
        assert abs(v[:, col].std() / SD - 1) < 0.03
    assert abs(np.corrcoef(v[:, 0], v[:, 1])[0, 1] - RHO) < 0.02
    assert abs(np.corrcoef(v[:, 0], v[:, 2])[0, 1]) < 0.02


def test_off_grid_rows_are_refused():
    model, design, _ = _setup()
    frame = pd.DataFrame({"time": [pd.Timestamp("2026-03-02 00:30")], "node": ["a"],
                          "hours": [1.0]})
    with pytest.raises(TimestampError, match="fall between steps"):
        design.transform(frame, for_prediction=True)
