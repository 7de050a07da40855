"""Run a PyMC model to an ``xarray.DataTree``, check convergence, draw predictions.

:class:`CompiledSampler` compiles a model once and refits it on other data (backtests,
SBC); :mod:`~bayescount.inference.predictive_cdf` holds the analytic predictive CDFs,
tails and quantiles of count mixtures.
"""

from bayescount.inference.compiled import CompiledSampler, data_updates
from bayescount.inference.convergence import (
    ConvergenceReport,
    ConvergenceThresholds,
    check_convergence,
)
from bayescount.inference.fit import Fit, as_fit, fit_table
from bayescount.inference.predict import (
    Prediction,
    PredictiveParameters,
    predictive_parameters,
    sample_counts,
)
from bayescount.inference.sampling import SAMPLERS, SamplerConfig, run_sampler

__all__ = [
    "SAMPLERS",
    "CompiledSampler",
    "ConvergenceReport",
    "ConvergenceThresholds",
    "Fit",
    "Prediction",
    "PredictiveParameters",
    "SamplerConfig",
    "as_fit",
    "check_convergence",
    "data_updates",
    "fit_table",
    "predictive_parameters",
    "run_sampler",
    "sample_counts",
]
