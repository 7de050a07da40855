"""``slo``, ``anomalies``, ``attribute`` and ``capacity``: decisions from a saved fit.

File formats
------------
SOFAR (``slo --observed``), CSV or Parquet, either

* one row per window: ``time``, ``total`` and ``bad`` (or ``good``); the window so
  far ends one step after the last row; the rows feed the observed multiwindow rules;
* or one summary row: ``bad`` (or ``good``), ``total``, ``elapsed`` (``"12d"``) and
  optionally ``now`` (timestamp of the end of the observed period).

FUTURE (``slo --future``): one row per future window (and group) with the fit's time
and group columns and its exposure column (requests; a scenario; 0 for a window with
no traffic), or, with ``--traffic-model``, that model's exposure column (window
length). ``--future-from-history`` builds it instead, up to the window end: each
window gets the mean traffic of the same time of week over the last two weeks (of
day, with less than a week of history) of the fit's rows or of a HISTORY table, times
``--scale``.

Scenarios (``capacity --scenario``, repeatable): ``traffic=1.3``,
``new_region=NAME,like=REGION``, ``nodes=N`` or ``nodes=N,service=SERVICE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import TYPE_CHECKING, Any

from bayescount.cli._shared import number_in, positive_int, print_json, seed
from bayescount.cli._tables import print_table, print_text, render_table
from bayescount.cli._types import (
    covariate_term,
    duration,
    incident,
    path,
    scenario,
    slo_window,
    text,
)
from bayescount.constants import DEFAULT_SEED
from bayescount.exceptions import DataError, SpecError

if TYPE_CHECKING:  # the library is imported when a command runs, not to build the parser
    import pandas as pd

    from bayescount.forecast.slo import ObservedSoFar, SLOSpec

__all__ = ["register"]


def _emit(result: Any, as_json: bool, text: str) -> int:
    if as_json:
        print_json(result.to_dict())
    else:
        print(text)
    return 0


def _seed(args: argparse.Namespace) -> int:
    """``--seed``, or the fixed default so that the same command gives the same numbers."""
    return DEFAULT_SEED if args.seed is None else args.seed


def _table(frame: pd.DataFrame) -> str:
    """Render ``frame`` as a rich table (the same console as :func:`print_table`)."""
    return render_table(frame) if len(frame) else "(none)"


# -------------------------------------------------------------------------- slo
def _slo_spec(args: argparse.Namespace) -> SLOSpec:
    from bayescount.forecast.openslo import load_openslo
    from bayescount.forecast.slo import SLOSpec

    if args.openslo:
        if args.objective is not None or args.window is not None:
            raise SpecError("Give either --openslo or --objective/--window, not both.")
        return load_openslo(args.openslo, name=args.slo_name)
    if args.objective is None:
        raise SpecError("Give the objective: --objective 0.999 (or --openslo FILE).")
    return SLOSpec(args.objective, args.window or "30d")


def _read(path: str, model) -> pd.DataFrame:
    """Read a table with the fit's label columns as text, exactly as written."""
    from bayescount.io import read_table
    from bayescount.io.tables import label_columns

    return read_table(path, text_columns=label_columns(model))


def _history_future(args: argparse.Namespace, model, slo: SLOSpec,
                    observed: ObservedSoFar) -> pd.DataFrame:
    """Build the future table of ``--future-from-history``: the last weeks' traffic."""
    import pandas as pd

    from bayescount.forecast.history import future_from_history

    schema = model.schema
    if schema.time is None or schema.exposure is None:
        raise SpecError("--future-from-history needs a fit with a time and an exposure column.")
    if isinstance(args.future_from_history, str):  # a HISTORY table was named
        history = _read(args.future_from_history, model)
    else:
        if schema.main_covariates:
            raise SpecError(
                f"The fit's stored rows have no covariate columns {list(schema.main_covariates)}; "
                "give a history table with them: --future-from-history DATA."
            )
        _, history = model.training_rows()
    stamps = pd.to_datetime(history[schema.time]) if schema.time in history else None
    if observed.now is not None:
        now = pd.Timestamp(observed.now)
    elif stamps is not None and len(stamps) > 1:
        steps = stamps.drop_duplicates().sort_values().diff().median()
        now = stamps.max() + steps
    else:
        raise SpecError("--future-from-history needs the time of 'now': give the observed "
                        "series (one row per window) or a 'now' column in SOFAR.")
    end = slo.window_end(now, observed.elapsed)
    return future_from_history(history, now, end, time=schema.time, exposure=schema.exposure,
                               groups=schema.groups, covariates=schema.main_covariates,
                               cycles=args.history_cycles, scale=args.scale)


