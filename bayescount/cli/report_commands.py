"""``report``: one HTML or Markdown report of a saved fit, its checks and decisions.

Sections appear when their inputs are given (see ``bayescount report --help``):
data, model, convergence gate, posterior predictive checks and pooling always;
coverage with ``--data``; SLO burn with ``--slo``, ``--observed`` and ``--future``;
anomalies with ``--incident-data`` (else ``--data``); incident attribution with
``--incident``; capacity with ``--scenario`` (base windows: ``--future``, else ``--data``).

Progress is shown on a terminal, not under ``CI``. Heavy libraries (pandas, PyMC,
ArviZ) are imported inside the handler, so ``--help`` and argument errors stay fast.
"""

from __future__ import annotations

import argparse

from bayescount.cli._shared import positive_int, seed
from bayescount.cli._types import column, incident, path, scenario, text

__all__ = ["register"]

_DESCRIPTION = """\
Write one report of a saved fit: a self-contained HTML file (figures inline, no
network; readable on a phone and printed) or Markdown (figures as PNG files in
<stem>_files/ beside it), chosen by the extension of --out.

Sections: data, model, convergence gate (green/amber/red), posterior predictive checks
and pooling always; then, when their inputs are given:
  coverage            --data HOLDOUT (held-out rows with counts)
  SLO burn            --slo 0.999/30d (or an OpenSLO .yaml) --observed SOFAR --future FUTURE
  anomalies           --incident-data DATA, else --data
  incident            --incident START/END (rows: --incident-data, else --data)
  capacity scenario   --scenario traffic=1.3 (base windows: --future, else --data)
File formats of SOFAR and FUTURE: see 'bayescount slo --help'.
"""


def _run(args: argparse.Namespace) -> int:
    from bayescount.io import load_fit, read_table
    from bayescount.io.tables import label_columns
    from bayescount.progress import progress_steps
    from bayescount.reports import SECTIONS, report

    fit = load_fit(args.fit)

    def table(name: str | None):
        return read_table(name, text_columns=label_columns(fit)) if name else None

    with progress_steps(len(SECTIONS) + 1) as step:
        result = report(
            fit,
            holdout=table(args.data),
            slo=args.slo,
            observed=table(args.observed),
            future=table(args.future),
            incident=args.incident,
            incident_data=table(args.incident_data),
            scenario=args.scenario,
            out=args.out,
            by=args.by,
            title=args.title,
            max_draws=args.max_draws,
            random_seed=args.seed,
            progress=step,
        )
    print(result.path)
    for figure in result.figures:
        print(figure)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    p = sub.add_parser("report", help="write an HTML or Markdown report of a saved fit",
                       description=_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fit", type=path, metavar="FIT", help="fit file written by 'bayescount fit'")
    p.add_argument("--out", required=True, type=path, metavar="FILE",
                   help="report.html (self-contained) or report.md (PNG figures beside it)")
    p.add_argument("--data", type=path, metavar="HOLDOUT",
                   help="held-out rows with counts: the coverage section")
    p.add_argument("--slo", type=text, metavar="SPEC",
                   help="OBJECTIVE[/WINDOW] such as 0.999/30d, or an OpenSLO .yaml file")
    p.add_argument("--observed", type=path, metavar="SOFAR",
                   help="the SLO's bad/total events so far (as 'bayescount slo --observed')")
    p.add_argument("--future", type=path, metavar="FUTURE",
                   help="future windows with the fit's exposure column")
    p.add_argument("--incident", type=incident, metavar="START/END",
                   help="incident window, e.g. 2026-01-06T10:00/2026-01-06T12:00")
    p.add_argument("--incident-data", type=path, metavar="DATA",
                   help="observed rows of the incident (default --data); also the anomalies")
    p.add_argument("--scenario", action="append", type=scenario, metavar="SPEC",
                   help="traffic=K | new_region=NAME,like=REGION | nodes=N[,service=S] "
                   "(repeatable)")
    p.add_argument("--by", type=column, metavar="LEVEL",
                   help="group level of the per-group tables (default: the level above the "
                   "innermost, e.g. service)")
    p.add_argument("--title", type=text, metavar="TEXT", help="the report's heading")
    p.add_argument("--max-draws", type=positive_int, default=1000, metavar="N",
                   help="posterior draws behind every check and forecast (default 1000)")
    p.add_argument("--seed", type=seed, default=0, metavar="N",
                   help="seed of every predictive draw (default 0)")
    p.set_defaults(handler=_run)
