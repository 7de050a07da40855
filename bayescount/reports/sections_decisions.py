"""Sections about decisions: coverage, SLO burn, anomalies, incident, capacity.

Each builder computes one typed result with the library's own function
(:func:`~bayescount.checks.coverage_report`, :func:`~bayescount.forecast.forecast_burn`,
:func:`~bayescount.forecast.detect_anomalies`,
:func:`~bayescount.forecast.attribute_incident`,
:func:`~bayescount.forecast.forecast_capacity`; predictive draws only, no sampling)
and lays it out as a :class:`~bayescount.reports.content.Section` with the result's own
``plot()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bayescount.checks.coverage import DEFAULT_LEVELS, coverage_report
from bayescount.forecast.anomalies import detect_anomalies
from bayescount.forecast.attribution import attribute_incident
from bayescount.forecast.burn import forecast_burn
from bayescount.forecast.capacity import forecast_capacity
from bayescount.forecast.scenarios import Scenario
from bayescount.forecast.slo import ObservedSoFar, SLOSpec
from bayescount.inference.fit import Fit
from bayescount.reports.content import Figure, Section, Table, fmt, table_from_frame

__all__ = [
    "anomalies_section",
    "capacity_section",
    "coverage_section",
    "incident_section",
    "slo_section",
]

#: Groups per level in the attribution table.
TOP_GROUPS = 5

#: Most groups drawn as their own line on the reliability plot.
MAX_PLOTTED_GROUPS = 6

_DECISION_COLOUR = {"page": "red", "ticket": "amber", "none": "green"}


# ----------------------------------------------------------------------- coverage
def _coverage_cell(row) -> str:
    text = f"{row.coverage:.0%} [{row.lower:.0%}, {row.upper:.0%}]"
    return text if row.verdict == "calibrated" else f"{text} {row.verdict}"


def coverage_section(
    fit: Fit, holdout: pd.DataFrame, *, by: str | None, random_seed: int,
    probs: Sequence[float] = DEFAULT_LEVELS,
) -> Section:
    """Coverage of held-out rows by the predictive intervals, overall and per group."""
    by = by if by is not None and by in holdout.columns else None
    report = coverage_report(fit, holdout, probs, by=by, random_seed=random_seed)
    overall = Table(
        "Overall: empirical coverage (randomised PIT) and its 95% Wilson band per nominal "
        "level; a calibrated model's band contains the nominal level",
        ("nominal", "coverage", "band", "inclusive", "mean width", "verdict"),
        tuple((f"{r.level:.0%}", f"{r.coverage:.1%}", f"[{r.lower:.1%}, {r.upper:.1%}]",
               f"{r.coverage_inclusive:.1%}", fmt(r.mean_width), r.verdict)
              for r in report.overall),
        (True, True, False, True, True, False))
    tables = [overall]
    if by is not None:
        per: dict[str, dict[str, str]] = {}
        n: dict[str, int] = {}
        for r in report.scope("group"):
            per.setdefault(str(r.group), {})[f"{r.level:.0%}"] = _coverage_cell(r)
            n[str(r.group)] = r.n
        levels = [f"{x:.0%}" for x in report.levels]
        tables.append(Table(
            f"Per {by}: coverage [95% band] per nominal level", (by, "rows", *levels),
            tuple((g, fmt(n[g]), *(cells.get(lv, "-") for lv in levels))
                  for g, cells in per.items()),
            (False, True, *([False] * len(levels)))))
    # one line per group is readable for a few groups; the table holds them all
    n_groups = len({r.group for r in report.scope("group")})
    scope = "group" if 0 < n_groups <= MAX_PLOTTED_GROUPS else "overall"
    bad = [r for r in report.scope("group") if r.verdict not in ("calibrated", "no data")]
    notes = tuple(f"{by} {r.group}: {r.level:.0%} intervals {r.verdict} "
                  f"({r.coverage:.0%} of {r.n} rows)" for r in bad[:10])
    facts = (("held-out rows", fmt(report.overall[0].n)),
             ("calibrated (overall)", "yes" if report.calibrated else "no"),
             ("CRPS (mean, counts)", fmt(report.crps)),
             ("posterior draws", fmt(report.n_draws)))
    return Section(
        "coverage", "Coverage on held-out data",
        "How often held-out counts fell inside the model's central predictive intervals. "
        "On the reliability plot a calibrated model's points sit on the diagonal within "
        "their error bars; below it the intervals are too narrow (over-confident), above "
        "it too wide.",
        facts, (Figure("reliability", "Reliability: nominal against empirical coverage",
                       report.plot(scope=scope)),), tuple(tables), notes,
        status="green" if report.calibrated else "amber",
        status_text="calibrated" if report.calibrated else "miscalibrated")


# ---------------------------------------------------------------------------- SLO
def slo_section(
    fit: Fit, slo: SLOSpec, observed: ObservedSoFar, future: pd.DataFrame, *,
    random_seed: int,
) -> Section:
    """Error-budget burn forecast: fan chart, P(exhaust), time to exhaustion, decision."""
    result = forecast_burn(fit, slo, observed, future, random_seed=random_seed)
    decision = result.decision
    remaining = result.budget_remaining()
    window, probability, when = result.describe()
    facts = (("decision", f"{decision.level.upper()}: {decision.reason}"),
             ("probability", probability),
             ("time to exhaustion", when.removeprefix("time to exhaustion: ")),
             ("budget left at the forecast end", f"median {remaining['q0.5']:.1%} "
              f"(90% interval {remaining['q0.05']:.1%} to {remaining['q0.95']:.1%})"),
             ("window", window))
    horizons = table_from_frame(
        result.to_frame(), "P(exhausted by) each horizon and the forward burn rate "
        "(1 = spending the budget exactly by the window end)",
        ["horizon", "p_exhausted_by", "p_exhausted_by_mc_se", "mean", "q0.05", "q0.5",
         "q0.95", "p_over_1"],
        rename={"mean": "burn mean", "q0.05": "burn q5%", "q0.5": "burn median",
                "q0.95": "burn q95%", "p_over_1": "P(burn > 1)"})
    rules = pd.concat([r.to_frame() for r in result.rules]).reset_index()
    rules_table = table_from_frame(
        rules, "Alerting rules (SRE Workbook multiwindow burn rates, observed and forecast)",
        ["rule", "kind", "severity", "fired", "factor", "long_burn", "short_burn",
         "probability", "reason"])
    return Section(
        "slo", f"SLO burn: {slo.name or f'{slo.objective:g} over {slo.window}'}",
        "The share of the window's error budget spent, so far and forecast: the fan shows "
        "the predictive bands; crossing the dashed line at 1 means the budget is gone. "
        "The decision is the most severe alerting rule that fired.",
        facts, (Figure("slo_burn", "Error budget consumed, forecast to the window end",
                       result.plot()),), (horizons, rules_table), tuple(result.notes),
        status=_DECISION_COLOUR[decision.level], status_text=decision.level.upper())


# ---------------------------------------------------------------------- anomalies
def anomalies_section(
    fit: Fit, data: pd.DataFrame, *, random_seed: int, prob: float = 0.99,
    consecutive: int = 2,
) -> Section:
    """Windows beyond the predictive interval, the alerts they raise, the worst series."""
    report = detect_anomalies(fit, data, prob=prob, consecutive=consecutive,
                              random_seed=random_seed)
    alerts = report.alerts()
    table = report.table
    facts = (("windows checked", fmt(len(table))),
             ("beyond the interval", fmt(int((table["direction"] != 0).sum()))),
             ("flagged", fmt(int(table["flag"].sum()))),
             ("alerts", fmt(len(alerts))))
    tables = (table_from_frame(
        alerts.sort_values("max_severity", ascending=False),
        f"Alerts: runs of {consecutive}+ windows beyond the {prob:g} predictive interval "
        "(severity = -log10 tail probability)",
        ["series", "start", "alert_at", "end", "windows", "direction", "max_severity",
         "observed", "expected"], max_rows=20),) if len(alerts) else ()
    return Section(
        "anomalies", "Anomalies",
        f"Each window's count against the model's {prob:g} predictive interval; "
        f"{consecutive} windows in a row beyond it, on the same side, raise an alert. The "
        "timeline shows the series with the most severe flag.",
        facts, (Figure("anomalies", "Timeline of the most anomalous series", report.plot()),),
        tables, () if len(alerts) else ("No alerts: every run beyond the interval was "
                                        "shorter than the consecutive-window rule.",),
        status="amber" if len(alerts) else "green",
        status_text=f"{len(alerts)} alerts")


# ----------------------------------------------------------------------- incident
def incident_section(
    fit: Fit, data: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *,
    level: str | None, random_seed: int,
) -> Section:
    """Excess events of an incident per group, ranked, with intervals."""
    result = attribute_incident(fit, data, start, end, random_seed=random_seed)
    table = result.table
    top = table.groupby("level", sort=False).head(TOP_GROUPS)
    significant = table[table["significant"] & (table["level"] != "global")]
    facts = [("window", f"{fmt(start)} to {fmt(end)}"),
             ("significant groups", fmt(len(significant)))]
    for lv in fit.schema.groups:
        part = table[table["level"] == lv]
        if len(part):
            first = part.iloc[0]
            facts.append((f"top {lv}", f"{first['group']}: {fmt(first['excess'])} excess events "
                                       f"[{fmt(first['excess_lower'])}, "
                                       f"{fmt(first['excess_upper'])}]"))
    figures = [Figure("attribution", "Excess events per group", result.plot())]
    if level is not None and level != (fit.schema.groups or [None])[-1]:
        figures.append(Figure("attribution_level", f"Excess events per {level}",
                              result.plot(level=level)))
    return Section(
        "incident", "Incident attribution",
        "Observed minus predicted events per group over the incident window, with "
        f"{result.ci:.0%} intervals. A group is significant when the Benjamini-Hochberg "
        f"adjusted P(no rise) is at most {1 - result.min_probability:g}.",
        tuple(facts), tuple(figures),
        (table_from_frame(top, f"Top {TOP_GROUPS} groups per level by excess events",
                          ["level", "group", "rank", "observed", "expected", "excess",
                           "excess_lower", "excess_upper", "p_rose", "significant"],
                          rename={"excess_lower": "lower", "excess_upper": "upper",
                                  "p_rose": "P(rose)"}),))


# ----------------------------------------------------------------------- capacity
def capacity_section(
    fit: Fit, base: pd.DataFrame, scenarios: Sequence[Scenario], *, random_seed: int,
) -> Section:
    """Count quantiles per region (the top level) under each scenario and today."""
    result = forecast_capacity(fit, base, scenarios, random_seed=random_seed)
    table = result.table
    groups = list(fit.schema.groups)
    level = groups[0] if groups else "global"
    shown = table[table["level"].isin([level, "global"])]
    qcols = [c for c in table.columns if c.startswith("q")]
    labels = ", ".join(getattr(s, "label", str(s)) for s in scenarios)
    return Section(
        "capacity", "Capacity scenario",
        f"Predicted {result.per} count per {level} (per window at its busiest for 'peak') "
        f"today ('current') and under each scenario ({labels}), with "
        f"{qcols[0]}-{qcols[-1]} quantiles.",
        (("scenarios", labels), ("statistic", f"{result.per} count per group"),
         ("predictive draws", fmt(result.n_draws))),
        (Figure("capacity", f"Predicted {result.per} counts per {level} and scenario",
                result.plot(level=level)),),
        (table_from_frame(shown, f"Quantiles per {level} and scenario",
                          ["scenario", "level", "group", "mean", *qcols]),))
