"""Fit-time benchmark on the S workload: bayescount vs plain PyMC vs bambi, same data.

S workload: 4 regions x 25 services x 4 nodes x 50 windows = 20,000 rows of errors
per 5-minute window with requests as exposure (``bayescount.testing``).

Every contender samples with nutpie, 4 chains x 1000 draws after 1000 tuning steps,
the same seed. Reported per contender: wall time (compile + sample), divergences,
mean tree size (leapfrog steps per draw), min bulk ESS, and min bulk ESS per second.
Run: ``python benchmarks/bench_fit.py [--family poisson|negative_binomial|both]
[--draws N] [--contenders bayescount,pymc_free,bambi]``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import arviz_stats as azs
import numpy as np
import pymc as pm

from bayescount import ConvergenceThresholds, CountModel
from bayescount.testing import simulate_telemetry


def s_workload(family: str, seed: int = 42):
    return simulate_telemetry(
        4, 25, 4, 50, family=family, rate=2e-3, sd=(0.3, 0.5, 0.3), alpha=8.0, seed=seed
    ).frame


def _stats(tree, seconds: float, var_names: list[str] | None = None) -> dict:
    """Wall time, divergences, tree size, min bulk ESS, max R-hat and ESS/s of a fit."""
    post = tree["posterior"].to_dataset()
    if var_names is not None:
        post = post[var_names]
    stats = tree["sample_stats"].to_dataset()
    ess = azs.ess(post, method="bulk")
    min_ess = float(min(float(ess[v].min()) for v in ess.data_vars))
    rhat = azs.rhat(post)
    return {
        "seconds": round(seconds, 1),
        "divergences": int(stats["diverging"].sum()),
        "mean_tree_size": round(float(stats["n_steps"].mean()), 1),
        "min_ess_bulk": round(min_ess),
        "max_rhat": round(float(max(float(rhat[v].max()) for v in rhat.data_vars)), 4),
        "ess_per_second": round(min_ess / seconds, 1),
    }


def run_bayescount(frame, family: str, draws: int, seed: int) -> dict:
    model = CountModel(
        "errors", "requests", groups=["region", "service", "node"], family=family
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, draws=draws, tune=draws, chains=4, random_seed=seed,
                  progressbar=False, thresholds=ConvergenceThresholds())
    out = _stats(model.idata_, time.perf_counter() - start)
    out["parameterization"] = model.parameterization_
    return out


def run_pymc_free(frame, family: str, draws: int, seed: int) -> dict:
    """The model most users write by hand: free (non-sum-to-zero) nested effects."""
    codes = {c: frame[c].astype("category").cat.codes.to_numpy() for c in ("region", "service",
                                                                           "node")}
    svc_region = frame.groupby("service")["region"].first().astype("category").cat.codes
    node_service = frame.groupby("node")["service"].first().astype("category").cat.codes
    coords = {c: sorted(frame[c].unique()) for c in ("region", "service", "node")}
    y = frame["errors"].to_numpy()
    with pm.Model(coords=coords):
        a = pm.Normal("intercept", np.log(y.sum() / frame["requests"].sum()), 2)
        sds = {c: pm.HalfNormal(f"{c}_sd", 1) for c in coords}
        zr = pm.Normal("region_z", 0, 1, dims="region")
        zs = pm.Normal("service_z", 0, 1, dims="service")
        zn = pm.Normal("node_z", 0, 1, dims="node")
        region = sds["region"] * zr
        service = region[svc_region.to_numpy()] + sds["service"] * zs
        node = service[node_service.to_numpy()] + sds["node"] * zn
        mu = pm.math.exp(np.log(frame["requests"].to_numpy()) + a + node[codes["node"]])
        if family == "poisson":
            pm.Poisson("y", mu, observed=y)
        else:
            inv = pm.HalfNormal("inv_sqrt_alpha", 1)
            pm.NegativeBinomial("y", mu=mu, alpha=1 / inv**2, observed=y)
        start = time.perf_counter()
        tree = pm.sample(draws, tune=draws, chains=4, random_seed=seed, progressbar=False,
                         nuts_sampler="nutpie", compute_convergence_checks=False)
    return _stats(tree, time.perf_counter() - start)


def run_bambi(frame, family: str, draws: int, seed: int) -> dict:
    import bambi as bmb

    data = frame.assign(log_requests=np.log(frame["requests"]))
    fam = "poisson" if family == "poisson" else "negativebinomial"
    model = bmb.Model(
        "errors ~ 1 + offset(log_requests) + (1|region) + (1|service) + (1|node)",
        data, family=fam,
    )
    start = time.perf_counter()
    tree = model.fit(draws=draws, tune=draws, chains=4, random_seed=seed, progressbar=False,
                     inference_method="nutpie")
    return _stats(tree, time.perf_counter() - start)


CONTENDERS = {"bayescount": run_bayescount, "pymc_free": run_pymc_free, "bambi": run_bambi}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", default="both")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contenders", default="bayescount,pymc_free,bambi")
    args = parser.parse_args()
    families = ["poisson", "negative_binomial"] if args.family == "both" else [args.family]
    results = {}
    for family in families:
        frame = s_workload(family)
        for name in args.contenders.split(","):
            try:
                res = CONTENDERS[name](frame, family, args.draws, args.seed)
            except Exception as err:  # a peer failing is a result too
                res = {"error": f"{type(err).__name__}: {err}"[:300]}
            results[f"{family}/{name}"] = res
            print(f"{family:18s} {name:11s} {json.dumps(res)}", flush=True)
    base = {f: results.get(f"{f}/bayescount", {}) for f in families}
    for key, res in results.items():
        fam = key.split("/")[0]
        if "ess_per_second" in res and "ess_per_second" in base[fam]:
            ratio = base[fam]["ess_per_second"] / max(res["ess_per_second"], 1e-9)
            print(f"{key}: bayescount ESS/s is {ratio:.1f}x this contender's")


if __name__ == "__main__":
    main()
