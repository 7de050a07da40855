"""Backtest, SBC and compare give identical numbers on every executor.

Four executors: this process, local processes, a Dask LocalCluster, and a Dask
cluster started here as separate ``dask scheduler`` + ``dask worker`` processes
(stopped by PID). Tiny fits (2 origins, a few hundred draws); each executor compiles
the model once per worker, which dominates the time (about 10-30 s per compile on
the shared 2-core machine). The last test kills a Dask worker in the middle of a
backtest: Dask reschedules its job and the numbers stay the same.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import distributed
import numpy as np
import pandas as pd
import pytest
from fakefit_helpers import truth_sampler

from bayescount import ConvergenceThresholds, CountModel, SamplerConfig
from bayescount.checks.backtest import backtest
from bayescount.checks.compare import compare_families
from bayescount.checks.sbc import sbc, sbc_template
from bayescount.cli._shared import print_json
from bayescount.cli.app import main
from bayescount.exceptions import ConvergenceWarning
from bayescount.inference.executors import SCHEDULER_ENV, DaskExecutor
from bayescount.testing import simulate_telemetry

pytestmark = pytest.mark.fit

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")
#: Backtest settings shared by the CLI runs and the fault test.
BT_ARGS = ["--counts", "errors", "--exposure", "requests", "--time", "timestamp",
           "--group", "region", "service", "--parameterization", "region=non_centered",
           "service=non_centered", "--draws", "100", "--tune", "200", "--chains", "2",
           "--target-accept", "0.9", "--seed", "7", "--origins", "2", "--horizon", "2",
           "--levels", "0.5,0.9", "--json"]
BT_CONFIG = SamplerConfig(draws=100, tune=200, chains=2, target_accept=0.9, random_seed=7)
#: Fields that say how a run went, not what it computed.
RUN_FIELDS = {"timing", "workers", "executor", "sample_seconds", "compile_seconds"}


def _as_cli_json(doc) -> dict:
    """``doc`` printed as the CLI's ``--json`` prints it, and read back."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_json(doc)
    return json.loads(buffer.getvalue())


def _numbers(doc):
    """``doc`` without the run's timings, worker count and executor name."""
    if isinstance(doc, dict):
        return {k: _numbers(v) for k, v in doc.items() if k not in RUN_FIELDS}
    if isinstance(doc, list):
        return [_numbers(v) for v in doc]
    return doc


