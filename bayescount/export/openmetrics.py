"""Predictions and SLO forecasts as OpenMetrics text, ready to backfill into Prometheus.

:func:`openmetrics_text` writes, for each row of a table of windows (the future, or
past windows to compare with what happened), gauges timestamped at the window's start:

* ``<prefix>_expected_<counts>``: the posterior predictive mean of the window's count;
* ``<prefix>_predicted_<counts>{quantile="0.05"}``...: its predictive quantiles (the
  exact integer quantiles of the predictive mixture, as ``bayescount predict``);

labelled with the fit's group columns, and, given a
:class:`~bayescount.forecast.burn.BurnForecast`, one sample of
``<prefix>_slo_exhaust_probability{slo="..."}`` at the forecast's ``now``: the
probability that the error budget is exhausted by the end of the forecast (the last
window of the future table given to :func:`~bayescount.forecast.burn.forecast_burn`).

Backfill with ``promtool tsdb create-blocks-from openmetrics FILE DATA_DIR`` and move
the blocks into the server's data directory (or start the server on it); Grafana then
draws the bands next to the observed counters (:mod:`bayescount.export.grafana`).

Values are written with Python's ``repr`` (the shortest text that reads back as the
same float64), so a query returns exactly the values written. Timestamps are whole
seconds (window starts); series are sorted by labels and time within each family.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.export.rules import _check_labels, _warn_unconverged
from bayescount.inference.fit import as_fit
from bayescount.results import DEFAULT_SEED

if TYPE_CHECKING:
    from bayescount.forecast.burn import BurnForecast
    from bayescount.inference.fit import Fit

__all__ = ["DEFAULT_QUANTILES", "metric_names", "openmetrics_text"]

#: Quantiles of the bands by default: a 90 % band and the median.
DEFAULT_QUANTILES = (0.05, 0.5, 0.95)
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def metric_names(counts: str, prefix: str = "bayescount") -> dict[str, str]:
    """Return the metric names written for a fit's ``counts`` column.

    Parameters
    ----------
    counts : str
        The fit's counts column (``errors``).
    prefix : str
        First part of every name.

    Returns
    -------
    dict
        ``expected``, ``predicted`` and ``exhaust`` metric names.
    """
    part = re.sub(r"[^a-zA-Z0-9_]", "_", counts)
    names = {"expected": f"{prefix}_expected_{part}", "predicted": f"{prefix}_predicted_{part}",
             "exhaust": f"{prefix}_slo_exhaust_probability"}
    bad = [n for n in names.values() if not _NAME.match(n)]
    if bad:
        raise SpecError(f"Metric name(s) {bad} are not valid; use a prefix such as 'bayescount'.")
    return names


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _value(x: float) -> str:
    x = float(x)
    if np.isnan(x):
        return "NaN"
    if np.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(x)


def _stamp(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    seconds, rest = divmod(ts.value, 10**9)
    return str(seconds) if rest == 0 else repr(ts.value / 1e9)


def openmetrics_text(
    fit: Fit,
    data: pd.DataFrame,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    burn: BurnForecast | None = None,
    prefix: str = "bayescount",
    random_seed: int | None = DEFAULT_SEED,
) -> str:
    """Write expected counts, predictive quantiles and ``P(exhaust)`` as OpenMetrics text.

    Parameters
    ----------
    fit : Fit
        The fitted model (or a fitted :class:`~bayescount.CountModel`); it must have a
        time column (samples are timestamped at each window's start).
    data : pandas.DataFrame
        Windows to predict: the fit's time, group, covariate and exposure columns.
    quantiles : sequence of float
        Predictive quantiles written as ``quantile`` labels, each in (0, 1).
    burn : BurnForecast, optional
        An SLO forecast (:func:`~bayescount.forecast.burn.forecast_burn`); adds
        ``P(exhaust)`` at its ``now``.
    prefix : str
        First part of every metric name.
    random_seed : int, optional
        Seed of the predictive draws (the mean; quantiles are analytic).

    Returns
    -------
    str
        OpenMetrics text ending in ``# EOF``.

    Raises
    ------
    SpecError
        A quantile outside (0, 1), a fit without a time column, group columns that
        are not Prometheus label names.
    ColumnNotFoundError
        ``data`` lacks the time column.
    """
    fit = as_fit(fit)
    _warn_unconverged(fit, "expected counts and bands")
    bad = [q for q in quantiles if not 0 < q < 1]
    if bad or len(set(quantiles)) != len(quantiles):
        raise SpecError(f"quantiles must be distinct and in (0, 1), got {list(quantiles)}.")
    time = fit.schema.time
    if time is None:
        raise SpecError("OpenMetrics samples need times: the fit has no time column.")
    if time not in data:
        raise ColumnNotFoundError(f"Column {time!r} not in the data; it has {list(data)}.")
    groups = _check_labels(fit.schema.groups)
    names = metric_names(fit.schema.counts, prefix)
    prediction = fit.predict(data, random_seed=random_seed)
    rows = prediction.rows.reset_index(drop=True)
    stamps = pd.to_datetime(rows[time])
    mean = prediction.mean()
    bands = prediction.quantiles(list(quantiles))
    keys = [tuple((g, str(rows[g].iloc[i])) for g in groups) for i in range(len(rows))]
    order = sorted(range(len(rows)), key=lambda i: (keys[i], stamps.iloc[i]))
    lines = [f"# TYPE {names['expected']} gauge",
             f"# HELP {names['expected']} Posterior predictive mean of "
             f"{fit.schema.counts} per window (sample at the window start)."]
    lines += [f"{names['expected']}{_labels(keys[i])} {_value(mean[i])} "
              f"{_stamp(stamps.iloc[i])}" for i in order]
    lines += [f"# TYPE {names['predicted']} gauge",
              f"# HELP {names['predicted']} Posterior predictive quantiles of "
              f"{fit.schema.counts} per window (sample at the window start)."]
    for j, q in sorted(enumerate(quantiles), key=lambda t: t[1]):
        lines += [f"{names['predicted']}{_labels((*keys[i], ('quantile', f'{q:g}')))} "
                  f"{_value(bands[j, i])} {_stamp(stamps.iloc[i])}" for i in order]
    if burn is not None:
        slo = burn.slo.name or "slo"
        lines += [f"# TYPE {names['exhaust']} gauge",
                  f"# HELP {names['exhaust']} Probability that the SLO's error budget is "
                  "exhausted by the end of the forecast horizon (sample at the forecast's start).",
                  f"{names['exhaust']}{_labels([('slo', slo)])} {_value(burn.p_exhaust)} "
                  f"{_stamp(burn.now)}"]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
