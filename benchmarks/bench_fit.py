"""Side-by-side sampling benchmark: bayescount vs the hand-written PyMC model vs bambi.

Workloads are :func:`gradient.workload` (``--sizes``, default ``S,M``; ``XS`` is a smoke
test, ``L`` and ``S4k`` are the large ones; see ``gradient.py``), for each family
(``--families poisson,negative_binomial``), the same rows (data seed 42) for every
contender. Every contender samples with nutpie, ``--chains`` (4) x ``--draws`` (1000)
after ``--tune`` (1000), seed ``--seed``, ``min(chains, CPUs)`` chains in parallel:

1. ``bayescount``: what a user gets, ``CountModel("errors", "requests", time="timestamp",
   groups=["region", "service", "node"], family=..., seasonality="daily,weekly").fit(...)``
   (validation, design, the data-chosen parameterization, the builder's defaults, the
   convergence gate).
2. ``handwritten``: :func:`gradient.handwritten_model` (``pm.ZeroSumNormal`` centered
   nested effects, one fused likelihood, the same daily + weekly Fourier terms),
   ``nutpie.compile_pymc_model`` then ``nutpie.sample``.
3. ``bambi``: ``errors ~ 1 + <the same 10 Fourier columns> + (1|region) + (1|service) +
   (1|node) + offset(log(requests))`` with bambi's default priors,
   ``Model.fit(inference_method="nutpie")``. The workload's service and node labels are
   unique across the fleet (``r0-s0-n0``), so this is the nested model with exactly the
   observed groups. With these Fourier covariates bambi's default priors (scaled by
   1 / sd of each column: large for nearly constant weekly terms over a few hours)
   mix badly: at XS it runs at the maximum tree depth (R-hat 3); with the raw,
   uncentred columns of earlier bayescount versions nutpie's log density was non-finite
   at every step ("Logp function returned error code: 3"). So a second bambi row is run:
4. ``bambi_noseason``: the same without the Fourier columns (an easier model than the
   other three: no seasonality), so that a working bambi rate exists to compare with.

``bambi_literal`` (not run by default) is issue 10's spelling
   ``(1|region) + (1|region:service) + (1|region:service:node)``: formulae crosses the
   label sets there, giving 4 x 100 service and 4 x 100 x 400 = 160,000 node effects at S
   (80 and 3,200 at XS), almost all of them unobserved.

Fairness: the three models have the same nested groups, exposure offset and Fourier
terms (bambi gets bayescount's own encoded Fourier columns as covariates); each is
compiled with numba's fastmath off (as bayescount samples); priors are each
contender's defaults. Each contender runs in its own subprocess with a wall-clock
limit (``--limit``, 900 s): past it the process is killed and the row is a lower bound
(wall ``> limit``; ESS/s ``<`` chains x draws / sampling seconds so far, assuming the
minimum bulk-ESS does not exceed the number of draws).

Measured per contender: ``compile_s`` (time inside ``nutpie.compile_pymc_model``) and
``sampling_s`` (inside ``nutpie.sample``), timed by wrapping those two functions in the
worker whoever calls them (PyMC for bayescount and bambi); ``wall_s`` from the
contender's first call to its fitted result (``outside_sampling_s`` = wall - sampling);
``ms_per_gradient`` = sampling seconds x chains run in parallel / leapfrog steps, the
steps estimated the same way for every contender as mean tree size x (tune + draws) x
chains (warm-up trees are not kept by PyMC; the hand-written run keeps them and reports
the exact count beside); min bulk-ESS and max R-hat over the hyperparameters (intercept,
the three group sds, the NB dispersion; bulk-ESS is rank based, so ``alpha`` and
``inv_sqrt_alpha`` agree); ESS/s = min bulk-ESS / sampling seconds; divergences; mean
tree size; peak RSS (VmHWM) of the subprocess. Machine, load and versions go with it.

Run: ``python benchmarks/bench_fit.py [--sizes S,M] [--families poisson,negative_binomial]
[--contenders bayescount,handwritten,bambi] [--draws 1000] [--tune 1000] [--limit 900]``;
writes ``bench_fit.json`` and ``bench_fit.md`` under ``--out`` (benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CONTENDERS = ("bayescount", "handwritten", "bambi", "bambi_noseason", "bambi_literal")
DEFAULT_CONTENDERS = ("bayescount", "handwritten", "bambi", "bambi_noseason")
#: Hyperparameters per contender (the NB dispersion is present for NB only).
HYPER = {
    "bayescount": ["intercept", "region_sd", "service_sd", "node_sd", "inv_sqrt_alpha"],
    "handwritten": ["intercept", "region_sd", "service_sd", "node_sd", "inv_sqrt_alpha"],
    "bambi": ["Intercept", "1|region_sigma", "1|service_sigma", "1|node_sigma", "alpha"],
    "bambi_noseason": ["Intercept", "1|region_sigma", "1|service_sigma", "1|node_sigma",
                       "alpha"],
    "bambi_literal": ["Intercept", "1|region_sigma", "1|region:service_sigma",
                      "1|region:service:node_sigma", "alpha"],
}
BAMBI_GROUPS = {"bambi": "(1|region) + (1|service) + (1|node)",
                "bambi_literal": "(1|region) + (1|region:service) + (1|region:service:node)"}
#: Issue 10's targets: bayescount ESS/s / contender's ESS/s at L.
TARGETS = {("L", "poisson"): {"bambi": 50.0, "handwritten": 3.0},
           ("L", "negative_binomial"): {"bambi": 3.0, "handwritten": 1.0}}
L_POISSON_WALL_TARGET_S = 120.0
#: A run counts as converged with max R-hat over the hyperparameters at most this and no
#: divergence; ESS/s of a run that did not converge is reported but flagged.
RHAT_OK = 1.01
PACKAGES = ("bayescount", "pymc", "pytensor", "nutpie", "numba", "arviz-base", "arviz-stats",
            "xarray", "numpy", "pandas", "bambi", "formulae")


# ------------------------------------------------------------------ helpers
def _stats(tree, seconds: float, var_names: list[str] | None = None) -> dict:
    """Wall time, divergences, tree size, min bulk ESS, max R-hat and ESS/s of a fit.

    Kept for ``bench_latent.py``.
    """
    import arviz_stats as azs

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


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a process in MiB; 0 when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def machine_info() -> dict:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), "platform": platform.platform()}


def versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# ------------------------------------------------------------------- worker
class Stopwatch:
    """Time ``nutpie.compile_pymc_model`` and ``nutpie.sample`` whoever calls them.

    Each start/end is appended to ``progress`` (JSON lines with a wall-clock ``t``), so
    the parent knows how far a killed worker got.
    """

    def __init__(self, progress: Path) -> None:
        self.progress = progress
        self.seconds = {"compile": 0.0, "sampling": 0.0}

    def mark(self, event: str, **info) -> None:
        with self.progress.open("a") as f:
            f.write(json.dumps({"event": event, "t": time.time(), **info}) + "\n")

    def install(self) -> None:
        import nutpie

        for attr, key in (("compile_pymc_model", "compile"), ("sample", "sampling")):
            original = getattr(nutpie, attr)

            def timed(*args, _original=original, _key=key, **kwargs):
                self.mark(f"{_key}_start")
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[_key] += time.perf_counter() - start
                    self.mark(f"{_key}_end")

            setattr(nutpie, attr, timed)


def fourier_frame(frame, family: str):
    """Validated rows plus bayescount's own encoded Fourier columns (for bambi)."""
    from gradient import spec_for

    from bayescount.inference.fit import prepare_training

    clean, design, prepared = prepare_training(spec_for(family), frame)
    names = list(design.fourier_terms)
    columns = {name: prepared.fourier[:, j] for j, name in enumerate(names)}
    return clean.assign(**columns), names


