"""build_model: coords, dims, data containers, finite logp/gradient, zero-sum effects."""

import numpy as np
import pymc as pm
import pytest
from pytensor.compile.mode import Mode

from bayescount import CountModel
from bayescount.models import FAMILIES, build_model

# Structure tests evaluate each graph once: compile without rewrites or C code.
FAST = Mode(linker="py", optimizer=None)
LEVELS = ("region", "service", "node")
RICH = {
    "time": "timestamp",
    "covariates": ["load", "tier", "load:tier"],
    "seasonality": "daily,weekly",
}


def count_model(family="poisson", *, rich=False, groups=LEVELS, **options) -> CountModel:
    return CountModel(
        "errors", "requests", groups=list(groups), family=family, **(RICH if rich else {}),
        **options,
    )


def logp_and_gradient(model: pm.Model):
    """logp and its gradient at the initial point, compiled in one function."""
    point = model.initial_point()
    fn = model.compile_fn([model.logp(), model.dlogp()], mode=FAST)
    return fn(point)


def prior_draws(model: pm.Model, draws: int = 4):
    with model:
        tree = pm.sample_prior_predictive(
            draws=draws, random_seed=11, compile_kwargs={"mode": FAST}
        )
    return tree["prior"].to_dataset()


def assert_zero_sum_within_parents(effects: np.ndarray, parent_index, n_parents: int):
    """``effects`` (..., label): each parent's children sum to zero in every draw."""
    onehot = np.eye(n_parents)[np.asarray(parent_index)]  # (label, parent)
    sums = effects @ onehot
    np.testing.assert_allclose(sums, 0.0, atol=1e-12 * max(1.0, np.abs(effects).max()))
    # ... and they are not trivially zero.
    assert np.abs(effects).max() > 1e-3


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("rich", [False, True], ids=["plain", "covariates+seasonality"])
@pytest.mark.parametrize("family", FAMILIES)
def test_coords_dims_and_data_containers(telemetry, family, rich):
    cm = count_model(family, rich=rich)
    design, prepared = cm.prepare(telemetry)
    # The per-row layout (tests/models/test_compression.py covers the compressed one).
    model = build_model(cm.spec, design, prepared, compress=False)
    coords = {k: list(v) for k, v in model.coords.items()}
    dims = model.named_vars_to_dims

    assert coords["obs"] == list(range(len(telemetry)))
    sizes = telemetry.groupby("service")["node"].nunique()
    assert sorted(sizes) == [1, 1, 1, 1, 4, 4]  # unbalanced, with single-child parents
    assert coords["region"] == ["r0", "r1"]
    assert coords["service"] == sorted(telemetry["service"].unique())
    assert sorted(coords["node"]) == sorted(telemetry["node"].unique())
    # One free value per child, minus one per parent.
    assert len(coords["region_free_dim"]) == 2 - 1
    assert len(coords["service_free_dim"]) == 6 - 2
    assert len(coords["node_free_dim"]) == telemetry["node"].nunique() - 6
    for level in LEVELS:
        assert dims[f"{level}_effect"] == (level,)
        assert dims[f"{level}_free"] == (f"{level}_free_dim",)
        assert dims[f"{level}_idx"] == ("obs",)
        assert f"{level}_sd" in model.named_vars

    data = {v.name for v in model.data_vars}
    assert {"log_exposure", "y_obs", *(f"{lv}_idx" for lv in LEVELS)} <= data
    np.testing.assert_allclose(model["log_exposure"].get_value(), np.log(telemetry["requests"]))
    np.testing.assert_array_equal(model["y_obs"].get_value(), telemetry["errors"])
    if rich:
        assert {"X", "F_times", "fourier_idx"} <= data
        assert coords["covariate"] == ["load", "tier[lo]", "load:tier[lo]"]
        assert coords["fourier_term"] == [
            *(f"daily_{f}{k}" for k in (1, 2, 3) for f in ("sin", "cos")),
            *(f"weekly_{f}{k}" for k in (1, 2) for f in ("sin", "cos")),
        ]
        assert dims["X"] == ("obs", "covariate")
        assert dims["F_times"] == ("fourier_time", "fourier_term")
        assert dims["fourier_idx"] == ("obs",)
        f_times, f_idx = model["F_times"].get_value(), model["fourier_idx"].get_value()
        np.testing.assert_array_equal(f_times[f_idx], prepared.fourier)
        assert dims["beta"] == ("covariate",)
        assert dims["fourier"] == ("fourier_term",)
    else:
        assert not {"X", "F", "beta", "fourier"} & set(model.named_vars)
        assert "covariate" not in coords and "fourier_term" not in coords
    assert ("alpha" in model.named_vars) == family.endswith("negative_binomial")
    assert ("psi" in model.named_vars) == family.startswith("zero_inflated")


