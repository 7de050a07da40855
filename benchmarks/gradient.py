"""Per-gradient time: logp + gradient compiled as nutpie compiles it, side by side.

Workloads (``--sizes``): 4 regions x 25 services x 4 nodes, 5-minute windows, requests as
exposure, daily (order 3) + weekly (order 2) Fourier seasonality:

* S: 50 windows (20,000 rows); M: 250 windows (100,000 rows); L: 2,016 windows (806,400 rows).
* S4k: 4 regions x 25 services x **40** nodes (4,000 series, 10x S) x 50 windows (200,000
  rows): growth with the number of groups (400 -> 4,000 series) at S's number of windows;
  compare with M (400 series, 100,000 rows) to separate rows from groups.
* XS: 4 regions x 5 services x 2 nodes x 20 windows (800 rows): a smoke test of the scripts.

Contenders, for each family (``--families poisson,negative_binomial``):

* ``bayescount``: :func:`bayescount.models.build_model` as :func:`bayescount.fit` builds it
  (default priors, the data-chosen parameterization, compression as the builder decides);
* ``bayescount_rows``: the same with compression switched off (one likelihood term per row);
* ``handwritten``: best-practice PyMC: ``pm.ZeroSumNormal`` centered nested effects, one
  fused likelihood expression with the log exposure a numpy constant;
* ``handwritten_cells`` (Poisson): the same model on exact sufficient statistics
  (per-group counts, per-time counts, the dense groups x times exposure matrix).

The log density and its gradient are compiled exactly as nutpie does
(``model.logp()`` rewritten with ``canonicalize``/``stabilize``, ``pt.grad``, one flat
float64 input vector, PyTensor ``mode="NUMBA"``, numba fastmath off as bayescount
samples), then evaluated at 200 points drawn around the initial point. Contenders of a
workload are timed interleaved (round-robin, best of ``--repeats``) so machine load hits
them alike; the load average is recorded with every row.

Run: ``python benchmarks/gradient.py [--sizes S,M,L] [--families poisson,negative_binomial]
[--out benchmarks/results]``; writes ``gradient.json`` and ``gradient.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from math import prod
from pathlib import Path

# Measure the checkout this file lives in (not whatever bayescount is installed), unless
# BAYESCOUNT_BENCH_INSTALLED=1 asks for the installed one (e.g. a baseline).
if os.environ.get("BAYESCOUNT_BENCH_INSTALLED") != "1":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt

from bayescount.inference.fit import package_versions, prepare_training
from bayescount.models import ModelSpec, build_model
from bayescount.testing import simulate_telemetry  # noqa: E402 (after the path)

# XS, S and M span less than a week by design (issue 10's workloads): their weekly terms
# warn once per fit that the period is longer than the span. Known here; not repeated.
warnings.filterwarnings(
    "ignore", message="Seasonality .* longer than the training data's span", category=UserWarning
)

#: size -> (regions, services per region, nodes per service, 5-minute windows).
SHAPES = {
    "XS": (4, 5, 2, 20), "S": (4, 25, 4, 50), "M": (4, 25, 4, 250), "L": (4, 25, 4, 2016),
    "S4k": (4, 25, 40, 50),
}
SIZES = {size: shape[3] for size, shape in SHAPES.items()}  # windows per size
N_POINTS = 200


def workload(size: str, family: str, seed: int = 42) -> pd.DataFrame:
    """The reference table of ``size``: errors per 5-minute window, requests as exposure."""
    fam = "poisson" if family == "poisson" else "negative_binomial"
    if size not in SHAPES:
        raise SystemExit(f"gradient.py: error: unknown size {size!r}; choose from {list(SHAPES)}")
    return simulate_telemetry(
        *SHAPES[size], family=fam, rate=2e-3, sd=(0.3, 0.5, 0.3), alpha=8.0,
        daily_amplitude=0.3, seed=seed,
    ).frame


def n_series(size: str) -> int:
    """Number of series (nodes) of ``size``."""
    regions, services, nodes, _ = SHAPES[size]
    return regions * services * nodes


def spec_for(family: str, **options) -> ModelSpec:
    return ModelSpec.from_options(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        family=family, seasonality="daily,weekly", **options,
    )


# ----------------------------------------------------------------- contenders
def bayescount_model(frame: pd.DataFrame, family: str, compress: bool = True) -> pm.Model:
    spec = spec_for(family)
    _, design, prepared = prepare_training(spec, frame)
    try:
        return build_model(spec, design, prepared, compress=compress)
    except TypeError:  # a builder without the compress switch (before compression)
        return build_model(spec, design, prepared)


def _handwritten_parts(frame: pd.DataFrame, family: str):
    """Coordinates, codes and Fourier design shared by the hand-written models."""
    spec = spec_for(family)
    _, design, prepared = prepare_training(spec, frame)
    regions = design.level("region").labels
    services = design.level("service").labels
    nodes = design.level("node").labels
    n_r, n_s, n_n = len(regions), len(services) // len(regions), len(nodes) // len(services)
    node_code = prepared.group_codes["node"]
    return design, prepared, (n_r, n_s, n_n), node_code


def _handwritten_effects(design, prepared, shape):
    n_r, n_s, n_n = shape
    y = prepared.counts
    pooled = np.log(y.sum() / prepared.exposure.sum())
    intercept = pm.Normal("intercept", pooled, 2.0)
    sds = [pm.HalfNormal(f"{lv}_sd", 1.0) for lv in ("region", "service", "node")]
    region = pm.ZeroSumNormal("region_effect", sigma=sds[0], shape=(n_r,))
    service = pm.ZeroSumNormal("service_effect", sigma=sds[1], shape=(n_r, n_s))
    node = pm.ZeroSumNormal("node_effect", sigma=sds[2], shape=(n_r, n_s, n_n))
    path = intercept + region[:, None, None] + service[:, :, None] + node
    fourier = pm.Normal("fourier", 0.0, 1.0, shape=prepared.fourier.shape[1])
    return path.ravel(), fourier


def handwritten_model(frame: pd.DataFrame, family: str) -> pm.Model:
    design, prepared, shape, node_code = _handwritten_parts(frame, family)
    y = prepared.counts.astype(np.float64)
    log_e = np.log(prepared.exposure)
    with pm.Model() as model:
        path, fourier = _handwritten_effects(design, prepared, shape)
        eta = log_e + path[node_code] + pt.dot(prepared.fourier, fourier)
        if family == "poisson":
            # Poisson log density up to the constant -sum(log y!): one fused expression.
            pm.Potential("loglik", pt.sum(y * eta - pt.exp(eta)))
        else:
            inv = pm.HalfNormal("inv_sqrt_alpha", 1.0)
            alpha = 1.0 / pt.square(inv)
            # NB2: lgamma(y+a) - lgamma(a) - lgamma(y+1) + a log(a/(a+mu)) + y log(mu/(a+mu))
            log_a_mu = pt.logaddexp(pt.log(alpha), eta)
            pm.Potential("loglik", pt.sum(
                pt.gammaln(y + alpha) - pt.gammaln(alpha)
                + alpha * (pt.log(alpha) - log_a_mu) + y * (eta - log_a_mu)
            ))
    return model


def handwritten_cells_model(frame: pd.DataFrame, family: str) -> pm.Model:
    """Poisson on exact sufficient statistics: groups x times, no per-row work."""
    design, prepared, shape, node_code = _handwritten_parts(frame, family)
    y = prepared.counts.astype(np.float64)
    times, t_code = np.unique(prepared.fourier, axis=0, return_inverse=True)
    n_g, n_t = prod(shape), len(times)
    exposure = np.zeros((n_g, n_t))
    np.add.at(exposure, (node_code, t_code), prepared.exposure)
    y_g = np.bincount(node_code, weights=y, minlength=n_g)
    y_f = y @ prepared.fourier  # sum_i y_i F_i: the time part's sufficient statistic
    with pm.Model() as model:
        path, fourier = _handwritten_effects(design, prepared, shape)
        f_t = pt.dot(times, fourier)
        pm.Potential("loglik", pt.dot(y_g, path) + pt.dot(y_f, fourier)
                     - pt.dot(pt.exp(path), pt.dot(exposure, pt.exp(f_t))))
    return model


# ------------------------------------------------------------------ compiling
def compile_logp_dlogp(model: pm.Model):
    """Compile ``(logp, grad)`` of a flat float64 vector as nutpie's ``_make_functions`` does."""
    from pymc.pytensorf import compile as compile_pymc
    from pytensor.graph import clone_replace, rewrite_graph

    value_vars = [model.rvs_to_values[v] for v in model.free_RVs]
    logp = model.logp()
    rewrites = ["canonicalize", "stabilize"]
    if not model.check_bounds:
        rewrites.append("local_remove_check_parameter")
    logp = rewrite_graph(logp, include=rewrites)
    grad = pt.concatenate([pt.as_tensor(g).ravel() for g in pt.grad(logp, value_vars)])
    point = model.initial_point()
    shapes = [point[v.name].shape for v in value_vars]
    sizes = [prod(s) for s in shapes]
    joined = pt.TensorType("float64", shape=(sum(sizes),))("_unconstrained_point")
    start, replace = 0, {}
    for v, s, n in zip(value_vars, shapes, sizes, strict=True):
        replace[v] = joined[start:start + n].reshape(s).astype(v.dtype)
        start += n
    logp, grad = clone_replace([logp, grad], replace)
    with pytensor.config.change_flags(numba__fastmath=False), model:
        fn = compile_pymc((joined,), (logp, grad), mode="NUMBA")
    fn.trust_input = True
    x0 = np.concatenate([np.asarray(point[v.name], dtype=np.float64).ravel() for v in value_vars])
    return fn, x0


