"""bayescount: Bayesian hierarchical models of count telemetry.

The public API, in the order data flows::

    CountSchema, validate_frame      prepare
    CountModel, ModelSpec, Priors    specify, build and fit
    Fit                              the frozen result every check and forecast takes
    check_convergence, Prediction    convergence gate and predictions
    check_model, coverage_report     posterior predictive checks, calibrated coverage
    compare_families, select_family  LOO model comparison
    forecast_burn, detect_anomalies  decisions: SLO burn, anomaly flags,
    attribute_incident, forecast_capacity   postmortem attribution, capacity
    save, load                       write a fit to one file, read it back
    read_table, read_prometheus      read counts from CSV/Parquet or a Prometheus server
    report                           one HTML or Markdown report of a fit
    make_example_fleet, load_example_fleet   a synthetic fleet with known truth

Names are imported on first use (PEP 562), so ``import bayescount`` and the command
line's ``--help`` do not pay for PyMC, PyTensor and ArviZ until something needs them.
"""

import importlib as _importlib

#: Public name -> (module, attribute).
_EXPORTS: dict[str, tuple[str, str]] = {
    "AnomalyReport": ("bayescount.forecast", "AnomalyReport"),
    "Attribution": ("bayescount.forecast", "Attribution"),
    "BacktestReport": ("bayescount.checks", "BacktestReport"),
    "BayescountError": ("bayescount.exceptions", "BayescountError"),
    "BayescountWarning": ("bayescount.exceptions", "BayescountWarning"),
    "Beta": ("bayescount.models", "Beta"),
    "BurnForecast": ("bayescount.forecast", "BurnForecast"),
    "CapacityForecast": ("bayescount.forecast", "CapacityForecast"),
    "Comparison": ("bayescount.checks", "Comparison"),
    "ConvergenceReport": ("bayescount.inference", "ConvergenceReport"),
    "ConvergenceThresholds": ("bayescount.inference", "ConvergenceThresholds"),
    "ConvergenceWarning": ("bayescount.exceptions", "ConvergenceWarning"),
    "CountModel": ("bayescount.count_model", "CountModel"),
    "CountSchema": ("bayescount.prep", "CountSchema"),
    "CoverageReport": ("bayescount.checks", "CoverageReport"),
    "DataError": ("bayescount.exceptions", "DataError"),
    "DataWarning": ("bayescount.exceptions", "DataWarning"),
    "ExampleFleet": ("bayescount.examples", "ExampleFleet"),
    "Exponential": ("bayescount.models", "Exponential"),
    "Fit": ("bayescount.inference", "Fit"),
    "FitFileError": ("bayescount.exceptions", "FitFileError"),
    "HalfNormal": ("bayescount.models", "HalfNormal"),
    "HalfStudentT": ("bayescount.models", "HalfStudentT"),
    "ModelCheck": ("bayescount.checks", "ModelCheck"),
    "ModelSpec": ("bayescount.models", "ModelSpec"),
    "Normal": ("bayescount.models", "Normal"),
    "NotFittedError": ("bayescount.exceptions", "NotFittedError"),
    "ObservedSoFar": ("bayescount.forecast", "ObservedSoFar"),
    "Prediction": ("bayescount.inference", "Prediction"),
    "Priors": ("bayescount.models", "Priors"),
    "ReportResult": ("bayescount.reports", "ReportResult"),
    "SLOSpec": ("bayescount.forecast", "SLOSpec"),
    "SamplerConfig": ("bayescount.inference", "SamplerConfig"),
    "Seasonality": ("bayescount.prep", "Seasonality"),
    "SpecError": ("bayescount.exceptions", "SpecError"),
    "StudentT": ("bayescount.models", "StudentT"),
    "aggregate_events": ("bayescount.io", "aggregate_events"),
    "anomaly_bounds": ("bayescount.export", "anomaly_bounds"),
    "attribute_incident": ("bayescount.forecast", "attribute_incident"),
    "backtest": ("bayescount.checks.backtest", "backtest"),
    "check_convergence": ("bayescount.inference", "check_convergence"),
    "check_model": ("bayescount.checks", "check_model"),
    "compare_families": ("bayescount.checks", "compare_families"),
    "coverage_report": ("bayescount.checks", "coverage_report"),
    "detect_anomalies": ("bayescount.forecast", "detect_anomalies"),
    "forecast_burn": ("bayescount.forecast", "forecast_burn"),
    "forecast_capacity": ("bayescount.forecast", "forecast_capacity"),
    "future_from_history": ("bayescount.forecast", "future_from_history"),
    "grafana_dashboard": ("bayescount.export", "grafana_dashboard"),
    "load": ("bayescount.io", "load_fit"),
    "load_example_fleet": ("bayescount.examples", "load_example_fleet"),
    "load_openslo": ("bayescount.forecast", "load_openslo"),
    "make_example_fleet": ("bayescount.examples", "make_example_fleet"),
    "mask_incident": ("bayescount.forecast", "mask_incident"),
    "openmetrics_text": ("bayescount.export", "openmetrics_text"),
    "prometheus_rules": ("bayescount.export", "prometheus_rules"),
    "read_prometheus": ("bayescount.io.prometheus", "read_prometheus"),
    "read_table": ("bayescount.io", "read_table"),
    "report": ("bayescount.reports", "report"),
    "save": ("bayescount.io", "save_fit"),
    "scale_traffic": ("bayescount.forecast", "scale_traffic"),
    "select_family": ("bayescount.checks", "select_family"),
    "validate_frame": ("bayescount.prep.validate", "validate_frame"),
}

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
    "ExampleFleet",
    "Exponential",
    "Fit",
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
    "ReportResult",
    "SLOSpec",
    "SamplerConfig",
    "Seasonality",
    "SpecError",
    "StudentT",
    "aggregate_events",
    "anomaly_bounds",
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
    "grafana_dashboard",
    "load",
    "load_example_fleet",
    "load_openslo",
    "make_example_fleet",
    "mask_incident",
    "openmetrics_text",
    "prometheus_rules",
    "read_prometheus",
    "read_table",
    "report",
    "save",
    "scale_traffic",
    "select_family",
    "validate_frame",
]


def __getattr__(name: str) -> object:
    """Import a public name on first use (PEP 562)."""
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'bayescount' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

