"""Exceptions and warnings raised by bayescount.

Every error bayescount raises on purpose derives from :class:`BayescountError`, so
``except BayescountError`` catches them all. Errors about user input also derive from
:class:`ValueError`.

::

    BayescountError
    ├── DataError (ValueError)            bad input data: says which column, rows, fix
    │   ├── ColumnNotFoundError (KeyError-like; lists the available columns)
    │   ├── CountValueError                negative, fractional or non-finite counts
    │   ├── ExposureError                  missing, non-finite or non-positive exposure
    │   ├── MissingValueError              NaN/inf covariates, missing group labels
    │   ├── DuplicateRowError              the same (groups, time) twice
    │   ├── TimestampError                 unparseable or mixed-timezone timestamps
    │   ├── NestingError                   a child label under two parents
    │   └── UnknownGroupError              unseen group label where refused
    ├── SpecError (ValueError)             an invalid model specification or prior
    ├── NotFittedError                     a fitted-only method called before ``fit``
    ├── SamplerError                       the sampler failed or is not available
    ├── ExecutorError                      an executor cannot start, reach its scheduler
    │                                      or lost a worker it cannot replace
    └── FitFileError                       a saved fit that cannot be trusted
        ├── ForeignFileError               not a bayescount fit file
        ├── CorruptFitFileError            truncated / unreadable / inconsistent
        └── SpecHashMismatchError          the stored spec does not match its hash

    BayescountWarning (UserWarning)
    ├── DataWarning                        rows dropped or data adjusted
    └── ConvergenceWarning                 the convergence gate failed
"""

from __future__ import annotations

__all__ = [
    "BayescountError",
    "BayescountWarning",
    "ColumnNotFoundError",
    "ConvergenceWarning",
    "CorruptFitFileError",
    "CountValueError",
    "DataError",
    "DataWarning",
    "DuplicateRowError",
    "ExecutorError",
    "ExposureError",
    "FitFileError",
    "ForeignFileError",
    "MissingValueError",
    "NestingError",
    "NotFittedError",
    "SamplerError",
    "SpecError",
    "SpecHashMismatchError",
    "TimestampError",
    "UnknownGroupError",
]


class BayescountError(Exception):
    """Base class of every error bayescount raises on purpose."""


class DataError(BayescountError, ValueError):
    """Input data violate the data contract."""


class ColumnNotFoundError(DataError):
    """A named column is not in the data."""


class CountValueError(DataError):
    """Counts are negative, fractional or not finite."""


class ExposureError(DataError):
    """Exposure is missing, not finite or not positive."""


class MissingValueError(DataError):
    """A covariate is NaN/inf or a group label is missing."""


class DuplicateRowError(DataError):
    """The same (groups, time) combination appears more than once."""


class TimestampError(DataError):
    """Timestamps cannot be parsed or mix time zones."""


class NestingError(DataError):
    """A nested group label appears under more than one parent."""


class UnknownGroupError(DataError):
    """A group label was not seen when fitting and unseen labels were refused."""


class SpecError(BayescountError, ValueError):
    """A model specification, prior or option is invalid."""


class NotFittedError(BayescountError):
    """A method that needs a fitted model was called before ``fit``."""


class SamplerError(BayescountError):
    """The sampler failed or is not installed."""


class ExecutorError(BayescountError):
    """An executor cannot start, cannot reach its scheduler, or lost a worker for good."""


class FitFileError(BayescountError):
    """A saved fit cannot be loaded safely."""


class ForeignFileError(FitFileError):
    """The file is not a bayescount fit."""


class CorruptFitFileError(FitFileError):
    """The file is truncated, unreadable or internally inconsistent."""


class SpecHashMismatchError(FitFileError):
    """The stored specification does not match its stored hash."""


class BayescountWarning(UserWarning):
    """Base class of bayescount's warnings."""


class DataWarning(BayescountWarning):
    """Rows were dropped or data adjusted while preparing the data."""


class ConvergenceWarning(BayescountWarning):
    """The sampler's convergence gate failed."""
