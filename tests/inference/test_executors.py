"""The executor seam and the fitting driver, without NUTS (the prior stands in for it)."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import time

import numpy as np
import pytest

from bayescount import ConvergenceThresholds, CountModel, SamplerConfig
from bayescount.exceptions import ExecutorError, SpecError
from bayescount.inference.driver import FitJob, FitResult, run_fits
from bayescount.inference.executors import (
    SCHEDULER_ENV,
    DaskExecutor,
    FuturesExecutor,
    ProcessExecutor,
    SerialExecutor,
    open_executor,
    resolve_executor,
    worker_compiledir,
)
from bayescount.inference.executors._compiledir import _flags_with_compiledir
from bayescount.inference.fit import Fit
from bayescount.testing import prior_sampler, simulate_telemetry

CONFIG = SamplerConfig(draws=20, chains=2)


# --------------------------------------------------- functions the workers run
def _where(seconds: float) -> tuple[int, str, str]:
    """Sleep, then report the process, its PyTensor compile dir and its flags."""
    import pytensor

    time.sleep(seconds)
    return os.getpid(), str(pytensor.config.base_compiledir), os.environ.get("PYTENSOR_FLAGS", "")


def _die(_: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _mean_mu(fit: Fit, job: FitJob) -> tuple[object, float, int]:
    """A small ``then``: what travels back instead of the fit."""
    return job.key, float(fit.posterior["intercept"].mean()), os.getpid()


@pytest.fixture(scope="module")
def table():
    return simulate_telemetry(2, 2, 1, 6, window="1h", seed=3).frame


@pytest.fixture(scope="module")
def spec():
    return CountModel("errors", "requests", groups=["region", "service"]).spec


# --------------------------------------------------------------- resolving
def test_names_resolve_to_executors_that_start_nothing_yet(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert isinstance(resolve_executor(None), SerialExecutor)
    assert isinstance(resolve_executor(None, default="processes"), ProcessExecutor)
    pool = resolve_executor("processes", max_workers=3)
    assert isinstance(pool, ProcessExecutor) and pool.max_workers == 3 and pool.workers == 0
    local = resolve_executor("dask", max_workers=2)
    assert isinstance(local, DaskExecutor) and local.scheduler is None and local.workers == 0
    remote = resolve_executor(None, scheduler="tcp://10.1.2.3:8786")
    assert isinstance(remote, DaskExecutor) and remote.scheduler == "tcp://10.1.2.3:8786"
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://10.9.9.9:8786")
    assert resolve_executor("dask").scheduler == "tcp://10.9.9.9:8786"
    assert isinstance(resolve_executor(None), SerialExecutor)  # the variable alone picks nothing


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"executor": "threads"}, r"Unknown executor 'threads'; choose from \['serial', "
                                  r"'processes', 'dask'\]"),
        ({"executor": 3}, "Unknown executor 3"),
        ({"executor": "processes", "scheduler": "tcp://h:1"}, "needs executor='dask'"),
        ({"executor": "processes", "max_workers": 0}, "max_workers must be >= 1, got 0"),
    ],
)
def test_bad_executor_arguments_are_refused(kwargs, match):
    with pytest.raises(SpecError, match=match):
        resolve_executor(**kwargs)


def test_what_was_passed_in_stays_open():
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        with open_executor(pool) as ex:
            assert isinstance(ex, FuturesExecutor)
            assert ex.map(abs, [-1, -2, 3]) == [1, 2, 3]
        assert pool.submit(abs, -4).result() == 4  # not shut down
    mine = SerialExecutor()
    with open_executor(mine) as ex:
        assert ex is mine


def test_flags_keep_other_settings_and_replace_the_compile_dir(tmp_path):
    flags = _flags_with_compiledir("floatX=float32,base_compiledir=/old,compiledir=/c", tmp_path)
    assert flags == f"floatX=float32,base_compiledir={tmp_path}"
    assert _flags_with_compiledir("", tmp_path) == f"base_compiledir={tmp_path}"


# ------------------------------------------------------- local processes
def test_worker_processes_each_compile_in_their_own_directory():
    import pytensor

    before = os.environ.get("PYTENSOR_FLAGS")
    with open_executor("processes", max_workers=2) as ex:
        out = ex.map(_where, [1.0, 1.0, 0.0, 0.0])
        assert ex.workers == 2 and ex.cores_per_job(4) == max(1, (os.cpu_count() or 1) // 2)
    dirs = {pid: d for pid, d, _ in out}
    assert len(dirs) == 2 and os.getpid() not in dirs
    assert sorted(dirs.values()) == [str(worker_compiledir(0)), str(worker_compiledir(1))]
    assert str(pytensor.config.base_compiledir) not in dirs.values()
    assert os.environ.get("PYTENSOR_FLAGS") == before  # this process is untouched


def test_a_dead_worker_process_is_a_clear_error():
    with open_executor("processes", max_workers=1) as ex, \
            pytest.raises(ExecutorError, match="worker process died"):
        ex.map(_die, [0])


# ------------------------------------------------------------------ Dask
def test_local_cluster_workers_compile_in_their_own_directories_and_close():
    ex = DaskExecutor(max_workers=2)
    with ex:
        out = ex.map(_where, [1.0, 1.0, 0.0, 0.0])
        assert ex.local and ex.workers == 2
        client = ex.client
    assert client.status == "closed" and not ex.local
    dirs = {d for _, d, _ in out}
    assert dirs == {str(worker_compiledir(0)), str(worker_compiledir(1))}


def test_an_unreachable_scheduler_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex = DaskExecutor(scheduler=f"tcp://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ExecutorError, match=f"Dask scheduler at 'tcp://127.0.0.1:{port}'"):
        ex.map(abs, [1])


# ----------------------------------------------------------------- driver
def test_jobs_need_a_spec_a_config_and_a_design_for_encoded_rows(spec, table):
    design = spec.fit_design(table)
    with pytest.raises(SpecError, match="needs their design"):
        FitJob(spec, design.transform(table), CONFIG)
    with pytest.raises(SpecError, match="must be a SamplerConfig"):
        FitJob(spec, table, {"draws": 10})
    with pytest.raises(SpecError, match="DataFrame or PreparedData"):
        FitJob(spec, table.to_numpy(), CONFIG)


def test_driver_returns_fits_in_job_order_with_their_seeds(spec, table):
    jobs = [FitJob(spec, table, CONFIG, seed=s, key=f"job{s}") for s in (3, 1, 2)]
    results = run_fits(jobs, sample_fn=prior_sampler)
    assert [r.key for r in results] == ["job3", "job1", "job2"]
    assert all(isinstance(r, FitResult) and r.engine == "seam" for r in results)
    fits = [r.value for r in results]
    assert all(isinstance(f, Fit) for f in fits)
    assert [f.sampler_config.random_seed for f in fits] == [3, 1, 2]
    again = run_fits(jobs[1:2], sample_fn=prior_sampler)[0].value
    np.testing.assert_array_equal(again.posterior["intercept"], fits[1].posterior["intercept"])


def test_then_runs_on_the_worker_and_numbers_match_serially(spec, table):
    jobs = [FitJob(spec, table, CONFIG, seed=s, key=s) for s in (5, 6)]
    serial = run_fits(jobs, sample_fn=prior_sampler, then=_mean_mu)
    procs = run_fits(jobs, executor="processes", max_workers=2, sample_fn=prior_sampler,
                     then=_mean_mu)
    assert [r.value[:2] for r in serial] == [r.value[:2] for r in procs]
    assert {r.value[2] for r in serial} == {os.getpid()}
    assert os.getpid() not in {r.value[2] for r in procs}
    assert all(r.worker.endswith(f":{r.value[2]}") for r in procs)


def test_count_model_fit_goes_through_the_driver(table, monkeypatch):
    import bayescount.count_model as cm

    seen = []

    def spy(jobs, **kwargs):
        seen.append((list(jobs), kwargs))
        return run_fits(jobs, **kwargs)

    monkeypatch.setattr(cm, "run_fits", spy)
    model = CountModel("errors", "requests", groups=["region", "service"])
    loose = ConvergenceThresholds(max_rhat=1.5, min_ess=5.0, min_bfmi=0.0)
    model.fit(table, draws=20, chains=2, random_seed=4, sample_fn=prior_sampler,
              thresholds=loose)
    ((jobs, kwargs),) = seen
    assert kwargs["executor"] == "serial" and kwargs["sample_fn"] is prior_sampler
    assert jobs[0].config.random_seed == 4 and jobs[0].spec is model.spec
    assert model.fit_.sampler_config.random_seed == 4


def test_warnings_on_workers_reach_the_caller_once(spec, table):
    from bayescount.exceptions import DataWarning

    frame = table.copy()
    frame.loc[frame.index[:2], ["requests", "errors"]] = 0  # dropped, with a DataWarning
    jobs = [FitJob(spec, frame, CONFIG, seed=s, key=s) for s in (1, 2)]
    with pytest.warns(DataWarning, match="Dropped 2 rows with zero exposure") as caught:
        results = run_fits(jobs, executor="processes", max_workers=2, sample_fn=prior_sampler,
                           then=_mean_mu)
    assert sum(issubclass(w.category, DataWarning) for w in caught) == 1  # not once per job
    assert all(r.warnings and r.warnings[0][0] is DataWarning for r in results)
