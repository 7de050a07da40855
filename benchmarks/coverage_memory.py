"""Peak memory (tracemalloc) and time of ``coverage_report`` on a large held-out set.

Default: 200,000 held-out rows x 1,000 posterior draws of a negative binomial model.
Materialising rows x draws once would take 1.6 GB per float64 array; the report
processes rows in chunks, so its peak should be O(chunk_size x draws).

The "fit" is fabricated (posterior draws scattered around the simulation's truth),
so no sampling time is spent:

    .venv/bin/python benchmarks/coverage_memory.py [--windows 1000] [--draws 1000]
        [--chunk-size N]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
import xarray as xr

from bayescount import CountModel
from bayescount.checks.coverage import coverage_report
from bayescount.testing import simulate_telemetry


def fabricated_fit(frame, truth, draws: int, seed: int = 0) -> CountModel:
    rng = np.random.default_rng(seed)
    model = CountModel(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        family="negative_binomial",
    )
    design, _ = model.prepare(frame.iloc[:5000])
    coords = {"chain": [0], "draw": np.arange(draws)}
    post = {
        "intercept": (("chain", "draw"), truth["intercept"] + 0.02 * rng.normal(size=(1, draws))),
        "alpha": (("chain", "draw"), truth["alpha"] * np.exp(0.05 * rng.normal(size=(1, draws)))),
    }
    for lvl in design.levels:
        eff = np.array([truth[f"{lvl.name}_effect"][lab] for lab in lvl.labels])
        post[f"{lvl.name}_effect"] = (
            ("chain", "draw", lvl.name), eff + 0.02 * rng.normal(size=(1, draws, eff.size)),
        )
        post[f"{lvl.name}_sd"] = (("chain", "draw"), np.full((1, draws), truth[f"{lvl.name}_sd"]))
        coords[lvl.name] = list(lvl.labels)
    model.design_ = design
    model.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(post, coords=coords)})
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000, help="windows per node (200 nodes)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args()
    sim = simulate_telemetry(
        n_regions=4, n_services=10, n_nodes=5, n_windows=args.windows,
        family="negative_binomial", rate=1e-3, alpha=5.0, seed=0,
    )
    # The first 5000 rows (25 windows of every node) define the design; all rows are scored.
    frame = sim.frame.sort_values(["timestamp", "node"], kind="stable").reset_index(drop=True)
    model = fabricated_fit(frame, sim.truth, args.draws)
    tracemalloc.start()
    start = time.perf_counter()
    report = coverage_report(model, frame, by="region", chunk_size=args.chunk_size)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "rows": len(frame),
        "draws": args.draws,
        "chunk_size": args.chunk_size or "auto",
        "peak_traced_mib": round(peak / 2**20, 1),
        "one_rows_x_draws_array_mib": round(len(frame) * args.draws * 8 / 2**20, 1),
        "seconds": round(seconds, 1),
        "coverage": {r.level: round(r.coverage, 4) for r in report.overall},
        "coverage_inclusive": {r.level: round(r.coverage_inclusive, 4) for r in report.overall},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
