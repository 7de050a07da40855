"""The numpy prediction path evaluates the same linear predictor as the PyMC graph.

``predictive_parameters`` re-implements the builder's ``log mu`` in numpy (to draw
unseen groups per draw). These tests pin the two together: for joint prior draws of
every parameter, ``mu`` from numpy equals ``mu`` evaluated in the model's own graph,
and the pointwise log-likelihood from the numpy ``mu``/``alpha``/``psi`` equals the
model's (which pins the dispersion and zero-inflation parameters too).
"""

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from pytensor.compile.mode import Mode
from pytensor.graph.traversal import ancestors
from pytensor.scalar import Exp
from scipy import stats

from bayescount import CountModel, validate_frame
from bayescount.inference import predictive_parameters
from bayescount.inference.loglik import count_logpmf
from bayescount.models import FAMILIES, build_model

FAST = {"mode": Mode(linker="py", optimizer=None)}
LEVELS = ["region", "service", "node"]


def graph_mu(model: pm.Model):
    """The ``mu = exp(eta)`` node of the observation distribution in the model's graph."""
    y, intercept = model["y"], model["intercept"]
    found = [
        v
        for v in ancestors([y])
        if v.owner is not None
        and isinstance(getattr(v.owner.op, "scalar_op", None), Exp)
        and intercept in set(ancestors([v]))
    ]
    assert len(found) == 1, found
    return found[0]


def prior_with_graph_mu(cm, design, prepared):
    """The built model and 6 joint prior draws, with the graph's ``mu`` as ``mu_graph``."""
    # The per-row graph (a compressed Poisson likelihood has no per-row mu).
    model = build_model(cm.spec, design, prepared, compress=False)
    with model:
        pm.Deterministic("mu_graph", graph_mu(model), dims="obs")
        prior = pm.sample_prior_predictive(draws=6, random_seed=7, compile_kwargs=FAST)
    return model, prior["prior"].to_dataset()


SCALED = {"dispersion_by": "service", "dispersion_scales_with_exposure": True}
# Every family; the NB one with the per-service, exposure-scaled dispersion.
SPEC_CASES = [
    pytest.param(family, SCALED if family == "negative_binomial" else {}, id=family)
    for family in FAMILIES
]


def count_model(family, **options):
    return CountModel(
        "errors", "requests", time="timestamp", groups=LEVELS, family=family,
        covariates=["load", "tier", "load:tier"], seasonality="daily,weekly", **options,
    )


def numpy_log_likelihood(y, params) -> np.ndarray:
    """The pointwise log-likelihood fits store (computed after sampling, in numpy)."""
    alpha = None if params.alpha is None else params.alpha.values
    psi = None if params.psi is None else params.psi.values
    return count_logpmf(y, params.mu.values, alpha, psi)


@pytest.mark.parametrize(("family", "options"), SPEC_CASES)
def test_numpy_mu_and_likelihood_equal_the_graph(telemetry, family, options):
    cm = count_model(family, **options)
    design, prepared = cm.prepare(telemetry)
    model, draws = prior_with_graph_mu(cm, design, prepared)
    with model:
        loglik = pm.compute_log_likelihood(
            xr.DataTree.from_dict({"posterior": draws}),
            extend_inferencedata=False, progressbar=False, compile_kwargs=FAST,
        )["y"].values

    params = predictive_parameters(
        draws, cm.spec, design, prepared, rng=np.random.default_rng(0)
    )
    mu_graph = draws["mu_graph"].values
    assert params.mu.dims == ("chain", "draw", "obs")
    assert params.mu.shape == mu_graph.shape == (1, 6, len(telemetry))
    # The prior draws spread mu over orders of magnitude: a real comparison.
    assert np.ptp(np.log(mu_graph)) > 5
    np.testing.assert_allclose(params.mu.values, mu_graph, rtol=1e-10)
    # scipy's and PyMC's NB log-pmf differ by rounding: ~1e-11 relative.
    np.testing.assert_allclose(numpy_log_likelihood(prepared.counts, params), loglik, rtol=1e-9)
    assert (params.alpha is not None) == family.endswith("negative_binomial")
    assert (params.psi is not None) == family.startswith("zero_inflated")


