"""The PyMC NUTS sampler is selectable and agrees with nutpie on a simple model."""

import numpy as np
import pandas as pd
import pytest

from bayescount import ConvergenceThresholds, CountModel


@pytest.mark.fit
def test_pymc_sampler_matches_nutpie_on_a_plain_poisson_regression():
    rng = np.random.default_rng(5)
    exposure = rng.uniform(100, 1000, 200)
    x = rng.normal(size=200)
    frame = pd.DataFrame(
        {"y": rng.poisson(exposure * np.exp(-4 + 0.5 * x)), "exposure": exposure, "x": x}
    )
    loose = ConvergenceThresholds(min_ess=100)
    means = {}
    for sampler in ("pymc", "nutpie"):
        model = CountModel("y", "exposure", covariates=["x"]).fit(
            frame, draws=300, tune=300, chains=2, random_seed=3, sampler=sampler,
            thresholds=loose, progressbar=False,
        )
        assert model.sampler_config_.sampler == sampler
        assert model.convergence_.divergences == 0
        post = model.idata_["posterior"]
        means[sampler] = (float(post["intercept"].mean()), float(post["beta"].mean()))
    # Same posterior, independent Monte Carlo error (posterior sds here are ~0.01-0.02).
    np.testing.assert_allclose(means["pymc"], means["nutpie"], atol=0.01)
    assert means["nutpie"][1] / 0.5 == pytest.approx(1, abs=0.1)
