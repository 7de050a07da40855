"""``check``, ``coverage`` and ``compare``: test whether a fitted model suits the data.

``check`` prints the posterior predictive statistics, residual diagnostics and the
convergence gate of a saved fit; ``coverage`` scores held-out rows against the fit's
predictive intervals; ``compare`` fits several families and compares them by LOO.
Each prints a table, or JSON with ``--json``. Exit code 0, or 1 with ``--strict``
when a check flags a problem (2 for bad input, as every command).
"""

from __future__ import annotations

import argparse
import dataclasses

from bayescount.cli._shared import number_in, parse_levels, positive_int, print_json, seed
from bayescount.cli._tables import print_table, print_text
from bayescount.cli._types import column, path
from bayescount.cli.fit_options import (
    add_executor_options,
    add_fit_options,
    config_from_args,
    executor_from_args,
    model_from_args,
)
from bayescount.constants import DEFAULT_LEVELS, FAMILIES, FDR_LEVEL, MAX_DRAWS

__all__ = ["parse_families", "register"]


def parse_families(text: str) -> tuple[str, ...]:
    """Parse ``"poisson,negative_binomial"``: at least two known families.

    Parameters
    ----------
    text : str
        Comma-separated family names (repeats dropped, order kept).

    Returns
    -------
    tuple of str

    Raises
    ------
    argparse.ArgumentTypeError
        An unknown family, or fewer than two.
    """
    out = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [f for f in out if f not in FAMILIES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown famil{'y' if len(unknown) == 1 else 'ies'} {unknown}; choose from "
            f"{list(FAMILIES)}"
        )
    if len(out) < 2:
        raise argparse.ArgumentTypeError(f"give at least two families to compare, got {text!r}")
    return out