def time_contenders(builders: dict, n_points: int, repeats: int, seed: int = 0) -> dict:
    """Compile each contender; time ``n_points`` gradients round-robin, best of ``repeats``."""
    compiled = {}
    for name, build in builders.items():
        start = time.perf_counter()
        model = build()
        built = time.perf_counter() - start
        # A hand-written numpy contender returns its (logp, grad) function and start.
        fn, x0 = model if isinstance(model, tuple) else compile_logp_dlogp(model)
        compiled[name] = {
            "fn": fn, "x0": x0, "build_s": built,
            "compile_s": time.perf_counter() - start - built, "n_dim": x0.size,
        }
    rng = np.random.default_rng(seed)
    for c in compiled.values():
        c["points"] = c["x0"] + 0.05 * rng.standard_normal((n_points, c["x0"].size))
        c["fn"](c["points"][0])  # warm
        c["best"] = np.inf
    for _ in range(repeats):
        for c in compiled.values():
            fn, points = c["fn"], c["points"]
            start = time.perf_counter()
            for x in points:
                fn(x)
            c["best"] = min(c["best"], (time.perf_counter() - start) / n_points)
    return {
        name: {"ms_per_gradient": round(1e3 * c["best"], 4), "n_dim": int(c["n_dim"]),
               "build_s": round(c["build_s"], 2), "compile_s": round(c["compile_s"], 1)}
        for name, c in compiled.items()
    }


