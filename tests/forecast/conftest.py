"""Fixtures for the forecast tests (fake fits on the simulation's truth, see forecast_fakes)."""

from __future__ import annotations

import pytest
from forecast_fakes import truth_fit

from bayescount import CountModel
from bayescount.testing import simulate_telemetry


@pytest.fixture(scope="session")
def sim_nb():
    """2 regions x 2 services x 2 nodes, 96 five-minute windows, NB errors."""
    return simulate_telemetry(2, 2, 2, 96, family="negative_binomial", alpha=20.0, seed=11)


@pytest.fixture(scope="session")
def nb_truth_model(sim_nb) -> CountModel:
    """A NB model fitted (truth sampler) on ``sim_nb``."""
    return truth_fit(sim_nb.frame, sim_nb.truth)
