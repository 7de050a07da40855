"""Model checking: fitted model in, typed results out.

Posterior predictive statistics and :func:`check_model` (:mod:`~bayescount.checks.ppc`),
residual diagnostics (:mod:`~bayescount.checks.residuals`), calibrated coverage of
held-out data (:mod:`~bayescount.checks.coverage`) and LOO model comparison
(:mod:`~bayescount.checks.compare`), rolling-origin backtests
(:mod:`~bayescount.checks.backtest`) and simulation-based calibration
(:mod:`~bayescount.checks.sbc`); their functions live in those modules (the names
match the modules, so they are not re-exported here). The array math (``_array``,
and the predictive CDFs re-exported here from
:mod:`~bayescount.inference.predictive_cdf`) depends only on NumPy and SciPy.
"""

from bayescount.checks.backtest import BacktestReport
from bayescount.checks.compare import (
    Comparison,
    ComparisonRow,
    FamilySelection,
    choose_family,
    compare_families,
    compare_models,
    select_family,
)
from bayescount.checks.coverage import (
    CoverageReport,
    CoverageRow,
    RowScores,
    coverage_from_cdf,
    coverage_report,
    score_parameters,
    score_predictive,
    summarize_coverage,
)
from bayescount.checks.ppc import (
    ModelCheck,
    PPCReport,
    PPCStatistic,
    check_model,
    ppc_statistics,
)
from bayescount.checks.residuals import ResidualDiagnostics, residual_diagnostics
from bayescount.checks.sbc import SBCReport
from bayescount.inference.predictive_cdf import mixture_cdf, mixture_quantiles, pit_bounds

__all__ = [
    "BacktestReport",
    "Comparison",
    "ComparisonRow",
    "CoverageReport",
    "CoverageRow",
    "FamilySelection",
    "ModelCheck",
    "PPCReport",
    "PPCStatistic",
    "ResidualDiagnostics",
    "RowScores",
    "SBCReport",
    "check_model",
    "choose_family",
    "compare_families",
    "compare_models",
    "coverage_from_cdf",
    "coverage_report",
    "mixture_cdf",
    "mixture_quantiles",
    "pit_bounds",
    "ppc_statistics",
    "residual_diagnostics",
    "score_parameters",
    "score_predictive",
    "select_family",
    "summarize_coverage",
]
