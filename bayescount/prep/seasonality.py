"""Fourier seasonality features computed from timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescount.exceptions import SpecError

__all__ = ["NAMED_PERIODS", "Seasonality", "fourier_features", "parse_seasonality"]

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