def numpy_nb_histogram(frame: pd.DataFrame):
    """Hand-written numpy log density + gradient of NB2 in bayescount's histogram form.

    Parameters: one log rate per node (the summed path of effects), the Fourier
    coefficients and log alpha: the per-row work every NB model has to do (gather
    ``eta``, the ``log1p`` term and its scatter-add), with the gamma terms over the
    distinct counts. The effects' zero-sum maps and priors are left out (a few hundred
    values), so this is a floor for the likelihood, not a whole model.
    """
    from scipy.special import digamma, gammaln

    design, prepared, shape, node = _handwritten_parts(frame, "negative_binomial")
    y = prepared.counts.astype(np.float64)
    log_e = np.log(prepared.exposure)
    times, t = np.unique(prepared.fourier, axis=0, return_inverse=True)
    t = t.reshape(-1)
    values, mult = np.unique(y, return_counts=True)
    mult = mult.astype(np.float64)
    n_nodes, n_terms = prod(shape), times.shape[1]

    def logp_grad(x):
        a, beta, log_alpha = x[:n_nodes], x[n_nodes:n_nodes + n_terms], x[-1]
        alpha = np.exp(log_alpha)
        f = times @ beta
        eta = a[node] + f[t] + log_e - log_alpha
        s = np.exp(eta)
        w = (alpha + y) * s / (1.0 + s)  # d/d eta of (alpha + y) log1p(e^eta)
        logp = (mult @ gammaln(values + alpha) - len(y) * gammaln(alpha)
                + y @ eta - np.sum((alpha + y) * np.log1p(s)))
        d_eta = y - w
        grad_a = np.bincount(node, weights=d_eta, minlength=n_nodes)
        grad_beta = times.T @ np.bincount(t, weights=d_eta, minlength=len(times))
        d_alpha = (mult @ digamma(values + alpha) - len(y) * digamma(alpha)
                   - np.sum(np.log1p(s)) - np.sum(d_eta) / alpha)
        return logp, np.concatenate([grad_a, grad_beta, [d_alpha * alpha]])

    return logp_grad, np.concatenate([np.full(n_nodes, np.log(y.sum() / prepared.exposure.sum())),
                                      np.zeros(n_terms), [np.log(8.0)]])


