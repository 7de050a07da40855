"""The Grafana dashboard: its structure, and every panel query parses on a real server."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from bayescount import SLOSpec
from bayescount.exceptions import SpecError
from bayescount.export.grafana import SCHEMA_VERSION, grafana_dashboard, with_matchers
from bayescount.export.openmetrics import openmetrics_text
from tests.promserver import PrometheusServer

ERR = 'app_errors_total{job="api"}'
REQ = "app_requests_total"


def concrete(expr: str, labels: list[str]) -> str:
    """Replace Grafana's template variables with values a plain query accepts."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1d")
    expr = expr.replace("$__interval", "1m")
    for name in labels:
        expr = expr.replace(f"${name}", ".*")
    assert "$" not in expr, expr
    return expr


def test_dashboard_structure(fake_fit):
    board = grafana_dashboard(fake_fit, errors_metric=ERR, requests_metric=REQ,
                              slo=SLOSpec(0.999, name="api"))
    json.dumps(board)  # plain JSON
    assert board["schemaVersion"] == SCHEMA_VERSION
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert [n for n in variables if n != "datasource"] == ["region", "service", "node"]
    titles = [p["title"] for p in board["panels"]]
    assert titles[0].startswith("Observed vs expected errors")
    assert titles[1].startswith("Residuals")
    assert titles[2].startswith("Error-budget burn rate")
    assert titles[3].startswith("P(error budget exhausted)")
    assert len({p["id"] for p in board["panels"]}) == 4
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            for label in ("region", "service", "node"):
                if "bayescount_slo" not in target["expr"]:
                    assert f'{label}=~"${label}"' in target["expr"]
    first = board["panels"][0]["targets"]
    assert [t["refId"] for t in first] == ["A", "B", "C", "D"]
    assert 'quantile="0.05"' in first[2]["expr"] and 'quantile="0.95"' in first[3]["expr"]
    assert "offset 5m" in first[1]["expr"]  # expected drawn at the window end
    # without an SLO: no burn panels
    plain = grafana_dashboard(fake_fit, errors_metric=ERR, requests_metric=REQ)
    assert len(plain["panels"]) == 2


def test_every_query_parses_on_a_real_server(tmp_path, fake_fit, telemetry):
    board = grafana_dashboard(fake_fit, errors_metric=ERR, requests_metric=REQ,
                              slo=SLOSpec(0.999, name="api"))
    text = openmetrics_text(fake_fit, telemetry.head(12))
    labels = ["region", "service", "node"]
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    exprs += [v["query"]["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    with PrometheusServer(tmp_path, text) as server:
        for expr in exprs:
            if expr.startswith("label_values("):  # Grafana's own function: ask the API
                metric, label = re.match(r"label_values\((\w+), (\w+)\)", expr).groups()
                reply = httpx.get(f"{server.url}/api/v1/label/{label}/values",
                                  params={"match[]": metric}, timeout=30).json()
                assert reply["status"] == "success" and reply["data"], (expr, reply)
                continue
            reply = httpx.get(server.url + "/api/v1/query",
                              params={"query": concrete(expr, labels),
                                      "time": "2026-01-05T01:00:00Z"}, timeout=30).json()
            assert reply["status"] == "success", (expr, reply)
        # the expected-count query finds the backfilled series
        expected = concrete(board["panels"][0]["targets"][1]["expr"], labels)
        reply = httpx.get(server.url + "/api/v1/query",
                          params={"query": expected, "time": "2026-01-05T00:05:00Z"}).json()
        first = telemetry.head(12)
        assert first[labels].drop_duplicates().shape[0] == 1  # one group, 12 windows
        [series] = reply["data"]["result"]  # at 00:05: the window that started at 00:00
        mean = fake_fit.predict(first, random_seed=0).mean()[0]
        assert float(series["value"][1]) == pytest.approx(mean, rel=1e-12)


def test_with_matchers_and_bad_options(fake_fit):
    assert with_matchers("x", ['a="1"']) == 'x{a="1"}'
    assert with_matchers('x{b="2"}', ['a="1"']) == 'x{b="2", a="1"}'
    assert with_matchers("x{}", ['a="1"']) == 'x{a="1"}'
    with pytest.raises(SpecError, match="--requests-metric"):
        grafana_dashboard(fake_fit, errors_metric=ERR, slo=SLOSpec(0.99))
    with pytest.raises(SpecError, match="quantiles"):
        grafana_dashboard(fake_fit, errors_metric=ERR, quantiles=(0.9, 0.1))