def _run_slo(args: argparse.Namespace) -> int:
    import pandas as pd

    from bayescount.forecast.burn import forecast_burn
    from bayescount.forecast.future import scale_traffic
    from bayescount.forecast.slo import ObservedSoFar
    from bayescount.io import load_fit

    slo = _slo_spec(args)
    model = load_fit(args.fit)
    traffic = load_fit(args.traffic_model) if args.traffic_model else None
    observed = ObservedSoFar.from_frame(_read(args.observed, model), slo)
    built = args.future_from_history is not None
    if built == (args.future is not None):
        raise SpecError("Give the future windows: --future FILE, or --future-from-history "
                        "[HISTORY] to repeat the last weeks' traffic (not both).")
    if built:
        if traffic is not None or args.shift:
            raise SpecError("--future-from-history builds a traffic scenario: drop "
                            "--traffic-model and --shift (--scale still applies).")
        future = _history_future(args, model, slo, observed)
    else:
        future = _read(args.future, model)
        if args.scale != 1.0 or args.shift:
            if traffic is not None:
                raise SpecError("--scale/--shift rewrite a traffic scenario; drop "
                                "--traffic-model.")
            future = scale_traffic(future, args.scale, args.shift,
                                   exposure=model.schema.exposure or "",
                                   time=model.schema.time or "")
    result = forecast_burn(model, slo, observed, future, traffic_model=traffic,
                           min_probability=args.min_probability,
                           min_bad_events=args.min_bad_events, random_seed=_seed(args))
    if built:
        note = (f"Future traffic built from history: {future.attrs['pattern']}; "
                f"{len(future)} rows to {future[model.schema.time].max()}.")
        result = dataclasses.replace(result, notes=(note, *result.notes))
    rules = pd.concat([r.to_frame() for r in result.rules]).reset_index()
    text = "\n".join([
        *result.describe(),
        f"decision: {result.decision.level.upper()} - {result.decision.reason}",
        "", _table(result.to_frame()), "",
        _table(rules[["rule", "kind", "severity", "fired", "factor", "long_burn", "short_burn",
                      "probability", "probability_mc_se", "reason"]]),
        *[f"note: {n}" for n in result.notes],
    ])
    return _emit(result, args.json, text)


# -------------------------------------------------------------------- anomalies
def _run_anomalies(args: argparse.Namespace) -> int:
    from bayescount.forecast.anomalies import detect_anomalies
    from bayescount.io import load_fit

    model = load_fit(args.fit)
    report = detect_anomalies(model, _read(args.data, model), prob=args.level,
                              consecutive=args.consecutive, random_seed=_seed(args))
    alerts = report.alerts()
    text = "\n".join([
        f"{len(report.table)} windows, {int(report.table['flag'].sum())} flagged, "
        f"{len(alerts)} alerts ({args.level:g} interval, {args.consecutive} in a row)",
        _table(alerts),
        f"seed {report.random_seed}; tail probabilities average {report.n_draws} posterior "
        "draws (MC s.e.: binomial bound sqrt(p(1-p)/n))",
    ])
    return _emit(report, args.json, text)