def run_bayescount(frame, family: str, a) -> tuple:
    import bayescount

    model = bayescount.CountModel(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        family=family, seasonality="daily,weekly",
    )
    start = time.perf_counter()
    model.fit(frame, draws=a.draws, tune=a.tune, chains=a.chains, cores=a.cores,
              random_seed=a.seed, progressbar=False)
    wall = time.perf_counter() - start
    tree = model.idata_
    extra = {
        "bayescount_sampling_seconds": round(float(tree.attrs.get(
            "bayescount_sampling_seconds", float("nan"))), 2),
        "parameterization": dict(model.parameterization_),
        "gate_passed": bool(model.convergence_.passed),
    }
    return tree, wall, extra


def run_handwritten(frame, family: str, a) -> tuple:
    import nutpie
    import pytensor
    from gradient import handwritten_model

    start = time.perf_counter()
    model = handwritten_model(frame, family)
    with pytensor.config.change_flags(numba__fastmath=False):
        compiled = nutpie.compile_pymc_model(model)
    tree = nutpie.sample(compiled, draws=a.draws, tune=max(a.tune, 1), chains=a.chains,
                         cores=a.cores, seed=a.seed, progress_bar=False, save_warmup=True)
    wall = time.perf_counter() - start
    extra = {}
    if "warmup_sample_stats" in tree.children:
        warm = tree["warmup_sample_stats"].to_dataset()["n_steps"].sum()
        post = tree["sample_stats"].to_dataset()["n_steps"].sum()
        extra["leapfrog_steps_exact"] = int(warm + post)
    return tree, wall, extra


