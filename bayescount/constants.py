"""Choices and defaults shared by the library and the command line.

Standard library only: the command line builds its parser (``--help``, argument
errors) from these names without importing NumPy, pandas, PyMC or ArviZ. The modules
that use them re-export them where they always lived (``bayescount.models.spec.FAMILIES``
and so on), so this is their one definition, not a copy.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_SEED",
    "EXECUTORS",
    "FAMILIES",
    "FDR_LEVEL",
    "LATENT_KINDS",
    "MAX_DRAWS",
    "PARAMETERIZATIONS",
    "SAMPLERS",
    "SCHEDULER_ENV",
]

#: Observation families.
FAMILIES = (
    "poisson",
    "negative_binomial",
    "zero_inflated_poisson",
    "zero_inflated_negative_binomial",
)
#: Per-level parameterisations of group effects.
PARAMETERIZATIONS = ("auto", "centered", "non_centered")
#: Time-varying latent levels (``None``: none).
LATENT_KINDS = ("ar1", "ar1_laplace", "ar1_skew_laplace")

#: NUTS implementations that can be selected. ``blackjax`` is left out: PyMC 6.4
#: passes it an unexpected ``progress_bar`` argument.
SAMPLERS = ("nutpie", "numpyro", "pymc")
#: Executor names accepted by ``executor=`` and ``--executor``.
EXECUTORS = ("serial", "processes", "dask")
#: Environment variable with the address of an existing Dask scheduler.
SCHEDULER_ENV = "BAYESCOUNT_DASK_SCHEDULER"

#: Central interval levels scored by coverage reports and backtests by default.
DEFAULT_LEVELS = (0.5, 0.8, 0.9, 0.95)
#: Default predictive replicates of the model check (all draws of a 4 x 1,000 fit).
MAX_DRAWS = 4000
#: False discovery rate at which the checks flag (BH-adjusted p-value <= this).
FDR_LEVEL = 0.05
#: Seed of the predictive draws when none is given: the same command gives the same numbers.
DEFAULT_SEED = 0
