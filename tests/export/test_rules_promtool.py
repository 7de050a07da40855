"""Rule files checked and exercised by promtool: burn-rate and anomaly alerts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from bayescount import SLOSpec
from bayescount.exceptions import SpecError
from bayescount.export.rules import (
    ANOMALY_ALERT,
    SLO_ALERT,
    anomaly_bounds,
    anomaly_rules,
    prometheus_rules,
    rules_yaml,
    slo_rules,
)
from tests.promserver import promtool

ERR = 'app_errors_total{job="api"}'
REQ = 'app_requests_total{job="api"}'
SERIES = '{job="api", region="eu", service="api"}'
GROUP = {"region": "eu", "service": "api"}


def run_unit_test(tmp_path, groups, tests) -> str:
    rules = tmp_path / "rules.yml"
    rules.write_text(rules_yaml({"groups": groups}))
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    spec = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = promtool("test", "rules", "test.yml", cwd=tmp_path)
    return done.returncode, done.stdout + done.stderr


# ----------------------------------------------------------------------- anomalies
def bounds_table() -> pd.DataFrame:
    # m = 1 % of requests, v, z: at x = 500 requests the bound is 5 + 3 sqrt(7.5) = 13.2
    table = pd.DataFrame([{**GROUP, "typical_exposure": 500.0, "expected_ratio": 0.01,
                           "ratio_variance": 1e-5, "bound": 13.0, "bound_z": 3.0}])
    table.attrs["level"] = 0.99
    return table


def anomaly_alert(at: str, firing: bool, k: int) -> dict:
    rule = anomaly_rules(bounds_table(), errors_metric=ERR, requests_metric=REQ,
                         labels=["region", "service"], step="5m", consecutive=k)
    alert = rule["rules"][-1]
    expected = [{"exp_labels": {**GROUP, "severity": "ticket"},
                 "exp_annotations": alert["annotations"]}] if firing else []
    return {"eval_time": at, "alertname": ANOMALY_ALERT, "exp_alerts": expected}


@pytest.mark.parametrize("k", [1, 2, 3])
def test_anomaly_fires_after_k_windows_above_the_bound_and_not_before(tmp_path, k):
    # 100 requests/min; 1 error/min (5 per window, under the bound 13.2) until minute
    # 60, then 4/min (20 per window, above it) in the aligned windows from [60m, 65m).
    inputs = [
        {"series": f"app_requests_total{SERIES}", "values": "0+100x120"},
        {"series": f"app_errors_total{SERIES}", "values": "0+1x60 64+4x59"},
    ]
    rule = anomaly_rules(bounds_table(), errors_metric=ERR, requests_metric=REQ,
                         labels=["region", "service"], step="5m", consecutive=k)
    fires_at = 60 + 5 * k
    tests = [{
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            anomaly_alert("59m", False, k),
            anomaly_alert(f"{fires_at - 1}m", False, k),
            anomaly_alert(f"{fires_at}m", True, k),
            anomaly_alert(f"{fires_at + 7}m", True, k),
        ],
        "promql_expr_test": [{
            "expr": "bayescount:errors:upper_bound5m",
            "eval_time": "30m",
            "exp_samples": [{"labels": "bayescount:errors:upper_bound5m"
                                       '{region="eu", service="api"}',
                             "value": 5 + 3 * math.sqrt(7.5)}],
        }, {
            "expr": "bayescount:errors:expected_increase5m",
            "eval_time": "30m",
            "exp_samples": [{"labels": "bayescount:errors:expected_increase5m"
                                       '{region="eu", service="api"}', "value": 5}],
        }],
    }]
    code, out = run_unit_test(tmp_path, [rule], tests)
    assert code == 0, out
    assert "SUCCESS" in out


def test_anomaly_test_can_fail(tmp_path):
    """The same check claiming the alert one minute early fails: the test has teeth."""
    rule = anomaly_rules(bounds_table(), errors_metric=ERR, requests_metric=REQ,
                         labels=["region", "service"], step="5m", consecutive=2)
    tests = [{"interval": "1m", "input_series": [
        {"series": f"app_requests_total{SERIES}", "values": "0+100x120"},
        {"series": f"app_errors_total{SERIES}", "values": "0+1x60 64+4x59"}],
        "alert_rule_test": [anomaly_alert("69m", True, 2)]}]
    code, out = run_unit_test(tmp_path, [rule], tests)
    assert code != 0 and "FAILED" in out


# ---------------------------------------------------------------------- SLO burn
def slo_alerts(at: str, severities: list[str], groups: list[dict]) -> dict:
    alerts = {r["labels"]["severity"]: r for r in groups[1]["rules"]}
    return {"eval_time": at, "alertname": SLO_ALERT, "exp_alerts": [
        {"exp_labels": {**GROUP, "severity": s, "slo": "api"},
         "exp_annotations": alerts[s]["annotations"]} for s in severities]}


def test_burn_rate_alerts_fire_on_a_burn_and_stay_quiet_on_normal_traffic(tmp_path):
    slo = SLOSpec(0.999, "30d", name="api")
    groups = slo_rules(slo, errors_metric=ERR, requests_metric=REQ,
                       labels=["region", "service"])
    # 1000 requests/min; 0.5 errors/min (half the budget) for 3 h, then 30/min (30x).
    # Page 1h/5m at 14.4x (1.44 %): the 1 h ratio passes it after ~29 min of burn.
    tests = [{
        "interval": "1m",
        "input_series": [
            {"series": f"app_requests_total{SERIES}", "values": "0+1000x300"},
            {"series": f"app_errors_total{SERIES}", "values": "0+0.5x180 120+30x119"},
        ],
        "alert_rule_test": [
            slo_alerts("170m", [], groups),        # normal traffic: quiet
            slo_alerts("200m", ["ticket"], groups),  # 20 min of burn: 2h/1d ticket only
            slo_alerts("220m", ["page", "ticket"], groups),
        ],
    }]
    code, out = run_unit_test(tmp_path, groups, tests)
    assert code == 0, out


def test_few_errors_do_not_page_a_quiet_service(tmp_path):
    slo = SLOSpec(0.999, "30d", name="api")
    groups = slo_rules(slo, errors_metric=ERR, requests_metric=REQ,
                       labels=["region", "service"])
    # 1 request/min, 1 error every 30 min after 2 h: a 100 % ratio, but < 5 errors
    tests = [{"interval": "1m", "input_series": [
        {"series": f"app_requests_total{SERIES}", "values": "0+1x300"},
        {"series": f"app_errors_total{SERIES}", "values": "0x120 1x30 2x30 3x30"}],
        "alert_rule_test": [slo_alerts("200m", [], groups)]}]
    code, out = run_unit_test(tmp_path, groups, tests)
    assert code == 0, out


def test_factors_scale_with_the_slo_window():
    groups = slo_rules(SLOSpec(0.999, "28d", name="x"), errors_metric=ERR,
                       requests_metric=REQ, labels=[])
    page = next(r for r in groups[1]["rules"] if r["labels"]["severity"] == "page")
    assert f"> {repr(13.44 * 0.001)}" in page["expr"] or "> 0.01344" in page["expr"]
    records = [r["record"] for r in groups[0]["rules"]]
    assert records == [f"bayescount:slo_error_ratio:rate{w}"
                       for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]


# ------------------------------------------------------------------ from a fit
def test_rules_of_a_fit_pass_promtool_check(tmp_path, fake_fit):
    doc = prometheus_rules(fake_fit, SLOSpec(0.995, "30d", name='odd "name"'),
                           errors_metric=ERR, requests_metric=REQ)
    path = tmp_path / "rules.yml"
    path.write_text(rules_yaml(doc))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    n_groups = len(fake_fit.schema.groups and anomaly_bounds(fake_fit))
    anomaly = doc["groups"][-1]["rules"]
    assert sum(r.get("record") == "bayescount:errors:bound_z" for r in anomaly) == n_groups
    assert "&id" not in path.read_text()


def test_anomaly_bound_equals_the_exact_quantile_at_typical_exposure(fake_fit):
    from bayescount.inference.fit import as_fit
    from bayescount.inference.predictive_cdf import family_moments

    fit = as_fit(fake_fit)
    table = anomaly_bounds(fit, level=0.9)
    group = table.iloc[0]
    x0, m, v, z = group[["typical_exposure", "expected_ratio", "ratio_variance", "bound_z"]]
    assert x0 * m + z * math.sqrt(x0 * m + x0**2 * v) == pytest.approx(group["bound"])
    assert group["bound"] == np.floor(group["bound"])  # a count quantile is a count
    # m and v are the pooled moments of the group's training windows at exposure x0,
    # computed here independently from the per-row family moments
    names = list(fit.schema.groups)
    prepared, rows = fit.training_rows()
    params = fit.predictive_parameters(prepared, rng=np.random.default_rng(0))
    mine = np.flatnonzero((rows[names] == group[names]).all(axis=1).to_numpy())
    scale = x0 / prepared.exposure[mine]
    mean, var = family_moments(
        params.mu.values[..., mine] * scale,
        None if params.alpha is None else params.alpha.values[..., mine],
        None if params.psi is None else params.psi.values[..., mine])
    assert mean.mean() == pytest.approx(x0 * m, rel=1e-9)
    assert var.mean() + mean.var() == pytest.approx(x0 * m + x0**2 * v, rel=1e-9)


def test_bad_rule_options_are_clear(fake_fit):
    with pytest.raises(SpecError, match="not a counter selector"):
        prometheus_rules(fake_fit, errors_metric="rate(x[5m])", requests_metric=REQ)
    with pytest.raises(SpecError, match="--requests-metric"):
        prometheus_rules(fake_fit, errors_metric=ERR)
    with pytest.raises(SpecError, match="not Prometheus label names"):
        slo_rules(SLOSpec(0.99), errors_metric=ERR, requests_metric=REQ, labels=["a-b"])


def test_exports_of_a_fit_that_failed_its_gate_warn(fake_fit, telemetry):
    import dataclasses

    from bayescount.exceptions import ConvergenceWarning
    from bayescount.export import openmetrics_text
    from bayescount.inference.fit import as_fit

    fit = as_fit(fake_fit)
    failed = dataclasses.replace(
        fit, convergence=dataclasses.replace(fit.convergence, problems=("R-hat 1.2",))
    )
    with pytest.warns(ConvergenceWarning, match="failed its convergence gate.*anomaly bounds"):
        anomaly_bounds(failed)
    with pytest.warns(ConvergenceWarning, match="expected counts and bands"):
        openmetrics_text(failed, telemetry.head(4))