def contenders(frame: pd.DataFrame, family: str, only: set[str] | None) -> dict:
    builders = {
        "bayescount": lambda: bayescount_model(frame, family),
        "bayescount_rows": lambda: bayescount_model(frame, family, compress=False),
        "handwritten": lambda: handwritten_model(frame, family),
    }
    if family == "poisson":
        builders["handwritten_cells"] = lambda: handwritten_cells_model(frame, family)
    else:
        builders["numpy_histogram"] = lambda: numpy_nb_histogram(frame)
    return {k: v for k, v in builders.items() if only is None or k in only}


def markdown(rows: list[dict]) -> str:
    head = ("| size | rows | series | family | contender | ms / gradient | × hand-written | "
            "dims | compile s | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        ratio = r.get("vs_handwritten")
        lines.append(
            f"| {r['size']} | {r['rows']:,} | {r.get('series', '')} | {r['family']} | "
            f"{r['contender']} | "
            f"{r['ms_per_gradient']:.3f} | {'' if ratio is None else f'{ratio:.2f}'} | "
            f"{r['n_dim']} | {r['compile_s']} | {r['load'][0]:.2f} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--families", default="poisson,negative_binomial")
    parser.add_argument("--contenders", default=None, help="comma-separated subset")
    parser.add_argument("--points", type=int, default=N_POINTS)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--tag", default="", help="suffix of the output file names")
    args = parser.parse_args()
    only = set(args.contenders.split(",")) if args.contenders else None
    rows = []
    for size in args.sizes.split(","):
        for family in args.families.split(","):
            frame = workload(size, family)
            res = time_contenders(contenders(frame, family, only), args.points, args.repeats)
            load = os.getloadavg()
            base = res.get("handwritten", {}).get("ms_per_gradient")
            for name, r in res.items():
                ratio = None if not base else round(r["ms_per_gradient"] / base, 2)
                row = {"size": size, "rows": len(frame), "series": n_series(size),
                       "family": family, "contender": name,
                       **r, "load": [round(v, 2) for v in load], "vs_handwritten": ratio}
                rows.append(row)
                print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import bayescount

    meta = {"bayescount_path": bayescount.__file__,
            "machine": f"{platform.machine()} {os.cpu_count()} cores {platform.processor()}",
            "python": platform.python_version(), "versions": package_versions(),
            "points": args.points, "repeats": args.repeats}
    (out / f"gradient{args.tag}.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                             indent=1))
    (out / f"gradient{args.tag}.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