# ------------------------------------------------------------------ clusters
class _ExternalCluster:
    """``dask scheduler`` + ``dask worker --nworkers 2`` as separate processes."""

    def __init__(self, tmp: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "tests" / "checks"), os.environ.get("PYTHONPATH", "")]
        )}
        env.pop(SCHEDULER_ENV, None)
        file = tmp / "scheduler.json"
        self.log = (tmp / "cluster.log").open("w")
        self.scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.2)  # written in one go, but let the writer finish
        self.address = json.loads(file.read_text())["address"]
        self.workers = subprocess.Popen(
            [str(DASK), "worker", self.address, "--nworkers", "2", "--nthreads", "1",
             "--no-dashboard", "--memory-limit", "0"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        with distributed.Client(self.address, timeout=60) as client:
            client.wait_for_workers(2, timeout=180)

    def stop(self) -> None:
        for proc in (self.workers, self.scheduler):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def external(tmp_path_factory):
    cluster = _ExternalCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def local_dask():
    """A LocalCluster of two workers started by bayescount, shared by the tests here."""
    with DaskExecutor(max_workers=2) as ex:
        yield ex


# ------------------------------------------------------------------ backtest
@pytest.fixture(scope="module")
def fleet_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "fleet.csv"
    simulate_telemetry(2, 2, 1, 12, window="1h", seed=3).frame.to_csv(path, index=False)
    return path


def _cli_backtest(path, extra, capsys, monkeypatch, scheduler_env=None):
    if scheduler_env is None:
        monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    else:
        monkeypatch.setenv(SCHEDULER_ENV, scheduler_env)
    capsys.readouterr()
    code = main(["backtest", str(path), *BT_ARGS, *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def serial_backtest(fleet_csv):
    """The reference: the CLI's JSON of a serial run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(SCHEDULER_ENV, raising=False)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["backtest", str(fleet_csv), *BT_ARGS, "--executor", "serial"]) == 0
        return json.loads(buffer.getvalue())


def test_backtest_json_is_identical_on_every_executor(
    fleet_csv, serial_backtest, external, capsys, monkeypatch
):
    runs = {
        "processes": _cli_backtest(fleet_csv, ["--workers", "2"], capsys, monkeypatch),
        "local": _cli_backtest(fleet_csv, ["--executor", "dask", "--workers", "2"], capsys,
                               monkeypatch),
        "external": _cli_backtest(fleet_csv, ["--executor", "dask"], capsys, monkeypatch,
                                  scheduler_env=external.address),
    }
    assert serial_backtest["executor"] == "serial" and serial_backtest["workers"] == 1
    assert runs["processes"]["executor"] == "processes" and runs["processes"]["workers"] == 2
    assert runs["local"]["executor"] == "dask" and runs["local"]["workers"] == 2
    assert runs["external"]["executor"] == "dask" and runs["external"]["workers"] == 2
    reference = _numbers(serial_backtest)
    assert len(reference["origins"]) == 2 and reference["reused_compiled"] is True
    for name, doc in runs.items():
        assert _numbers(doc) == reference, name


# ----------------------------------------------------------------------- SBC
SBC_MODEL = {"counts": "errors", "exposure": "requests", "groups": ["region", "service"],
             "covariates": ["load"]}
SBC_CONFIG = SamplerConfig(draws=20, tune=100, chains=2, target_accept=0.9)


def test_sbc_ranks_are_identical_on_every_executor(external, local_dask):
    template = sbc_template(2, 2, 5)
    kwargs = {"simulations": 10, "config": SBC_CONFIG, "thin_to": 20, "random_seed": 11}
    runs = {
        "serial": sbc(SBC_MODEL, template, **kwargs),
        "processes": sbc(SBC_MODEL, template, executor="processes", max_workers=2, **kwargs),
        "local": sbc(SBC_MODEL, template, executor=local_dask, **kwargs),
        "external": sbc(SBC_MODEL, template, scheduler=external.address, **kwargs),
    }
    ref = runs.pop("serial")
    assert ref.simulations + ref.skipped == 10 and ref.simulations >= 8
    for name, report in runs.items():
        pd.testing.assert_frame_equal(report.ranks, ref.ranks, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(report.u, ref.u, check_exact=True, obj=name)
        np.testing.assert_array_equal(report.divergences, ref.divergences)
        assert _numbers(report.to_dict()) == _numbers(ref.to_dict()), name


# ------------------------------------------------------------------- compare
def test_compare_is_identical_on_every_executor(external, local_dask):
    sim = simulate_telemetry(family="negative_binomial", alpha=2.0, rate=2e-3, seed=1)
    model = CountModel("errors", "requests", time="timestamp",
                       groups=["region", "service", "node"])
    kwargs = {"config": SamplerConfig(draws=100, chains=2, random_seed=1),
              "thresholds": ConvergenceThresholds(min_ess=50, max_rhat=1.2),
              "sample_fn": truth_sampler(sim.frame, sim.truth)}
    families = ("poisson", "negative_binomial")
    with distributed.Client(external.address, timeout=60) as client:
        runs = {
            "serial": compare_families(sim.frame, model, families, **kwargs),
            "processes": compare_families(sim.frame, model, families, executor="processes",
                                          max_workers=2, **kwargs),
            "local": compare_families(sim.frame, model, families, executor=local_dask,
                                      **kwargs),
            "client": compare_families(sim.frame, model, families, executor=client, **kwargs),
        }
        assert client.status == "running"  # a client passed in is not closed
    ref = runs.pop("serial").to_dict()
    assert ref["best"] == "negative_binomial"
    for name, comparison in runs.items():
        assert comparison.to_dict() == ref, name


# ---------------------------------------------------------------- fault test
def test_backtest_survives_a_worker_killed_mid_run(external, serial_backtest):
    """SIGKILL one of two Dask workers while both run an origin: same numbers."""
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       parameterization={"region": "non_centered", "service": "non_centered"})
    frame = simulate_telemetry(2, 2, 1, 12, window="1h", seed=3).frame
    outcome: dict = {}
    with distributed.Client(external.address, timeout=60) as client:
        client.restart()  # fresh worker processes: both must compile, which takes a while
        pids = client.run(os.getpid)

        def run():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    outcome["report"] = backtest(
                        model, frame, origins=2, horizon=2, config=BT_CONFIG,
                        levels=(0.5, 0.9), executor=client,
                    )
            except BaseException as err:  # reported below
                outcome["error"] = err

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        busy: list[str] = []
        while time.monotonic() < deadline and len(busy) < 2:
            busy = [w for w, tasks in client.processing().items() if tasks]
            time.sleep(0.2)
        assert len(busy) == 2, "both workers should be fitting an origin"
        victim = pids[busy[0]]
        os.kill(victim, signal.SIGKILL)
        killed_mid_run = thread.is_alive()
        thread.join(timeout=600)
        assert not thread.is_alive()
        assert victim not in client.run(os.getpid).values()
    assert killed_mid_run
    assert "error" not in outcome, outcome.get("error")
    doc = _as_cli_json(outcome["report"].to_dict())
    assert doc["executor"] == "dask"
    assert _numbers(doc) == _numbers(serial_backtest)
