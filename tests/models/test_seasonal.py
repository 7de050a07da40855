"""The Fourier block sampled in its information axes: exact, and diagonal where it matters.

The rotation ``fourier = V @ fourier_free`` (:mod:`bayescount.models.seasonal`) must not
change the posterior: with ``V`` orthogonal and the isotropic ``Normal(0, sigma)``
prior, the rotated model's log density at ``V^T beta`` equals the unrotated model's
at ``beta``. And it must do its job: in the rotated axes the information-weighted
cross-product of the Fourier rows is diagonal.
"""

import numpy as np
import pytest
from pytensor.compile.mode import Mode

from bayescount import CountModel
from bayescount.models import (
    Normal,
    Priors,
    StudentT,
    build_model,
    choose_parameterization,
    seasonal,
)
from bayescount.models.seasonal import FOURIER_FREE, fourier_rotation
from bayescount.prep.seasonality import information_weights

FAST = Mode(linker="py", optimizer=None)
OPTIONS = {"groups": ["region", "service", "node"], "time": "timestamp",
           "seasonality": "daily,weekly"}


def prepare(frame, family="poisson", **extra):
    cm = CountModel("errors", "requests", family=family, **OPTIONS, **extra)
    design, prepared = cm.prepare(frame)
    return cm, design, prepared


def test_rotation_is_orthogonal_and_diagonalises_the_information(telemetry):
    _, _, prepared = prepare(telemetry)
    V = fourier_rotation(prepared)
    k = prepared.fourier.shape[1]
    assert V.shape == (k, k)
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=1e-12)
    w = information_weights(prepared.counts, prepared.exposure)
    F = prepared.fourier
    information = (F * w[:, None]).T @ F
    rotated = V.T @ information @ V
    off = rotated - np.diag(np.diag(rotated))
    assert np.abs(off).max() < 1e-9 * np.abs(rotated).max()
    assert np.all(np.diff(np.diag(rotated)) <= 1e-9 * rotated[0, 0])  # decreasing
    # Unrotated, the block is far from diagonal (the telemetry spans less than a week).
    off_raw = information - np.diag(np.diag(information))
    assert np.abs(off_raw).max() > 0.1 * np.abs(np.diag(information)).max()
    # Deterministic: each axis signed so that its largest entry is positive.
    assert np.all(V[np.argmax(np.abs(V), axis=0), np.arange(k)] > 0)
    np.testing.assert_array_equal(fourier_rotation(prepared), V)


@pytest.mark.parametrize("family", ["poisson", "negative_binomial"])
@pytest.mark.parametrize("compress", [True, False])
def test_rotated_log_density_equals_the_unrotated_one(telemetry, monkeypatch, family, compress):
    cm, design, prepared = prepare(telemetry, family)
    how = choose_parameterization(cm.spec, design, prepared)
    rotated = build_model(cm.spec, design, prepared, how, compress=compress)
    monkeypatch.setattr(seasonal, "rotatable", lambda prior: False)
    plain = build_model(cm.spec, design, prepared, how, compress=compress)
    assert FOURIER_FREE in rotated.named_vars and FOURIER_FREE not in plain.named_vars
    assert "fourier" in {v.name for v in plain.free_RVs}
    V = fourier_rotation(prepared)
    f_rot = rotated.compile_fn(rotated.logp(), mode=FAST)
    f_plain = plain.compile_fn(plain.logp(), mode=FAST)
    (fourier_value,) = rotated.replace_rvs_by_values([rotated["fourier"]])
    fourier_of = rotated.compile_fn(fourier_value, inputs=rotated.value_vars, mode=FAST,
                                    on_unused_input="ignore")
    rng = np.random.default_rng(3)
    start = plain.initial_point()
    logps = []
    for _ in range(5):
        point = {k: v + rng.normal(0.0, 0.5, size=np.shape(v)) for k, v in start.items()}
        beta = point["fourier"]
        moved = {k: v for k, v in point.items() if k != "fourier"}
        moved[FOURIER_FREE] = V.T @ beta
        np.testing.assert_allclose(fourier_of(moved), beta, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f_rot(moved), f_plain(point), rtol=1e-10)
        logps.append(f_plain(point))
    assert np.ptp(logps) > 1.0  # the points differ: a real comparison


def test_a_prior_that_is_not_rotation_invariant_is_sampled_unrotated(telemetry):
    for prior in (StudentT(4.0, 0.0, 1.0), Normal(0.5, 1.0)):
        cm, design, prepared = prepare(telemetry, priors=Priors(seasonality=prior))
        model = build_model(cm.spec, design, prepared)
        assert "fourier" in {v.name for v in model.free_RVs}
        assert FOURIER_FREE not in model.named_vars


def test_the_rotated_coefficients_have_the_prior_of_the_coefficients(telemetry):
    cm, design, prepared = prepare(telemetry, priors=Priors(seasonality=Normal(0.0, 0.3)))
    model = build_model(cm.spec, design, prepared, compress=False)
    free = model[FOURIER_FREE]
    assert free.owner.op.name == "normal"
    mu, sigma = (np.unique(np.asarray(x.eval())) for x in free.owner.inputs[-2:])
    assert mu.tolist() == [0.0] and sigma == pytest.approx([0.3])
    assert model.named_vars_to_dims[FOURIER_FREE] == (f"{FOURIER_FREE}_dim",)
    assert model.named_vars_to_dims["fourier"] == ("fourier_term",)