def run_bambi(frame, family: str, a, groups: str = BAMBI_GROUPS["bambi"],
              season: bool = True) -> tuple:
    import bambi as bmb
    import pytensor

    data, names = fourier_frame(frame, family)
    terms = ["1", *(names if season else []), groups, "offset(log(requests))"]
    formula = "errors ~ " + " + ".join(terms)
    start = time.perf_counter()
    model = bmb.Model(formula, data, family="poisson" if family == "poisson"
                      else "negativebinomial")
    with pytensor.config.change_flags(numba__fastmath=False):
        tree = model.fit(draws=a.draws, tune=a.tune, chains=a.chains, cores=a.cores,
                         random_seed=a.seed, inference_method="nutpie", progressbar=False)
    wall = time.perf_counter() - start
    levels = {k: len(v) for k, v in model.backend.model.coords.items() if k != "__obs__"}
    return tree, wall, {"formula": formula, "bambi_version": bmb.__version__,
                        "group_levels": levels}


RUNNERS = {
    "bayescount": run_bayescount, "handwritten": run_handwritten, "bambi": run_bambi,
    "bambi_noseason": lambda frame, family, a: run_bambi(frame, family, a, season=False),
    "bambi_literal": lambda frame, family, a: run_bambi(frame, family, a,
                                                        BAMBI_GROUPS["bambi_literal"]),
}


def summarize(tree, contender: str, a, sampling_s: float) -> dict:
    """Convergence and efficiency statistics over the contender's hyperparameters."""
    import arviz_stats as azs

    post = tree["posterior"].to_dataset()
    names = [n for n in HYPER[contender] if n in post]
    ess = azs.ess(post[names], method="bulk")
    rhat = azs.rhat(post[names])
    stats = tree["sample_stats"].to_dataset()
    mean_tree = float(stats["n_steps"].mean())
    steps = mean_tree * (a.draws + a.tune) * a.chains
    min_ess = min(float(ess[n].min()) for n in names)
    max_rhat = max(float(rhat[n].max()) for n in names)
    divergences = int(stats["diverging"].sum())
    message = None
    if divergences and "divergence_message" in stats:
        texts = [m for m in stats["divergence_message"].values.ravel()
                 if isinstance(m, str) and m and m != "nan"]
        message = max(set(texts), key=texts.count) if texts else None
    return {
        "divergence_message": message,
        "converged": bool(max_rhat <= RHAT_OK and divergences == 0),
        "hyperparameters": names,
        "ess_bulk": {n: round(float(ess[n].min())) for n in names},
        "min_ess_bulk": round(min_ess),
        "max_rhat": round(max_rhat, 4),
        "ess_per_s": round(min_ess / sampling_s, 2) if sampling_s > 0 else None,
        "divergences": divergences,
        "mean_tree_size": round(mean_tree, 2),
        "leapfrog_steps_estimated": round(steps),
        "ms_per_gradient": round(1e3 * sampling_s * min(a.chains, a.cores) / steps, 4),
    }


