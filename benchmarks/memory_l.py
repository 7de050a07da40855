"""Peak memory (RSS) and time of the per-row posterior computations at L, 4,000 draws.

Workload L (as ``benchmarks/gradient.py``): 4 regions x 25 services x 4 nodes x 2,016
five-minute windows = 806,400 rows, requests as exposure, daily + weekly seasonality,
Poisson and negative binomial. One ``rows x draws`` float64 array would take 25.8 GB,
so every operation has to work on blocks of rows or draws.

The fit is fabricated, not sampled: posterior draws (4 chains x 1,000) scattered
around the simulation's truth (the seasonal coefficients by least squares on the
log rates), with the observed and constant data a default fit stores
(``_tree_data._finish_tree``: the rows' data and timestamps). It is written once per family
with :func:`bayescount.io.save_fit`; every operation then runs in a fresh
subprocess that loads it, and reports its own peak RSS (``VmHWM``), its RSS before the
operation and the operation's wall time. The child runs under an address-space limit
(``--limit-gb``) so an operation that would need tens of GB fails with
``MemoryError`` instead of exhausting the shared machine.

Operations: ``load`` (:func:`bayescount.load`), ``save`` (:func:`bayescount.io.save_fit`;
file size), ``check_model`` (in-sample PPC statistics, 4,000 replicates, plus the
residual diagnostics), ``rootogram`` (:func:`bayescount.plots.plot_rootogram`, its
default 500 replicates), ``pit`` (:func:`bayescount.plots.randomised_pit` over all
4,000 draws), ``plot_pit`` (default 500 draws), ``coverage`` (:func:`coverage_report`
of every L row as held-out, all draws), ``predict`` (:meth:`Fit.predict` of the L rows
with all draws) and ``predict_100`` (the same with 100 draws, then ``to_frame()``).

Run: ``python benchmarks/memory_l.py [--families poisson,negative_binomial]
[--ops ...] [--windows 2016] [--tag after] [--out benchmarks/results]``; writes
``memory_l.json`` and ``memory_l.md`` (rows of earlier runs with another tag are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

if os.environ.get("BAYESCOUNT_BENCH_INSTALLED") != "1":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OPS = ("load", "save", "check_model", "rootogram", "pit", "plot_pit", "coverage",
       "predict", "predict_100")
CACHE = Path(os.environ.get("BAYESCOUNT_BENCH_CACHE", "/tmp/bayescount_memory_l"))
CHAINS, DRAWS = 4, 1000


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - not Linux


def _frame(family: str, windows: int):
    from bayescount.testing import simulate_telemetry

    fam = "poisson" if family == "poisson" else "negative_binomial"
    return simulate_telemetry(
        4, 25, 4, windows, family=fam, rate=2e-3, sd=(0.3, 0.5, 0.3), alpha=8.0,
        daily_amplitude=0.3, seed=42,
    )


def _spec(family: str):
    from bayescount.models import ModelSpec

    return ModelSpec.from_options(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        family=family, seasonality="daily,weekly",
    )


def build(family: str, windows: int, path: Path) -> dict:
    """Fabricate the fit of ``family`` at ``windows`` windows and save it to ``path``."""
    import numpy as np
    import xarray as xr

    from bayescount.inference._tree_data import _finish_tree
    from bayescount.inference.convergence import check_convergence
    from bayescount.inference.fit import Fit, prepare_training
    from bayescount.inference.sampling import SamplerConfig
    from bayescount.io import save_fit

    sim = _frame(family, windows)
    spec = _spec(family)
    clean, design, prepared = prepare_training(spec, sim.frame)
    truth = sim.truth
    rng = np.random.default_rng(0)
    shape = (CHAINS, DRAWS)
    coords = {"chain": np.arange(CHAINS), "draw": np.arange(DRAWS)}
    post = {"intercept": (("chain", "draw"), truth["intercept"] + 0.01 * rng.normal(size=shape))}
    group_part = np.full(prepared.n, truth["intercept"])
    for lvl in design.levels:
        eff = np.array([truth[f"{lvl.name}_effect"][lab] for lab in lvl.labels])
        group_part += eff[prepared.group_codes[lvl.name]]
        post[f"{lvl.name}_effect"] = (
            ("chain", "draw", lvl.name), eff + 0.02 * rng.normal(size=shape + eff.shape))
        post[f"{lvl.name}_sd"] = (
            ("chain", "draw"), truth[f"{lvl.name}_sd"] * np.exp(0.05 * rng.normal(size=shape)))
        coords[lvl.name] = list(lvl.labels)
    resid = np.log((prepared.counts + 0.5) / prepared.exposure) - group_part
    beta, *_ = np.linalg.lstsq(prepared.fourier, resid, rcond=None)
    post["fourier"] = (("chain", "draw", "fourier_term"),
                       beta + 0.01 * rng.normal(size=shape + beta.shape))
    coords["fourier_term"] = list(design.fourier_terms)
    if spec.is_negative_binomial:
        post["alpha"] = (("chain", "draw"), truth["alpha"] * np.exp(0.05 * rng.normal(size=shape)))
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros(shape, dtype=bool)),
         "energy": (("chain", "draw"), rng.normal(size=shape)),
         "n_steps": (("chain", "draw"), np.full(shape, 15.0))},
        coords=coords | {},
    )
    groups = {"posterior": xr.Dataset(post, coords=coords), "sample_stats": stats}
    tree = xr.DataTree.from_dict(groups)
    _finish_tree(tree, spec, design, prepared, log_likelihood=False,
                 times=clean[spec.schema.time])
    fit = Fit(spec=spec, design=design, parameterization={lv.name: "centered"
                                                          for lv in design.levels},
              tree=tree, sampler_config=SamplerConfig(draws=DRAWS, tune=0, chains=CHAINS),
              convergence=check_convergence(tree, emit_warning=False))
    save_fit(fit, path)
    return {"rows": int(prepared.n)}


def child(op: str, family: str, windows: int, path: Path, limit_gb: float) -> dict:
    """Run one operation on the saved fit in this (fresh) process; return its numbers."""
    if limit_gb > 0:
        limit = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import matplotlib

    matplotlib.use("Agg")
    from bayescount.checks import check_model, coverage_report
    from bayescount.inference.draws import draw_subset
    from bayescount.io import load_fit, save_fit
    from bayescount.plots import plot_pit, plot_rootogram
    from bayescount.plots.pit import randomised_pit

    out: dict = {"op": op, "family": family}
    frame = _frame(family, windows).frame if op.startswith(("coverage", "predict")) else None
    if op == "build":
        start = time.perf_counter()
        out |= build(family, windows, path)
        out["seconds"] = time.perf_counter() - start
        out["peak_rss_mib"] = _rss_mib("VmHWM")
        return out
    start = time.perf_counter()
    fit = load_fit(path)
    loaded = time.perf_counter() - start
    out["rss_before_mib"] = _rss_mib("VmRSS")
    start = time.perf_counter()
    try:
        if op == "load":
            out["result"] = {"rows": int(fit.n_rows)}
            out["seconds"] = loaded
        elif op == "save":
            target = path.with_suffix(".resaved.nc")
            save_fit(fit, target)
            out["file_mib"] = round(target.stat().st_size / 2**20, 1)
            out["result"] = {"file_mib": out["file_mib"]}
        elif op == "check_model":
            check = check_model(fit, by="service")
            out["result"] = {"passed": check.passed, "n_draws": check.ppc.n_draws,
                             "dispersion": round(check.residuals.dispersion_statistic, 4),
                             "flagged_ppc": len(check.ppc.flagged)}
        elif op == "rootogram":
            plot_rootogram(fit)
        elif op == "pit":
            pit = randomised_pit(fit, max_draws=None)
            out["result"] = {"mean": round(float(pit.mean()), 5),
                             "below_0.1": round(float((pit < 0.1).mean()), 5)}
        elif op == "plot_pit":
            plot_pit(fit)
        elif op == "coverage":
            report = coverage_report(fit, frame)
            out["result"] = {f"{r.level:g}": round(r.coverage, 5) for r in report.overall}
        elif op == "predict":
            pred = fit.predict(frame, random_seed=0)
            out["result"] = {"mean_of_means": float(pred.mean().mean())}
        elif op == "predict_100":
            posterior = draw_subset(fit.posterior, 100)
            pred = fit.with_posterior(posterior).predict(frame, random_seed=0)
            table = pred.to_frame()
            out["result"] = {"q0.95_mean": round(float(table["q0.95"].mean()), 4)}
        else:
            raise SystemExit(f"unknown op {op!r}")
        if op != "load":
            out["seconds"] = time.perf_counter() - start
    except MemoryError as err:
        out["error"] = f"MemoryError (address-space limit {limit_gb:g} GB): {err}"[:200]
        out["seconds"] = time.perf_counter() - start
    out["peak_rss_mib"] = _rss_mib("VmHWM")
    return out


def _run_child(op, family, windows, path, limit_gb, timeout=None) -> dict:
    cmd = [sys.executable, __file__, "--child", op, "--families", family,
           "--windows", str(windows), "--fit", str(path), "--limit-gb", str(limit_gb)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
        hwm = next((int(x.split()[1]) / 1024 for x in status if x.startswith("VmHWM:")), None)
        proc.kill()
        proc.communicate()
        return {"op": op, "family": family, "seconds": float(timeout), "peak_rss_mib": hwm,
                "error": f"not finished after {timeout:g} s (killed; time a lower bound, "
                         "peak RSS so far)"}
    proc = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    wall = time.perf_counter() - start
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            row = json.loads(line)
            break
    else:
        row = {"op": op, "family": family, "error": (proc.stderr or "no output")[-400:]}
    row["process_seconds"] = round(wall, 1)
    row["children_maxrss_mib"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return row


def _markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# Memory and time at L (806,400 rows x 4,000 draws)",
        "",
        f"Machine: {meta['machine']}; load average at start {meta['load']}; "
        f"Python {meta['python']}. Each operation in a fresh process (after loading the fit "
        f"file); peak RSS is the process's VmHWM, 'before' its RSS after loading. Target: "
        "peak RSS under 2,048 MiB.",
        "",
        "| tag | family | operation | peak RSS MiB | RSS before MiB | seconds | notes |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        note = r.get("error") or json.dumps(r.get("result", ""))
        note = note.replace("|", "/")[:120]
        peak, before = (r.get(k) or float("nan") for k in ("peak_rss_mib", "rss_before_mib"))
        lines.append(
            f"| {r.get('tag', '')} | {r['family']} | {r['op']} | {peak:.0f} | {before:.0f} "
            f"| {r.get('seconds', float('nan')):.1f} | {note} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="poisson,negative_binomial")
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--windows", type=int, default=2016)
    parser.add_argument("--tag", default="after")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--limit-gb", type=float, default=12.0,
                        help="address-space limit of each child (0: none)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds after which an operation's process is killed")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fit", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = child(args.child, args.families, args.windows, Path(args.fit), args.limit_gb)
        print(json.dumps(row))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "memory_l.json"
    old = json.loads(json_path.read_text())["rows"] if json_path.exists() else []
    rows = [r for r in old if r.get("tag") != args.tag]
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load": round(os.getloadavg()[0], 2), "python": platform.python_version()}
    for family in args.families.split(","):
        path = CACHE / f"{family}_{args.windows}.nc"
        if args.rebuild or not path.exists():
            row = _run_child("build", family, args.windows, path, 0)
            print(json.dumps(row), flush=True)
        for op in args.ops.split(","):
            row = _run_child(op, family, args.windows, path, args.limit_gb, args.timeout)
            row["tag"] = args.tag
            row["windows"] = args.windows
            print(json.dumps(row), flush=True)
            rows.append(row)
            json_path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
            (out_dir / "memory_l.md").write_text(_markdown(rows, meta))


if __name__ == "__main__":
    main()
