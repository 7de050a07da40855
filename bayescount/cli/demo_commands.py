"""``demo``: fit the bundled example fleet and write one HTML report and the fit file.

Heavy libraries are imported inside the handler, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse

from bayescount.cli._shared import seed
from bayescount.cli._types import path

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from bayescount.demo import run_demo

    result = run_demo(args.out, size="small" if args.small else None, random_seed=args.seed)
    print(result)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    p = sub.add_parser(
        "demo", help="fit the example fleet and write an HTML report (about 2 minutes)",
        description="Fit the hierarchical negative binomial model to the bundled example "
        "fleet (data/example_fleet), check it, score coverage on the held-out day, forecast "
        "SLO burn, flag anomalies, attribute the incident, run a capacity scenario "
        "(traffic x 1.3), then write DIR/report.html and DIR/fleet_fit.nc and print their "
        "paths. Progress is shown on a terminal, not under CI. BAYESCOUNT_DEMO_SIZE=small "
        "(or --small) samples 2 chains x 100 draws: quick, but the gate is red.")
    p.add_argument("--out", type=path, default="out", metavar="DIR",
                   help="folder for report.html and fleet_fit.nc (default out/)")
    p.add_argument("--small", action="store_true",
                   help="2 chains x 100 draws after 100 warm-up: a quick look, gate red")
    p.add_argument("--seed", type=seed, default=1, metavar="N", help="seed of the fit (default 1)")
    p.set_defaults(handler=_run)
