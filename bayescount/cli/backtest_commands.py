"""``backtest``: refit a model at rolling origins and score the windows after each.

Prints the coverage per level (randomised-PIT and inclusive, with the binomial
band), CRPS and the point errors overall and per horizon, or everything as JSON
with ``--json``. Exit code 0, or 1 with ``--strict`` when the overall coverage is
outside its band at some level or a refit failed the convergence gate.
"""

from __future__ import annotations

import argparse

from bayescount.checks.backtest import backtest
from bayescount.checks.coverage import DEFAULT_LEVELS
from bayescount.cli._shared import parse_levels, positive_int, print_json
from bayescount.cli._types import column
from bayescount.cli.fit_options import (
    add_executor_options,
    add_fit_options,
    config_from_args,
    executor_from_args,
    model_from_args,
)
from bayescount.io import read_table
from bayescount.io.tables import label_columns

__all__ = ["register"]

_COLUMNS = ["n", "coverage", "lower", "upper", "coverage_inclusive", "mean_width", "crps",
            "mae", "relative_mae", "scaled_mae"]


def _backtest(args: argparse.Namespace) -> int:
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
    else:
        print(report)
        frame = report.to_frame()
        for scope in ("horizon", "group", "origin"):
            if scope in frame.index.get_level_values("scope"):
                print(f"\nBy {scope}:")
                print(frame.loc[scope][_COLUMNS].to_string(float_format=lambda x: f"{x:.3g}"))
        print("\nRefits:")
        print(report.origins_frame().to_string())
    failed = not report.coverage.calibrated or not report.converged
    return 1 if args.strict and failed else 0


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
    bt.add_argument("--json", action="store_true", help="print JSON instead of tables")
    bt.add_argument("--strict", action="store_true",
                    help="exit 1 when coverage misses its band or a refit did not converge")
    parser.set_defaults(handler=_backtest)
