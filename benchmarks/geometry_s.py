"""Geometry of bayescount's default fit on the S workload, by seasonality and mass matrix.

S spans 50 five-minute windows (4 h 10 min): a weekly Fourier term is then nearly
constant (collinear with the intercept) and its sine/cosine pairs nearly linear in time
(collinear with each other). This script fits S (Poisson, 4 x 1000 after 1000) with
``seasonality`` in {"daily,weekly", "daily", none} and the diagonal or low-rank mass
matrix and reports mean tree size, divergences, min bulk ESS and max R-hat of the
hyperparameters, so the cause of a large tree is measured rather than guessed.

Run: ``python benchmarks/geometry_s.py [--size S] [--draws 1000]``; writes
``benchmarks/results/geometry_s.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import arviz_stats as azs  # noqa: E402
import numpy as np  # noqa: E402
from gradient import workload  # noqa: E402

from bayescount import CountModel  # noqa: E402

HYPER = ["intercept", "region_sd", "service_sd", "node_sd"]


def one(frame, seasonality: str | None, mass_matrix: str, draws: int) -> dict:
    options = {"seasonality": seasonality} if seasonality else {}
    model = CountModel("errors", "requests", time="timestamp",
                       groups=["region", "service", "node"], family="poisson", **options)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, draws=draws, tune=draws, chains=4, random_seed=1,
                  mass_matrix=mass_matrix, progressbar=False)
    wall = time.perf_counter() - start
    tree = model.fit_.tree
    post = tree["posterior"].to_dataset()[HYPER]
    stats = tree["sample_stats"].to_dataset()
    ess = azs.ess(post, method="bulk")
    rhat = azs.rhat(post)
    return {
        "seasonality": seasonality or "none", "mass_matrix": mass_matrix,
        "wall_s": round(wall, 1),
        "sampling_s": round(tree.attrs.get("bayescount_sampling_seconds", np.nan), 1),
        "mean_tree_size": round(float(stats["n_steps"].mean()), 1),
        "divergences": int(stats["diverging"].sum()),
        "min_ess_bulk": int(min(float(ess[v]) for v in HYPER)),
        "max_rhat": round(max(float(rhat[v]) for v in HYPER), 3),
        "gate_passed": bool(model.fit_.convergence.passed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="S")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--cases", default="daily,weekly/low_rank;daily/diag;none/diag")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    frame = workload(args.size, "poisson")
    rows = []
    for case in args.cases.split(";"):
        seasonality, mass = case.split("/")
        row = one(frame, None if seasonality == "none" else seasonality, mass, args.draws)
        print(json.dumps(row), flush=True)
        rows.append(row)
    out = Path(args.out) / f"geometry_{args.size.lower()}.json"
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
