"""Run a PyMC model to an ``xarray.DataTree``, check convergence, draw predictions.

:func:`run_fits` is the one fitting driver: :class:`FitJob` s in, results out, through
an executor (:mod:`~bayescount.inference.executors`: this process, local processes or
Dask). :class:`CompiledSampler` compiles a model once and refits it on other data
(backtests, SBC); :mod:`~bayescount.inference.predictive_cdf` holds the analytic
predictive CDFs, tails and quantiles of count mixtures.
"""

from bayescount.inference.compiled import CompiledSampler, data_updates
from bayescount.inference.convergence import (
    ConvergenceReport,
    ConvergenceThresholds,
    check_convergence,
    gate_colour,
)
from bayescount.inference.driver import FitJob, FitResult, run_fits
from bayescount.inference.executors import (
    EXECUTORS,
    JobExecutor,
    open_executor,
    resolve_executor,
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
    "CompiledSampler",
    "ConvergenceReport",
    "ConvergenceThresholds",
    "EXECUTORS",
    "Fit",
    "FitJob",
    "FitResult",
    "JobExecutor",
    "Prediction",
    "PredictiveParameters",
    "SAMPLERS",
    "SamplerConfig",
    "as_fit",
    "check_convergence",
    "data_updates",
    "fit_table",
    "gate_colour",
    "open_executor",
    "predictive_parameters",
    "resolve_executor",
    "run_fits",
    "run_sampler",
    "sample_counts",
]