# -------------------------------------------------------------------- attribute
def _incident(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    import pandas as pd

    start, sep, end = text.partition("/")
    how = (f"--incident {text!r}: write START/END timestamps, e.g. "
           "2026-01-05T10:00/2026-01-05T12:00.")
    if not sep:
        raise DataError(how)
    try:
        return pd.Timestamp(start), pd.Timestamp(end)
    except ValueError:
        raise DataError(how) from None


def _run_attribute(args: argparse.Namespace) -> int:
    from bayescount.forecast.attribution import attribute_incident
    from bayescount.io import load_fit

    model = load_fit(args.fit)
    start, end = _incident(args.incident)
    result = attribute_incident(model, _read(args.data, model), start, end, prob=args.ci,
                                min_probability=args.min_probability,
                                covariates=args.covariate or (), random_seed=_seed(args))
    cols = ["level", "group", "rank", "observed", "expected", "excess", "excess_lower",
            "excess_upper", "p_rose", "p_rose_mc_se", "p_adjusted", "significant"]
    table = result.table.groupby("level", sort=False).head(args.top)[cols]
    parts = [f"incident {start} to {end}", _table(table),
             f"seed {result.random_seed}; {result.n_draws} predictive draws (MC s.e.: binomial "
             "sqrt(p(1-p)/n)); significant: Benjamini-Hochberg adjusted P(no rise) <= "
             f"{1 - args.min_probability:g}"]
    if result.effects is not None:
        parts += ["", _table(result.effects)]
    return _emit(result, args.json, "\n".join(parts))


# --------------------------------------------------------------------- capacity
def _run_capacity(args: argparse.Namespace) -> int:
    from bayescount.forecast.capacity import forecast_capacity
    from bayescount.forecast.scenarios import parse_scenario
    from bayescount.io import load_fit

    model = load_fit(args.fit)
    scenarios = [parse_scenario(s) for s in args.scenario or ()]
    result = forecast_capacity(model, _read(args.data, model), scenarios,
                               threshold=args.threshold, risk=args.risk, per=args.per,
                               include_current=not args.no_current, random_seed=_seed(args))
    if args.json:
        print_json(result.to_dict())
        return 0
    note = (f"seed {result.random_seed}; {result.n_draws} predictive draws per scenario"
            + (" (MC s.e. of p_exceed: binomial sqrt(p(1-p)/n))"
               if args.threshold is not None else ""))
    table = result.table
    if args.all or table.empty:
        print_table(table)
    else:
        _print_capacity_summary(table)
    print_text(note)
    return 0


#: Groups below the outermost level shown without ``--all``.
TOP_GROUPS = 5


def _print_capacity_summary(table: pd.DataFrame) -> None:
    """Print the outermost level per scenario and the groups closest to the limit."""
    import pandas as pd

    outer = table["level"].iloc[0]
    headline = table["level"].isin([outer, "global"])  # the outermost level and the total
    head, inner = table[headline], table[~headline]
    if "p_exceed" in table and table["p_exceed"].notna().any():
        key, how = ["p_exceed", "max_multiplier"], "highest P(count > threshold)"
        inner = inner.sort_values(key, ascending=[False, True], kind="stable")
    else:
        upper = [c for c in table.columns if str(c).startswith("q")][-1]
        key, how = [upper], f"highest {upper}"
        inner = inner.sort_values(key, ascending=False, kind="stable")
    top = inner.head(TOP_GROUPS)
    hidden = len(table) - len(head) - len(top)
    print_table(
        pd.concat([head, top]),
        title=f"Per {outer} and scenario, then the {len(top)} inner groups with the {how}:",
        caption=f"{hidden} more rows: --all (or --json) shows every group" if hidden else None,
    )


# --------------------------------------------------------------------- register
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("fit", type=path, metavar="FIT", help="fit file written by 'bayescount fit'")
    p.add_argument("--seed", type=seed, default=None, metavar="N", help="seed of the draws")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``slo``, ``anomalies``, ``attribute`` and ``capacity`` to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    slo = sub.add_parser("slo", help="forecast error-budget burn and decide page/ticket/none",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(slo)
    slo.add_argument("--objective", type=number_in(0, 1), metavar="X", help="e.g. 0.999")
    slo.add_argument("--window", type=slo_window, metavar="W",
                     help="rolling 30d/28d/... or calendar_month")
    slo.add_argument("--openslo", type=path, metavar="YAML",
                     help="OpenSLO v1 file with one kind: SLO")
    slo.add_argument("--slo-name", type=text, metavar="NAME",
                     help="metadata.name of the SLO to use")
    slo.add_argument("--observed", required=True, type=path, metavar="SOFAR",
                     help="bad/total events so far (see the format above)")
    slo.add_argument("--future", type=path, metavar="FUTURE", help="future windows table")
    slo.add_argument("--future-from-history", nargs="?", const=True, default=None, type=path,
                     metavar="HISTORY",
                     help="build the future windows (to the window end) by repeating the last "
                     "weeks' traffic: the fit's own rows, or the HISTORY table (time, group, "
                     "exposure and covariate columns); --scale multiplies it")
    slo.add_argument("--history-cycles", type=positive_int, default=2, metavar="K",
                     help="weeks (days, for less than a week of history) averaged by "
                     "--future-from-history (default 2)")
    slo.add_argument("--traffic-model", type=path, metavar="FIT",
                     help="fit of requests per window whose draws become the future totals")
    slo.add_argument("--scale", type=number_in(0, math.inf), default=1.0, metavar="K",
                     help="multiply the future requests by K (scenario)")
    slo.add_argument("--shift", type=duration, metavar="D",
                     help="move the future times by D, e.g. 7d")
    slo.add_argument("--min-probability", type=number_in(0, 1, closed_high=True), default=0.5,
                     metavar="P",
                     help="probability at which a forecast rule fires (default 0.5)")
    slo.add_argument("--min-bad-events", type=number_in(0, math.inf, closed_low=True), default=5,
                     metavar="N", help="bad events a rule's long window must hold (default 5)")
    slo.set_defaults(handler=_run_slo)

    anom = sub.add_parser("anomalies", help="flag windows beyond the predictive interval")
    _common(anom)
    anom.add_argument("--data", required=True, type=path, metavar="DATA",
                      help="observed windows table")
    anom.add_argument("--prob", "--level", dest="level", type=number_in(0, 1), default=0.99,
                      metavar="P",
                      help="predictive interval level (default 0.99)")
    anom.add_argument("--consecutive", type=positive_int, default=2, metavar="K",
                      help="windows in a row beyond the interval before a flag (default 2)")
    anom.set_defaults(handler=_run_anomalies)

    att = sub.add_parser("attribute", help="excess events of an incident per group")
    _common(att)
    att.add_argument("--data", required=True, type=path, metavar="DATA",
                     help="observed windows table")
    att.add_argument("--incident", required=True, type=incident, metavar="START/END",
                     help="incident window")
    att.add_argument("--prob", "--ci", dest="ci", type=number_in(0, 1), default=0.9, metavar="L",
                     help="interval level (default 0.9)")
    att.add_argument("--min-probability", type=number_in(0, 1), default=0.95, metavar="P",
                     help="significant when the Benjamini-Hochberg adjusted P(no rise) over "
                     "all groups is <= 1 - P (default 0.95: FDR 5%%)")
    att.add_argument("--covariate", action="append", type=covariate_term, metavar="TERM",
                     help="report this covariate term's multiplicative effect (repeatable)")
    att.add_argument("--top", type=positive_int, default=10, metavar="N",
                     help="groups shown per level")
    att.set_defaults(handler=_run_attribute)

    cap = sub.add_parser("capacity", help="forecast counts under exposure scenarios")
    _common(cap)
    cap.add_argument("--data", required=True, type=path, metavar="BASE",
                     help="windows to forecast")
    cap.add_argument("--scenario", action="append", type=scenario, metavar="SPEC",
                     help="traffic=K | new_region=NAME,like=REGION | nodes=N[,service=S]")
    cap.add_argument("--threshold", type=number_in(0, math.inf, closed_low=True), metavar="T",
                     help="capacity limit on the count")
    cap.add_argument("--risk", type=number_in(0, 1), default=0.05, metavar="P",
                     help="accepted P(count > threshold) for the max multiplier")
    cap.add_argument("--per", choices=("peak", "total"), default=None,
                     help="busiest window or total per group (default peak)")
    cap.add_argument("--no-current", action="store_true", help="leave out the base scenario")
    cap.add_argument("--all", action="store_true",
                     help="print every group (default: the outermost level and the "
                     f"{TOP_GROUPS} groups nearest the limit)")
    cap.set_defaults(handler=_run_capacity)
