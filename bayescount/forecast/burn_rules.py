"""Multiwindow, multi-burn-rate alerting rules, deterministic and probabilistic.

The Google SRE Workbook (ch. 5, "Alerting on SLOs") pages when a share of the whole
window's error budget is spent fast: 2 % in 1 h or 5 % in 6 h (page), 10 % in 1 d or
10 % in 3 d (ticket). The burn-rate factor of a rule is::

    factor = budget_fraction * window_length / long_window

which gives 14.4, 6, 3 and 1 for a 30-day window (13.44, 5.6, 2.8, 0.93 for 28 days).

* **Observed** (as Sloth generates it): the rule fires when the error ratio over the
  long window AND over the short window both exceed ``factor * (1 - objective)``.
* **Forecast**: the rule fires when the posterior predictive probability that the
  burn rate over the next ``long_window`` exceeds ``factor`` reaches
  ``min_probability``.

Low traffic: a window with one error in ten requests burns a 99.9 % budget at 100x.
Both versions therefore also require at least ``min_bad_events`` bad events in the
long window (observed: counted; forecast: inside the same probability). The forecast
also carries the Poisson noise of small counts and the partial pooling of the model.

Windows and the data's step: a row of the data covers ``[time, time + step)`` and its
events are taken as spread evenly over that span, so a window takes each row **pro
rata** to the share of the row it overlaps (:func:`window_shares`). A 5-minute window
over 15-minute rows is therefore read from the last row, and a 1-day window that ends
half-way through a 5-hour row takes half of that row. A rule is **not evaluable**
(``evaluable=False``, never fires, its burn is NaN, never 0x) when its long window is
shorter than the step (a 1h budget share cannot be told apart inside 6-hour rows) or
when no row overlaps it; a short window shorter than the step is read pro rata from the
last row and the reason says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bayescount._warnings import warn
from bayescount.exceptions import RuleWarning, SpecError
from bayescount.forecast._results import html_block, json_safe, mc_se
from bayescount.forecast.slo import SLOSpec, burn_rate, format_duration, parse_duration

if TYPE_CHECKING:
    import matplotlib.figure

__all__ = [
    "DEFAULT_MIN_BAD_EVENTS",
    "BurnRule",
    "Decision",
    "RuleResult",
    "RuleWarning",
    "check_forecast",
    "check_observed",
    "decide",
    "default_rules",
    "seed_rules",
    "sre_workbook_rules",
    "usable_rules",
    "window_shares",
]

#: Bad events a long window must hold before a rule may fire. With fewer than 5 events
#: the 95 % Poisson interval of the count spans more than a factor of 3 below what was
#: seen, so one or two stray errors on a quiet service would page.
DEFAULT_MIN_BAD_EVENTS = 5

Severity = Literal["page", "ticket"]
_ORDER = {"page": 2, "ticket": 1, "none": 0}

#: (severity, long window, short window, share of the window's budget spent).
WORKBOOK = (
    ("page", "1h", "5m", 0.02),
    ("page", "6h", "30m", 0.05),
    ("ticket", "1d", "2h", 0.10),
    ("ticket", "3d", "6h", 0.10),
)


@dataclass(frozen=True)
class BurnRule:
    """Fire ``severity`` when the burn rate over ``long_window`` exceeds ``factor``.

    ``short_window`` (observed rules) must exceed it too; ``None`` for forecast-only
    rules. ``budget_fraction`` records where the factor came from.
    """

    name: str
    severity: Severity
    long_window: str
    factor: float
    short_window: str | None = None
    budget_fraction: float | None = None
    forecast_only: bool = False

    def __post_init__(self) -> None:
        if self.severity not in ("page", "ticket"):
            raise SpecError(f"Rule {self.name!r}: severity must be 'page' or 'ticket'.")
        if not self.factor > 0:
            raise SpecError(f"Rule {self.name!r}: factor must be > 0, got {self.factor}.")
        parse_duration(self.long_window)
        if self.short_window is not None:
            parse_duration(self.short_window)

    @property
    def horizon(self) -> pd.Timedelta:
        """The long window as a Timedelta."""
        return parse_duration(self.long_window)

    def can_fire(self, slo: SLOSpec) -> bool:
        """Whether the burn rate can reach ``factor`` at all (``<= 1 / (1 - objective)``)."""
        return self.factor <= slo.max_burn_rate


def sre_workbook_rules(slo: SLOSpec, at: pd.Timestamp | None = None) -> tuple[BurnRule, ...]:
    """Return the SRE Workbook rules with factors scaled to ``slo``'s window length.

    Rules whose long window is longer than the SLO window itself are left out.
    """
    length = slo.window_length(at)
    rules = []
    for severity, long, short, fraction in WORKBOOK:
        if parse_duration(long) > length:
            continue
        factor = fraction * (length / parse_duration(long))
        rules.append(BurnRule(f"{severity}-{long}-{short}", severity, long, float(factor),
                              short, fraction))
    return tuple(rules)


def seed_rules() -> tuple[BurnRule, ...]:
    """Forecast rules of the issue: page at 2x burn over the next day, ticket at 1.5x."""
    return (
        BurnRule("forecast-1d-2x", "page", "1d", 2.0, forecast_only=True),
        BurnRule("forecast-1d-1.5x", "ticket", "1d", 1.5, forecast_only=True),
    )


def default_rules(slo: SLOSpec, at: pd.Timestamp | None = None) -> tuple[BurnRule, ...]:
    """Workbook rules followed by the seed forecast rules."""
    return sre_workbook_rules(slo, at) + seed_rules()


def usable_rules(slo: SLOSpec, rules: Sequence[BurnRule]) -> dict[str, bool]:
    """``{rule name: can fire}``; warns with :class:`RuleWarning` about rules that never can."""
    able = {r.name: r.can_fire(slo) for r in rules}
    dead = [f"{r.name} (factor {r.factor:g})" for r in rules if not able[r.name]]
    if dead:
        warn(
            f"Rule(s) {', '.join(dead)} can never fire: with objective {slo.objective} the "
            f"burn rate is at most 1 / (1 - objective) = {slo.max_burn_rate:g}. Lower the "
            "factor or use a longer window.",
            RuleWarning,
        )
    return able


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule and the numbers behind it.

    ``evaluable`` is False when the data cannot resolve the rule's window (see the
    module notes); such a rule never fires and its burns are NaN.
    """

    rule: str
    kind: Literal["observed", "forecast"]
    severity: Severity
    fired: bool
    factor: float
    long_window: str
    short_window: str | None
    can_fire: bool
    long_burn: float = float("nan")
    short_burn: float = float("nan")
    bad_events: float = float("nan")
    probability: float = float("nan")
    reason: str = ""
    evaluable: bool = True
    probability_mc_se: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the fields (NaN as ``None``)."""
        return json_safe(asdict(self))

    def to_frame(self) -> pd.DataFrame:
        """Return one row, indexed by the rule's name."""
        return pd.DataFrame([asdict(self)]).set_index("rule")

    def plot(self, ax: Any = None) -> matplotlib.figure.Figure:
        """Burn rate over each window against the rule's factor.

        Bars: the burn rate over the long (and short) window (observed rules: the
        observed burn; forecast rules: the median forecast burn); dashed: ``factor``.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return plot_rule_results([self], ax=ax)

    def _repr_html_(self) -> str:
        verdict = "fired" if self.fired else "did not fire"
        return html_block(f"{self.kind} rule {self.rule} ({self.severity}): {verdict}",
                          self.to_frame(), [self.reason])


@dataclass(frozen=True)
class Decision:
    """``"page"``, ``"ticket"`` or ``"none"``, the rule that fired and why."""

    level: Literal["page", "ticket", "none"]
    rule: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: ``level``, ``rule``, ``reason``."""
        return json_safe(asdict(self))

    def to_frame(self) -> pd.DataFrame:
        """Return one row: ``level``, ``rule``, ``reason``."""
        return pd.DataFrame([asdict(self)])

    def plot(self, ax: Any = None) -> matplotlib.figure.Figure:
        """Draw the decision as a severity bar (none < ticket < page) with its reason.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from bayescount.results import new_axes

        fig, ax = new_axes(ax, (6.0, 2.0))
        colors = {"none": "C2", "ticket": "C1", "page": "C3"}
        ax.barh([0], [_ORDER[self.level]], color=colors[self.level],
                label=f"decision: {self.level}")
        ax.set_xlim(0, 2.2)
        ax.set_xticks([0, 1, 2], ["none", "ticket", "page"])
        ax.set_yticks([0], ["decision"])
        ax.set_xlabel("severity")
        ax.set_title(f"Decision: {self.level}" + (f" ({self.rule})" if self.rule else ""))
        ax.text(0.02, -0.45, self.reason[:120], fontsize="x-small")
        ax.legend(fontsize="small", loc="upper right")
        return fig

    def _repr_html_(self) -> str:
        return html_block(f"Decision: {self.level}", self.to_frame(), [self.reason])


def plot_rule_results(results: Sequence[RuleResult], ax: Any = None) -> matplotlib.figure.Figure:
    """Burn rate of each rule's windows against its factor, one group of bars per rule.

    Parameters
    ----------
    results : sequence of RuleResult
        Results of :func:`check_observed` / :func:`check_forecast`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayescount.results import new_axes

    fig, ax = new_axes(ax, (6.0, 1.5 + 0.5 * len(results)))
    y = np.arange(len(results))[::-1]
    ax.barh(y + 0.2, [r.long_burn for r in results], height=0.4, color="C0",
            label="burn over the long window")
    ax.barh(y - 0.2, [r.short_burn for r in results], height=0.4, color="C1",
            label="burn over the short window")
    for pos, r in zip(y, results, strict=True):
        ax.plot([r.factor, r.factor], [pos - 0.45, pos + 0.45], "k--", linewidth=1)
    ax.plot([], [], "k--", label="rule factor")
    ax.set_yticks(y, [f"{r.rule} ({'fired' if r.fired else 'quiet'})" for r in results])
    ax.set_xlabel("burn rate (error ratio / (1 - objective); 1 = on budget)")
    ax.set_ylabel("rule")
    ax.set_title("Burn-rate rules")
    ax.legend(fontsize="small")
    return fig


