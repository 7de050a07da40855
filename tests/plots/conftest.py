"""Plot tests draw with the Agg backend and reuse the checks' fake fits."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))

from fakefit_helpers import simulated_fake  # noqa: E402


@pytest.fixture(scope="session")
def nb_model():
    model, frame, _ = simulated_fake("negative_binomial", seed=1, rate=1e-3)
    return model, frame


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
