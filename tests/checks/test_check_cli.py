"""The ``check``, ``coverage`` and ``compare`` commands (fake fits; one tiny real fit)."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
from fakefit_helpers import fake_fit, truth_sampler

from bayescount import ConvergenceThresholds, CountModel, load
from bayescount.checks import compare as compare_module
from bayescount.checks import residual_diagnostics
from bayescount.checks.compare import compare_families
from bayescount.testing import simulate_telemetry

cli_main = importlib.import_module("bayescount.cli.app")  # the package re-exports main()

COLUMNS = ["--counts", "errors", "--exposure", "requests", "--time", "timestamp",
           "--group", "region", "service", "node"]


@pytest.fixture
def cli(capsys):
    def run(*argv):
        capsys.readouterr()
        code = cli_main.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved fake NB fit of the first 40 windows, and the last 20 as a CSV holdout."""
    root = tmp_path_factory.mktemp("cli")
    sim = simulate_telemetry(family="negative_binomial", n_windows=60, rate=2e-3, alpha=3.0,
                             seed=3)
    times = np.sort(sim.frame["timestamp"].unique())
    train = sim.frame[sim.frame["timestamp"] < times[40]]
    hold = sim.frame[sim.frame["timestamp"] >= times[40]].copy()
    hold["horizon"] = ((hold["timestamp"] - times[39]) / (times[1] - times[0])).astype(int)
    model = fake_fit(train, sim.truth, family="negative_binomial")
    model.save(root / "fit.nc")
    hold.to_csv(root / "hold.csv", index=False)
    train.to_csv(root / "train.csv", index=False)
    return root, sim


def test_check_json(cli, saved):
    root, _ = saved
    code, out, _ = cli("check", root / "fit.nc", "--json", "--by", "service", "--max-draws", 200,
                       "--data", root / "train.csv")
    assert code == 0
    doc = json.loads(out)
    assert doc["ppc"]["n_draws"] == 200 and doc["ppc"]["by"] == "service"
    stats = {(s["group"], s["statistic"]) for s in doc["ppc"]["statistics"]}
    assert (None, "share_zeros") in stats and ("r1-s2", "q99") in stats
    expected = residual_diagnostics(load(root / "fit.nc"))
    assert doc["residuals"]["calibration_ratio"] == pytest.approx(expected.calibration_ratio)
    assert doc["residuals"]["time_ordered"] is True
    assert doc["convergence"]["passed"] is True


def test_check_text_and_strict_exit_code(cli, tmp_path):
    sim = simulate_telemetry(family="zero_inflated_poisson", psi=0.6, rate=2e-3, seed=2)
    path = fake_fit(sim.frame, sim.truth, family="poisson").save(tmp_path / "zip.nc")
    code, out, _ = cli("check", path, "--max-draws", 100)
    assert code == 0
    assert "the model under-predicts zeros" in out and "Pearson chi2/df" in out
    code, _, _ = cli("check", path, "--max-draws", 100, "--strict")
    assert code == 1


def test_check_prints_a_short_summary_and_every_row_with_all(cli, saved):
    root, _ = saved
    args = ("check", root / "fit.nc", "--by", "service", "--max-draws", 100, "--data",
            root / "train.csv")
    code, short, _ = cli(*args)
    assert code == 0
    assert len(short.splitlines()) <= 25, short
    assert "the 3 smallest adjusted p-values of the groups" in short
    total = 5 * 7  # five statistics, overall and six services
    assert f"{total - 5 - 3} more rows: --all (or --json) shows every one" in short
    code, full, _ = cli(*args, "--all")
    assert code == 0
    rows = [line.split()[:2] for line in full.splitlines()
            if line.split()[1:2] and line.split()[1] in {"share_zeros", "dispersion", "max",
                                                          "q99", "total"}]
    assert len(rows) == total and ["r1-s2", "q99"] in rows
    assert "\x1b[" not in full  # no colour codes in a pipe


