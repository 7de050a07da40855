"""Fixtures of the checks tests: fake fits (no sampling) shared per session."""

from __future__ import annotations

import pytest
from fakefit_helpers import simulated_fake


@pytest.fixture(scope="session")
def nb_fake():
    """(model, frame, truth): negative binomial telemetry and a fake fit at its truth."""
    return simulated_fake("negative_binomial", seed=1, rate=2e-3, alpha=3.0)


@pytest.fixture(scope="session")
def zip_data_poisson_fake():
    """Zero-inflated data (psi 0.6) with a Poisson fake fit at the count-part truth."""
    from fakefit_helpers import fake_fit

    from bayescount.testing import simulate_telemetry

    sim = simulate_telemetry(family="zero_inflated_poisson", psi=0.6, rate=2e-3, seed=2)
    return fake_fit(sim.frame, sim.truth, family="poisson"), sim.frame, sim.truth
