"""bayescount: Bayesian hierarchical models of count telemetry.

The public API, in the order data flows::

    CountSchema, validate_frame      prepare
    CountModel, ModelSpec, Priors    specify, build and fit
    check_convergence, Prediction    convergence gate and predictions
    check_model, coverage_report     posterior predictive checks, calibrated coverage
    compare_families, select_family  LOO model comparison
    forecast_burn, detect_anomalies  decisions: SLO burn, anomaly flags,
    attribute_incident, forecast_capacity   postmortem attribution, capacity
    load                             read a saved fit back
"""

from bayescount.checks import (
    BacktestReport,
    Comparison,
    CoverageReport,
    ModelCheck,
    check_model,
    compare_families,
    coverage_report,
    select_family,
)
from bayescount.checks.backtest import backtest
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
from bayescount.forecast import (
    AnomalyReport,
    Attribution,
    BurnForecast,
    CapacityForecast,
    ObservedSoFar,
    SLOSpec,
    attribute_incident,
    detect_anomalies,
    forecast_burn,
    forecast_capacity,
    future_from_history,
    load_openslo,
    mask_incident,
    scale_traffic,
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
    "AnomalyReport",
    "Attribution",
    "BacktestReport",
    "BayescountError",
    "BayescountWarning",
    "Beta",
    "BurnForecast",
    "CapacityForecast",
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
    "ObservedSoFar",
    "Prediction",
    "Priors",
    "SLOSpec",
    "SamplerConfig",
    "Seasonality",
    "SpecError",
    "StudentT",
    "attribute_incident",
    "backtest",
    "check_convergence",
    "check_model",
    "compare_families",
    "coverage_report",
    "detect_anomalies",
    "forecast_burn",
    "forecast_capacity",
    "future_from_history",
    "load",
    "load_openslo",
    "mask_incident",
    "read_table",
    "scale_traffic",
    "select_family",
    "validate_frame",
]
