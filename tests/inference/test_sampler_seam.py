"""The sampler seam: SamplerConfig validation and what fit hands to the sampling function."""

import importlib.util

import numpy as np
import pytest

from bayescount import CountModel, SamplerConfig, SpecError
from bayescount.exceptions import SamplerError
from bayescount.inference import run_sampler


def test_fit_hands_its_settings_to_the_sampling_function(telemetry, fake_sampler,
                                                         loose_thresholds):
    seen = {}

    def spy(model, config):
        seen["config"], seen["model"] = config, model
        return fake_sampler(model, config)

    model = CountModel("errors", "requests", groups=["region", "service"],
                       family="negative_binomial")
    fitted = model.fit(telemetry, draws=30, tune=70, chains=3, random_seed=9,
                       target_accept=0.9, log_likelihood=True, thresholds=loose_thresholds,
                       sample_fn=spy)
    assert fitted is model
    assert seen["config"] == SamplerConfig(draws=30, tune=70, chains=3, random_seed=9,
                                           target_accept=0.9, log_likelihood=True)
    assert fitted.sampler_config_ == seen["config"]
    assert {"region_effect", "service_effect", "alpha"} <= set(seen["model"].named_vars)
    assert fitted.idata_["posterior"].sizes["chain"] == 3
    assert fitted.parameterization_.keys() == {"region", "service"}
    assert fitted.convergence_.n_draws == 90


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sampler": "stan"}, r"'stan'.*\['nutpie', 'numpyro', 'pymc'\]"),
        ({"draws": 0}, "draws must be a positive integer"),
        ({"chains": 2.5}, "chains must be a positive integer"),
        ({"tune": -1}, "tune must be a positive integer"),
        ({"target_accept": 1.0}, "target_accept"),
        ({"target_accept": 0.3}, "target_accept"),
    ],
)
def test_invalid_sampler_settings(kwargs, match):
    with pytest.raises(SpecError, match=match):
        SamplerConfig(**kwargs)


def test_zero_tune_is_allowed():
    assert SamplerConfig(tune=0).tune == 0


def test_numpy_integers_are_accepted():
    config = SamplerConfig(draws=np.int64(100), tune=np.int32(50), chains=np.int64(2))
    assert (config.draws, config.tune, config.chains) == (100, 50, 2)


def test_a_sampler_that_is_not_installed_is_a_sampler_error(telemetry, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *args: None if name == "numpyro" else real_find_spec(name, *args),
    )
    model = CountModel("errors", "requests", groups=["region"]).build(telemetry)
    with pytest.raises(SamplerError, match="'numpyro' is not installed.*'nutpie'"):
        run_sampler(model, SamplerConfig(sampler="numpyro"))