@pytest.fixture(scope="module")
def prior_fit(telemetry):
    """400 joint prior draws of a NB model (dispersion by service) as a 'posterior'."""
    cm = count_model("negative_binomial", dispersion_by="service")
    design, prepared = cm.prepare(telemetry)
    with build_model(cm.spec, design, prepared):
        prior = pm.sample_prior_predictive(
            draws=400, random_seed=3, compile_kwargs={"mode": "FAST_COMPILE"}
        )
    return cm, design, prior["prior"].to_dataset()


def encode(cm, design, rows):
    return design.transform(validate_frame(rows, cm.schema, for_prediction=True),
                            for_prediction=True)


def test_unseen_labels_draw_effects_from_the_population(prior_fit, telemetry):
    cm, design, draws = prior_fit
    base = telemetry.iloc[[0]].drop(columns="errors")
    known = base["node"].iloc[0]
    rows = pd.concat([base, base.assign(node="new-a"), base.assign(node="new-a"),
                      base.assign(node="new-b")], ignore_index=True)
    data = encode(cm, design, rows)
    params = predictive_parameters(draws, cm.spec, design, data, rng=np.random.default_rng(1))
    log_mu = np.log(params.mu.values.reshape(-1, 4))
    node_effect = draws["node_effect"].sel(node=known).values.reshape(-1)
    sd = draws["node_sd"].values.reshape(-1)
    # Same label, same draw; different new labels, independent draws.
    np.testing.assert_array_equal(log_mu[:, 1], log_mu[:, 2])
    new_a = log_mu[:, 1] - log_mu[:, 0] + node_effect
    new_b = log_mu[:, 3] - log_mu[:, 0] + node_effect
    # Given node_sd, a new node's effect is Normal(0, node_sd): z is standard normal.
    for z in (new_a / sd, new_b / sd):
        assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(new_a / sd, new_b / sd)[0, 1]) < 0.15


def test_unseen_dispersion_group_draws_alpha_from_the_prior(prior_fit, telemetry):
    cm, design, draws = prior_fit
    base = telemetry.iloc[[0]].drop(columns="errors")
    rows = pd.concat([base, base.assign(service="r0-new", node="r0-new-n0")], ignore_index=True)
    data = encode(cm, design, rows)
    params = predictive_parameters(draws, cm.spec, design, data, rng=np.random.default_rng(2))
    alpha = params.alpha.values.reshape(-1, 2)
    known = draws["alpha"].sel(service=base["service"].iloc[0]).values.reshape(-1)
    np.testing.assert_array_equal(alpha[:, 0], known)
    # inv_sqrt_alpha ~ HalfNormal(1) a priori.
    assert stats.kstest(1.0 / np.sqrt(alpha[:, 1]), stats.halfnorm().cdf).pvalue > 1e-3


def test_unseen_error_refuses_new_labels(prior_fit, telemetry):
    from bayescount.exceptions import UnknownGroupError

    cm, design, draws = prior_fit
    rows = telemetry.iloc[[0]].drop(columns="errors").assign(node="r0-s0-new")
    data = encode(cm, design, rows)
    with pytest.raises(UnknownGroupError, match="r0-s0-new"):
        predictive_parameters(draws, cm.spec, design, data, unseen="error",
                              rng=np.random.default_rng(0))


LATENT_CASES = [
    pytest.param({"latent": "ar1"}, id="ar1-centered-per-node"),
    pytest.param({"latent": "ar1", "parameterization": {"latent": "non_centered"}},
                 id="ar1-non-centered"),
    pytest.param({"latent": "ar1_laplace", "latent_by": "service"}, id="laplace-per-service"),
]


@pytest.mark.parametrize("options", LATENT_CASES)
def test_numpy_mu_equals_the_graph_with_a_latent_level(telemetry, options):
    """Centered latent states carry intercept, path effects and seasonality; numpy adds
    the recorded deviations to the usual predictor: the two must agree."""
    cm = count_model("poisson", **options)
    design, prepared = cm.prepare(telemetry)
    model, draws = prior_with_graph_mu(cm, design, prepared)
    params = predictive_parameters(draws, cm.spec, design, prepared,
                                   rng=np.random.default_rng(0))
    # The latent level moves mu: without it numpy would not match.
    assert np.ptp(draws["latent"].values) > 0.1
    np.testing.assert_allclose(params.mu.values, draws["mu_graph"].values, rtol=1e-10)
