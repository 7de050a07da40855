"""Where a bayescount fit spends its time outside sampling: one fit, stage by stage.

Runs the stages :func:`bayescount.fit` runs, one public function at a time, on the
reference workload (``--size``, default S; ``--family``, default poisson; daily +
weekly seasonality), and times each:

1. ``import``: ``import bayescount, pymc`` in a fresh interpreter;
2. ``validate``: :func:`bayescount.validate_frame`;
3. ``design``: ``ModelSpec.fit_design`` (levels, scaling, Fourier terms, time grid);
4. ``encode``: ``Design.transform``;
5. ``parameterization``: :func:`bayescount.models.choose_parameterization`;
6. ``build``: :func:`bayescount.models.build_model`;
7. ``compile``: ``nutpie.compile_pymc_model`` (numba; fastmath off) as
   :func:`bayescount.inference.sampling.run_sampler` calls it through ``pm.sample``;
8. ``sampling``: ``nutpie.sample``, chains x ``--draws`` after ``--tune``;
9. ``pm.sample rest``: the rest of ``run_sampler`` (PyMC's set-up and DataTree assembly);
10. ``row data``: the rows' observed and constant data and timestamps put in the tree;
11. ``gate``: :func:`bayescount.inference.convergence.check_convergence`;
12. ``save``: :func:`bayescount.io.save_fit` to a ``.nc`` file (size reported);
13. ``load``: :func:`bayescount.load` of that file.

Compile and sampling are timed by wrapping the two nutpie functions (see
``bench_fit.Stopwatch``). Compile time depends on PyTensor's / numba's on-disk caches:
the first run after a change of the graph is cold, later runs are warm; run twice to see
both. The machine's load is recorded at start and end: measure on a quiet machine.

Run: ``python benchmarks/fixed_costs.py [--size S] [--family poisson] [--draws 1000]
[--tune 1000]``; writes ``fixed_costs.json`` and ``fixed_costs.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_fit import Stopwatch, git_commit, load, machine_info, versions  # noqa: E402


def time_import() -> float:
    """Seconds to ``import bayescount, pymc`` in a fresh interpreter (this checkout)."""
    code = (f"import sys, time; sys.path.insert(0, {str(HERE.parent)!r}); "
            "t = time.perf_counter(); import bayescount, pymc; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(a) -> dict:
    """Time every stage of one fit; return the stages and their context."""
    from gradient import spec_for, workload

    import bayescount
    from bayescount.inference._tree_data import _finish_tree
    from bayescount.inference.convergence import check_convergence
    from bayescount.inference.sampling import SamplerConfig, run_sampler
    from bayescount.io import save_fit
    from bayescount.models import build_model, choose_parameterization

    stages: dict[str, float] = {"import": time_import()}
    frame = workload(a.size, a.family, seed=a.data_seed)
    spec = spec_for(a.family)

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        stages[name] = time.perf_counter() - start
        return value

    with tempfile.TemporaryDirectory(prefix="fixed_costs-") as tmp:
        watch = Stopwatch(Path(tmp) / "progress.jsonl")
        watch.install()
        clean = timed("validate", bayescount.validate_frame, frame, spec.schema)
        design = timed("design", spec.fit_design, clean)
        prepared = timed("encode", design.transform, clean)
        how = timed("parameterization", choose_parameterization, spec, design, prepared)
        model = timed("build", build_model, spec, design, prepared, how)
        config = SamplerConfig(draws=a.draws, tune=a.tune, chains=a.chains, cores=a.cores,
                               random_seed=a.seed, progressbar=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = timed("run_sampler", run_sampler, model, config)
            stages["compile"] = watch.seconds["compile"]
            stages["sampling"] = watch.seconds["sampling"]
            stages["pm.sample rest"] = stages.pop("run_sampler") - stages["compile"] \
                - stages["sampling"]
            # As fit_prepared does: the rows' data (and timestamps) replace the graph's.
            timed("row data", _finish_tree, tree, spec, design, prepared,
                  log_likelihood=False, times=clean[spec.schema.time])
            report = timed("gate", check_convergence, tree, None, how, emit_warning=False)
        fit = bayescount.Fit(spec=spec, design=design, parameterization=dict(how), tree=tree,
                             sampler_config=config, convergence=report)
        path = Path(tmp) / "fit.nc"
        timed("save", save_fit, fit, path)
        size_mb = path.stat().st_size / 2**20
        timed("load", bayescount.load, path)
    return {"stages": {k: round(v, 3) for k, v in stages.items()}, "rows": len(frame),
            "fit_file_mb": round(size_mb, 2), "gate_passed": bool(report.passed),
            "parameterization": dict(how)}


def markdown(meta: dict, res: dict) -> str:
    stages = res["stages"]
    total = sum(stages.values())
    outside = total - stages["sampling"]
    lines = [
        f"# Fixed costs of one bayescount fit ({meta['size']}, {meta['family']}, "
        f"{res['rows']:,} rows)", "",
        f"nutpie {meta['chains']} × {meta['draws']} after {meta['tune']}, "
        f"{meta['cores']} chains in parallel; machine {meta['machine']['cpu']}, "
        f"{meta['machine']['cores']} cores; load {meta['load_start']} at start, "
        f"{meta['load_end']} at end; commit {meta['commit']}. Fit file "
        f"{res['fit_file_mb']:.2f} MiB; gate passed: {res['gate_passed']}.", "",
        "| stage | seconds | share of the fit |", "|---|---|---|",
    ]
    lines += [f"| {k} | {v:,.2f} | {100 * v / total:.1f} % |" for k, v in stages.items()]
    lines += [f"| **total** | **{total:,.2f}** | 100 % |",
              f"| outside sampling | {outside:,.2f} | {100 * outside / total:.1f} % |", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="S")
    parser.add_argument("--family", default="poisson")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-seed", type=int, default=42)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--tag", default="", help="suffix of the output file names")
    a = parser.parse_args()
    a.cores = a.cores or min(a.chains, os.cpu_count() or 1)
    meta = {"size": a.size, "family": a.family, "draws": a.draws, "tune": a.tune,
            "chains": a.chains, "cores": a.cores, "seed": a.seed, "machine": machine_info(),
            "versions": versions(), "commit": git_commit(), "load_start": load()}
    res = run(a)
    meta["load_end"] = load()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"fixed_costs{a.tag}.json").write_text(json.dumps({"meta": meta, **res}, indent=1))
    text = markdown(meta, res)
    (out / f"fixed_costs{a.tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