def test_coverage_json(cli, saved):
    root, _ = saved
    code, out, _ = cli("coverage", root / "fit.nc", "--data", root / "hold.csv", "--levels",
                       "0.5,0.9", "--by", "service", "--horizon", "horizon", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [d["level"] for d in doc["overall"]] == [0.5, 0.9]
    for d in doc["overall"]:
        assert d["n"] == 240 and d["lower"] <= d["coverage"] <= d["upper"]
        assert d["coverage_inclusive"] >= d["coverage"] and d["mean_width"] > 0
    assert len(doc["groups"]) == 6 and len(doc["horizons"]) == 20
    assert doc["groups"]["r0-s0"][1]["level"] == 0.9


def test_coverage_text_strict_and_errors(cli, saved):
    root, _ = saved
    code, out, _ = cli("coverage", root / "fit.nc", "--data", root / "hold.csv", "--by",
                       "service", "--strict")
    assert code == 0  # the fake fit sits at the truth: calibrated
    assert out.startswith("Coverage of 240 held-out rows") and "r1-s2" in out
    code, _, err = cli("coverage", root / "fit.nc", "--data", root / "hold.csv", "--by", "tier")
    assert code == 2 and "'tier'" in err
    with pytest.raises(SystemExit) as exc:
        cli("coverage", root / "fit.nc", "--data", root / "hold.csv", "--levels", "0.5,1.2")
    assert exc.value.code == 2


def test_compare_command(cli, saved, monkeypatch):
    root, sim = saved
    train = sim.frame[sim.frame["timestamp"] < np.sort(sim.frame["timestamp"].unique())[40]]
    sampler = truth_sampler(train, sim.truth)
    loose = ConvergenceThresholds(min_ess=50, max_rhat=1.2)
    calls = []

    def spy(*args, **kwargs):
        calls.append(dict(kwargs))
        kwargs.update(executor="serial", scheduler=None)  # only the arguments matter here
        return compare_families(*args, sample_fn=sampler, thresholds=loose, **kwargs)

    monkeypatch.setattr(compare_module, "compare_families", spy)  # imported when run
    code, out, _ = cli("compare", root / "train.csv", *COLUMNS, "--draws", 100, "--chains", 2,
                       "--seed", 4, "--families", "negative_binomial,poisson", "--json")
    assert code == 0
    (kwargs,) = calls
    assert kwargs["executor"] == "serial" and kwargs["scheduler"] is None
    assert kwargs["config"].draws == 100 and kwargs["config"].random_seed == 4
    doc = json.loads(out)
    assert doc["selected"] == "negative_binomial" and doc["best"] == "negative_binomial"
    assert [m["name"] for m in doc["models"]] == ["negative_binomial", "poisson"]
    with pytest.raises(SystemExit):
        cli("compare", root / "train.csv", *COLUMNS, "--families", "poisson")
    code, _, _ = cli("compare", root / "train.csv", *COLUMNS, "--draws", 100, "--chains", 2,
                     "--families", "negative_binomial,poisson", "--executor", "dask",
                     "--scheduler", "tcp://10.0.0.1:8786", "--json")
    assert code == 0 and calls[-1]["executor"] == "dask"
    assert calls[-1]["scheduler"] == "tcp://10.0.0.1:8786"
    code, _, err = cli("compare", root / "train.csv", *COLUMNS, "--executor", "processes",
                       "--scheduler", "tcp://10.0.0.1:8786")
    assert code == 2 and "--scheduler needs --executor dask, not processes" in err


@pytest.mark.fit
def test_tiny_real_fit_through_check_and_coverage(cli, tmp_path):
    sim = simulate_telemetry(n_regions=1, n_services=3, n_nodes=1, n_windows=32, rate=2e-3,
                             seed=7)
    times = np.sort(sim.frame["timestamp"].unique())
    train = sim.frame[sim.frame["timestamp"] < times[24]]
    hold = sim.frame[sim.frame["timestamp"] >= times[24]]
    model = CountModel("errors", "requests", time="timestamp", groups=["service"])
    model.fit(train, draws=150, tune=150, chains=2, random_seed=1, progressbar=False,
              thresholds=ConvergenceThresholds(min_ess=50, max_rhat=1.1, max_divergences=5))
    fit_path = model.save(tmp_path / "fit.nc")
    hold.to_csv(tmp_path / "hold.csv", index=False)
    code, out, _ = cli("check", fit_path, "--json", "--by", "service")
    assert code == 0
    doc = json.loads(out)
    assert doc["ppc"]["n_draws"] == 300
    assert 0.8 < doc["residuals"]["calibration_ratio"] < 1.2
    code, out, _ = cli("coverage", fit_path, "--data", tmp_path / "hold.csv", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["n_draws"] == 300 and doc["overall"][0]["n"] == len(hold)
    assert all(d["lower"] <= d["level"] <= d["upper"] for d in doc["overall"])
