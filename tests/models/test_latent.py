"""The AR(1) latent level: spec rules, time grid, log density, parameterisation."""

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats

from bayescount import CountModel
from bayescount.exceptions import SpecError, TimestampError
from bayescount.models import ModelSpec, build_model
from bayescount.models.latent import path_levels
from bayescount.models.parameterization import choose_parameterization
from bayescount.prep.schema import CountSchema
from bayescount.prep.timegrid import TimeGrid

NESTED = CountSchema("errors", "requests", time="timestamp", groups=("service", "node"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schema": CountSchema("y", None), "latent": "ar1"}, "needs a time column"),
        ({"latent": "ar2"}, "Unknown latent 'ar2'"),
        ({"latent": "ar1", "latent_by": "region"}, "latent_by='region' is not a group"),
        ({"latent_by": "node"}, "latent_by needs a latent level"),
        ({"latent": "ar1_laplace", "parameterization": {"latent": "non_centered"}},
         "centered only"),
        ({"parameterization": {"latent": "centered"}}, "not a group"),
        ({"schema": CountSchema("y", None, time="t", groups=("a", "b"), nesting="crossed"),
          "latent": "ar1"}, "name the level"),
    ],
)
def test_spec_refuses_inconsistent_latent_options(kwargs, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(**{"schema": NESTED, **kwargs})


def test_latent_level_defaults_to_one_path_per_series():
    assert ModelSpec(NESTED, latent="ar1").latent_level == "node"
    assert ModelSpec(NESTED, latent="ar1", latent_by="service").latent_level == "service"
    single = CountSchema("y", None, time="t")
    assert ModelSpec(single, latent="ar1").latent_level is None
    assert ModelSpec(NESTED).latent_level is None


def test_spec_round_trips_and_old_dicts_load():
    spec = ModelSpec(NESTED, latent="ar1_laplace", latent_by="service")
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec and again.hash() == spec.hash()
    old = spec.to_dict()
    del old["latent"], old["latent_by"]
    old["priors"] = {k: v for k, v in old["priors"].items() if not k.startswith("latent")}
    assert ModelSpec.from_dict(old).latent is None
    # A stored dict is hashed as stored, so files of older versions stay loadable.
    assert ModelSpec.hash_of(old) != ModelSpec.from_dict(old).hash()


def test_time_grid_maps_timestamps_to_steps():
    times = pd.Series(pd.to_datetime(["2026-01-01 00:00", "2026-01-01 03:00",
                                      "2026-01-01 01:00", "2026-01-01 01:00"]))
    grid = TimeGrid.fit(times)
    assert grid.step == pd.Timedelta("1h") and grid.length == 4
    later = pd.Series(pd.to_datetime(["2025-12-31 22:00", "2026-01-01 05:00"]))
    np.testing.assert_array_equal(grid.steps(later), [-2, 5])
    assert TimeGrid.from_dict(grid.to_dict()) == grid
    assert list(grid.times()) == list(pd.date_range("2026-01-01", periods=4, freq="h"))
    with pytest.raises(TimestampError, match="fall between steps"):
        grid.steps(pd.Series(pd.to_datetime(["2026-01-01 00:30"])))
    with pytest.raises(TimestampError, match="time-zone aware"):
        grid.steps(pd.Series(pd.to_datetime(["2026-01-01 00:00"]).tz_localize("UTC")))
    with pytest.raises(TimestampError, match="two distinct"):
        TimeGrid.fit(times.iloc[[0]])


def test_path_levels_follow_the_nesting(telemetry):
    cm = CountModel("errors", "requests", time="timestamp",
                    groups=["region", "service", "node"], latent="ar1", latent_by="service")
    design, _ = cm.prepare(telemetry)
    along = path_levels(cm.spec, design)
    assert set(along) == {"service", "region"}
    services = design.level("service")
    np.testing.assert_array_equal(along["region"], services.parent_index)


def _single_series(counts: np.ndarray, hours: int | None = None) -> pd.DataFrame:
    n = len(counts)
    return pd.DataFrame({
        "time": pd.date_range("2026-01-05", periods=n, freq="h"),
        "count": counts, "hours": 1.0,
    })


@pytest.mark.parametrize("latent", ["ar1", "ar1_laplace", "ar1_skew_laplace"])
def test_latent_log_density_is_the_ar1_density(latent):
    frame = _single_series(np.arange(6) + 3)
    cm = CountModel("count", "hours", time="time", latent=latent)
    design, prepared = cm.prepare(frame)
    model = build_model(cm.spec, design, prepared, {"latent": "centered"})
    point = model.initial_point()
    state = np.array([0.3, -0.2, 0.5, 0.1, 0.0, -0.4]) + point["intercept"]
    point["latent_state"] = state
    if latent == "ar1_skew_laplace":
        point["latent_skew"] = np.array(0.4)
    logp = model.compile_logp(vars=[model["latent_state"]], sum=True)(point)
    sd = float(np.exp(point["latent_sd_log__"]))
    rho = float(1 / (1 + np.exp(-point["latent_rho_logodds__"])))
    dev = state - point["intercept"]
    innovation = sd * np.sqrt(1 - rho**2)
    if latent == "ar1":
        ref = stats.norm(0, sd).logpdf(dev[0]) + stats.norm(
            rho * dev[:-1], innovation).logpdf(dev[1:]).sum()
    elif latent == "ar1_skew_laplace":
        kappa = np.exp(-point["latent_skew"])

        def ald(scale):  # zero mean, standard deviation ``scale``
            b = np.sqrt(1 + kappa**4) / (kappa * scale)
            return stats.laplace_asymmetric(kappa, loc=(kappa - 1 / kappa) / b, scale=1 / b)

        ref = ald(sd).logpdf(dev[0]) + ald(innovation).logpdf(dev[1:] - rho * dev[:-1]).sum()
    else:
        ref = stats.laplace(0, sd / np.sqrt(2)).logpdf(dev[0]) + stats.laplace(
            rho * dev[:-1], innovation / np.sqrt(2)).logpdf(dev[1:]).sum()
    np.testing.assert_allclose(logp, ref, rtol=1e-10)


def test_auto_parameterization_centres_data_rich_paths():
    rich = _single_series(np.full(50, 200))
    poor = _single_series(np.zeros(50, dtype=int) + (np.arange(50) % 7 == 0))
    for frame, expected in ((rich, "centered"), (poor, "non_centered")):
        cm = CountModel("count", "hours", time="time", latent="ar1")
        design, prepared = cm.prepare(frame)
        assert choose_parameterization(cm.spec, design, prepared)["latent"] == expected
    cm = CountModel("count", "hours", time="time", latent="ar1_laplace")
    design, prepared = cm.prepare(poor)
    assert choose_parameterization(cm.spec, design, prepared)["latent"] == "centered"


def test_prior_predictive_paths_have_the_stationary_spread():
    frame = _single_series(np.full(40, 10))
    cases = [(kind, "centered") for kind in ("ar1", "ar1_laplace", "ar1_skew_laplace")]
    for latent, how in [*cases, ("ar1", "non_centered")]:
        cm = CountModel("count", "hours", time="time", latent=latent)
        design, prepared = cm.prepare(frame)
        with build_model(cm.spec, design, prepared, {"latent": how}):
            prior = pm.sample_prior_predictive(
                draws=2000, random_seed=1, var_names=["latent", "latent_sd", "latent_rho"]
            )
        dev = prior["prior"]["latent"].values[0]
        sd = prior["prior"]["latent_sd"].values[0]
        rho = prior["prior"]["latent_rho"].values[0]
        # Standardised deviations at the first and last step: unit variance whatever
        # the draw; consecutive steps correlate by rho.
        z = dev / sd[:, None]
        assert abs(z[:, 0].std() - 1) < 0.06 and abs(z[:, -1].std() - 1) < 0.06, latent
        assert abs(np.mean(z[:, -1] * z[:, -2]) - rho.mean()) < 0.06, (latent, how)


@pytest.mark.parametrize("length", [1, 2, 37, 64])
def test_ar1_filter_is_the_recursion(length):
    import pytensor
    import pytensor.tensor as pt

    from bayescount.models.latent import ar1_filter

    shocks, rho = pt.matrix("shocks"), pt.scalar("rho")
    run = pytensor.function([shocks, rho], ar1_filter(shocks, rho, length),
                            on_unused_input="ignore")
    b = np.random.default_rng(0).normal(size=(3, length))
    expected = b.copy()
    for t in range(1, length):
        expected[:, t] = 0.8 * expected[:, t - 1] + b[:, t]
    np.testing.assert_allclose(run(b, 0.8), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("latent", [None, "ar1_skew_laplace"])
def test_prior_predictive_is_reproducible_and_quiet(latent):
    import warnings

    frame = _single_series(np.full(48, 30))
    model = CountModel("count", "hours", time="time", seasonality="daily", latent=latent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numba object-mode (or any other) warning
        first = model.prior_predictive(frame, draws=50, random_seed=4)
    again = model.prior_predictive(frame, draws=50, random_seed=4)
    y = first["prior_predictive"]["y"]
    assert y.sizes["draw"] == 50 and y.sizes["obs"] == 48
    np.testing.assert_array_equal(y.values, again["prior_predictive"]["y"].values)
    assert ("latent_sd" in first["prior"]) == (latent is not None)
