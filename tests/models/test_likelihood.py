"""The fused observation densities equal PyMC's own distributions exactly (not up to a constant).

The reference model is the same ``build_model`` graph (same priors, same value variables)
with the observed variable made by ``pm.Poisson`` / ``pm.NegativeBinomial`` as before the
fused densities; both are compiled with PyTensor's default rewrites and evaluated at random
points of the unconstrained space: the joint log density, its gradient and the pointwise
log-likelihood (what LOO reads) must agree to rounding.
"""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import bayescount.models.builder as builder
from bayescount import CountModel
from bayescount.models import build_model
from bayescount.models.likelihood import log_factorial

LEVELS = ["region", "service", "node"]


def _reference_observe(spec, mu, alpha, psi, counts, log_fact, dims):
    """The observed variable as PyMC's distributions (the pre-fusion builder)."""
    kwargs = {"mu": mu, "observed": counts, "dims": dims}
    if spec.is_negative_binomial:
        kwargs["alpha"] = alpha
    if spec.is_zero_inflated:
        kwargs["psi"] = psi
    dist = {
        "poisson": pm.Poisson,
        "negative_binomial": pm.NegativeBinomial,
        "zero_inflated_poisson": pm.ZeroInflatedPoisson,
        "zero_inflated_negative_binomial": pm.ZeroInflatedNegativeBinomial,
    }[spec.family]
    return dist("y", **kwargs)


def _models(telemetry, monkeypatch, family, **options):
    cm = CountModel("errors", "requests", groups=LEVELS, family=family, **options)
    design, prepared = cm.prepare(telemetry)
    # The per-row graphs (tests/models/test_compression.py covers the compressed ones).
    fused = build_model(cm.spec, design, prepared, compress=False)
    with monkeypatch.context() as patch:
        patch.setattr(builder, "observe", _reference_observe)
        reference = build_model(cm.spec, design, prepared, compress=False)
    return fused, reference


def _random_points(model: pm.Model, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    start = model.initial_point()
    return [
        {k: rng.normal(0.0, 0.7, size=np.shape(v)) for k, v in start.items()} for _ in range(n)
    ]


CASES = {
    "poisson": ("poisson", {}),
    "poisson+seasonality": ("poisson", {"time": "timestamp", "seasonality": "daily,weekly"}),
    "nb": ("negative_binomial", {}),
    "nb+seasonality": (
        "negative_binomial", {"time": "timestamp", "seasonality": "daily,weekly"}
    ),
    "nb+dispersion_by": ("negative_binomial", {"dispersion_by": "service"}),
    "nb+dispersion_scales": (
        "negative_binomial",
        {"dispersion_by": "service", "dispersion_scales_with_exposure": True},
    ),
    "poisson+latent ar1": ("poisson", {"time": "timestamp", "latent": "ar1"}),
    "nb+seasonality+latent ar1 by node": (
        "negative_binomial",
        {"time": "timestamp", "seasonality": "daily", "latent": "ar1", "latent_by": "node"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fused_density_equals_pymc_distribution(telemetry, monkeypatch, case):
    family, options = CASES[case]
    fused, reference = _models(telemetry, monkeypatch, family, **options)
    assert set(fused.initial_point()) == set(reference.initial_point())
    # The fused graph really is the custom density (else this test compares PyMC to itself).
    assert "CustomDist" in type(fused["y"].owner.op).__name__
    assert "CustomDist" not in type(reference["y"].owner.op).__name__

    def compiled(model):
        return model.compile_fn(
            [model.logp(), model.dlogp(), model.logp(vars=[model["y"]], sum=False)[0]]
        )

    f_fused, f_ref = compiled(fused), compiled(reference)
    for point in _random_points(fused, 4, seed=len(case)):
        logp, grad, pointwise = f_fused(point)
        logp_ref, grad_ref, pointwise_ref = f_ref(point)
        assert pointwise.shape == (len(telemetry),)
        np.testing.assert_allclose(logp, logp_ref, rtol=1e-10, atol=1e-8)
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(pointwise, pointwise_ref, rtol=1e-10, atol=1e-10)


def test_pointwise_density_is_the_exact_pmf(telemetry):
    """Per row, the fused NB density is scipy's NB2 log pmf (including log y!)."""
    cm = CountModel("errors", "requests", groups=LEVELS, family="negative_binomial",
                    dispersion_by="service")
    model = cm.build(telemetry)
    rng = np.random.default_rng(7)
    point = {k: rng.normal(0.0, 0.5, size=np.shape(v))
             for k, v in model.initial_point().items()}
    mu_alpha = model.compile_fn(
        model.replace_rvs_by_values([model["y"].owner.inputs[1], model["y"].owner.inputs[2]]),
        inputs=model.value_vars, on_unused_input="ignore",
    )
    mu, alpha = mu_alpha(point)
    pointwise = model.compile_fn(
        model.logp(vars=[model["y"]], sum=False)[0],
        inputs=model.value_vars, on_unused_input="ignore",
    )(point)
    y = telemetry["errors"].to_numpy()
    expected = stats.nbinom.logpmf(y, alpha, alpha / (alpha + mu))
    np.testing.assert_allclose(pointwise, expected, rtol=1e-9)
    assert y.max() > 1  # log y! matters


def test_log_factorial_is_exact_for_large_counts():
    y = np.array([0, 1, 2, 10, 2**31, 2**53])
    np.testing.assert_array_equal(log_factorial(y)[:3], [0.0, 0.0, np.log(2.0)])
    np.testing.assert_allclose(log_factorial(y)[3], np.log(3628800.0), rtol=1e-15)
    assert log_factorial(None) is None
    assert np.all(np.isfinite(log_factorial(y)))
