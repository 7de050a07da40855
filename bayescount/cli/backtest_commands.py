"""``backtest``: refit a model at rolling origins and score the windows after each.

Prints the coverage per level (randomised-PIT and inclusive, with the binomial
band), CRPS and the point errors overall and per horizon, or everything as JSON
with ``--json``. Exit code 0, or 1 with ``--strict`` when the overall coverage is
outside its band at some level or a refit failed the convergence gate.
"""

from __future__ import annotations

import argparse

from bayescount.cli._shared import parse_levels, positive_int, print_json
from bayescount.cli._tables import print_table, print_text
from bayescount.cli._types import column
from bayescount.cli.fit_options import (
    add_executor_options,
    add_fit_options,
    config_from_args,
    executor_from_args,
    model_from_args,
)
from bayescount.constants import DEFAULT_LEVELS

__all__ = ["register"]

_COLUMNS = ["n", "coverage", "lower", "upper", "coverage_inclusive", "mean_width", "crps",
            "mae", "relative_mae", "scaled_mae"]


def _backtest(args: argparse.Namespace) -> int:
    from bayescount.checks.backtest import backtest
    from bayescount.io import read_table
    from bayescount.io.tables import label_columns

    model = model_from_args(args)
    data = read_table(args.data, text_columns=label_columns(model))
    report = backtest(
        model,
        data,
        origins=args.origins,
        horizon=args.horizon,
        stride=args.stride,
        config=config_from_args(args),
        probs=args.levels,
        by=args.by,
        baseline=args.baseline,
        executor=executor_from_args(args),
        scheduler=args.scheduler,
        max_workers=args.workers,
    )
    if args.json:
        print_json(report.to_dict())
    elif args.all:
        _print_all(report)
    else:
        _print_summary(report)
    failed = not report.coverage.calibrated or not report.converged
    return 1 if args.strict and failed else 0


#: Least calibrated (scope, group, level) cells shown without ``--all``.
WORST_ROWS = 5


def _print_all(report) -> None:
    """Print the headline, every horizon, group and origin, and every refit."""
    print_text(str(report))
    frame = report.to_frame()
    for scope in ("horizon", "group", "origin"):
        if scope in frame.index.get_level_values("scope"):
            print_table(frame.loc[scope][_COLUMNS], title=f"\nBy {scope}:", index=True,
                        digits=3)
    print_table(report.origins_frame(), title="\nRefits:", index=True)


def _print_summary(report) -> None:
    """Print the headline, the least calibrated cells and one line about the refits."""
    print_text(str(report))
    frame = report.to_frame().drop(index="overall", level="scope")
    level = frame.index.get_level_values("level").to_numpy()
    # distance of the nominal level from the coverage band (0 inside), then from the coverage
    outside = (frame["lower"] - level).clip(lower=0) + (level - frame["upper"]).clip(lower=0)
    miss = (frame["coverage"] - level).abs()
    order = sorted(range(len(frame)), key=lambda i: (-outside.iloc[i], -miss.iloc[i]))
    worst = frame.iloc[order[:WORST_ROWS]]
    title = (f"\nLeast calibrated of {len(frame)} horizon / group / origin cells (nominal level "
             "farthest outside the coverage band):")
    print_table(worst[_COLUMNS[:6]], title=title, index=True, digits=3,
                caption="--all shows every horizon, group and origin and each refit; --json "
                "everything")
    refits = report.origins_frame()
    print_text(
        f"\nRefits: {int(refits['converged'].sum())} of {len(refits)} passed the convergence "
        f"gate (max R-hat {refits['max_rhat'].max():.3f}, min bulk ESS "
        f"{refits['min_ess_bulk'].min():.0f}, {int(refits['divergences'].sum())} divergences)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` subcommand to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    parser = sub.add_parser(
        "backtest",
        help="refit at rolling origins and score held-out coverage, CRPS and MAE",
        description="Cut DATA at --origins forecast origins (expanding training window), "
        "refit the model at each and score the --horizon time steps after it: coverage of "
        "central predictive intervals (randomised PIT and inclusive), CRPS, and MAE relative "
        "to a naive baseline and to the mean count. The model is compiled once per worker "
        "and re-used; refits run on local worker processes (default), in this process, or "
        "on a Dask cluster (--executor dask, --scheduler ADDR).",
    )
    add_fit_options(parser)
    add_executor_options(parser, default="processes", serial_alias=True)
    bt = parser.add_argument_group("backtest")
    bt.add_argument("--origins", type=positive_int, default=3, metavar="K",
                    help="number of forecast origins (refits; default 3)")
    bt.add_argument("--horizon", type=positive_int, default=1, metavar="H",
                    help="time steps scored after each origin (default 1)")
    bt.add_argument("--stride", type=positive_int, default=None, metavar="S",
                    help="time steps between origins (default: the horizon)")
    bt.add_argument("--probs", "--levels", dest="levels", type=parse_levels,
                    default=DEFAULT_LEVELS, metavar="P,P,...",
                    help="central interval levels (default 0.5,0.8,0.9,0.95)")
    bt.add_argument("--by", type=column, metavar="COL",
                    help="column of the per-group breakdown (default: the outermost group)")
    bt.add_argument("--baseline", choices=("auto", "seasonal_naive", "mean"), default="auto",
                    help="naive forecast of the relative MAE (default: seasonal naive when "
                    "the model is seasonal, else the training mean rate)")
    bt.add_argument("--all", action="store_true",
                    help="print every horizon, group and origin and each refit (default: "
                    f"the headline and the {WORST_ROWS} least calibrated cells)")
    bt.add_argument("--json", action="store_true", help="print JSON instead of tables")
    bt.add_argument("--strict", action="store_true",
                    help="exit 1 when coverage misses its band or a refit did not converge")
    parser.set_defaults(handler=_backtest)