def worker(a) -> None:
    """Run one contender on one workload; write its row to ``a.result``."""
    progress = Path(a.progress)
    watch = Stopwatch(progress)
    start = time.perf_counter()
    from gradient import workload

    frame = workload(a.sizes, a.families, seed=a.data_seed)
    watch.mark("data", rows=len(frame))
    watch.install()
    row = {"rows": len(frame), "import_and_data_s": round(time.perf_counter() - start, 2)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree, wall, extra = RUNNERS[a.worker](frame, a.families, a)
            row.update(status="ok", wall_s=round(wall, 2),
                       compile_s=round(watch.seconds["compile"], 2),
                       sampling_s=round(watch.seconds["sampling"], 2),
                       outside_sampling_s=round(wall - watch.seconds["sampling"], 2), **extra)
            row.update(summarize(tree, a.worker, a, watch.seconds["sampling"]))
    except Exception as err:  # a contender failing is a result too
        row.update(status="error", error=f"{type(err).__name__}: {err}"[:2000])
    row["peak_rss_mb_self"] = round(vm_hwm_mb(), 1)
    Path(a.result).write_text(json.dumps(row))


# ------------------------------------------------------------------- parent
def _events(progress: Path) -> dict:
    out = {}
    if progress.exists():
        for line in progress.read_text().splitlines():
            e = json.loads(line)
            out[e["event"]] = e
    return out


def run_isolated(contender: str, size: str, family: str, a, tmp: Path) -> dict:
    """Run one contender in a subprocess under the wall-clock limit."""
    stem = tmp / f"{size}-{family}-{contender}"
    result, progress, log = (stem.with_suffix(s) for s in (".json", ".jsonl", ".log"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", contender,
           "--sizes", size, "--families", family, "--draws", str(a.draws),
           "--tune", str(a.tune), "--chains", str(a.chains), "--cores", str(a.cores),
           "--seed", str(a.seed), "--data-seed", str(a.data_seed),
           "--result", str(result), "--progress", str(progress)]
    row = {"size": size, "family": family, "contender": contender, "load_start": load()}
    start = time.time()
    peak, killed = 0.0, False
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        while proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid))
            if time.time() - start > a.limit:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker's own process group
                proc.wait()
                killed = True
                break
            time.sleep(0.5)
    elapsed = time.time() - start
    row.update(load_end=load(), process_wall_s=round(elapsed, 1))
    if killed:
        ev = _events(progress)
        row.update(status="timeout", wall_s=None, wall_lower_bound_s=a.limit)
        if "data" in ev:
            row["rows"] = ev["data"]["rows"]
        if "compile_end" in ev and "compile_start" in ev:
            row["compile_s"] = round(ev["compile_end"]["t"] - ev["compile_start"]["t"], 2)
        if "sampling_start" in ev:
            so_far = time.time() - ev["sampling_start"]["t"]
            row["sampling_lower_bound_s"] = round(so_far, 1)
            row["ess_per_s_upper_bound"] = round(a.chains * a.draws / so_far, 2)
        else:
            row["note"] = "killed before sampling began"
    elif result.exists():
        row.update(json.loads(result.read_text()))
    else:
        tail = log.read_text()[-1500:].strip().splitlines()
        row.update(status="error", error=f"worker exit {proc.returncode}: "
                   + " | ".join(tail[-5:]))
    row["peak_rss_mb"] = round(max(peak, row.pop("peak_rss_mb_self", 0.0)), 1)
    return row


