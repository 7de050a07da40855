"""The same backtest serially, on local processes and on a Dask LocalCluster: wall seconds.

    python benchmarks/executors.py [--origins 4] [--workers 2] [--draws 500] [--json out.json]

A negative binomial model with daily seasonality on simulated hourly telemetry
(2 regions x 3 services, 96 hours); every executor must give identical numbers (checked).
Wall time includes starting the workers (and the LocalCluster), compiling the model once
per worker, sampling and scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import pandas as pd

from bayescount import CountModel, SamplerConfig
from bayescount.checks.backtest import backtest
from bayescount.exceptions import ConvergenceWarning
from bayescount.testing import simulate_telemetry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=4)
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--executors", default="serial,dask,processes")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    frame = simulate_telemetry(2, 3, 1, 96, window="1h", family="negative_binomial", alpha=5.0,
                               daily_amplitude=0.5, seed=1).frame
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       family="negative_binomial", seasonality="daily:2")
    config = SamplerConfig(draws=args.draws, tune=args.draws, chains=2, random_seed=1)
    results, reference = {}, None
    for name in args.executors.split(","):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            report = backtest(model, frame, origins=args.origins, horizon=args.horizon,
                              config=config, executor=name, max_workers=args.workers)
        wall = time.perf_counter() - start
        cols = ["observed", "mean", "pit", "crps"]
        if reference is None:
            reference = report.rows[cols]
        pd.testing.assert_frame_equal(report.rows[cols], reference, check_exact=True)
        results[name] = {"wall_seconds": wall, "workers": report.workers,
                         "compile_seconds": report.compile_seconds,
                         "sample_seconds": report.sample_seconds}
        print(f"{name:>9}: {wall:6.1f} s wall, {report.workers} worker(s), compile "
              f"{report.compile_seconds:5.1f} s (all workers), sampling "
              f"{report.sample_seconds:5.1f} s; identical numbers", flush=True)
    results["machine"] = {"cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
                          "rows": len(frame), "origins": args.origins,
                          "draws_per_chain": args.draws}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