def window_shares(
    starts: pd.DatetimeIndex | np.ndarray,
    step: pd.Timedelta,
    since: pd.Timestamp,
    until: pd.Timestamp,
) -> np.ndarray:
    """Share of each row ``[start, start + step)`` that lies inside ``[since, until)``.

    Parameters
    ----------
    starts : DatetimeIndex or array of datetime64
        Row starts.
    step : pandas.Timedelta
        Length of a row (the data's step).
    since, until : pandas.Timestamp
        The window.

    Returns
    -------
    numpy.ndarray
        Values in ``[0, 1]``: the weight of each row's events in the window (pro rata,
        events taken as spread evenly over the row).
    """
    starts = pd.DatetimeIndex(starts).as_unit("ns").asi8.astype(float)
    width = float(pd.Timedelta(step).value)
    lo = np.maximum(starts, float(pd.Timestamp(since).value))
    hi = np.minimum(starts + width, float(pd.Timestamp(until).value))
    return np.clip((hi - lo) / width, 0.0, 1.0)


def _series_step(times: pd.DatetimeIndex, now: pd.Timestamp) -> pd.Timedelta:
    """Median spacing of the rows; a single row spans up to ``now``."""
    unique = times.unique().sort_values()
    if len(unique) > 1:
        return pd.Series(unique).diff().median()
    span = now - unique[0]
    return span if span > pd.Timedelta(0) else pd.Timedelta(minutes=5)


