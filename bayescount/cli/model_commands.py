"""``fit``, ``summary`` and ``predict``: fit a model from a table, inspect it, predict with it.

The options that describe the model and the sampler live in
:mod:`bayescount.cli.fit_options`, shared with the other commands that fit models.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from bayescount.cli._shared import parse_quantiles, print_json, seed
from bayescount.cli._tables import print_table, print_text
from bayescount.cli._types import path
from bayescount.cli.fit_options import (
    add_fit_options,
    add_timezone_option,
    fit_kwargs_from_args,
    model_from_args,
    with_timezone,
)
from bayescount.constants import DEFAULT_SEED
from bayescount.exceptions import DataError

if TYPE_CHECKING:  # the library is imported when a command runs, not to build the parser
    import pandas as pd

    from bayescount.inference.fit import Fit

__all__ = ["parameter_table", "register"]

#: Output formats of ``predict --out``, by extension: writers to a binary file object.
_WRITERS: dict[str, Callable[[pd.DataFrame, BinaryIO], None]] = {
    ".csv": lambda frame, fh: frame.to_csv(fh, index=False),
    ".parquet": lambda frame, fh: frame.to_parquet(fh, index=False),
    ".pq": lambda frame, fh: frame.to_parquet(fh, index=False),
}

#: Columns of :func:`parameter_table`, in order.
PARAMETER_COLUMNS = ("mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk", "ess_tail")


# ------------------------------------------------------------------ presentation
def parameter_table(fit: Fit) -> pd.DataFrame:
    """Posterior mean, sd, 94% HDI, R-hat and bulk/tail ESS, one row per parameter.

    From :meth:`Fit.summary <bayescount.Fit.summary>` (ArviZ; rank-normalised R-hat
    and ESS of Vehtari et al. 2021).

    Parameters
    ----------
    fit : Fit
        A fitted model.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARAMETER_COLUMNS`, one row per scalar parameter.
    """
    summary = fit.summary()
    low = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_lb"))
    high = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_ub"))
    table = summary.rename(columns={low: "hdi_low", high: "hdi_high"})
    return table[list(PARAMETER_COLUMNS)]


def _finite_or_nan(spec: str) -> Callable[[float], str]:
    """Formatter writing finite numbers with ``spec`` and anything else as ``nan``."""
    return lambda value: f"{value:{spec}}" if math.isfinite(value) else "nan"


def _print_model(fit: Fit) -> None:
    table = parameter_table(fit).rename_axis("parameter")
    formatters = {c: _finite_or_nan(".4g") for c in ("mean", "sd", "hdi_low", "hdi_high")}
    formatters |= {"r_hat": _finite_or_nan(".3f")}
    formatters |= {c: _finite_or_nan(".0f") for c in ("ess_bulk", "ess_tail")}
    print_text([repr(fit), ""])
    print_table(table, title="Parameters (94% HDI):", index=True, formatters=formatters)
    print_text([_parameterization_line(fit), str(fit.convergence)])


def _parameterization_line(fit: Fit) -> str:
    how = fit.parameterization
    if not how:
        return "Parameterization: no group levels"
    return "Parameterization: " + ", ".join(f"{level}={c}" for level, c in how.items())


# ---------------------------------------------------------------------- handlers
def _fit(args: argparse.Namespace) -> int:
    from bayescount.io import read_table, save_fit
    from bayescount.io.atomic import check_writable
    from bayescount.io.tables import label_columns

    out = check_writable(args.out)  # before minutes of sampling, not after
    model = model_from_args(args)
    frame = read_table(args.data, text_columns=label_columns(model))
    fit = model.fit(frame, **fit_kwargs_from_args(args)).fit_
    save_fit(fit, out)
    _print_model(fit)
    print(f"\nSaved fit to {out}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from bayescount.io import load_fit

    fit = load_fit(args.fit)
    if args.json:
        table = parameter_table(fit)
        doc = {
            "parameters": {
                str(name): {c: float(row[c]) for c in PARAMETER_COLUMNS}
                for name, row in table.iterrows()
            },
            "convergence": fit.convergence.to_dict(),
            "spec": fit.spec.to_dict(),
            "parameterization": dict(fit.parameterization),
        }
        print_json(doc)
        return 0
    _print_model(fit)
    print_table(fit.convergence.to_frame(), title="\nConvergence checks:", index=True)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from bayescount.io import load_fit, read_table
    from bayescount.io.atomic import atomic_write, check_writable
    from bayescount.io.tables import numeric_columns

    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() not in _WRITERS:
            raise DataError(
                f"Cannot write {out}: unknown extension {out.suffix!r}; use one of "
                f"{sorted(_WRITERS)}."
            )
        check_writable(out)
    model = with_timezone(load_fit(args.fit), args.timezone)
    # Every column the model does not read as a number comes back exactly as given.
    data = read_table(args.data, numeric_columns=numeric_columns(model))
    prediction = model.predict(data, scale=args.scale, unseen=args.unseen, random_seed=args.seed)
    frame = prediction.to_frame(args.quantiles).reset_index(drop=True)
    if out is None:
        print(frame.to_json(orient="records", date_format="iso", double_precision=15))
    else:
        writer = _WRITERS[out.suffix.lower()]
        atomic_write(out, lambda fh: writer(frame, fh))
        print(f"Wrote {len(frame)} rows to {out}")
    return 0


# ---------------------------------------------------------------------- register
def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fit``, ``summary`` and ``predict`` subcommands to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    fit = sub.add_parser(
        "fit",
        help="fit a hierarchical count model to a CSV/Parquet table and save it",
        description="Fit a model, print its parameters and convergence gate, save the fit. "
        "A failed convergence gate is reported on stderr; the fit is still saved.",
    )
    add_fit_options(fit)
    fit.add_argument("--out", required=True, type=path, metavar="FIT",
                     help="fit file to write (.nc)")
    fit.set_defaults(handler=_fit)

    summary = sub.add_parser(
        "summary", help="parameters and convergence gate of a saved fit"
    )
    summary.add_argument("fit", type=path, metavar="FIT",
                         help="fit file written by 'bayescount fit'")
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.set_defaults(handler=_summary)

    predict = sub.add_parser(
        "predict",
        help="posterior predictive mean and quantiles for new rows",
        description="One output row per input row: the input columns, 'mean' and one "
        "'q<level>' column per quantile.",
    )
    predict.add_argument("fit", type=path, metavar="FIT",
                         help="fit file written by 'bayescount fit'")
    predict.add_argument("--data", required=True, type=path, metavar="NEW",
                         help="CSV or Parquet table of rows to predict")
    predict.add_argument("--scale", choices=("counts", "rate"), default="counts",
                         help="counts for each row's exposure, or counts per exposure unit")
    predict.add_argument("--quantiles", type=parse_quantiles, default=(0.05, 0.5, 0.95),
                         metavar="Q,Q,...", help="quantile levels (default 0.05,0.5,0.95)")
    predict.add_argument("--seed", type=seed, default=DEFAULT_SEED, metavar="N",
                         help=f"seed of the predictive draws (default {DEFAULT_SEED}: the same "
                         "command gives the same numbers)")
    add_timezone_option(predict)
    predict.add_argument(
        "--unseen", choices=("population", "error"), default="population",
        help="group labels not seen when fitting: draw from the population, or refuse",
    )
    target = predict.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=path, metavar="PATH", help="write a .csv or .parquet file")
    target.add_argument("--json", action="store_true", help="print JSON records")
    predict.set_defaults(handler=_predict)
