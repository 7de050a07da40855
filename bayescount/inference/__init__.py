"""Run a PyMC model to an ``xarray.DataTree``, check convergence, draw predictions."""

from bayescount.inference.convergence import (
    ConvergenceReport,
    ConvergenceThresholds,
    check_convergence,
)
from bayescount.inference.predict import (
    Prediction,
    PredictiveParameters,
    predictive_parameters,
    sample_counts,
)
from bayescount.inference.sampling import SAMPLERS, SamplerConfig, run_sampler

__all__ = [
    "SAMPLERS",
    "ConvergenceReport",
    "ConvergenceThresholds",
    "Prediction",
    "PredictiveParameters",
    "SamplerConfig",
    "check_convergence",
    "predictive_parameters",
    "run_sampler",
    "sample_counts",
]
