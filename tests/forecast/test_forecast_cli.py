"""``bayescount slo | anomalies | attribute | capacity`` through ``main``."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from forecast_fakes import truth_fit

from bayescount import ConvergenceThresholds, CountModel
from bayescount.testing import simulate_telemetry

cli_main = importlib.import_module("bayescount.cli.app")  # the package re-exports main()
SLO_KEYS = {"p_exhaust", "p_exhaust_mc_se", "time_to_exhaustion", "burn_rate",
            "budget_remaining", "decision", "rules"}


def run(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main.main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory, sim_nb):
    tmp = tmp_path_factory.mktemp("forecast_cli")
    frame = sim_nb.frame
    fit = truth_fit(frame, sim_nb.truth)
    fit.save(tmp / "truth.nc")
    frame.to_csv(tmp / "data.csv", index=False)
    # Next hour = the last hour again, starting where the observed series ends.
    last = frame[frame["timestamp"] > frame["timestamp"].max() - pd.Timedelta(hours=1)]
    future = last.assign(timestamp=last["timestamp"] + pd.Timedelta(hours=1))
    future.drop(columns="errors").to_csv(tmp / "future.csv", index=False)
    per_window = frame.groupby("timestamp", as_index=False)[["errors", "requests"]].sum()
    per_window.rename(columns={"timestamp": "time", "errors": "bad", "requests": "total"}).to_csv(
        tmp / "sofar.csv", index=False)
    return tmp


def test_slo_json_with_truth_fit(files):
    code, out, err = run(["slo", files / "truth.nc", "--objective", "0.999", "--window", "1d",
                          "--observed", files / "sofar.csv", "--future", files / "future.csv",
                          "--seed", 1, "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert SLO_KEYS <= payload.keys()
    assert payload["decision"]["level"] in ("page", "ticket", "none")
    assert {r["kind"] for r in payload["rules"]} == {"observed", "forecast"}
    assert [b["horizon"] for b in payload["burn_rate"]] == ["1h"]  # the future is 1 h long
    # Errors run at ~1.06x the budget rate (the simulated rate is 1e-3 per request).
    assert payload["burn_rate"][0]["q0.5"] == pytest.approx(1.06, rel=0.15)
    # 8 h observed at ~1.06x, 1 h forecast: the window-so-far budget is already spent.
    assert payload["p_exhaust"] == 1.0


def test_slo_text_and_scale(files):
    code, out, err = run(["slo", files / "truth.nc", "--objective", "0.99", "--observed",
                          files / "sofar.csv", "--future", files / "future.csv", "--scale", 2,
                          "--seed", 1])
    assert code == 0, err
    assert "P(budget exhausted by " in out and "decision: " in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [([], "Give the objective"),
     (["--objective", "0.99", "--openslo", "x.yaml"], "not both")],
)
def test_slo_usage_errors(files, extra, needle):
    code, out, err = run(["slo", files / "truth.nc", "--observed", files / "sofar.csv",
                          "--future", files / "future.csv", *extra])
    assert code == 2 and out == ""
    assert err.startswith("bayescount: error: ") and needle in err


def test_anomalies_attribute_capacity(files, monkeypatch):
    code, out, err = run(["anomalies", files / "truth.nc", "--data", files / "data.csv",
                          "--level", 0.99, "--consecutive", 2, "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["n_windows"] == 768 and payload["consecutive"] == 2
    code, out, err = run(["attribute", files / "truth.nc", "--data", files / "data.csv",
                          "--incident", "2026-01-05T01:00/2026-01-05T02:00", "--json"])
    assert code == 0, err
    groups = json.loads(out)["groups"]
    assert {g["level"] for g in groups} == {"global", "region", "service", "node"}
    code, out, err = run(["attribute", files / "truth.nc", "--data", files / "data.csv",
                          "--incident", "yesterday"])
    assert code == 2 and "START/END" in err
    code, out, err = run(["capacity", files / "truth.nc", "--data", files / "future.csv",
                          "--scenario", "traffic=1.3", "--scenario", "nodes=3",
                          "--threshold", 100, "--json"])
    assert code == 0, err
    table = pd.DataFrame(json.loads(out)["groups"])
    assert set(table["scenario"]) == {"current", "traffic=1.3", "nodes=3"}
    args = ["capacity", files / "truth.nc", "--data", files / "future.csv", "--scenario",
            "traffic=1.3", "--threshold", 100]
    monkeypatch.setenv("COLUMNS", "200")  # tables in one part, not wrapped
    code, short, err = run(args)
    assert code == 0, err
    code, full, err = run([*args, "--all"])
    rows = [line for line in full.splitlines() if line.startswith(("current", "traffic=1.3"))]
    assert len(rows) == len(table[table["scenario"] != "nodes=3"])
    assert len(short.splitlines()) <= 25 < len(full.splitlines())
    shown = [line.split()[1] for line in short.splitlines()
             if line.startswith(("current", "traffic=1.3"))]
    assert shown.count("region") == 2 * (table["level"] == "region").sum() // 3
    assert f"{len(rows) - len(shown)} more rows: --all (or --json)" in short
    code, out, err = run(["capacity", files / "truth.nc", "--data", files / "future.csv",
                          "--scenario", "growth=2"])
    assert code == 2 and "Unknown scenario" in err


@pytest.mark.fit
def test_slo_command_on_a_real_fit(tmp_path):
    sim = simulate_telemetry(1, 3, 2, 48, rate=2e-3, seed=5)
    agg = sim.frame.groupby(["timestamp", "service"], as_index=False)[
        ["errors", "requests"]].sum()
    model = CountModel("errors", "requests", time="timestamp", groups=["service"],
                       family="poisson")
    thresholds = ConvergenceThresholds(min_ess=50, max_rhat=1.1, max_divergences=20)
    model.fit(agg, draws=200, tune=200, chains=2, random_seed=1, progressbar=False,
              thresholds=thresholds, target_accept=0.95)
    model.save(tmp_path / "fit.nc")
    future = agg.assign(timestamp=agg["timestamp"] + pd.Timedelta(hours=4))
    future.drop(columns="errors").to_csv(tmp_path / "future.csv", index=False)
    per_window = agg.groupby("timestamp", as_index=False)[["errors", "requests"]].sum()
    per_window.columns = ["time", "bad", "total"]
    per_window.to_csv(tmp_path / "sofar.csv", index=False)
    code, out, err = run(["slo", tmp_path / "fit.nc", "--objective", "0.999", "--window", "8h",
                          "--observed", tmp_path / "sofar.csv", "--future",
                          tmp_path / "future.csv", "--seed", 3, "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert SLO_KEYS <= payload.keys()
    # Errors run at 2 per 1000 requests against a 1-per-1000 budget: burn ~2x, so the
    # budget of the 8 h window (4 h observed at ~2x) is surely exhausted by its end.
    assert payload["p_exhaust"] > 0.99
    assert payload["burn_rate"][0]["q0.5"] == pytest.approx(2.0, rel=0.35)
    assert payload["time_to_exhaustion"]["p_by"]["window_end"] > 0.99
    assert payload["decision"]["level"] == "page"


def test_slo_from_openslo_file(files):
    spec = Path(__file__).with_name("openslo") / "good_rolling_bad_total.yaml"
    code, out, err = run(["slo", files / "truth.nc", "--openslo", spec, "--observed",
                          files / "sofar.csv", "--future", files / "future.csv", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["slo"] == {"objective": 0.995, "window": "28d", "budgeting": "occurrences",
                              "name": "checkout-availability", "ratio": "bad"}
    # 28-day workbook factors.
    factors = {r["rule"]: r["factor"] for r in payload["rules"] if r["kind"] == "observed"}
    assert factors["page-1h-5m"] == pytest.approx(13.44)
    bad = Path(__file__).with_name("openslo") / "bad_timeslices.yaml"
    code, out, err = run(["slo", files / "truth.nc", "--openslo", bad, "--observed",
                          files / "sofar.csv", "--future", files / "future.csv"])
    assert code == 2 and "Timeslices" in err and "budgetingMethod" in err


@pytest.mark.parametrize(("freq", "rows"), [("5min", 72), ("15min", 24)])
def test_slo_pages_on_15_minute_rows_as_on_5_minute_rows(files, tmp_path, freq, rows):
    """Issue 12, kind 6: the 5 m short window reads the 23:45 row pro rata, never 0x."""
    times = pd.date_range("2026-01-05 18:00", periods=rows, freq=freq)
    total = 1000.0 * pd.Timedelta(freq) / pd.Timedelta("15min")
    bad = np.where(times >= pd.Timestamp("2026-01-05 23:00"), 0.2, 0.005) * total
    pd.DataFrame({"time": times, "total": total, "bad": bad}).to_csv(tmp_path / "sofar.csv",
                                                                     index=False)
    future = pd.read_csv(files / "future.csv", parse_dates=["timestamp"])
    future["timestamp"] += pd.Timestamp("2026-01-06") - future["timestamp"].min()
    future.to_csv(tmp_path / "future.csv", index=False)
    code, out, err = run(["slo", files / "truth.nc", "--objective", "0.99", "--window", "30d",
                          "--observed", tmp_path / "sofar.csv", "--future",
                          tmp_path / "future.csv", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["decision"]["level"] == "page"
    assert payload["decision"]["rule"] == "page-1h-5m"
    (page,) = [r for r in payload["rules"] if r["rule"] == "page-1h-5m" and r["kind"] ==
               "observed"]
    assert page["evaluable"] and page["short_burn"] == pytest.approx(20.0)
