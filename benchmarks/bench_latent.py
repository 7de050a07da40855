"""Latent AR(1) level: bayescount's centered states vs the plain PyMC formulation, same data.

Data: NAB KO tweet volume, hourly sums (``data/nab``, ~1,150 training hours; the last
week is dropped, as in ``nab_coverage.py``). Model: Poisson, daily (order 4) + weekly
(order 3) Fourier seasonality, AR(1) latent log rate with normal innovations, the same
priors (intercept Normal(log pooled rate, 2), Fourier Normal(0, 1), sd HalfNormal(0.5),
rho Beta(2, 1)).

* ``bayescount``: ``CountModel(..., latent="ar1")`` — the states are sampled around
  intercept + seasonality (centered).
* ``pymc_ar``: what a PyMC user writes first — ``pm.AR`` deviations (stationary
  initial state) added to intercept + seasonality.

Both sample with nutpie, 4 chains x 1000 draws after 1000 tuning steps, the same seed.
Reported: wall time (compile + sample), divergences, mean tree size, min bulk ESS and
max R-hat over the scalars and Fourier terms, and min ESS per second.
Run: ``python benchmarks/bench_latent.py [--draws N] [--series KO]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayescount import ConvergenceThresholds, CountModel
from bayescount.prep.seasonality import fourier_features, parse_seasonality

sys.path.insert(0, str(Path(__file__).parent))
from bench_fit import _stats  # noqa: E402
from nab_coverage import load_hourly  # noqa: E402

SEASONALITY = "daily:4,weekly:3"
SCALARS = ["intercept", "latent_sd", "latent_rho", "fourier"]


def training_hours(series: str) -> pd.DataFrame:
    frame = load_hourly(series).drop(columns="anomaly")
    return frame[frame["time"] <= frame["time"].max() - pd.Timedelta("168h")]


def run_bayescount(frame: pd.DataFrame, draws: int, seed: int) -> dict:
    model = CountModel("count", "hours", time="time", family="poisson",
                       seasonality=SEASONALITY, latent="ar1",
                       parameterization={"latent": "centered"})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, draws=draws, tune=draws, chains=4, random_seed=seed,
                  progressbar=False, thresholds=ConvergenceThresholds())
    return _stats(model.idata_, time.perf_counter() - start, SCALARS)


def run_pymc_ar(frame: pd.DataFrame, draws: int, seed: int) -> dict:
    components = parse_seasonality(SEASONALITY)
    F = fourier_features(frame["time"], components)
    steps = ((frame["time"] - frame["time"].min()) // pd.Timedelta("1h")).to_numpy()
    length = int(steps.max()) + 1
    pooled = np.log(frame["count"].sum() / len(frame))
    start = time.perf_counter()
    with pm.Model(coords={"t": range(length), "term": range(F.shape[1])}):
        intercept = pm.Normal("intercept", pooled, 2.0)
        fourier = pm.Normal("fourier", 0.0, 1.0, dims="term")
        sd = pm.HalfNormal("latent_sd", 0.5)
        rho = pm.Beta("latent_rho", 2.0, 1.0)
        latent = pm.AR("latent", rho=rho[None], sigma=sd * pt.sqrt(1 - rho**2),
                       init_dist=pm.Normal.dist(0.0, sd), steps=length - 1, dims="t")
        eta = intercept + pt.dot(F, fourier) + latent[steps]
        pm.Poisson("y", pt.exp(eta), observed=frame["count"].to_numpy())
        tree = pm.sample(draws, tune=draws, chains=4, random_seed=seed, progressbar=False,
                         nuts_sampler="nutpie", compute_convergence_checks=False)
    return _stats(tree, time.perf_counter() - start, SCALARS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="KO")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    frame = training_hours(args.series)
    results = {"rows": len(frame)}
    for name, fn in (("bayescount", run_bayescount), ("pymc_ar", run_pymc_ar)):
        results[name] = fn(frame, args.draws, args.seed)
        print(name, results[name], flush=True)
    results["ess_per_second_ratio"] = round(
        results["bayescount"]["ess_per_second"]
        / max(results["pymc_ar"]["ess_per_second"], 1e-9), 1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
