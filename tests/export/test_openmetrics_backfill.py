"""OpenMetrics out: backfilled into a real Prometheus and read back exactly."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest

from bayescount.exceptions import SpecError
from bayescount.export.openmetrics import openmetrics_text
from tests.promserver import PrometheusServer, promtool


def range_samples(server: PrometheusServer, query: str, at: pd.Timestamp) -> dict:
    """{(labels without __name__): [(unix seconds, value), ...]} of a range query."""
    reply = httpx.get(server.url + "/api/v1/query",
                      params={"query": query, "time": at.timestamp()}, timeout=30).json()
    assert reply["status"] == "success", reply
    out = {}
    for item in reply["data"]["result"]:
        labels = tuple(sorted((k, v) for k, v in item["metric"].items() if k != "__name__"))
        out[labels] = [(float(t), float(v)) for t, v in item["values"]]
    return out


def test_backfilled_bands_read_back_exactly(tmp_path, fake_fit, telemetry):
    from bayescount.forecast.burn import BurnForecast

    future = telemetry.drop(columns=["errors"]).copy()
    # an unseen group with labels that need escaping in OpenMetrics
    future.loc[future.index[:3], ["region", "service", "node"]] = ['we"ird\\lab el', "s\nx", "ü"]
    # P(exhaust) comes from a BurnForecast; a stand-in with the fields the writer reads
    burn = type("Burn", (), {"slo": type("S", (), {"name": "api"})(), "p_exhaust": 0.123456789,
                             "now": pd.Timestamp("2026-01-05T00:30:00Z")})()
    assert BurnForecast  # the real type (typed via TYPE_CHECKING in the writer)
    text = openmetrics_text(fake_fit, future, quantiles=(0.05, 0.5, 0.95), burn=burn,
                            random_seed=1)
    assert text.startswith("# TYPE bayescount_expected_errors gauge\n")
    assert text.endswith("# EOF\n")
    prediction = fake_fit.predict(future, random_seed=1)
    mean, bands = prediction.mean(), prediction.quantiles([0.05, 0.5, 0.95])
    stamps = pd.to_datetime(future["timestamp"]).dt.tz_localize("UTC")
    with PrometheusServer(tmp_path, text) as server:
        end = stamps.max() + pd.Timedelta("1s")
        got = range_samples(server, "bayescount_expected_errors[3d]", end)
        assert sum(len(v) for v in got.values()) == len(future)
        for i, row in future.reset_index(drop=True).iterrows():
            key = tuple(sorted((g, str(row[g])) for g in ("region", "service", "node")))
            assert (stamps.iloc[i].timestamp(), float(mean[i])) in got[key]
        got = range_samples(server, 'bayescount_predicted_errors{quantile="0.95"}[3d]', end)
        for i, row in future.reset_index(drop=True).iterrows():
            key = tuple(sorted([(g, str(row[g])) for g in ("region", "service", "node")]
                               + [("quantile", "0.95")]))
            assert (stamps.iloc[i].timestamp(), float(bands[2, i])) in got[key]
        got = range_samples(server, "bayescount_slo_exhaust_probability[1d]", end)
        assert got == {(("slo", "api"),): [(burn.now.timestamp(), 0.123456789)]}


def test_openmetrics_passes_promtool_and_rejects_bad_options(tmp_path, fake_fit, telemetry):
    text = openmetrics_text(fake_fit, telemetry.head(6))
    path = tmp_path / "out.om"
    path.write_text(text)
    done = promtool("tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "d"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sum(1 for line in text.splitlines() if not line.startswith("#")) == 6 * 4
    with pytest.raises(SpecError, match="quantiles"):
        openmetrics_text(fake_fit, telemetry.head(2), quantiles=(0.5, 1.0))
    assert np.isfinite(len(text))
