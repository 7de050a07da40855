"""Prometheus alerting and recording rules from an SLO and a fitted model.

Two families of rules, written as one Prometheus rule file (YAML):

**SLO burn rate** (:func:`slo_rules`). The SRE Workbook's multiwindow, multi-burn-rate
alerts (Beyer et al., *The Site Reliability Workbook*, O'Reilly 2018, ch. 5), as Sloth
generates them: recording rules ``bayescount:slo_error_ratio:rate<W>`` hold the error
ratio ``sum(rate(errors[W])) / sum(rate(requests[W]))`` of each group for every window
``W`` the rules read; an alert of severity ``page`` (1 h and 5 m at 14.4x, or 6 h and
30 m at 6x) or ``ticket`` (1 d and 2 h at 3x, or 3 d and 6 h at 1x) fires when the error
ratio over **both** windows of a pair exceeds ``factor * (1 - objective)``. The factors
are :func:`~bayescount.forecast.burn_rules.sre_workbook_rules`'s, scaled to the SLO
window (``budget share * window length / long window``: 13.44x for 28 days). As in
bayescount's observed rules, a pair also needs at least ``min_bad_events`` errors over
its long window (``increase``), so one stray error on a quiet service does not page.

**Anomalies** (:func:`anomaly_rules`). For each group of the fit, three constant
recording rules hold the model's predictive distribution of a window's count,
summarised by :func:`anomaly_bounds`; the alert ``BayescountAnomaly`` fires for a group
whose observed count exceeded the model's upper predictive bound in each of the last
``consecutive`` windows.

How the bound enters PromQL
---------------------------
A window's count ``Y`` at exposure ``x`` (requests) is, under the fitted model, a
mixture over posterior draws and over the group's training windows (times of day,
covariates) of ``B * Poisson(L * x)``, where ``L`` is the rate per request (gamma
distributed around the draw's mean for negative binomial families) and ``B`` the
zero-inflation switch. Its mean and variance are exactly::

    E[Y] = x m,    Var[Y] = x m + x^2 v,    m = E[B L],  v = Var[B L]

(law of total variance). The rules record ``m`` (``expected_ratio``), ``v``
(``ratio_variance``) and ``z`` (``bound_z``), with ``z`` chosen so that at the group's
typical exposure ``x0`` (the median of its training windows) the bound
``x m + z sqrt(x m + x^2 v)`` **equals** the exact predictive quantile (the smallest
count ``y`` with ``P(Y <= y) >= (1 + level) / 2``, the upper end of the central
``level`` interval, as ``bayescount anomalies`` uses). At other exposures the bound
moves with the exact mean and standard deviation: the approximation is that the
quantile stays the same number of standard deviations above the mean. It is exact at
``x0``, close for nearby traffic, and errs towards fewer alerts at low traffic where
the count distribution is more skewed. The rate is marginal over the training
period: seasonality and covariates widen the bound rather than move it (for the
model's time-specific bands, export them with
:func:`~bayescount.export.openmetrics.openmetrics_text`).

Windows are aligned as bayescount's: the alert reads the counts of whole windows
``[t - step, t)`` at multiples of ``step`` since the epoch (a subquery with resolution
``step``), so "k consecutive windows" means the same windows as the fitted data; each
window's count is ``increase`` over it (Prometheus' extrapolated increase, not the
exact counts of ``bayescount pull``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescount._warnings import warn
from bayescount.exceptions import ConvergenceWarning, DataError, SpecError
from bayescount.forecast.burn_rules import DEFAULT_MIN_BAD_EVENTS, sre_workbook_rules
from bayescount.forecast.slo import SLOSpec
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import PredictiveParameters
from bayescount.inference.predictive_cdf import mixture_quantile
from bayescount.prep.durations import parse_duration
from bayescount.prep.splits import infer_step
from bayescount.results import DEFAULT_SEED

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = [
    "ANOMALY_ALERT",
    "SLO_ALERT",
    "anomaly_bounds",
    "anomaly_rules",
    "fit_step",
    "prometheus_rules",
    "prom_duration",
    "promql_string",
    "rules_yaml",
    "slo_rules",
]

#: Name of the anomaly alert.
ANOMALY_ALERT = "BayescountAnomaly"
#: Name of the SLO burn-rate alerts (label ``severity`` says page or ticket).
SLO_ALERT = "ErrorBudgetBurn"
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
#: Draw x window pairs a group's mixture keeps (a random subset beyond this).
_MAX_CELLS = 100_000


def prom_duration(value: str | pd.Timedelta) -> str:
    """Write a duration as PromQL does: ``5m``, ``1h``, ``3d``, ``599s``.

    Parameters
    ----------
    value : str or pandas.Timedelta
        A duration (read by :func:`~bayescount.prep.durations.parse_duration`).

    Returns
    -------
    str
        The largest unit of d, h, m, s that divides it (whole seconds).
    """
    seconds = int(round(parse_duration(value).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def promql_string(text: str) -> str:
    """Quote ``text`` as a PromQL string literal (backslash, quote, newline escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _number(x: float) -> str:
    return repr(float(x))


def _check_labels(labels: Sequence[str]) -> list[str]:
    bad = [name for name in labels if not _LABEL.match(name) or name.startswith("__")]
    if bad:
        raise SpecError(
            f"Group column(s) {bad} are not Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, "
            "not starting with '__'); rename them in the data before fitting."
        )
    return list(labels)


def _check_selector(selector: str, option: str) -> str:
    text = selector.strip()
    name = re.split(r"[{\s]", text, maxsplit=1)[0]
    if not text or "[" in text or (name and not _METRIC.match(name)):
        raise SpecError(
            f"{option} {selector!r} is not a counter selector; write a metric name with "
            "optional matchers, e.g. 'http_requests_total{job=\"api\", code=~\"5..\"}'."
        )
    return text


def _metric_part(name: str) -> str:
    """Make a column name usable inside a recording-rule name."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name) or "count"


def _by(labels: Sequence[str]) -> str:
    return ", ".join(labels)


def _window_sum(selector: str, window: str, labels: Sequence[str], fn: str = "increase") -> str:
    return f"sum by ({_by(labels)}) ({fn}({selector}[{window}]))"


# ------------------------------------------------------------------------ anomalies
def anomaly_bounds(
    fit: Fit,
    *,
    level: float = 0.99,
    random_seed: int | None = DEFAULT_SEED,
) -> pd.DataFrame:
    """Compute the per-group numbers behind the anomaly rules (see the module notes).

    Parameters
    ----------
    fit : Fit
        A fitted model (or a fitted :class:`~bayescount.CountModel`).
    level : float
        Central predictive interval; the bound is its upper end, the
        ``(1 + level) / 2`` quantile of a window's count.
    random_seed : int, optional
        Seed of the unseen-effect draws and of the subsample of large mixtures.

    Returns
    -------
    pandas.DataFrame
        One row per group (the fit's group columns) with ``typical_exposure`` (median
        exposure of its training windows; 1 without an exposure column),
        ``expected_ratio`` (``m``: expected events per exposure unit),
        ``ratio_variance`` (``v``), ``bound`` (the exact predictive quantile at the
        typical exposure, a count) and ``bound_z`` (``z``).

    Raises
    ------
    SpecError
        ``level`` outside (0, 1).
    """
    if not 0 < level < 1:
        raise SpecError(f"level must lie in (0, 1), got {level}.")
    fit = as_fit(fit)
    _warn_unconverged(fit, "anomaly bounds")
    rng = np.random.default_rng(random_seed)
    prepared, rows = fit.training_rows()
    params = fit.predictive_parameters(prepared, rng=rng)
    exposure = np.asarray(prepared.exposure, dtype=float)
    has_exposure = fit.schema.exposure is not None
    groups = list(fit.schema.groups)
    mu = params.mu.values.reshape(-1, len(exposure))
    alpha = None if params.alpha is None else np.broadcast_to(
        params.alpha.values, params.mu.shape).reshape(mu.shape)
    psi = None if params.psi is None else np.broadcast_to(
        params.psi.values, params.mu.shape).reshape(mu.shape)
    keys = rows[groups].astype(str) if groups else pd.DataFrame(index=rows.index)
    grouped = keys.groupby(groups, sort=True).indices if groups else {(): np.arange(len(rows))}
    out = []
    q = (1 + level) / 2
    for key, idx in grouped.items():
        idx = idx[exposure[idx] > 0]
        key = key if isinstance(key, tuple) else (key,)
        record: dict[str, Any] = dict(zip(groups, key, strict=True))
        if not len(idx):
            continue
        rate = mu[:, idx] / exposure[idx]
        shape = None if alpha is None else alpha[:, idx]
        count_p = None if psi is None else psi[:, idx]
        cells = rate.size
        pick = (rng.choice(cells, _MAX_CELLS, replace=False) if cells > _MAX_CELLS
                else slice(None))
        rate = rate.reshape(-1)[pick]
        shape = None if shape is None else shape.reshape(-1)[pick]
        count_p = np.ones_like(rate) if count_p is None else count_p.reshape(-1)[pick]
        second = rate**2 * (1 + (0.0 if shape is None else 1.0 / shape))
        m = float(np.mean(count_p * rate))
        v = max(float(np.mean(count_p * second)) - m**2, 0.0)
        x0 = float(np.median(exposure[idx])) if has_exposure else 1.0
        mixture = PredictiveParameters(
            mu=xr.DataArray((rate * x0)[None, :, None], dims=("chain", "draw", "obs")),
            alpha=None if shape is None else xr.DataArray(shape[None, :, None],
                                                           dims=("chain", "draw", "obs")),
            psi=None if psi is None else xr.DataArray(count_p[None, :, None],
                                                      dims=("chain", "draw", "obs")),
            exposure=np.array([x0]),
        )
        bound = float(mixture_quantile(mixture, q)[0])
        sd = math.sqrt(x0 * m + x0**2 * v)
        z = (bound - x0 * m) / sd if sd > 0 else 0.0
        record |= {"typical_exposure": x0, "expected_ratio": m, "ratio_variance": v,
                   "bound": bound, "bound_z": z}
        out.append(record)
    table = pd.DataFrame(out, columns=[*groups, "typical_exposure", "expected_ratio",
                                       "ratio_variance", "bound", "bound_z"])
    table.attrs["level"] = level
    return table


def _warn_unconverged(fit: Fit, what: str) -> None:
    """Warn (ConvergenceWarning) when ``fit`` failed its convergence gate."""
    if not fit.convergence.passed:
        warn(f"the fit failed its convergence gate, so the {what} made from it are not "
             f"trustworthy; refit with more draws before deploying them. {fit.convergence}",
             ConvergenceWarning)


def _constant_rule(record: str, value: float, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": record, "expr": f"vector({_number(value)})", "labels": labels}


def anomaly_rules(
    bounds: pd.DataFrame,
    *,
    errors_metric: str,
    requests_metric: str | None,
    labels: Sequence[str],
    step: str,
    consecutive: int = 2,
    counts_name: str = "errors",
) -> dict[str, Any]:
    """Build the rule group of the anomaly alert from :func:`anomaly_bounds`' table.

    Parameters
    ----------
    bounds : pandas.DataFrame
        One row per group (:func:`anomaly_bounds`).
    errors_metric, requests_metric : str
        Counter selectors of the counted events and of the exposure (``None``: the
        model has no exposure; the bound is the constant ``bound`` column).
    labels : sequence of str
        Prometheus labels of the groups (the fit's group columns).
    step : str
        The fit's window length (``5m``).
    consecutive : int
        Windows in a row above the bound before the alert fires (``k >= 1``).
    counts_name : str
        Middle part of the recording rules' names (``bayescount:<name>:...``).

    Returns
    -------
    dict
        A Prometheus rule group: ``name``, ``rules``.
    """
    if consecutive < 1:
        raise SpecError(f"consecutive must be >= 1, got {consecutive}.")
    labels = _check_labels(labels)
    window = prom_duration(step)
    prefix = f"bayescount:{_metric_part(counts_name)}"
    m, v, z = (f"{prefix}:expected_ratio", f"{prefix}:ratio_variance", f"{prefix}:bound_z")
    rules: list[dict[str, Any]] = []
    for _, row in bounds.iterrows():
        group = {name: str(row[name]) for name in labels}
        rules += [_constant_rule(m, row["expected_ratio"], group),
                  _constant_rule(v, row["ratio_variance"], group),
                  _constant_rule(z, row["bound_z"], group)]
    on = f"on({_by(labels)})"
    observed = _window_sum(errors_metric, window, labels)
    if requests_metric is not None:
        x = _window_sum(requests_metric, window, labels)
        rules.append({"record": f"{prefix}:expected_increase{window}",
                      "expr": f"{x} * {on} {m}"})
        bound = (f"({x} * {on} {m} + {on} {z} * {on} "
                 f"sqrt({x} * {on} {m} + ({x}) ^ 2 * {on} {v}))")
    else:  # counts per window: the bound is the quantile itself, m + z sqrt(m + v)
        rules.append({"record": f"{prefix}:expected_increase{window}", "expr": m})
        bound = f"({m} + {on} {z} * {on} sqrt({m} + {on} {v}))"
    rules.append({"record": f"{prefix}:upper_bound{window}", "expr": bound})
    span = prom_duration(pd.Timedelta(parse_duration(step) * consecutive)
                         - pd.Timedelta(seconds=1))
    level = bounds.attrs.get("level", 0.99)
    rules.append({
        "alert": ANOMALY_ALERT,
        "expr": (f"count_over_time(({observed} > {on} {bound})[{span}:{window}]) "
                 f">= {consecutive}"),
        "labels": {"severity": "ticket"},
        "annotations": {
            "summary": f"{counts_name} above the model's predictive bound",
            "description": (
                f"{counts_name} exceeded the fitted model's upper {level:g} predictive "
                f"bound in each of the last {consecutive} {window} windows."),
        },
    })
    return {"name": f"bayescount-{_metric_part(counts_name)}-anomalies", "rules": rules}


# ------------------------------------------------------------------------------ SLO
def slo_rules(
    slo: SLOSpec,
    *,
    errors_metric: str,
    requests_metric: str,
    labels: Sequence[str],
    min_bad_events: float = DEFAULT_MIN_BAD_EVENTS,
) -> list[dict[str, Any]]:
    """Build the error-ratio recording rules and the multiwindow burn-rate alerts.

    Parameters
    ----------
    slo : SLOSpec
        The objective and its window (the factors scale with the window length).
    errors_metric, requests_metric : str
        Counter selectors of bad and of all events.
    labels : sequence of str
        One burn rate per combination of these labels (empty: one overall).
    min_bad_events : float
        Errors a long window must hold (``increase``) before its pair may fire; 0
        turns the guard off.

    Returns
    -------
    list of dict
        Two rule groups: the recording rules and the alerts.
    """
    labels = _check_labels(labels)
    rules = sre_workbook_rules(slo)
    if not rules:
        raise SpecError(f"The SLO window {slo.window} is shorter than every workbook rule.")
    windows = sorted({w for r in rules for w in (r.long_window, r.short_window)},
                     key=parse_duration)
    name = slo.name or "slo"
    tag = {"slo": name}
    record = {w: f"bayescount:slo_error_ratio:rate{prom_duration(w)}" for w in windows}
    recording = [
        {"record": record[w],
         "expr": (f"{_window_sum(errors_metric, prom_duration(w), labels, 'rate')} / "
                  f"{_window_sum(requests_metric, prom_duration(w), labels, 'rate')}"),
         "labels": tag}
        for w in windows
    ]
    selector = "{slo=" + promql_string(name) + "}"
    on = f"on({_by(labels)})"
    alerts = []
    for severity in ("page", "ticket"):
        pairs = []
        for r in (r for r in rules if r.severity == severity):
            threshold = _number(r.factor * slo.error_budget)
            pair = (f"({record[r.long_window]}{selector} > {threshold}"
                    f" and {on} {record[r.short_window]}{selector} > {threshold}")
            if min_bad_events > 0:
                pair += (f" and {on} "
                         f"{_window_sum(errors_metric, prom_duration(r.long_window), labels)}"
                         f" >= {_number(min_bad_events)}")
            pairs.append(pair + ")")
        if not pairs:
            continue
        windows_text = "; ".join(
            f"{r.long_window}/{r.short_window} at {r.factor:.4g}x"
            for r in rules if r.severity == severity)
        alerts.append({
            "alert": SLO_ALERT,
            "expr": " or ".join(pairs),
            "labels": {"severity": severity, "slo": name},
            "annotations": {
                "summary": f"SLO {name}: error budget burning fast ({severity})",
                "description": (
                    f"The error ratio exceeds the burn-rate threshold over both windows of a "
                    f"pair ({windows_text}; objective {slo.objective:g} over {slo.window})."),
            },
        })
    return [{"name": f"bayescount-slo-{_metric_part(name)}-recording", "rules": recording},
            {"name": f"bayescount-slo-{_metric_part(name)}-alerts", "rules": alerts}]


def prometheus_rules(
    fit: Fit | None,
    slo: SLOSpec | None = None,
    *,
    errors_metric: str,
    requests_metric: str | None = None,
    labels: Sequence[str] | None = None,
    step: str | None = None,
    level: float = 0.99,
    consecutive: int = 2,
    min_bad_events: float = DEFAULT_MIN_BAD_EVENTS,
    random_seed: int | None = DEFAULT_SEED,
) -> dict[str, Any]:
    """Build a Prometheus rule file: SLO burn-rate alerts and the model's anomaly alert.

    Parameters
    ----------
    fit : Fit or None
        The fitted model of the counted events (``None``: SLO rules only).
    slo : SLOSpec, optional
        The SLO (``None``: anomaly rules only).
    errors_metric : str
        Counter selector of the counted (bad) events, e.g.
        ``'http_requests_total{job="api", code=~"5.."}'``.
    requests_metric : str, optional
        Counter selector of all events (the exposure). Needed for the SLO rules and for
        a model with an exposure column.
    labels : sequence of str, optional
        Label names of the groups; default the fit's group columns.
    step : str, optional
        Window of the anomaly rules; default the fit's time step.
    level, consecutive : float, int
        The anomaly bound (upper end of the central ``level`` predictive interval)
        and the windows in a row above it before the alert fires.
    min_bad_events : float
        Errors a burn-rate pair's long window must hold.
    random_seed : int, optional
        Seed of :func:`anomaly_bounds`.

    Returns
    -------
    dict
        ``{"groups": [...]}``, ready for :func:`rules_yaml`.

    Raises
    ------
    SpecError
        Neither a fit nor an SLO; a missing requests selector where it is needed; a
        group column that is no Prometheus label name; no step.
    """
    if fit is None and slo is None:
        raise SpecError("Give a fit (anomaly rules), an SLO (burn-rate rules) or both.")
    errors_metric = _check_selector(errors_metric, "--errors-metric")
    if requests_metric is not None:
        requests_metric = _check_selector(requests_metric, "--requests-metric")
    fit = None if fit is None else as_fit(fit)
    if labels is None:
        labels = list(fit.schema.groups) if fit is not None else []
    groups: list[dict[str, Any]] = []
    if slo is not None:
        if requests_metric is None:
            raise SpecError("The SLO rules need --requests-metric (all events): the error "
                            "ratio is errors / requests.")
        groups += slo_rules(slo, errors_metric=errors_metric, requests_metric=requests_metric,
                            labels=labels, min_bad_events=min_bad_events)
    if fit is not None:
        if fit.schema.exposure is not None and requests_metric is None:
            raise SpecError(
                f"The fit's counts are per {fit.schema.exposure!r}: give --requests-metric "
                "(the counter of that exposure) so the bound follows the traffic."
            )
        if step is None:
            step = prom_duration(fit_step(fit))
        if set(labels) != set(fit.schema.groups):
            raise SpecError(f"The anomaly rules need one label per group column of the fit "
                            f"{list(fit.schema.groups)}; got {list(labels)}.")
        bounds = anomaly_bounds(fit, level=level, random_seed=random_seed)
        groups.append(anomaly_rules(
            bounds, errors_metric=errors_metric,
            requests_metric=requests_metric if fit.schema.exposure is not None else None,
            labels=list(fit.schema.groups), step=step, consecutive=consecutive,
            counts_name=fit.schema.counts))
    return {"groups": groups}


def fit_step(fit: Fit) -> pd.Timedelta:
    """Return the window length of a fit's rows: its time grid's step, or the smallest gap.

    Raises
    ------
    SpecError
        The fit has no time column or a single timestamp; give the step explicitly.
    """
    fit = as_fit(fit)
    if fit.time_grid is not None:
        return pd.Timedelta(fit.time_grid.step)
    _, rows = fit.training_rows()
    if fit.schema.time is None or fit.schema.time not in rows:
        raise SpecError("The fit has no time column; give the window length with --step.")
    try:
        return infer_step(pd.to_datetime(rows[fit.schema.time]))
    except DataError as err:
        raise SpecError(f"{err} Give the window length with --step.") from err


def rules_yaml(rules: dict[str, Any]) -> str:
    """Write a rule document (:func:`prometheus_rules`) as Prometheus rule-file YAML."""
    import yaml

    class _Plain(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors in rule files
            return True

    return yaml.dump(rules, Dumper=_Plain, sort_keys=False, allow_unicode=True, width=10_000)
