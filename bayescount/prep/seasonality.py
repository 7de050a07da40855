"""Fourier seasonality features computed from timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescount.exceptions import SpecError

__all__ = [
    "NAMED_PERIODS",
    "Seasonality",
    "fourier_center",
    "fourier_features",
    "information_weights",
    "parse_seasonality",
]

#: Named periods, in days.
NAMED_PERIODS: dict[str, float] = {"hourly": 1.0 / 24.0, "daily": 1.0, "weekly": 7.0}
_DEFAULT_ORDER = {"hourly": 2, "daily": 3, "weekly": 2}
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class Seasonality:
    """A periodic component: ``order`` sine/cosine pairs of a period.

    Parameters
    ----------
    name : str
        Label of the component (``"daily"``, ``"weekly"`` or your own).
    period_days : float
        Length of one cycle in days (1 for daily, 7 for weekly).
    order : int
        Number of harmonics; the component has ``2 * order`` coefficients.
    """

    name: str
    period_days: float
    order: int

    def __post_init__(self) -> None:
        if not self.period_days > 0:
            raise SpecError(f"Seasonality {self.name!r}: period_days must be > 0.")
        if int(self.order) != self.order or self.order < 1:
            raise SpecError(f"Seasonality {self.name!r}: order must be a positive integer.")

    @property
    def terms(self) -> list[str]:
        """Feature names, ``daily_sin1, daily_cos1, ...``."""
        return [f"{self.name}_{f}{k}" for k in range(1, self.order + 1) for f in ("sin", "cos")]


def parse_seasonality(text: str | None) -> tuple[Seasonality, ...]:
    """Parse ``"daily,weekly"`` or ``"daily:4,weekly:2"`` into components.

    Parameters
    ----------
    text : str or None
        Comma-separated names of :data:`NAMED_PERIODS`, each optionally with
        ``:order`` (default order per name); empty or ``None`` for none.

    Returns
    -------
    tuple of Seasonality

    Raises
    ------
    SpecError
        An unknown name, or an order that is not a positive integer.
    """
    if not text:
        return ()
    out = []
    for item in text.split(","):
        name, _, order = item.strip().partition(":")
        if name not in NAMED_PERIODS:
            raise SpecError(
                f"Unknown seasonality {name!r}; choose from {sorted(NAMED_PERIODS)} "
                "(optionally with an order, e.g. 'daily:4')."
            )
        try:
            k = int(order) if order else _DEFAULT_ORDER[name]
        except ValueError:
            raise SpecError(f"Seasonality order in {item!r} must be an integer.") from None
        out.append(Seasonality(name, NAMED_PERIODS[name], k))
    return tuple(out)


def _days_since_epoch(time: pd.Series) -> np.ndarray:
    values = time.dt.tz_convert("UTC").dt.tz_localize(None) if time.dt.tz else time
    ns = values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return ns / _NS_PER_DAY


def fourier_features(time: pd.Series, components: tuple[Seasonality, ...]) -> np.ndarray:
    """Return the ``(n, sum(2 * order))`` Fourier design for ``components``.

    The phase is absolute (days since 1970-01-01 UTC), so features of future
    windows line up with those of the training data. Columns are
    ``sin(2 pi k t / P), cos(2 pi k t / P)`` for ``k = 1..order``, with ``t`` in days
    and ``P`` the period in days: the Fourier seasonality of Prophet (Taylor &
    Letham 2018, §3.2).

    Parameters
    ----------
    time : pandas.Series
        Parsed timestamps, dim ``obs`` (length ``n``).
    components : tuple of Seasonality
        The components, in order.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, sum(2 * order))``, columns named by :attr:`Seasonality.terms`.
    """
    if not components:
        return np.zeros((len(time), 0))
    t = _days_since_epoch(time)
    cols = []
    for comp in components:
        for k in range(1, comp.order + 1):
            angle = 2.0 * np.pi * k * t / comp.period_days
            cols.extend([np.sin(angle), np.cos(angle)])
    return np.column_stack(cols)


def information_weights(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Return per-row weights approximating the Poisson Fisher information ``mu_i``.

    The Fisher information of a log-linear Poisson model is ``sum_i mu_i x_i x_i^T``
    (McCullagh & Nelder 1989, §6.2); at the fit ``mu_i`` is close to the count, so the
    weight is the count shrunk half-way to its pooled expectation:
    ``w_i = y_i + E_i * sum(y) / sum(E)``. Rows with all-zero counts get weights
    proportional to their exposure.

    Parameters
    ----------
    counts : numpy.ndarray
        Dim ``obs``: the training counts.
    exposure : numpy.ndarray
        Dim ``obs``: the rows' exposure (exposure units, > 0).

    Returns
    -------
    numpy.ndarray
        Dim ``obs``: non-negative weights (events), summing to a positive number.
    """
    y = np.asarray(counts, dtype=np.float64)
    e = np.asarray(exposure, dtype=np.float64)
    total = y.sum()
    if not total > 0:
        return e.copy()
    return y + e * (total / e.sum())


def fourier_center(fourier: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the weighted mean of each Fourier column (the centre subtracted when fitting).

    Centring the Fourier columns at their information-weighted mean makes the seasonal
    coefficients nearly uncorrelated with the intercept in the posterior, which is then
    the log rate at the data's average seasonal phase (brms centres its population-level
    predictors the same way: Bürkner 2017, *J. Stat. Softw.* 80(1), §2).

    Parameters
    ----------
    fourier : numpy.ndarray
        Shape ``(obs, fourier_term)``: uncentred features (:func:`fourier_features`).
    weights : numpy.ndarray
        Dim ``obs``: :func:`information_weights`.

    Returns
    -------
    numpy.ndarray
        Dim ``fourier_term``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if fourier.shape[1] == 0 or not w.sum() > 0:
        return np.zeros(fourier.shape[1])
    return (w @ fourier) / w.sum()
