"""bayescount: Bayesian hierarchical models of count telemetry.

The public API, in the order data flows::

    CountSchema, validate_frame      prepare
    CountModel, ModelSpec, Priors    specify, build and fit
    check_convergence, Prediction    convergence gate and predictions
    check_model, coverage_report     posterior predictive checks, calibrated coverage
    compare_families, select_family  LOO model comparison
    load                             read a saved fit back
"""

from bayescount.checks import (
    Comparison,
    CoverageReport,
    ModelCheck,
    check_model,
    compare_families,
    coverage_report,
    select_family,
)
from bayescount.count_model import CountModel
from bayescount.exceptions import (
    BayescountError,
    BayescountWarning,
    ConvergenceWarning,
    DataError,
    DataWarning,
    FitFileError,
    NotFittedError,
    SpecError,
)
from bayescount.inference import (
    ConvergenceReport,
    ConvergenceThresholds,
    Prediction,
    SamplerConfig,
    check_convergence,
)
from bayescount.io import load_fit as load
from bayescount.io import read_table
from bayescount.models import (
    Beta,
    Exponential,
    HalfNormal,
    HalfStudentT,
    ModelSpec,
    Normal,
    Priors,
    StudentT,
)
from bayescount.prep import CountSchema, Seasonality
from bayescount.prep.validate import validate_frame

__all__ = [
    "BayescountError",
    "BayescountWarning",
    "Beta",
    "Comparison",
    "ConvergenceReport",
    "ConvergenceThresholds",
    "ConvergenceWarning",
    "CountModel",
    "CountSchema",
    "CoverageReport",
    "DataError",
    "DataWarning",
    "Exponential",
    "FitFileError",
    "HalfNormal",
    "HalfStudentT",
    "ModelCheck",
    "ModelSpec",
    "Normal",
    "NotFittedError",
    "Prediction",
    "Priors",
    "SamplerConfig",
    "Seasonality",
    "SpecError",
    "StudentT",
    "check_convergence",
    "check_model",
    "compare_families",
    "coverage_report",
    "load",
    "read_table",
    "select_family",
    "validate_frame",
]
