"""``fit``, ``summary`` and ``predict``: fit a model from a table, inspect it, predict with it.

The options that describe the model and the sampler live in
:mod:`bayescount.cli.fit_options`, shared with the other commands that fit models.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bayescount.cli._shared import parse_quantiles, print_json, seed
from bayescount.cli._types import path
from bayescount.cli.fit_options import (
    add_fit_options,
    add_timezone_option,
    fit_kwargs_from_args,
    model_from_args,
    with_timezone,
)
from bayescount.count_model import CountModel
from bayescount.exceptions import DataError
from bayescount.io import load_fit, read_table
from bayescount.io.tables import label_columns

__all__ = ["parameter_table", "register"]

#: Output formats of ``predict --out``, by extension.
_WRITERS: dict[str, Callable[[pd.DataFrame, str], None]] = {
    ".csv": lambda frame, path: frame.to_csv(path, index=False),
    ".parquet": lambda frame, path: frame.to_parquet(path, index=False),
    ".pq": lambda frame, path: frame.to_parquet(path, index=False),
}

#: Columns of :func:`parameter_table`, in order.
PARAMETER_COLUMNS = ("mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk", "ess_tail")


# ------------------------------------------------------------------ presentation
def parameter_table(model: CountModel) -> pd.DataFrame:
    """Posterior mean, sd, 94% HDI, R-hat and bulk/tail ESS, one row per parameter."""
    summary = model.summary()
    low = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_lb"))
    high = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_ub"))
    table = summary.rename(columns={low: "hdi_low", high: "hdi_high"})
    return table[list(PARAMETER_COLUMNS)]


def _finite_or_nan(spec: str) -> Callable[[float], str]:
    """Formatter writing finite numbers with ``spec`` and anything else as ``nan``."""
    return lambda value: f"{value:{spec}}" if math.isfinite(value) else "nan"


def _format_table(table: pd.DataFrame) -> str:
    formatters = {c: _finite_or_nan(".4g") for c in ("mean", "sd", "hdi_low", "hdi_high")}
    formatters |= {"r_hat": _finite_or_nan(".3f")}
    formatters |= {c: _finite_or_nan(".0f") for c in ("ess_bulk", "ess_tail")}
    return table.to_string(formatters=formatters)


def _parameterization_line(model: CountModel) -> str:
    how = model.parameterization_
    if not how:
        return "Parameterization: no group levels"
    return "Parameterization: " + ", ".join(f"{level}={c}" for level, c in how.items())


def _model_text(model: CountModel) -> str:
    return "\n".join(
        [
            repr(model),
            "",
            "Parameters (94% HDI):",
            _format_table(parameter_table(model)),
            "",
            _parameterization_line(model),
            str(model.convergence_),
        ]
    )


# ---------------------------------------------------------------------- handlers
def _fit(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a directory; give a file path such as fit.nc.")
    model = model_from_args(args)
    frame = read_table(args.data, text_columns=label_columns(model))
    model.fit(frame, **fit_kwargs_from_args(args))
    model.save(out)
    print(_model_text(model))
    print(f"\nSaved fit to {out}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    model = load_fit(args.fit)
    if args.json:
        table = parameter_table(model)
        doc = {
            "parameters": {
                str(name): {c: float(row[c]) for c in PARAMETER_COLUMNS}
                for name, row in table.iterrows()
            },
            "convergence": model.convergence_.to_dict(),
            "spec": model.spec.to_dict(),
            "parameterization": dict(model.parameterization_),
        }
        print_json(doc)
        return 0
    print(_model_text(model))
    print("\nConvergence checks:")
    print(model.convergence_.to_frame().to_string())
    return 0


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` via a temporary file in the same directory."""
    writer = _WRITERS[path.suffix.lower()]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(frame, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _predict(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() not in _WRITERS:
            raise DataError(
                f"Cannot write {out}: unknown extension {out.suffix!r}; use one of "
                f"{sorted(_WRITERS)}."
            )
        if not out.parent.is_dir():
            raise FileNotFoundError(f"Cannot write {out}: directory {out.parent} does not exist.")
    model = with_timezone(load_fit(args.fit), args.timezone)
    data = read_table(args.data, text_columns=label_columns(model))
    prediction = model.predict(data, scale=args.scale, unseen=args.unseen, random_seed=args.seed)
    frame = prediction.to_frame(args.quantiles).reset_index(drop=True)
    if out is None:
        print(frame.to_json(orient="records", date_format="iso", double_precision=15))
    else:
        _write_atomically(frame, out)
        print(f"Wrote {len(frame)} rows to {out}")
    return 0


# ---------------------------------------------------------------------- register
def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fit``, ``summary`` and ``predict`` subcommands to ``sub``."""
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
    predict.add_argument("--seed", type=seed, default=None, metavar="N",
                         help="seed of the predictive draws")
    add_timezone_option(predict)
    predict.add_argument(
        "--unseen", choices=("population", "error"), default="population",
        help="group labels not seen when fitting: draw from the population, or refuse",
    )
    target = predict.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=path, metavar="PATH", help="write a .csv or .parquet file")
    target.add_argument("--json", action="store_true", help="print JSON records")
    predict.set_defaults(handler=_predict)