# ---------------------------------------------------------------------- handlers
def _check(args: argparse.Namespace) -> int:
    from bayescount.checks.ppc import check_model
    from bayescount.io import load_fit, read_table
    from bayescount.io.tables import label_columns

    model = load_fit(args.fit)
    data = read_table(args.data, text_columns=label_columns(model)) if args.data else None
    result = check_model(
        model, data=data, by=args.by, max_draws=args.max_draws, random_seed=args.seed,
        fdr=args.fdr,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print_text(str(result))
        _print_ppc_table(result.ppc.to_frame(), show_all=args.all)
    return 1 if args.strict and not result.passed else 0


#: Rows of the smallest adjusted p-values that ``check`` shows without ``--all``.
WORST_ROWS = 3


def _print_ppc_table(frame, *, show_all: bool) -> None:
    """Print the PPC statistics: all with ``--all``; else overall and the worst groups."""
    import pandas as pd

    frame = frame[["observed", "mean", "lower", "upper", "p_value", "p_adjusted"]]
    if show_all:
        print_table(frame, title="\nPosterior predictive statistics:", index=True)
        return
    groups = frame.index.get_level_values("group")
    overall = frame[groups == "(all)"]
    worst = frame[groups != "(all)"].sort_values("p_adjusted", kind="stable").head(WORST_ROWS)
    title = "\nPosterior predictive statistics (overall"
    if len(worst):
        title += f"; the {len(worst)} smallest adjusted p-values of the groups"
    title += "):"
    hidden = len(frame) - len(overall) - len(worst)
    caption = f"{hidden} more rows: --all (or --json) shows every one" if hidden else None
    print_table(pd.concat([overall, worst]), title=title, index=True, caption=caption)


def _coverage(args: argparse.Namespace) -> int:
    from bayescount.checks.coverage import coverage_report
    from bayescount.io import load_fit, read_table
    from bayescount.io.tables import label_columns

    model = load_fit(args.fit)
    holdout = read_table(args.data, text_columns=label_columns(model))
    report = coverage_report(
        model,
        holdout,
        args.levels,
        by=args.by,
        horizon=args.horizon,
        random_seed=args.seed,
        chunk_size=args.chunk_size,
        max_draws=args.max_draws,
    )
    if args.json:
        print_json(report.to_dict())
    else:
        print(report)
        if args.by or args.horizon:
            frame = report.to_frame().drop(index="overall", level="scope")
            cols = ["n", "coverage", "lower", "upper", "coverage_inclusive", "mean_width",
                    "verdict"]
            print()
            print_table(frame[cols], index=True, digits=3)
    return 1 if args.strict and not report.calibrated else 0


def _compare(args: argparse.Namespace) -> int:
    from bayescount.checks.compare import choose_family, compare_families
    from bayescount.io import read_table
    from bayescount.io.tables import label_columns

    template = model_from_args(args)
    data = read_table(args.data, text_columns=label_columns(template))
    config = config_from_args(args)
    if args.json:  # the sampler's progress bars would interleave with the JSON on stdout
        config = dataclasses.replace(config, progressbar=False)
    comparison = compare_families(
        data, template, args.families, config=config,
        executor=executor_from_args(args), scheduler=args.scheduler, max_workers=args.workers,
    )
    family, reason = choose_family(comparison)
    if args.json:
        print_json({"selected": family, "reason": reason} | comparison.to_dict())
    else:
        print(comparison)
        print(f"\nSelected family: {family}\n  {reason}")
    return 0


# ---------------------------------------------------------------------- register
def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check``, ``coverage`` and ``compare`` subcommands to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    check = sub.add_parser(
        "check",
        help="posterior predictive and residual checks of a saved fit",
        description="Share of zeros, dispersion, maximum, 99th percentile and total against "
        "posterior predictive replicates (mid-p values), calibration ratio, Pearson chi2/df, "
        "lag-1 residual autocorrelation per series and the convergence gate. Every p-value "
        "(statistics x groups, calibration per group, autocorrelation per series) is "
        "adjusted with Benjamini-Hochberg as one family and flagged at --fdr (0.05), so a "
        "correct model fails --strict about 5% of the time or less.",
    )
    check.add_argument("fit", type=path, metavar="FIT",
                       help="fit file written by 'bayescount fit'")
    check.add_argument("--data", type=path, metavar="DATA",
                       help="the training table, to order residual series by time")
    check.add_argument("--by", type=column, metavar="LEVEL",
                       help="also check each label of this group level")
    check.add_argument("--max-draws", type=positive_int, default=MAX_DRAWS, metavar="N",
                       help=f"predictive replicates (default {MAX_DRAWS}; the smallest "
                       "p-value is 1/(N+1))")
    check.add_argument("--seed", type=seed, default=0, metavar="N",
                       help="seed of the replicates (default 0)")
    check.add_argument("--strict", action="store_true",
                       help="exit with 1 when any check flags a problem")
    check.add_argument("--fdr", type=number_in(0, 1), default=FDR_LEVEL, metavar="Q",
                       help="false discovery rate of the flags: Benjamini-Hochberg over "
                       f"every p-value of the check (default {FDR_LEVEL:g})")
    check.add_argument("--all", action="store_true",
                       help="print every statistic of every group (default: the overall "
                       f"ones and the {WORST_ROWS} smallest adjusted p-values)")
    check.add_argument("--json", action="store_true", help="print JSON instead of text")
    check.set_defaults(handler=_check)

    coverage = sub.add_parser(
        "coverage",
        help="coverage of held-out rows by the fit's predictive intervals",
        description="Randomised-PIT coverage (nominal is achievable for counts) with a 95% "
        "Wilson band, plain inclusive coverage, mean interval width, interval score and "
        "CRPS; overall, per group and per horizon.",
    )
    coverage.add_argument("fit", type=path, metavar="FIT",
                          help="fit file written by 'bayescount fit'")
    coverage.add_argument("--data", required=True, type=path, metavar="HOLDOUT",
                          help="CSV or Parquet table of held-out rows with counts")
    coverage.add_argument("--probs", "--levels", dest="levels", type=parse_levels,
                          default=DEFAULT_LEVELS,
                          metavar="L,L,...", help="central interval levels (default "
                          f"{','.join(f'{x:g}' for x in DEFAULT_LEVELS)})")
    coverage.add_argument("--by", type=column, metavar="COL",
                          help="also report per label of this column")
    coverage.add_argument("--horizon", type=column, metavar="COL",
                          help="also report per value of this forecast-horizon column")
    coverage.add_argument("--seed", type=seed, default=0, metavar="N",
                          help="seed of the PIT randomisation and CRPS samples (default 0)")
    coverage.add_argument("--chunk-size", type=positive_int, default=None, metavar="N",
                          help="rows scored at once (memory ~ N x draws)")
    coverage.add_argument("--max-draws", type=positive_int, default=None, metavar="N",
                          help="use at most N posterior draws (default all)")
    coverage.add_argument("--strict", action="store_true",
                          help="exit with 1 when an overall level is outside its band")
    coverage.add_argument("--json", action="store_true", help="print JSON instead of text")
    coverage.set_defaults(handler=_coverage)

    compare = sub.add_parser(
        "compare",
        help="fit several families and compare them by LOO",
        description="Fits one model per family (with the pointwise log-likelihood), "
        "compares them by PSIS-LOO and selects the simplest family within 2 SE of the "
        "best. --family is ignored; use --families. The fits run in this process unless "
        "--executor says otherwise.",
    )
    add_fit_options(compare)
    add_executor_options(compare, default="serial")
    compare.add_argument("--families", type=parse_families, default=FAMILIES,
                         metavar="F,F,...", help=f"families to compare (default all: "
                         f"{','.join(FAMILIES)})")
    compare.add_argument("--json", action="store_true", help="print JSON instead of text")
    compare.set_defaults(handler=_compare)
