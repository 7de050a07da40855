"""Model checking: fitted model in, typed results out.

Posterior predictive statistics (:mod:`~bayescount.checks.ppc`), residual diagnostics
(:mod:`~bayescount.checks.residuals`), calibrated coverage of held-out data
(:mod:`~bayescount.checks.coverage`) and LOO model comparison
(:mod:`~bayescount.checks.compare`). The array math (:mod:`._array`,
:mod:`.predictive_cdf`) depends only on NumPy and SciPy.
"""
