"""``bayescount rules`` and ``bayescount export``: files written, errors on one line."""

from __future__ import annotations

import json

import pytest
import yaml

from bayescount.io import save_fit
from tests.clirun import run_cli
from tests.promserver import promtool


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory, fake_fit):
    path = tmp_path_factory.mktemp("fit") / "fit.nc"
    save_fit(fake_fit, path)
    return path


def test_rules_command_writes_a_valid_rule_file(tmp_path, fit_file):
    out = tmp_path / "rules.yml"
    code, stdout, stderr = run_cli([
        "rules", fit_file, "--objective", "0.999", "--slo-name", "api",
        "--errors-metric", 'app_errors_total{job="api"}',
        "--requests-metric", 'app_requests_total{job="api"}', "--consecutive", "3",
        "--out", out])
    assert code == 0, stderr
    doc = yaml.safe_load(out.read_text())
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    assert sorted({a["alert"] for a in alerts}) == ["BayescountAnomaly", "ErrorBudgetBurn"]
    anomaly = next(a for a in alerts if a["alert"] == "BayescountAnomaly")
    assert anomaly["expr"].endswith("[14m59s:5m]) >= 3") or "[899s:5m]) >= 3" in anomaly["expr"]
    checked = promtool("check", "rules", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Wrote" in stdout


def test_rules_command_errors_are_one_line(tmp_path, fit_file):
    out = tmp_path / "rules.yml"
    code, _, stderr = run_cli(["rules", fit_file, "--objective", "0.999",
                               "--errors-metric", "x", "--out", out])
    assert code == 2
    assert stderr.startswith("bayescount: error: The SLO rules need --requests-metric")
    assert stderr.count("\n") == 1 and not out.exists()


def test_export_openmetrics_and_grafana(tmp_path, fit_file, telemetry):
    data = tmp_path / "windows.csv"
    telemetry.drop(columns=["errors"]).head(12).to_csv(data, index=False)
    out = tmp_path / "bands.om"
    code, _, stderr = run_cli(["export", "openmetrics", fit_file, "--data", data,
                               "--out", out])
    assert code == 0, stderr
    text = out.read_text()
    assert text.endswith("# EOF\n")
    assert text.count('quantile="0.95"') == 12
    done = promtool("tsdb", "create-blocks-from", "openmetrics", str(out), str(tmp_path / "d"))
    assert done.returncode == 0, done.stdout + done.stderr

    code, _, stderr = run_cli(["export", "openmetrics", fit_file, "--data", data,
                               "--objective", "0.999", "--out", out])
    assert code == 2 and "--observed" in stderr

    board = tmp_path / "board.json"
    code, _, stderr = run_cli(["export", "grafana", fit_file, "--errors-metric",
                               "app_errors_total", "--requests-metric", "app_requests_total",
                               "--objective", "0.999", "--out", board])
    assert code == 0, stderr
    assert len(json.loads(board.read_text())["panels"]) == 4


def test_export_openmetrics_with_an_slo_writes_p_exhaust(tmp_path, fit_file, telemetry):
    data = tmp_path / "windows.csv"
    telemetry.drop(columns=["errors"]).to_csv(data, index=False)
    sofar = tmp_path / "sofar.csv"
    sofar.write_text("bad,total,elapsed,now\n10,100000,29d,2026-01-05T00:00:00\n")
    out = tmp_path / "bands.om"
    code, _, stderr = run_cli(["export", "openmetrics", fit_file, "--data", data,
                               "--objective", "0.999", "--window", "30d", "--slo-name", "api",
                               "--observed", sofar, "--out", out])
    assert code == 0, stderr
    [line] = [x for x in out.read_text().splitlines()
              if x.startswith("bayescount_slo_exhaust_probability{")]
    name, value, stamp = line.split(" ")
    assert name == 'bayescount_slo_exhaust_probability{slo="api"}'
    assert 0 <= float(value) <= 1 and stamp == "1767571200"
