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
    │   ├── UnknownGroupError              unseen group label where refused
    │   └── DesignError                    coefficients the data cannot identify: constant or
    │                                      collinear covariates, one level, seasonality at the step
    ├── SpecError (ValueError)             an invalid model specification, prior or option
    │   └── LevelNotFoundError (KeyError)  a group level name the design does not have
    ├── WrongTypeError (TypeError)         an argument of the wrong type (not a DataFrame...)
    ├── NotFittedError                     a fitted-only method called before ``fit``
    ├── SamplerError                       the sampler failed or is not available
    ├── OutputError                        an output file cannot be written (nothing was)
    ├── ExecutorError                      an executor cannot start, reach its scheduler
    │                                      or lost a worker it cannot replace
    ├── PrometheusError                    a Prometheus server could not be read
    │   ├── PrometheusQueryError (ValueError)  400 bad_data / 422: the server's message
    │   ├── PrometheusConnectionError      refused, unreachable, closed mid-answer
    │   │   └── PrometheusTLSError         certificate verification / TLS handshake failed
    │   ├── PrometheusTimeoutError         no answer within the timeout, retries spent
    │   ├── PrometheusUnavailableError     503 (429, 502, 504), retries spent
    │   └── PrometheusAuthError            401/403, or credentials that cannot be read
    └── FitFileError                       a saved fit that cannot be trusted
        ├── FitFileNotFoundError (FileNotFoundError)  no file at the path
        ├── ForeignFileError               not a bayescount fit file
        ├── CorruptFitFileError            truncated / unreadable / inconsistent
        └── SpecHashMismatchError          the stored spec does not match its hash
            └── ContentHashMismatchError   the stored design, draws... do not match theirs

    FitInterrupted (KeyboardInterrupt)     SIGINT/SIGTERM while fitting; nothing was kept

    BayescountWarning (UserWarning)
    ├── DataWarning                        rows dropped or data adjusted
    ├── ConvergenceWarning                 the convergence gate failed
    ├── FitFileWarning                     a fit file that cannot be fully verified
    ├── PrometheusWarning                  a warning or info in a Prometheus answer
    └── RuleWarning                        an alerting rule that can never fire, or
                                           whose evaluation was incomplete
"""

from __future__ import annotations

__all__ = [
    "BayescountError",
    "BayescountWarning",
    "ColumnNotFoundError",
    "ContentHashMismatchError",
    "ConvergenceWarning",
    "CorruptFitFileError",
    "CountValueError",
    "DataError",
    "DataWarning",
    "DesignError",
    "DuplicateRowError",
    "ExecutorError",
    "ExposureError",
    "FitFileError",
    "FitFileNotFoundError",
    "FitFileWarning",
    "FitInterrupted",
    "ForeignFileError",
    "LevelNotFoundError",
    "MissingValueError",
    "NestingError",
    "NotFittedError",
    "OutputError",
    "PrometheusAuthError",
    "PrometheusConnectionError",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusTLSError",
    "PrometheusTimeoutError",
    "PrometheusUnavailableError",
    "PrometheusWarning",
    "RuleWarning",
    "SamplerError",
    "SpecError",
    "SpecHashMismatchError",
    "TimestampError",
    "UnknownGroupError",
    "WrongTypeError",
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


class DesignError(DataError):
    """The training data cannot identify a coefficient of the model.

    A constant covariate, covariates that are linear combinations of others, a
    categorical covariate with one level, or a seasonal period no longer than the
    data's time step.
    """


class SpecError(BayescountError, ValueError):
    """A model specification, prior or option is invalid."""


class LevelNotFoundError(SpecError, KeyError):
    """A group level name that the design does not have (the message lists those it has).

    Also a :class:`KeyError`, as a lookup by name.
    """

    def __str__(self) -> str:
        # KeyError quotes its message; show it as written.
        return str(self.args[0]) if self.args else ""


class WrongTypeError(BayescountError, TypeError):
    """An argument is not of the type a function needs (e.g. not a pandas DataFrame)."""


class NotFittedError(BayescountError):
    """A method that needs a fitted model was called before ``fit``."""


class SamplerError(BayescountError):
    """The sampler failed or is not installed."""


class ExecutorError(BayescountError):
    """An executor cannot start, cannot reach its scheduler, or lost a worker for good."""


class FitFileError(BayescountError):
    """A saved fit cannot be loaded safely."""


class FitFileNotFoundError(FitFileError, FileNotFoundError):
    """No fit file at the given path (also a :class:`FileNotFoundError`)."""


class ForeignFileError(FitFileError):
    """The file is not a bayescount fit."""


class CorruptFitFileError(FitFileError):
    """The file is truncated, unreadable or internally inconsistent."""


class SpecHashMismatchError(FitFileError):
    """The stored specification does not match its stored hash."""


class ContentHashMismatchError(SpecHashMismatchError):
    """A stored part other than the spec does not match its stored hash.

    The design (covariate scaling, levels, time grid), parameterization, sampler
    settings, convergence report, versions, or a group of draws or data.
    """


class BayescountWarning(UserWarning):
    """Base class of bayescount's warnings."""


class DataWarning(BayescountWarning):
    """Rows were dropped or data adjusted while preparing the data."""


class ConvergenceWarning(BayescountWarning):
    """The sampler's convergence gate failed."""


class RuleWarning(BayescountWarning):
    """An alerting rule that can never fire, or whose evaluation was incomplete."""


class OutputError(BayescountError):
    """An output file cannot be written (missing directory, permissions, full disk).

    Raised before any long work where possible; when raised while writing, an
    existing file at the path is unchanged and no temporary file is left behind.
    """


class FitInterrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM arrived while a model was being fitted.

    A :class:`KeyboardInterrupt`, not a :class:`BayescountError`: an interruption is
    the user's decision, and ``except Exception`` must not swallow it. Raised instead
    of returning the partial draws a sampler keeps when it is aborted, so no partial
    fit is ever saved or used. ``signum`` is the signal's number; the command line
    exits with ``128 + signum`` (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = int(signum)
        name = signal.Signals(self.signum).name
        super().__init__(f"the fit was interrupted by {name}; nothing was kept")


class FitFileWarning(BayescountWarning):
    """A fit file loads, but not all of it can be verified (an older format)."""


class PrometheusError(BayescountError):
    """A Prometheus server could not be read (the message names the URL and the query)."""


class PrometheusQueryError(PrometheusError, ValueError):
    """The server refused a query; the message quotes the server.

    HTTP 400 ``bad_data`` (a bad selector, range or step) or 422 (it could not run
    the query, e.g. too many samples); also a selector that matched no series.
    """


class PrometheusConnectionError(PrometheusError):
    """The server cannot be reached.

    Connection refused, unknown host, or the connection closed before the answer
    was complete.
    """


class PrometheusTLSError(PrometheusConnectionError):
    """The TLS handshake failed.

    Usually an untrusted or mismatched certificate: give the CA with ``--ca-file``
    (``ca_file=``).
    """


class PrometheusTimeoutError(PrometheusError):
    """The server did not answer within the timeout, after the bounded retries."""


class PrometheusUnavailableError(PrometheusError):
    """The server answered 503 (or 429, 502, 504) to every one of the bounded retries."""


class PrometheusAuthError(PrometheusError):
    """The server refused the credentials (401/403), or they cannot be read."""


class PrometheusWarning(BayescountWarning):
    """A ``warnings`` or ``infos`` entry of a Prometheus answer (e.g. partial data)."""