def _not_evaluable(rule: BurnRule, kind: str, able: bool, why: str) -> RuleResult:
    return RuleResult(rule.name, kind, rule.severity, False, rule.factor, rule.long_window,
                      rule.short_window, able, reason=f"not evaluable: {why}", evaluable=False)


def check_observed(
    series: pd.DataFrame,
    slo: SLOSpec,
    rules: Sequence[BurnRule],
    *,
    now: pd.Timestamp,
    min_bad_events: float = DEFAULT_MIN_BAD_EVENTS,
    able: dict[str, bool] | None = None,
    step: pd.Timedelta | str | None = None,
) -> list[RuleResult]:
    """Evaluate the rules on observed ``time``/``bad``/``total`` rows ending at ``now``.

    Parameters
    ----------
    series : pandas.DataFrame
        One row per window: ``time`` (window start), ``bad`` and ``total`` events.
    slo : SLOSpec
        The objective (its error budget sets the thresholds).
    rules : sequence of BurnRule
        Forecast-only rules are skipped.
    now : pandas.Timestamp
        End of the observed period; windows are ``[now - w, now)``.
    min_bad_events : float
        Bad events the long window must hold (pro rata) before a rule may fire.
    able : dict, optional
        ``{rule name: can fire}`` (:func:`usable_rules`).
    step : pandas.Timedelta or str, optional
        Length of a row; default the median spacing of ``time``.

    Returns
    -------
    list of RuleResult
        One per observed rule. Windows take rows pro rata (:func:`window_shares`); a
        rule whose long window is shorter than ``step``, or that no row overlaps, is
        returned with ``evaluable=False`` and ``fired=False``.
    """
    able = able if able is not None else {r.name: r.can_fire(slo) for r in rules}
    budget = slo.error_budget
    now = pd.Timestamp(now)
    times = pd.DatetimeIndex(pd.to_datetime(series["time"]))
    bad_rows = series["bad"].to_numpy(float)
    total_rows = series["total"].to_numpy(float)
    step = (parse_duration(step) if step is not None
            else _series_step(times, now) if len(times) else pd.Timedelta(0))

    def window(length: pd.Timedelta) -> tuple[float, float, float]:
        """Burn rate, bad events and share covered of ``[now - length, now)``."""
        share = window_shares(times, step, now - length, now)
        total = float(share @ total_rows)
        bad = float(share @ bad_rows)
        covered = float(share.sum()) * step / length
        return float(burn_rate(bad, total, budget, axis=None)), bad, covered

    out = []
    for rule in rules:
        if rule.forecast_only or rule.short_window is None:
            continue
        long_len, short_len = rule.horizon, parse_duration(rule.short_window)
        if not len(times):
            out.append(_not_evaluable(rule, "observed", able[rule.name], "no observed rows"))
            continue
        if long_len < step:
            out.append(_not_evaluable(
                rule, "observed", able[rule.name],
                f"the {rule.long_window} window is shorter than the data's "
                f"{format_duration(step)} rows; give rows of {rule.long_window} or less"))
            continue
        long_burn, long_bad, covered = window(long_len)
        short_burn, _, short_covered = window(short_len)
        if covered == 0 or short_covered == 0:
            empty = rule.long_window if covered == 0 else rule.short_window
            out.append(_not_evaluable(rule, "observed", able[rule.name],
                                      f"no observed row overlaps the {empty} before {now}"))
            continue
        threshold = rule.factor * budget
        over = long_burn > rule.factor and short_burn > rule.factor
        enough = long_bad >= min_bad_events
        fired = over and enough and able[rule.name]
        if fired:
            why = (f"error ratio {long_burn * budget:.3g} over {rule.long_window} and "
                   f"{short_burn * budget:.3g} "
                   f"over {rule.short_window} both exceed {threshold:.3g}")
        elif over and not enough:
            why = (f"burn exceeds {rule.factor:g}x but only {long_bad:.3g} bad events in "
                   f"{rule.long_window} (< {min_bad_events:g}); not enough evidence")
        else:
            why = f"burn {long_burn:.3g}x / {short_burn:.3g}x"
        if short_len < step:
            why += (f" ({rule.short_window} window read pro rata from the last "
                    f"{format_duration(step)} row)")
        if covered < 1 - 1e-9:
            why += (f" (the rows cover {format_duration(covered * long_len)} of the "
                    f"{rule.long_window} window)")
        out.append(RuleResult(
            rule.name, "observed", rule.severity, fired, rule.factor, rule.long_window,
            rule.short_window, able[rule.name], long_burn, short_burn,
            long_bad, reason=why,
        ))
    return out


