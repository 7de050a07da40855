"""``fit``, ``summary`` and ``predict``: fit a model from a table, inspect it, predict with it.

``add_fit_options``, ``model_from_args`` and ``fit_kwargs_from_args`` are shared with the
commands that refit models (``backtest``, ``compare``), so every command spells the
model the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bayescount.count_model import CountModel
from bayescount.exceptions import DataError, SpecError
from bayescount.inference.sampling import SAMPLERS
from bayescount.io import load_fit, read_table
from bayescount.models.spec import FAMILIES, LATENT_KINDS, PARAMETERIZATIONS

__all__ = [
    "add_fit_options",
    "fit_kwargs_from_args",
    "model_from_args",
    "parameter_table",
    "register",
]

#: Output formats of ``predict --out``, by extension.
_WRITERS: dict[str, Callable[[pd.DataFrame, str], None]] = {
    ".csv": lambda frame, path: frame.to_csv(path, index=False),
    ".parquet": lambda frame, path: frame.to_parquet(path, index=False),
    ".pq": lambda frame, path: frame.to_parquet(path, index=False),
}

#: Columns of :func:`parameter_table`, in order.
PARAMETER_COLUMNS = ("mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk", "ess_tail")


# ------------------------------------------------------------------ argument types
def int_at_least(low: int) -> Callable[[str], int]:
    """Return an argparse type accepting integers >= ``low`` (shared by every command)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def parse_quantiles(text: str) -> tuple[float, ...]:
    """Parse ``"0.05,0.5,0.95"``: distinct numbers in [0, 1], at least one."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError("give at least one quantile, e.g. '0.05,0.5,0.95'")
    out = []
    for item in items:
        try:
            q = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a number; give comma-separated levels in "
                "[0, 1], e.g. '0.05,0.5,0.95'"
            ) from None
        if not 0 <= q <= 1:  # also rejects NaN
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is outside [0, 1]; quantile levels are probabilities"
            )
        out.append(q)
    if len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a quantile")
    return tuple(out)


def _level_choice(text: str) -> tuple[str, str]:
    level, sep, choice = text.partition("=")
    if not sep or not level or choice not in PARAMETERIZATIONS:
        raise argparse.ArgumentTypeError(
            f"expected LEVEL=CHOICE with CHOICE one of {list(PARAMETERIZATIONS)}, got {text!r}"
        )
    return level, choice


# ------------------------------------------------------------- shared fit options
def add_fit_options(parser: argparse.ArgumentParser) -> None:
    """Add the column, model and sampler options of a fit to ``parser``.

    Adds everything ``fit`` takes except the positional ``DATA`` and ``--out``, so
    commands that refit models (``backtest``, ``compare``) accept the same options.
    Turn the parsed arguments into a model with :func:`model_from_args` and into
    :meth:`CountModel.fit` keywords with :func:`fit_kwargs_from_args`.
    """
    cols = parser.add_argument_group("columns")
    cols.add_argument("--counts", required=True, metavar="COL", help="column of counts")
    exposure = cols.add_mutually_exclusive_group(required=True)
    exposure.add_argument(
        "--exposure", metavar="COL", help="column of exposure (requests, node-seconds...)"
    )
    exposure.add_argument(
        "--no-exposure", action="store_true", help="model counts without an exposure"
    )
    cols.add_argument("--exposure-unit", default="", metavar="TEXT",
                      help="unit of the exposure, used to label rates")
    cols.add_argument("--time", metavar="COL", help="timestamp column (needed for seasonality)")
    cols.add_argument(
        "--group", dest="groups", action="extend", nargs="+", default=[], metavar="COL",
        help="grouping column; repeat for several levels, outer to inner",
    )
    cols.add_argument("--crossed", action="store_true",
                      help="the groups are crossed factors, not nested levels")
    cols.add_argument(
        "--covariate", dest="covariates", action="extend", nargs="+", default=[],
        metavar="COL", help="covariate column ('a:b' for an interaction); repeatable",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--family", choices=FAMILIES, default="poisson")
    model.add_argument("--seasonality", default="", metavar="SPEC",
                       help="Fourier components, e.g. 'daily,weekly' or 'daily:4'")
    model.add_argument("--dispersion-by", metavar="LEVEL",
                       help="negative binomial: one dispersion per label of this group level")
    model.add_argument(
        "--latent", choices=LATENT_KINDS, default=None,
        help="time-varying level: AR(1) on the log rate per series (ar1_laplace: bursty series)",
    )
    model.add_argument("--latent-by", metavar="LEVEL",
                       help="the group level with one latent path per label (default: finest)")
    model.add_argument(
        "--parameterization", action="extend", nargs="+", type=_level_choice, default=[],
        metavar="LEVEL=CHOICE",
        help=f"per-level group-effect parameterization ('latent' for the latent level), "
        f"CHOICE in {list(PARAMETERIZATIONS)}",
    )
    sampling = parser.add_argument_group("sampling")
    sampling.add_argument("--draws", type=int_at_least(1), default=1000, metavar="N",
                          help="kept draws per chain (default 1000)")
    sampling.add_argument("--tune", type=int_at_least(0), default=1000, metavar="N",
                          help="warm-up iterations per chain (default 1000)")
    sampling.add_argument("--chains", type=int_at_least(1), default=4, metavar="N",
                          help="independent chains, at least 2 for R-hat (default 4)")
    sampling.add_argument("--seed", type=int, default=None, metavar="N",
                          help="random seed; the same seed gives the same draws")
    sampling.add_argument("--sampler", choices=SAMPLERS, default="nutpie")
    sampling.add_argument("--target-accept", type=_float, default=0.8, metavar="X",
                          help="NUTS target acceptance rate in [0.5, 1)")


def model_from_args(args: argparse.Namespace) -> CountModel:
    """Build the unfitted :class:`CountModel` described by :func:`add_fit_options` args."""
    levels = [level for level, _ in args.parameterization]
    repeated = sorted({level for level in levels if levels.count(level) > 1})
    if repeated:
        raise SpecError(f"--parameterization names {repeated} more than once.")
    return CountModel(
        args.counts,
        None if args.no_exposure else args.exposure,
        time=args.time,
        groups=args.groups,
        nesting="crossed" if args.crossed else "nested",
        covariates=args.covariates,
        family=args.family,
        seasonality=args.seasonality,
        exposure_unit=args.exposure_unit,
        dispersion_by=args.dispersion_by,
        parameterization=dict(args.parameterization),
        latent=args.latent,
        latent_by=args.latent_by,
    )


def fit_kwargs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :meth:`CountModel.fit` from :func:`add_fit_options` args."""
    return {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "random_seed": args.seed,
        "sampler": args.sampler,
        "target_accept": args.target_accept,
    }