@pytest.mark.parametrize("family", FAMILIES)
def test_logp_and_gradient_are_finite_at_the_initial_point(telemetry, family):
    model = count_model(family, rich=True).build(telemetry)
    logp, grad = logp_and_gradient(model)
    assert np.isfinite(logp)
    n_free = sum(np.size(v) for v in model.initial_point().values())
    assert grad.shape == (n_free,)
    assert np.all(np.isfinite(grad))
    assert np.any(grad != 0)


@pytest.mark.parametrize("family", FAMILIES)
def test_group_effects_sum_to_zero_within_each_parent(telemetry, family):
    cm = count_model(family, rich=True)
    design, prepared = cm.prepare(telemetry)
    draws = prior_draws(build_model(cm.spec, design, prepared))
    for level in design.levels:
        assert_zero_sum_within_parents(
            draws[f"{level.name}_effect"].values, level.parent_index, level.n_parents
        )


def test_crossed_groups_have_one_parent_per_factor(telemetry):
    cm = count_model(groups=("region", "tier"), nesting="crossed")
    design, prepared = cm.prepare(telemetry)
    model = build_model(cm.spec, design, prepared)
    assert [lv.parent for lv in design.levels] == [None, None]
    for level in design.levels:
        assert level.n_parents == 1
        assert len(model.coords[f"{level.name}_free_dim"]) == len(level.labels) - 1
    draws = prior_draws(model)
    for level in design.levels:
        effects = draws[f"{level.name}_effect"].values
        np.testing.assert_allclose(effects.sum(-1), 0.0, atol=1e-12)


def test_crossed_service_and_node_do_not_nest(telemetry):
    # The same labels as the nested model, but node effects sum to zero over all nodes.
    cm = count_model(groups=("service", "node"), nesting="crossed")
    design, prepared = cm.prepare(telemetry)
    model = build_model(cm.spec, design, prepared)
    n_nodes = telemetry["node"].nunique()
    assert len(model.coords["node_free_dim"]) == n_nodes - 1
    assert design.level("node").parent is None


def test_model_without_groups_is_a_plain_regression(telemetry):
    model = count_model(groups=(), covariates=["load"]).build(telemetry, compress=False)
    assert set(model.coords) == {"obs", "covariate"}
    assert {v.name for v in model.free_RVs} == {"intercept", "beta"}
    logp, grad = logp_and_gradient(model)
    assert np.isfinite(logp) and grad.shape == (2,) and np.all(np.isfinite(grad))


def test_dispersion_by_service_gives_one_alpha_per_service(telemetry):
    model = count_model("negative_binomial", dispersion_by="service").build(telemetry)
    assert model.named_vars_to_dims["alpha"] == ("service",)
    assert model.named_vars_to_dims["inv_sqrt_alpha"] == ("service",)
    assert len(model.coords["service"]) == 6


def test_default_dispersion_is_a_scalar(telemetry):
    model = count_model("negative_binomial").build(telemetry)
    assert model.named_vars_to_dims.get("alpha") in (None, ())
    assert model["alpha"].ndim == 0


@pytest.mark.parametrize("scales", [False, True])
def test_row_dispersion_in_the_graph(telemetry, scales):
    """The NB shape of each row: alpha[service], times exposure / median when it scales."""
    cm = count_model(
        "negative_binomial", dispersion_by="service", dispersion_scales_with_exposure=scales
    )
    design, prepared = cm.prepare(telemetry)
    model = build_model(cm.spec, design, prepared)
    n_obs = model["y"].owner.inputs[2]  # NegativeBinomial(n=alpha_row, p)
    fn = model.compile_fn(
        model.replace_rvs_by_values([n_obs, model["alpha"]]),
        inputs=model.value_vars,
        mode=FAST,
        on_unused_input="ignore",
    )
    alpha_row, alpha = fn(model.initial_point() | {"inv_sqrt_alpha_log__": np.linspace(-1, 1, 6)})
    expected = alpha[prepared.group_codes["service"]]
    if scales:
        expected = expected * prepared.exposure / np.median(telemetry["requests"])
    np.testing.assert_allclose(alpha_row, expected, rtol=1e-12)
    assert len(np.unique(alpha)) == 6
