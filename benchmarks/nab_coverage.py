"""Held-out coverage of NAB tweet-volume series (hourly counts, negative binomial).

For each series (``data/nab/Twitter_volume_<TICKER>.csv``, 5-minute mention counts)
the 5-minute counts are summed into hourly counts (complete hours only, exposure 1
hour), the last week (168 hours) is held out and the model is fitted on the weeks
before, with :func:`bayescount.checks.backtest.backtest` (one origin, horizon 168).
``--five-minute`` fits the original 5-minute counts instead (same week held out,
2,016 steps). ``--daily`` adds a rolling backtest over the same week: 7 origins, 24 hours ahead,
refitted daily with one compiled model. ``--speedup`` times that rolling backtest
with the compiled model re-used against recompiling at every origin.

Usage::

    python benchmarks/nab_coverage.py                       # table of the last week
    python benchmarks/nab_coverage.py --daily --json out.json
    python benchmarks/nab_coverage.py --series IBM --variants daily --speedup
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayescount import CountModel, SamplerConfig
from bayescount.checks.backtest import BacktestReport, backtest
from bayescount.exceptions import ConvergenceWarning
from bayescount.inference.sampling import run_sampler
from bayescount.prep.splits import infer_step

DATA = Path(__file__).resolve().parents[1] / "data" / "nab"
SERIES = ("AAPL", "GOOG", "IBM", "KO")
LEVELS = (0.5, 0.8, 0.9, 0.95)
#: Model variants: seasonality, how many training days (None: all) and the model's other
#: options. ``/2w`` trains on the last two weeks only, a crude local level; ``+ar1``,
#: ``+ar1_laplace`` and ``+ar1_skew_laplace`` add a latent AR(1) level (normal, Laplace,
#: asymmetric Laplace innovations) to a Poisson.
NB = {"family": "negative_binomial"}
VARIANTS = {
    "daily": ("daily:4", None, NB),
    "daily+weekly": ("daily:4,weekly:3", None, NB),
    "daily+weekly/2w": ("daily:4,weekly:3", 14, NB),
    "daily+weekly+ar1": ("daily:4,weekly:3", None, {"family": "poisson", "latent": "ar1"}),
    "daily+weekly+ar1_laplace": (
        "daily:4,weekly:3", None, {"family": "poisson", "latent": "ar1_laplace"}
    ),
    "daily+weekly+ar1_skew_laplace": (
        "daily:4,weekly:3", None, {"family": "poisson", "latent": "ar1_skew_laplace"}
    ),
}


def load_hourly(ticker: str) -> pd.DataFrame:
    """Hourly counts of one series (complete hours: 12 five-minute points)."""
    raw = pd.read_csv(DATA / f"Twitter_volume_{ticker}.csv", parse_dates=["timestamp"])
    raw["time"] = raw["timestamp"].dt.floor("h")
    hourly = raw.groupby("time").agg(
        count=("value", "sum"), points=("value", "size"), anomaly=("in_anomaly_window", "max")
    )
    hourly = hourly[hourly["points"] == 12].reset_index()
    hourly["hours"] = 1.0
    return hourly[["time", "count", "hours", "anomaly"]]


def load_five_minute(ticker: str) -> pd.DataFrame:
    """The original 5-minute counts (exposure 1/12 hour, so rates stay per hour)."""
    raw = pd.read_csv(DATA / f"Twitter_volume_{ticker}.csv", parse_dates=["timestamp"])
    return pd.DataFrame({"time": raw["timestamp"], "count": raw["value"], "hours": 1 / 12,
                         "anomaly": raw["in_anomaly_window"]})


def run(frame: pd.DataFrame, seasonality: str, *, origins: int, horizon: int,
        train_days: int | None, options: dict, fit: SamplerConfig, seed: int,
        **kwargs) -> BacktestReport:
    if train_days is not None:
        first_origin = frame["time"].max() - horizon * origins * infer_step(frame["time"])
        frame = frame[frame["time"] > first_origin - pd.Timedelta(days=train_days)]
    model = CountModel("count", "hours", time="time", seasonality=seasonality, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        report = backtest(model, frame.drop(columns="anomaly"), origins=origins,
                          horizon=horizon, config=fit, levels=LEVELS, random_seed=seed,
                          **kwargs)
    for w in caught:
        print(f"  warning: {w.message}")
    return report


def diagnose(report: BacktestReport, frame: pd.DataFrame) -> dict:
    """Where the misses are: tails of the PIT, level shift, anomaly windows, by day."""
    rows = report.rows.merge(frame[["time", "anomaly"]], on="time", how="left")
    first_origin = report.origins[0].origin
    train = frame[frame["time"] <= first_origin]
    last_train_week = train[train["time"] > first_origin - pd.Timedelta("7D")]
    day = (rows["time"] - first_origin - pd.Timedelta("1ns")) // pd.Timedelta("1D")
    inside = (rows["pit"] > 0.05) & (rows["pit"] < 0.95)
    return {
        "pit_mean": float(rows["pit"].mean()),
        "below_5pct": float((rows["pit"] <= 0.05).mean()),
        "above_95pct": float((rows["pit"] >= 0.95).mean()),
        "holdout_mean": float(rows["observed"].mean()),
        "train_mean": float(train["count"].mean()),
        "last_train_week_mean": float(last_train_week["count"].mean()),
        "predictive_mean": float(rows["mean"].mean()),
        "share_in_anomaly_window": float(rows["anomaly"].mean()),
        "coverage90_in_anomaly": float(inside[rows["anomaly"] == 1].mean())
        if (rows["anomaly"] == 1).any() else None,
        "coverage90_by_day": [float(x) for x in inside.groupby(day).mean()],
    }


def summary_rows(ticker: str, variant: str, report: BacktestReport) -> list[dict]:
    frame = report.to_frame().reset_index()
    frame = frame[frame["scope"] == "overall"].set_index("level")
    out = []
    for level, row in frame.iterrows():
        out.append({
            "series": ticker, "variant": variant, "level": level,
            "coverage": row["coverage"], "lower": row["lower"], "upper": row["upper"],
            "inclusive": row["coverage_inclusive"], "width": row["mean_width"],
            "crps": row["crps"], "relative_mae": row["relative_mae"],
            "scaled_mae": row["scaled_mae"], "converged": report.converged,
        })
    return out


def markdown(table: pd.DataFrame) -> str:
    """Series x variant rows, one coverage column per level, then CRPS and MAE ratios."""
    lines = ["| series | model | " + " | ".join(f"{lv:.0%}" for lv in LEVELS)
             + " | CRPS | MAE / naive | MAE / mean |",
             "|---" * (len(LEVELS) + 5) + "|"]
    for (series, variant), sub in table.groupby(["series", "variant"], sort=False):
        cells = []
        for _, r in sub.sort_values("level").iterrows():
            flag = "" if r["lower"] <= r["level"] <= r["upper"] else "*"
            cells.append(f"{r['coverage']:.1%}{flag}")
        r = sub.iloc[0]
        lines.append(f"| {series} | {variant} | " + " | ".join(cells)
                     + f" | {r['crps']:.1f} | {r['relative_mae']:.2f} | {r['scaled_mae']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of {list(VARIANTS)}")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20150422)
    parser.add_argument("--daily", action="store_true",
                        help="also backtest the last week with 7 daily origins x 24 h")
    parser.add_argument("--speedup", action="store_true",
                        help="time the daily backtest: compiled model re-used vs recompiled")
    parser.add_argument("--five-minute", action="store_true",
                        help="fit the 5-minute counts instead of hourly sums (12x the rows)")
    parser.add_argument("--json", type=Path, help="write all numbers to this JSON file")
    args = parser.parse_args()
    fit = SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains)
    steps = 12 if args.five_minute else 1  # time steps per hour
    results: dict = {"fit": fit, "runs": [], "aggregation": "5-minute counts"
                     if args.five_minute else "hourly sums of 5-minute counts"}
    table = []
    for ticker in args.series.split(","):
        frame = load_five_minute(ticker) if args.five_minute else load_hourly(ticker)
        for variant in args.variants.split(","):
            seasonality, train_days, options = VARIANTS[variant]
            start = time.perf_counter()
            report = run(frame, seasonality, origins=1, horizon=168 * steps,
                         train_days=train_days, options=options,
                         fit=fit, seed=args.seed, executor="serial")
            print(f"\n== {ticker} / {variant}: last week held out "
                  f"({time.perf_counter() - start:.0f}s)\n{report}")
            diag = diagnose(report, frame)
            print("  diagnosis:", json.dumps(diag, default=float))
            table += summary_rows(ticker, variant, report)
            results["runs"].append({"series": ticker, "variant": variant, "scheme": "last week",
                                    "report": report.to_dict(), "diagnosis": diag})
            if args.daily:
                daily = run(frame, seasonality, origins=7, horizon=24 * steps,
                            train_days=train_days, options=options,
                            fit=fit, seed=args.seed, executor="serial")
                print(f"-- {ticker} / {variant}: 7 daily origins x 24 h\n{daily}")
                results["runs"].append({"series": ticker, "variant": variant,
                                        "scheme": "7 daily origins", "report": daily.to_dict(),
                                        "diagnosis": diagnose(daily, frame)})
        if args.speedup:
            seasonality, train_days, options = VARIANTS[args.variants.split(",")[0]]
            timings = {}
            for name, kwargs in (("reuse", {}), ("recompile", {"sample_fn": run_sampler})):
                start = time.perf_counter()
                rep = run(frame, seasonality, origins=7, horizon=24 * steps,
                          train_days=train_days, options=options,
                          fit=fit, seed=args.seed, executor="serial", **kwargs)
                timings[name] = {"wall_seconds": time.perf_counter() - start,
                                 "compile_seconds": rep.compile_seconds,
                                 "sample_seconds": rep.sample_seconds}
            timings["speedup"] = (timings["recompile"]["wall_seconds"]
                                  / timings["reuse"]["wall_seconds"])
            print(f"-- {ticker} speed-up of re-using the compiled model: {timings}")
            results.setdefault("speedup", {})[ticker] = timings
    table = pd.DataFrame(table)
    print("\nHeld-out coverage of the last week (randomised PIT; * = outside the 95% band)\n")
    print(markdown(table))
    results["table"] = table.to_dict("records")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=lambda x: (
            None if isinstance(x, float) and not np.isfinite(x) else float(x))))


if __name__ == "__main__":
    main()