# ------------------------------------------------------------------ presentation
def parameter_table(model: CountModel) -> pd.DataFrame:
    """Posterior mean, sd, 94% HDI, R-hat and bulk/tail ESS, one row per parameter."""
    summary = model.summary()
    low = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_lb"))
    high = next(c for c in summary.columns if c.startswith("hdi") and c.endswith("_ub"))
    table = summary.rename(columns={low: "hdi_low", high: "hdi_high"})
    return table[list(PARAMETER_COLUMNS)]


def _format_table(table: pd.DataFrame) -> str:
    def number(value: float) -> str:
        return "nan" if not math.isfinite(value) else f"{value:.4g}"

    def count(value: float) -> str:
        return "nan" if not math.isfinite(value) else f"{value:.0f}"

    formatters = {c: number for c in ("mean", "sd", "hdi_low", "hdi_high")}
    formatters |= {"r_hat": lambda v: "nan" if not math.isfinite(v) else f"{v:.3f}"}
    formatters |= {"ess_bulk": count, "ess_tail": count}
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


def _jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None``, so the output is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return _jsonable(value.item())
    return value


# ---------------------------------------------------------------------- handlers
def _fit(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a directory; give a file path such as fit.nc.")
    model = model_from_args(args)
    frame = read_table(args.data)
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
        print(json.dumps(_jsonable(doc), indent=2))
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
    model = load_fit(args.fit)
    data = read_table(args.data)
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
    fit.add_argument("data", metavar="DATA", help="CSV or Parquet table of counts")
    add_fit_options(fit)
    fit.add_argument("--out", required=True, metavar="FIT", help="fit file to write (.nc)")
    fit.set_defaults(handler=_fit)

    summary = sub.add_parser(
        "summary", help="parameters and convergence gate of a saved fit"
    )
    summary.add_argument("fit", metavar="FIT", help="fit file written by 'bayescount fit'")
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.set_defaults(handler=_summary)

    predict = sub.add_parser(
        "predict",
        help="posterior predictive mean and quantiles for new rows",
        description="One output row per input row: the input columns, 'mean' and one "
        "'q<level>' column per quantile.",
    )
    predict.add_argument("fit", metavar="FIT", help="fit file written by 'bayescount fit'")
    predict.add_argument("--data", required=True, metavar="NEW",
                         help="CSV or Parquet table of rows to predict")
    predict.add_argument("--scale", choices=("counts", "rate"), default="counts",
                         help="counts for each row's exposure, or counts per exposure unit")
    predict.add_argument("--quantiles", type=parse_quantiles, default=(0.05, 0.5, 0.95),
                         metavar="Q,Q,...", help="quantile levels (default 0.05,0.5,0.95)")
    predict.add_argument("--seed", type=int, default=None, metavar="N",
                         help="seed of the predictive draws")
    predict.add_argument(
        "--unseen", choices=("population", "error"), default="population",
        help="group labels not seen when fitting: draw from the population, or refuse",
    )
    target = predict.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="PATH", help="write a .csv or .parquet file")
    target.add_argument("--json", action="store_true", help="print JSON records")
    predict.set_defaults(handler=_predict)
