"""``rules`` and ``export``: decisions out to Prometheus and Grafana.

* ``rules FIT``: a Prometheus rule file with the SLO's multiwindow burn-rate alerts
  (with ``--objective``/``--window`` or ``--openslo``) and the fit's anomaly alert.
* ``export openmetrics FIT --data WINDOWS``: expected counts and predictive bands per
  group and window (and ``P(exhaust)`` with an SLO and ``--observed``) as OpenMetrics
  text to backfill with ``promtool tsdb create-blocks-from openmetrics``.
* ``export grafana FIT``: a dashboard JSON model (observed vs expected with bands,
  residuals, budget burn, exhaustion probability).

The SLO options are those of ``bayescount slo``. Heavy imports (pandas, PyMC, the
exporters) happen inside the handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math

from bayescount.cli._shared import int_at_least, number_in, parse_quantiles, seed
from bayescount.cli._types import duration, label_list, path, slo_window, text

__all__ = ["register"]


def _slo(args: argparse.Namespace, required: bool = False):
    """Return the SLO of ``--objective/--window`` or ``--openslo``, or ``None``."""
    from bayescount.exceptions import SpecError
    from bayescount.forecast.openslo import load_openslo
    from bayescount.forecast.slo import SLOSpec

    if args.openslo:
        if args.objective is not None or args.window is not None:
            raise SpecError("Give either --openslo or --objective/--window, not both.")
        return load_openslo(args.openslo, name=args.slo_name)
    if args.objective is None:
        if args.window is not None or required:
            raise SpecError("Give the objective: --objective 0.999 (or --openslo FILE).")
        return None
    return SLOSpec(args.objective, args.window or "30d", name=args.slo_name or "")


def _write(out: str, content: str) -> None:
    from bayescount.io.atomic import atomic_write

    atomic_write(out, content.encode())


def _run_rules(args: argparse.Namespace) -> int:
    from bayescount.export.rules import prometheus_rules, rules_yaml
    from bayescount.io import load_fit
    from bayescount.io.atomic import check_writable

    check_writable(args.out)
    slo = _slo(args)
    fit = None if args.no_anomalies else load_fit(args.fit)
    doc = prometheus_rules(
        fit, slo, errors_metric=args.errors_metric, requests_metric=args.requests_metric,
        labels=args.labels, step=args.step, level=args.level, consecutive=args.consecutive,
        min_bad_events=args.min_bad_events, random_seed=args.seed,
    )
    _write(args.out, rules_yaml(doc))
    n = sum(len(g["rules"]) for g in doc["groups"])
    print(f"Wrote {n} rules in {len(doc['groups'])} groups to {args.out}; check them with "
          f"'promtool check rules {args.out}'")
    return 0


def _run_openmetrics(args: argparse.Namespace) -> int:
    from bayescount.exceptions import SpecError
    from bayescount.export.openmetrics import openmetrics_text
    from bayescount.forecast.burn import forecast_burn
    from bayescount.forecast.slo import ObservedSoFar
    from bayescount.io import load_fit, read_table
    from bayescount.io.atomic import check_writable
    from bayescount.io.tables import label_columns

    check_writable(args.out)
    slo = _slo(args)
    fit = load_fit(args.fit)
    data = read_table(args.data, text_columns=label_columns(fit))
    burn = None
    if slo is not None:
        if args.observed is None:
            raise SpecError("P(exhaust) needs the events so far: give --observed SOFAR "
                            "(as for 'bayescount slo').")
        observed = ObservedSoFar.from_frame(
            read_table(args.observed, text_columns=label_columns(fit)), slo)
        burn = forecast_burn(fit, slo, observed, data, random_seed=args.seed)
    elif args.observed is not None:
        raise SpecError("--observed is read only with an SLO (--objective or --openslo).")
    content = openmetrics_text(fit, data, quantiles=args.quantiles, burn=burn,
                               prefix=args.prefix, random_seed=args.seed)
    _write(args.out, content)
    samples = sum(1 for line in content.splitlines() if not line.startswith("#"))
    print(f"Wrote {samples} samples to {args.out}; backfill with 'promtool tsdb "
          f"create-blocks-from openmetrics {args.out} DATA_DIR'")
    return 0


def _run_grafana(args: argparse.Namespace) -> int:
    import json

    from bayescount.exceptions import SpecError
    from bayescount.export.grafana import grafana_dashboard
    from bayescount.io import load_fit
    from bayescount.io.atomic import check_writable

    check_writable(args.out)
    if len(args.band) != 2:
        raise SpecError(f"--band takes two quantiles LOW,HIGH, got {list(args.band)}.")
    board = grafana_dashboard(
        load_fit(args.fit), errors_metric=args.errors_metric,
        requests_metric=args.requests_metric, slo=_slo(args), step=args.step,
        quantiles=tuple(sorted(args.band)), title=args.title, prefix=args.prefix,
    )
    _write(args.out, json.dumps(board, indent=2) + "\n")
    print(f"Wrote a dashboard of {len(board['panels'])} panels to {args.out}; import it in "
          "Grafana (Dashboards > New > Import)")
    return 0


def _slo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", type=number_in(0, 1), metavar="X", help="SLO, e.g. 0.999")
    p.add_argument("--window", type=slo_window, metavar="W",
                   help="SLO window: rolling 30d (default)/28d/... or calendar_month")
    p.add_argument("--openslo", type=path, metavar="YAML", help="read the SLO from OpenSLO")
    p.add_argument("--slo-name", type=text, metavar="NAME", help="the SLO's name (label slo)")


def _metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--errors-metric", required=True, type=text, metavar="SELECTOR",
                   help="counter selector of the counted events, e.g. "
                   "'http_requests_total{job=\"api\",code=~\"5..\"}'")
    p.add_argument("--requests-metric", type=text, metavar="SELECTOR",
                   help="counter selector of all events (the exposure)")
    p.add_argument("--step", type=duration, metavar="D",
                   help="window of the counts (default: the fit's step)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``rules`` and ``export`` (``openmetrics``, ``grafana``) to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    rules = sub.add_parser(
        "rules", help="Prometheus alerting/recording rules: SLO burn rate and anomalies",
        description="Write a Prometheus rule file: the SRE Workbook multiwindow burn-rate "
        "alerts of the SLO (page 1h/5m at 14.4x, 6h/30m at 6x; ticket 1d/2h at 3x, 3d/6h at "
        "1x for 30 days, scaled to the window) and the fit's anomaly alert (observed count "
        "above the model's upper predictive bound for K windows in a row).")
    rules.add_argument("fit", type=path, metavar="FIT",
                       help="fit file written by 'bayescount fit'")
    _slo_options(rules)
    _metrics(rules)
    rules.add_argument("--labels", type=label_list, metavar="L,L",
                       help="labels of the burn rates (default: the fit's group columns)")
    rules.add_argument("--level", type=number_in(0, 1), default=0.99, metavar="P",
                       help="central predictive interval whose upper end is the bound "
                       "(default 0.99)")
    rules.add_argument("--consecutive", type=int_at_least(1), default=2, metavar="K",
                       help="windows in a row above the bound before the alert (default 2)")
    rules.add_argument("--min-bad-events", type=number_in(0, math.inf, closed_low=True),
                       default=5, metavar="N",
                       help="errors a burn-rate long window must hold (default 5)")
    rules.add_argument("--no-anomalies", action="store_true",
                       help="SLO rules only (the fit is not read)")
    rules.add_argument("--seed", type=seed, default=0, metavar="N", help="seed (default 0)")
    rules.add_argument("--out", required=True, type=path, metavar="RULES",
                       help="rule file to write (.yml)")
    rules.set_defaults(handler=_run_rules)

    export = sub.add_parser("export", help="predictions out: OpenMetrics text, Grafana JSON")
    kinds = export.add_subparsers(dest="format", required=True, parser_class=type(export))
    om = kinds.add_parser(
        "openmetrics", help="expected counts, bands and P(exhaust) as OpenMetrics text",
        description="One gauge sample per group and window (at the window's start): the "
        "predictive mean and quantiles; with an SLO and --observed, P(exhaust).")
    om.add_argument("fit", type=path, metavar="FIT", help="fit file written by 'bayescount fit'")
    om.add_argument("--data", required=True, type=path, metavar="WINDOWS",
                    help="CSV/Parquet windows to predict (time, groups, exposure)")
    om.add_argument("--quantiles", type=parse_quantiles, default=(0.05, 0.5, 0.95),
                    metavar="Q,Q,...", help="band quantiles (default 0.05,0.5,0.95)")
    _slo_options(om)
    om.add_argument("--observed", type=path, metavar="SOFAR",
                    help="events so far in the SLO window (as for 'bayescount slo')")
    om.add_argument("--prefix", type=text, default="bayescount", metavar="P",
                    help="metric name prefix (default bayescount)")
    om.add_argument("--seed", type=seed, default=0, metavar="N", help="seed (default 0)")
    om.add_argument("--out", required=True, type=path, metavar="FILE", help="file to write (.om)")
    om.set_defaults(handler=_run_openmetrics)

    graf = kinds.add_parser(
        "grafana", help="Grafana dashboard JSON: observed vs expected, residuals, burn",
        description="A dashboard on a Prometheus data source variable, one variable per "
        "group label; the expected series are those of 'export openmetrics'.")
    graf.add_argument("fit", type=path, metavar="FIT", help="fit file written by 'bayescount fit'")
    _metrics(graf)
    _slo_options(graf)
    graf.add_argument("--band", type=parse_quantiles, default=(0.05, 0.95), metavar="LOW,HIGH",
                      help="quantiles of the band (default 0.05,0.95)")
    graf.add_argument("--title", type=text, metavar="TEXT", help="dashboard title")
    graf.add_argument("--prefix", type=text, default="bayescount", metavar="P",
                      help="metric name prefix (default bayescount)")
    graf.add_argument("--out", required=True, type=path, metavar="JSON", help="file to write")
    graf.set_defaults(handler=_run_grafana)