def check_forecast(
    burn: dict[str, np.ndarray],
    bad: dict[str, np.ndarray],
    slo: SLOSpec,
    rules: Sequence[BurnRule],
    *,
    min_probability: float = 0.5,
    min_bad_events: float = DEFAULT_MIN_BAD_EVENTS,
    able: dict[str, bool] | None = None,
    unresolved: dict[str, str] | None = None,
) -> list[RuleResult]:
    """Evaluate the rules on predictive draws of the burn rate over each rule's horizon.

    ``burn[w]`` and ``bad[w]`` hold per-draw burn rates and bad events over the next
    ``w`` (a rule's ``long_window``); a missing ``w`` makes the rule not evaluable,
    for the reason ``unresolved[w]`` (default: the future does not cover it).
    """
    if not 0 < min_probability <= 1:
        raise SpecError(f"min_probability must be in (0, 1], got {min_probability}.")
    able = able if able is not None else {r.name: r.can_fire(slo) for r in rules}
    out = []
    for rule in rules:
        w = rule.long_window
        if w not in burn:
            why = (unresolved or {}).get(w, f"the future table does not cover the next {w}")
            res = _not_evaluable(rule, "forecast", able[rule.name], why)
            out.append(dataclasses.replace(res, short_window=None))
            continue
        b, n_bad = np.asarray(burn[w]), np.asarray(bad[w])
        hit = (b > rule.factor) & (n_bad >= min_bad_events)
        prob, se = float(np.mean(hit)), mc_se(hit)
        fired = prob >= min_probability and able[rule.name]
        why = (f"P(burn over next {w} > {rule.factor:g}x with >= {min_bad_events:g} bad "
               f"events) = {prob:.3f} (MC s.e. {se:.3f}) {'>=' if fired else '<'} "
               f"{min_probability:g}")
        out.append(RuleResult(
            rule.name, "forecast", rule.severity, fired, rule.factor, w, None, able[rule.name],
            float(np.median(b)), bad_events=float(np.mean(n_bad)), probability=prob, reason=why,
            probability_mc_se=se,
        ))
    return out


def decide(results: Sequence[RuleResult]) -> Decision:
    """Return the most severe fired rule (page over ticket; first listed wins a tie)."""
    fired = [r for r in results if r.fired]
    if not fired:
        return Decision("none", None, "no rule fired")
    best = max(fired, key=lambda r: _ORDER[r.severity])
    return Decision(best.severity, best.rule, f"{best.kind} rule {best.rule}: {best.reason}")