def ratio(base: dict, other: dict) -> dict | None:
    """bayescount ESS/s / ``other``'s, with its direction when one side is a bound."""
    b_ok, o_ok = base.get("status") == "ok", other.get("status") == "ok"
    b, o = base.get("ess_per_s"), other.get("ess_per_s")
    if b_ok and o_ok and b and o:
        return {"value": round(b / o, 2), "bound": "=",
                "not_converged": [r["contender"] for r in (base, other) if not r["converged"]]}
    if b_ok and b and other.get("ess_per_s_upper_bound"):
        return {"value": round(b / other["ess_per_s_upper_bound"], 2), "bound": ">"}
    if o_ok and o and base.get("ess_per_s_upper_bound"):
        return {"value": round(base["ess_per_s_upper_bound"] / o, 2), "bound": "<"}
    return None


def comparisons(rows: list[dict]) -> list[dict]:
    out = []
    cells = sorted({(r["size"], r["family"]) for r in rows}, key=lambda c: rows.index(
        next(r for r in rows if (r["size"], r["family"]) == c)))
    for size, family in cells:
        by = {r["contender"]: r for r in rows if (r["size"], r["family"]) == (size, family)}
        if "bayescount" not in by:
            continue
        comp = {"size": size, "family": family}
        for other in (c for c in CONTENDERS if c != "bayescount"):
            if other in by:
                comp[f"vs_{other}"] = ratio(by["bayescount"], by[other])
                target = TARGETS.get((size, family), {}).get(other)
                if target is not None:
                    comp[f"target_vs_{other}"] = target
        if (size, family) == ("L", "poisson"):
            wall = by["bayescount"].get("wall_s")
            comp["wall_under_120s"] = None if wall is None else wall < L_POISSON_WALL_TARGET_S
        out.append(comp)
    return out


def _fmt(v, spec: str = ",.1f") -> str:
    return "" if v is None else format(v, spec)


def _ratio_text(r: dict | None) -> str:
    if r is None:
        return "n/a"
    flag = f" (not converged: {', '.join(r['not_converged'])})" if r.get("not_converged") else ""
    return f"{'' if r['bound'] == '=' else r['bound'] + ' '}{r['value']:,.2f}×{flag}"


