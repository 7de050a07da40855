"""A Grafana dashboard (JSON model, built from plain dicts) for a fitted count model.

Panels, all on a Prometheus data source chosen by the ``datasource`` variable and
filtered by one variable per group label (``$region``, ``$service``...):

1. **Observed vs expected**: the observed count per window (``increase`` of the user's
   counter over the fit's step) with the model's expected count and predictive band,
   from the series :mod:`bayescount.export.openmetrics` backfills;
2. **Residuals**: observed minus expected, per group;
3. **Error-budget burn** (with an SLO): the error ratio over 1 h and 6 h divided by the
   error budget, with the page thresholds (14.4x, 6x for 30 days) drawn as lines;
4. **P(budget exhausted)** (with an SLO): the latest
   ``bayescount_slo_exhaust_probability`` of the SLO.

Alignment: a backfilled sample is stamped at its window's **start**; ``increase`` at
time ``t`` covers the window that **ends** at ``t``. The queries read the expected
series as ``last_over_time(M[step] offset step)`` so both are drawn at the window end
and a residual compares the same window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bayescount.exceptions import SpecError
from bayescount.export.openmetrics import metric_names
from bayescount.export.rules import (
    _check_labels,
    _check_selector,
    fit_step,
    prom_duration,
    promql_string,
)
from bayescount.forecast.burn_rules import sre_workbook_rules
from bayescount.inference.fit import as_fit

if TYPE_CHECKING:
    from bayescount.forecast.slo import SLOSpec
    from bayescount.inference.fit import Fit

__all__ = ["SCHEMA_VERSION", "grafana_dashboard", "with_matchers"]

#: Grafana dashboard JSON schema version written (Grafana 10/11).
SCHEMA_VERSION = 39
_DS = {"type": "prometheus", "uid": "${datasource}"}


def with_matchers(selector: str, matchers: Sequence[str]) -> str:
    """Add label matchers to a series selector.

    Parameters
    ----------
    selector : str
        ``name`` or ``name{a="b"}``.
    matchers : sequence of str
        Matchers such as ``region=~"$region"``.

    Returns
    -------
    str
        ``name{a="b", region=~"$region"}``.
    """
    if not matchers:
        return selector
    extra = ", ".join(matchers)
    text = selector.strip()
    if text.endswith("}"):
        inner = text[text.index("{") + 1:-1].strip()
        return f"{text[:text.index('{')]}{{{inner + ', ' if inner else ''}{extra}}}"
    return f"{text}{{{extra}}}"


def _target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": _DS, "expr": expr, "legendFormat": legend, "refId": ref,
            "range": True}


def _panel(pid: int, title: str, kind: str, targets: list[dict], grid: tuple[int, int, int, int],
           unit: str = "short", **extra: Any) -> dict[str, Any]:
    x, y, w, h = grid
    panel = {"id": pid, "type": kind, "title": title, "datasource": _DS, "targets": targets,
             "gridPos": {"x": x, "y": y, "w": w, "h": h},
             "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {}}
    panel.update(extra)
    return panel


def grafana_dashboard(
    fit: Fit,
    *,
    errors_metric: str,
    requests_metric: str | None = None,
    slo: SLOSpec | None = None,
    step: str | None = None,
    quantiles: tuple[float, float] = (0.05, 0.95),
    title: str | None = None,
    prefix: str = "bayescount",
) -> dict[str, Any]:
    """Build the dashboard JSON model (a dict; ``json.dumps`` it to import).

    Parameters
    ----------
    fit : Fit
        The fitted model (its group columns become label variables, its counts
        column names the backfilled series).
    errors_metric : str
        Counter selector of the counted events (``app_errors_total{job="api"}``).
    requests_metric : str, optional
        Counter selector of all events; needed with ``slo``.
    slo : SLOSpec, optional
        Adds the burn-rate and exhaustion-probability panels.
    step : str, optional
        The window of the observed counts; default the fit's step.
    quantiles : (float, float)
        Lower and upper quantile of the band, as backfilled by
        :func:`~bayescount.export.openmetrics.openmetrics_text`.
    title : str, optional
        Dashboard title; default ``"bayescount: <counts>"``.
    prefix : str
        Prefix of the backfilled metric names.

    Returns
    -------
    dict
        A Grafana dashboard JSON model (``schemaVersion`` :data:`SCHEMA_VERSION`).

    Raises
    ------
    SpecError
        Bad selectors, labels or quantiles; an SLO without ``requests_metric``.
    """
    fit = as_fit(fit)
    labels = _check_labels(fit.schema.groups)
    errors_metric = _check_selector(errors_metric, "--errors-metric")
    if slo is not None and requests_metric is None:
        raise SpecError("The burn-rate panels need --requests-metric (all events).")
    if requests_metric is not None:
        requests_metric = _check_selector(requests_metric, "--requests-metric")
    low, high = quantiles
    if not 0 < low < high < 1:
        raise SpecError(f"quantiles must be two levels 0 < low < high < 1, got {quantiles}.")
    window = prom_duration(step if step is not None else fit_step(fit))
    names = metric_names(fit.schema.counts, prefix)
    matchers = [f"{name}=~{promql_string('$' + name)}" for name in labels]
    by = ", ".join(labels)
    observed = f"sum by ({by}) (increase({with_matchers(errors_metric, matchers)}[{window}]))"

    def expected(metric: str, extra: Sequence[str] = ()) -> str:
        sel = with_matchers(metric, [*extra, *matchers])
        return f"sum by ({by}) (last_over_time({sel}[{window}] offset {window}))"

    legend = " ".join(f"{{{{{name}}}}}" for name in labels) or "all"
    band = [expected(names["predicted"], [f'quantile="{q:g}"']) for q in (low, high)]
    panels = [
        _panel(1, f"Observed vs expected {fit.schema.counts} per {window}", "timeseries", [
            _target(observed, f"observed {legend}", "A"),
            _target(expected(names["expected"]), f"expected {legend}", "B"),
            _target(band[0], f"q{low:g} {legend}", "C"),
            _target(band[1], f"q{high:g} {legend}", "D"),
        ], (0, 0, 24, 9)),
        _panel(2, f"Residuals: observed - expected {fit.schema.counts}", "timeseries", [
            _target(f"{observed} - on({by}) {expected(names['expected'])}", legend, "A"),
        ], (0, 9, 24, 7)),
    ]
    panels[0]["fieldConfig"]["overrides"] = [
        {"matcher": {"id": "byFrameRefID", "options": "D"},
         "properties": [{"id": "custom.fillBelowTo", "value": f"q{low:g} {legend}"},
                        {"id": "custom.lineWidth", "value": 0}]},
        {"matcher": {"id": "byFrameRefID", "options": "C"},
         "properties": [{"id": "custom.lineWidth", "value": 0}]},
    ]
    variables = [{"name": "datasource", "type": "datasource", "query": "prometheus",
                  "label": "Data source", "current": {}, "hide": 0}]
    variables += [{
        "name": name, "type": "query", "datasource": _DS, "label": name,
        "query": {"query": f"label_values({names['expected']}, {name})", "refId": name},
        "definition": f"label_values({names['expected']}, {name})",
        "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
        "current": {"text": "All", "value": "$__all"}, "hide": 0,
    } for name in labels]
    if slo is not None:
        ratio = {w: (f"sum by ({by}) (rate({with_matchers(errors_metric, matchers)}[{w}])) / "
                     f"sum by ({by}) (rate({with_matchers(requests_metric, matchers)}[{w}]))")
                 for w in ("1h", "6h")}
        budget = repr(slo.error_budget)
        page = [r for r in sre_workbook_rules(slo) if r.severity == "page"]
        steps = [{"color": "green", "value": None}] + [
            {"color": "orange" if i else "red", "value": r.factor}
            for i, r in enumerate(sorted(page, key=lambda r: -r.factor))][::-1]
        slo_name = slo.name or "slo"
        panels += [
            _panel(3, f"Error-budget burn rate (SLO {slo_name}, {slo.objective:g})",
                   "timeseries",
                   [_target(f"({ratio[w]}) / {budget}", f"{w} {legend}", ref)
                    for w, ref in (("1h", "A"), ("6h", "B"))],
                   (0, 16, 16, 8), unit="x"),
            _panel(4, f"P(error budget exhausted) - SLO {slo_name}", "stat", [
                _target(f"last_over_time({names['exhaust']}{{slo={promql_string(slo_name)}}}"
                        "[$__range])", slo_name, "A")], (16, 16, 8, 8), unit="percentunit"),
        ]
        panels[2]["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute",
                                                              "steps": steps}
        panels[2]["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
        panels[3]["fieldConfig"]["defaults"]["max"] = 1
    return {
        "title": title or f"bayescount: {fit.schema.counts}",
        "uid": re.sub(r"[^a-zA-Z0-9_-]", "-", f"bayescount-{fit.schema.counts}")[:40],
        "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True,
        "tags": ["bayescount"], "timezone": "utc", "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": variables}, "panels": panels,
        "annotations": {"list": []},
    }
