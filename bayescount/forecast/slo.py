"""Service level objectives and the events observed so far in their window.

An :class:`SLOSpec` is an occurrences SLO: ``objective`` is the share of good events
over a window (rolling ``30d`` / ``28d`` / any ``Nd``/``Nh``/``Nw``, or a calendar
month), so the error budget of a window is ``(1 - objective) * total events``.
:class:`ObservedSoFar` holds the bad and total events already seen in the current
window (and optionally the per-window series the multiwindow rules read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError
from bayescount.prep.durations import format_duration, parse_duration

__all__ = ["CALENDAR_MONTH", "ObservedSoFar", "SLOSpec", "burn_rate", "format_duration",
           "parse_duration"]

#: Window name of a calendar month (each month is its own window).
CALENDAR_MONTH = "calendar_month"


def burn_rate(
    bad: np.ndarray | float,
    total: np.ndarray | float,
    error_budget: float,
    axis: int | None = -1,
) -> np.ndarray:
    """Burn rate: the error ratio over a window divided by the error budget.

    ``burn rate = (sum bad / sum total) / (1 - objective)``: 1 spends the budget
    exactly by the end of the SLO window, 2 twice as fast (Beyer et al., *The Site
    Reliability Workbook*, O'Reilly 2018, ch. 5 "Alerting on SLOs"). The one burn-rate
    formula of bayescount: the observed multiwindow rules
    (:func:`~bayescount.forecast.burn_rules.check_observed`) and the forecast's
    per-draw burn rates (:func:`~bayescount.forecast.burn.forecast_burn`) both call it.

    Parameters
    ----------
    bad, total : array_like
        Bad and total events (counts per window); broadcast against each other.
    error_budget : float
        ``1 - objective`` (:attr:`SLOSpec.error_budget`), in ``(0, 1)``.
    axis : int or None
        Axis summed over first (e.g. ``time`` of ``(chain, draw, time)`` draws);
        ``None`` takes ``bad`` and ``total`` as already summed, elementwise.

    Returns
    -------
    numpy.ndarray
        Burn rates (dimensionless); 0 where there is no traffic (``sum total == 0``).
        A 0-d array for scalar input.

    Raises
    ------
    SpecError
        If ``error_budget`` is not in ``(0, 1)``.
    """
    if not 0.0 < error_budget < 1.0:
        raise SpecError(f"error_budget must be in (0, 1) (1 - objective), got {error_budget}.")
    b = np.asarray(bad, dtype=float)
    t = np.asarray(total, dtype=float)
    if axis is not None:
        b, t = b.sum(axis=axis), t.sum(axis=axis)
    b, t = np.broadcast_arrays(b, t)
    ratio = np.divide(b, t, out=np.zeros(b.shape), where=t > 0)
    return ratio / error_budget


@dataclass(frozen=True)
class SLOSpec:
    """An occurrences-based SLO: ``objective`` of events good over a window.

    Parameters
    ----------
    objective : float
        Target share of good events, strictly between 0 and 1 (``0.999``).
    window : str
        Rolling window length (``"30d"``, ``"28d"``, ``"7d"``, ``"720h"``) or
        ``"calendar_month"``.
    budgeting : {"occurrences"}
        Only occurrences budgeting (bad events / total events) is supported.
    name : str
        Label used in reports.
    ratio : {"bad", "good"}
        Whether the indicator counts bad or good events against the total (from an
        OpenSLO ``ratioMetric``); informational, bad = total - good.
    """

    objective: float
    window: str = "30d"
    budgeting: Literal["occurrences"] = "occurrences"
    name: str = ""
    ratio: Literal["bad", "good"] = "bad"
    _length: pd.Timedelta | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        obj = self.objective
        if not isinstance(obj, int | float) or not np.isfinite(obj) or not 0 < obj < 1:
            raise SpecError(
                f"objective must be a share strictly between 0 and 1 (e.g. 0.999), got {obj!r}."
            )
        if self.budgeting != "occurrences":
            raise SpecError(
                f"budgeting={self.budgeting!r} is not supported; only 'occurrences' "
                "(bad events / total events) is."
            )
        if self.ratio not in ("bad", "good"):
            raise SpecError(f"ratio must be 'bad' or 'good', got {self.ratio!r}.")
        if self.window != CALENDAR_MONTH:
            object.__setattr__(self, "_length", parse_duration(self.window))

    @property
    def error_budget(self) -> float:
        """Allowed share of bad events, ``1 - objective``."""
        return 1.0 - float(self.objective)

    @property
    def max_burn_rate(self) -> float:
        """Largest possible burn rate (every event bad): ``1 / (1 - objective)``."""
        return 1.0 / self.error_budget

    @property
    def is_calendar(self) -> bool:
        """Whether the window is a calendar month."""
        return self.window == CALENDAR_MONTH

    def window_length(self, at: pd.Timestamp | None = None) -> pd.Timedelta:
        """Length of the window (of the calendar month containing ``at``)."""
        if self._length is not None:
            return self._length
        start, end = self.window_bounds(at if at is not None else pd.Timestamp("2000-01-15"))
        return end - start

    def window_bounds(self, at: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(start, end)`` of the window that ``at`` falls in.

        A rolling window is anchored so that it ends at ``at``; a calendar month runs
        from the first of the month to the first of the next one.
        """
        at = pd.Timestamp(at)
        if self._length is not None:
            return at - self._length, at
        start = at.normalize().replace(day=1)
        return start, start + pd.DateOffset(months=1)

    def window_end(self, now: pd.Timestamp, elapsed: pd.Timedelta) -> pd.Timestamp:
        """End of the current window: ``now + (length - elapsed)``, or the month's end.

        Parameters
        ----------
        now : pandas.Timestamp
            End of the observed period.
        elapsed : pandas.Timedelta
            How much of a rolling window has passed (ignored for a calendar month).

        Returns
        -------
        pandas.Timestamp
            When the current window ends.
        """
        now = pd.Timestamp(now)
        if self.is_calendar:
            return self.window_bounds(now)[1]
        return now + (self.window_length() - pd.Timedelta(elapsed))

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dict."""
        return {
            "objective": float(self.objective),
            "window": self.window,
            "budgeting": self.budgeting,
            "name": self.name,
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class ObservedSoFar:
    """Bad and total events already observed in the current SLO window.

    Parameters
    ----------
    bad : float
        Bad events so far.
    total : float
        All events so far (``bad <= total``).
    elapsed : pandas.Timedelta or str
        How much of the window has passed (``"12d"`` is read by :func:`parse_duration`).
    now : pandas.Timestamp, optional
        End of the observed period (start of the forecast). Default: the first
        future window.
    series : pandas.DataFrame, optional
        Per-window ``time``, ``bad``, ``total`` rows (the deterministic multiwindow
        burn-rate rules read them).
    step : pandas.Timedelta, optional
        Length of a row of ``series``; default its median spacing.
    """

    bad: float
    total: float
    elapsed: pd.Timedelta
    now: pd.Timestamp | None = None
    series: pd.DataFrame | None = None
    step: pd.Timedelta | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.bad) and np.isfinite(self.total)):
            raise DataError(f"bad ({self.bad}) and total ({self.total}) must be finite.")
        if self.bad < 0 or self.total < 0 or self.bad > self.total:
            raise DataError(
                f"Observed so far: need 0 <= bad <= total, got bad={self.bad}, "
                f"total={self.total}. Check the SOFAR columns."
            )
        elapsed = self.elapsed
        elapsed = parse_duration(elapsed) if isinstance(elapsed, str) else pd.Timedelta(elapsed)
        object.__setattr__(self, "elapsed", elapsed)
        if self.elapsed < pd.Timedelta(0):
            raise DataError(f"elapsed must be >= 0, got {self.elapsed}.")

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        slo: SLOSpec,
        *,
        time: str = "time",
        bad: str = "bad",
        good: str = "good",
        total: str = "total",
    ) -> ObservedSoFar:
        """Read the SOFAR table (the ``bayescount slo --observed`` format).

        Two forms are accepted:

        * **series**: one row per window with ``time``, ``total`` and ``bad`` (or
          ``good``). The window runs to ``now = last time + step`` (step: the median
          spacing); rows older than the SLO window are ignored. The multiwindow rules
          read these rows.
        * **summary**: one row with ``bad`` (or ``good``), ``total`` and ``elapsed``
          (a duration such as ``"12d"``) and optionally ``now`` (a timestamp).
        """
        cols = list(frame.columns)
        if total not in frame or (bad not in frame and good not in frame):
            raise ColumnNotFoundError(
                f"The observed-so-far table needs columns {total!r} and {bad!r} (or "
                f"{good!r}); it has {cols}."
            )
        values = frame.copy()
        if bad not in values:
            values[bad] = values[total] - values[good]
        for col in (bad, total):
            if not pd.api.types.is_numeric_dtype(values[col]) or values[col].isna().any():
                raise DataError(f"Column {col!r} of the observed-so-far table must be numbers.")
        if time in values and "elapsed" not in values:
            return cls._from_series(values, slo, time, bad, total)
        if len(values) != 1 or "elapsed" not in values:
            raise DataError(
                f"The observed-so-far table has columns {cols}: give either a {time!r} column "
                "(one row per window) or a single row with an 'elapsed' duration (e.g. '12d')."
            )
        row = values.iloc[0]
        now = pd.Timestamp(row["now"]) if "now" in values and pd.notna(row["now"]) else None
        return cls(float(row[bad]), float(row[total]), parse_duration(str(row["elapsed"])), now)

    @classmethod
    def _from_series(
        cls, values: pd.DataFrame, slo: SLOSpec, time: str, bad: str, total: str
    ) -> ObservedSoFar:
        try:
            stamps = pd.to_datetime(values[time])
        except (ValueError, TypeError) as err:
            raise DataError(f"Column {time!r} of the observed-so-far table: {err}") from err
        values = values.assign(**{time: stamps}).sort_values(time)
        steps = values[time].diff().dropna()
        step = steps.median() if len(steps) else pd.Timedelta(minutes=5)
        now = values[time].iloc[-1] + step
        start, _ = slo.window_bounds(now - step)
        if not slo.is_calendar:
            start = now - slo.window_length()
        kept = values[values[time] >= start]
        elapsed = now - max(kept[time].iloc[0], start)
        series = pd.DataFrame(
            {"time": kept[time].to_numpy(), "bad": kept[bad].to_numpy(float),
             "total": kept[total].to_numpy(float)}
        )
        return cls(float(series["bad"].sum()), float(series["total"].sum()), elapsed, now, series,
                   step)