def markdown(meta: dict, rows: list[dict], comps: list[dict]) -> str:
    m = meta["machine"]
    lines = [
        "# Sampling benchmark (bench_fit.py)", "",
        f"nutpie {meta['chains']} chains × {meta['draws']} draws after {meta['tune']} tuning, "
        f"{meta['cores']} in parallel, seed {meta['seed']}, data seed {meta['data_seed']}, "
        f"limit {meta['limit']} s per contender. Machine: {m['cpu']}, {m['cores']} cores; "
        f"load (1/5/15 min) {meta['load_start']} at start, {meta['load_end']} at end. "
        f"Commit {meta['commit']}.", "",
        "Fair comparison: the same rows, nested groups, exposure offset and daily (3) + weekly "
        "(2) Fourier terms for bayescount, handwritten and bambi (bambi gets bayescount's "
        "encoded Fourier columns as covariates); numba fastmath off for all; each "
        "contender's own default priors. "
        "bambi's groups are `(1|region) + (1|service) + (1|node)` (labels are unique across "
        "the fleet, so this is the nested model); `bambi_noseason` drops the Fourier "
        "columns (an easier model: bambi's default priors on them mix badly); "
        "`bambi_literal` is "
        "`(1|region:service) + (1|region:service:node)`, which formulae expands to every "
        "combination of labels. Hyperparameters: intercept, the three group sds and the NB "
        "dispersion. ms / gradient = sampling s × chains in parallel / (mean tree size × "
        "(tune + draws) × chains). Converged: max R-hat ≤ 1.01 over the hyperparameters and "
        "no divergence; the ESS/s of a run that did not converge is not a rate of useful "
        "draws (a stuck chain has a small but nonzero bulk-ESS).", "",
        "| size | rows | family | contender | status | compile s | sampling s | outside "
        "sampling s | wall s | ms / gradient | min bulk-ESS | ESS/s | divergences | tree size "
        "| max R-hat | converged | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] == "timeout":
            wall = f"> {r['wall_lower_bound_s']}"
            ess_s = (f"< {r['ess_per_s_upper_bound']:,.2f}" if "ess_per_s_upper_bound" in r
                     else "n/a")
            sampling = (f"> {r['sampling_lower_bound_s']:,.1f}"
                        if "sampling_lower_bound_s" in r else "")
        else:
            wall, ess_s, sampling = _fmt(r.get("wall_s")), _fmt(r.get("ess_per_s"), ",.2f"), \
                _fmt(r.get("sampling_s"))
        status = r["status"] if r["status"] != "error" else "error (below)"
        converged = {True: "yes", False: "**no**", None: ""}[r.get("converged")]
        lines.append(
            f"| {r['size']} | {_fmt(r.get('rows'), ',')} | {r['family']} | {r['contender']} | "
            f"{status} | {_fmt(r.get('compile_s'))} | {sampling} | "
            f"{_fmt(r.get('outside_sampling_s'))} | {wall} | "
            f"{_fmt(r.get('ms_per_gradient'), '.3f')} | {_fmt(r.get('min_ess_bulk'), ',')} | "
            f"{ess_s} | {_fmt(r.get('divergences'), 'd')} | {_fmt(r.get('mean_tree_size'))} | "
            f"{_fmt(r.get('max_rhat'), '.4g')} | {converged} | "
            f"{_fmt(r.get('peak_rss_mb'), ',.0f')} |")
    others = [c for c in CONTENDERS if any(f"vs_{c}" in comp for comp in comps)]
    header = ["size", "family", *(f"bayescount ESS/s ÷ {c}" for c in others), "targets (L)",
              "Poisson L 4×1000 wall < 120 s?"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in comps:
        targets = ", ".join(f"≥ {c[k]:g}× {k.removeprefix('target_vs_')}" for k in c
                            if k.startswith("target_vs_"))
        wall = {None: "", True: "yes", False: "no"}[c.get("wall_under_120s")] \
            if "wall_under_120s" in c else ""
        ratios = "".join(f"{_ratio_text(c.get(f'vs_{o}'))} | " for o in others)
        lines.append(f"| {c['size']} | {c['family']} | {ratios}{targets} | {wall} |")
    errors = [r for r in rows if r["status"] == "error"]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [f"- {r['size']} {r['family']} {r['contender']}: `{r['error'][:600]}`"
                  for r in errors]
    diverged = [r for r in rows if r.get("divergence_message")]
    if diverged:
        lines += ["", "Divergences (most frequent message):", ""]
        lines += [f"- {r['size']} {r['family']} {r['contender']}: {r['divergences']} of "
                  f"{meta['chains'] * meta['draws']} draws, `{r['divergence_message'][:300]}`"
                  for r in diverged]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M")
    parser.add_argument("--families", default="poisson,negative_binomial")
    parser.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                        help=f"comma-separated, from {','.join(CONTENDERS)}")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=None,
                        help="chains in parallel (default min(chains, CPUs))")
    parser.add_argument("--seed", type=int, default=1, help="sampler seed")
    parser.add_argument("--data-seed", type=int, default=42, help="workload seed")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds per contender")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--tag", default="", help="suffix of the output file names")
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--progress", help=argparse.SUPPRESS)
    a = parser.parse_args()
    a.cores = a.cores or min(a.chains, os.cpu_count() or 1)
    if a.worker:
        worker(a)
        return
    contenders = a.contenders.split(",")
    unknown = sorted(set(contenders) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; choose from {list(CONTENDERS)}")
    meta = {"machine": machine_info(), "versions": versions(), "commit": git_commit(),
            "load_start": load(), "draws": a.draws, "tune": a.tune, "chains": a.chains,
            "cores": a.cores, "seed": a.seed, "data_seed": a.data_seed, "limit": a.limit}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_fit-") as tmp:
        for size in a.sizes.split(","):
            for family in a.families.split(","):
                for contender in contenders:
                    row = run_isolated(contender, size, family, a, Path(tmp))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    meta["load_end"] = load()
    comps = comparisons(rows)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench_fit{a.tag}.json").write_text(
        json.dumps({"meta": meta, "rows": rows, "comparisons": comps}, indent=1))
    text = markdown(meta, rows, comps)
    (out / f"bench_fit{a.tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
