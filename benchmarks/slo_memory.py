"""Peak memory and time of an SLO burn forecast over a 28-day horizon.

Default: an NB error model of 7 nodes (1 region x 7 services x 1 node), 4 chains x
1,000 posterior draws, and a future table of 28 days of hourly windows per node (4,704
rows, close to the 4,592 of issue 12, which peaked at 834 MB). The "fit" is fabricated
(posterior draws scattered around the simulation's truth), so no sampling time is spent.
Peak memory is measured twice: ``tracemalloc`` (numpy's allocations included) around
``forecast_burn`` alone, and the process's peak RSS (``resource.getrusage``) in a
fresh subprocess.

    .venv/bin/python benchmarks/slo_memory.py [--days 28] [--nodes 7] [--draws 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bayescount import CountModel  # noqa: E402
from bayescount.forecast import ObservedSoFar, SLOSpec, forecast_burn  # noqa: E402
from bayescount.testing import simulate_telemetry  # noqa: E402


def fabricated_fit(frame, truth, chains: int, draws: int, seed: int = 0) -> CountModel:
    rng = np.random.default_rng(seed)
    model = CountModel("errors", "requests", time="timestamp",
                       groups=["region", "service", "node"], family="negative_binomial")
    design, _ = model.prepare(frame)
    shape = (chains, draws)
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    post = {
        "intercept": (("chain", "draw"), truth["intercept"] + 0.02 * rng.normal(size=shape)),
        "alpha": (("chain", "draw"), truth["alpha"] * np.exp(0.05 * rng.normal(size=shape))),
    }
    for lvl in design.levels:
        eff = np.array([truth[f"{lvl.name}_effect"][lab] for lab in lvl.labels])
        post[f"{lvl.name}_effect"] = (("chain", "draw", lvl.name),
                                      eff + 0.02 * rng.normal(size=(*shape, eff.size)))
        post[f"{lvl.name}_sd"] = (("chain", "draw"), np.full(shape, truth[f"{lvl.name}_sd"]))
        coords[lvl.name] = list(lvl.labels)
    model.design_ = design
    model.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(post, coords=coords)})
    return model


def run(days: int, nodes: int, chains: int, draws: int) -> dict:
    sim = simulate_telemetry(1, nodes, 1, 48, family="negative_binomial", alpha=5.0,
                             rate=2e-3, window="1h", seed=0)
    model = fabricated_fit(sim.frame, sim.truth, chains, draws)
    start = sim.frame["timestamp"].max() + pd.Timedelta("1h")
    times = pd.date_range(start, periods=24 * days, freq="1h")
    labels = sim.frame[["region", "service", "node"]].drop_duplicates()
    future = labels.merge(pd.DataFrame({"timestamp": times}), how="cross").assign(
        requests=10_000.0, load=0.0)
    slo = SLOSpec(0.999, "30d")
    observed = ObservedSoFar(100, 1e6, "2d", start)
    tracemalloc.start()
    t0 = time.perf_counter()
    fc = forecast_burn(model, slo, observed, future, random_seed=1)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": len(future), "windows": len(times), "chains": chains, "draws": draws,
            "peak_traced_mib": round(peak / 2**20, 1),
            "one_rows_x_draws_array_mib": round(len(future) * chains * draws * 8 / 2**20, 1),
            "seconds": round(seconds, 2), "p_exhaust": fc.p_exhaust}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--nodes", type=int, default=7)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_only:
        run(args.days, args.nodes, args.chains, args.draws)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return
    # Children first: Linux keeps a process's peak RSS across fork + exec.
    rss = {}
    for days in (1, args.days):
        cmd = [sys.executable, __file__, "--rss-only", "--days", str(days), "--nodes",
               str(args.nodes), "--chains", str(args.chains), "--draws", str(args.draws)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rss[days] = round(int(out.split()[-1]) / 1024, 1)
    result = run(args.days, args.nodes, args.chains, args.draws)
    result["peak_rss_mib"] = rss[args.days]
    result["peak_rss_1_day_mib"] = rss[1]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
