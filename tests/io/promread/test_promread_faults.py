"""Faults of a Prometheus read: each one a clear bayescount error, or a warning.

Scripted stub servers (:mod:`stubserver`) give the answers a real server does not
give on demand (503, slowness, warnings, 401/422, TLS); a real server is stopped
mid-read; a free port gives connection refused.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pandas as pd
import pytest
from promdata import END, START
from promserver import PrometheusServer, free_port
from stubserver import Answer, StubServer, matrix

import bayescount as bc
from bayescount.exceptions import (
    PrometheusAuthError,
    PrometheusConnectionError,
    PrometheusError,
    PrometheusQueryError,
    PrometheusTimeoutError,
    PrometheusTLSError,
    PrometheusUnavailableError,
    PrometheusWarning,
    SpecError,
)

T0 = pd.Timestamp("2026-01-05T00:00:00Z")
T0_S = T0.timestamp()
#: One series, +1 every 15 s from 1 min before T0: 4 per 1-minute window.
OK = matrix([({"__name__": "x_total", "job": "a"},
              [(T0_S - 60 + 15 * i, float(i)) for i in range(13)])])
WINDOWS = {"start": T0.isoformat(), "end": (T0 + pd.Timedelta("2m")).isoformat(),
           "step": "1m"}
FAST = {"backoff": 0.01}


def read(url: str, **kwargs) -> pd.DataFrame:
    return bc.read_prometheus(url, {"x": "x_total"}, **{**WINDOWS, **FAST, **kwargs})


def test_the_stub_serves_a_readable_answer(stub):
    frame = read(stub.answer(Answer(200, OK)).url)
    assert frame["x"].tolist() == [4, 4]
    path, form = stub.requests[0]
    assert path == "/api/v1/query"
    assert form["query"] == "x_total[180000ms]" and form["time"] == f"{T0_S + 119.999:.3f}"


def test_503_is_retried_with_backoff_then_succeeds(stub):
    stub.answer(Answer(503, "overloaded"), Answer(503, "overloaded"), Answer(200, OK))
    frame = read(stub.url, retries=3)
    assert frame["x"].tolist() == [4, 4]
    assert len(stub.requests) == 3


def test_retry_after_is_honoured(stub):
    stub.answer(Answer(503, "busy", headers={"Retry-After": "1"}), Answer(200, OK))
    began = time.monotonic()
    read(stub.url)
    assert time.monotonic() - began >= 1.0
    assert len(stub.requests) == 2


def test_retries_are_bounded(stub):
    stub.answer(Answer(503, {"status": "error", "errorType": "unavailable",
                             "error": "storage not ready"}))
    with pytest.raises(PrometheusUnavailableError) as info:
        read(stub.url, retries=2)
    assert len(stub.requests) == 3
    text = str(info.value)
    assert "HTTP 503 (storage not ready) on all 3 tries" in text
    assert stub.url in text and "x_total" in text


def test_a_slow_server_beyond_the_timeout(stub):
    stub.answer(Answer(200, OK, delay=3.0))
    began = time.monotonic()
    with pytest.raises(PrometheusTimeoutError) as info:
        read(stub.url, timeout=0.3, retries=1)
    assert time.monotonic() - began < 2.5  # two tries of 0.3 s, not the 3 s answer
    assert len(stub.requests) == 2
    assert "No answer from " + stub.url in str(info.value)
    assert "within 0.3 s, on all 2 tries" in str(info.value)


def test_a_slow_answer_within_the_timeout_is_read(stub):
    assert read(stub.answer(Answer(200, OK, delay=0.3)).url, timeout=5)["x"].sum() == 8


def test_connection_refused():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusConnectionError) as info:
        read(url)
    text = str(info.value)
    assert text == (
        f"Cannot connect to {url}: connection refused; is Prometheus running there, on that "
        "port? Query: x_total[180000ms] (reading 2026-01-05T00:00:00Z to "
        "2026-01-05T00:02:00Z, windows 1-2 of 2)."
    )


def test_warnings_and_infos_are_surfaced_once_each(stub):
    answer = {**OK, "warnings": ["remote store eu-1 unavailable: partial data"],
              "infos": ["PromQL info: metric might not be a counter"]}
    stub.answer(Answer(200, answer))
    with pytest.warns(PrometheusWarning) as record:
        frame = read(stub.url, chunk="1m")  # two requests, the same notes
    assert len(stub.requests) == 2
    assert frame["x"].tolist() == [4, 4]
    texts = sorted(str(w.message) for w in record if w.category is PrometheusWarning)
    assert texts == [
        f"Prometheus info from {stub.url}: PromQL info: metric might not be a counter",
        f"Prometheus warning from {stub.url}: remote store eu-1 unavailable: partial data",
    ]


def test_422_carries_the_servers_message(stub):
    stub.answer(Answer(422, {"status": "error", "errorType": "execution",
                             "error": "query processing would load too many samples into "
                             "memory in query execution"}))
    with pytest.raises(PrometheusQueryError) as info:
        read(stub.url, chunk="1m")
    text = str(info.value)
    assert "HTTP 422 execution" in text and "too many samples" in text
    assert "smaller chunk=" in text
    assert len(stub.requests) == 1  # a one-window chunk cannot be halved


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(stub, status):
    stub.answer(Answer(status, "unauthorized"))
    with pytest.raises(PrometheusAuthError, match=f"HTTP {status}.*BAYESCOUNT_PROMETHEUS_TOKEN"):
        read(stub.url)


def test_an_unexpected_answer_is_a_prometheus_error(stub):
    stub.answer(Answer(500, "<html>proxy error</html>"))
    with pytest.raises(PrometheusError, match="HTTP 500: <html>proxy error</html>"):
        read(stub.url)
    stub.answer(Answer(404, "not found"))
    with pytest.raises(PrometheusError, match="base URL"):
        read(stub.url)


# ------------------------------------------------------------------ credentials
def test_bearer_token_from_the_environment_or_a_file(stub, monkeypatch, tmp_path):
    stub.answer(Answer(200, OK))
    monkeypatch.setenv("BAYESCOUNT_PROMETHEUS_TOKEN", "from-env")
    read(stub.url)
    token = tmp_path / "token"
    token.write_text("from-file\n")
    read(stub.url, token_file=token)
    assert [form["_auth"] for _, form in stub.requests] == ["Bearer from-env", "Bearer from-file"]


def test_basic_auth_from_the_environment(stub, monkeypatch):
    stub.answer(Answer(200, OK))
    monkeypatch.setenv("BAYESCOUNT_PROMETHEUS_USER", "ops")
    monkeypatch.setenv("BAYESCOUNT_PROMETHEUS_PASSWORD", "s3cret")
    read(stub.url)
    assert stub.requests[0][1]["_auth"] == "Basic b3BzOnMzY3JldA=="


@pytest.mark.parametrize(("env", "needle"), [
    ({"BAYESCOUNT_PROMETHEUS_USER": "ops"}, "BAYESCOUNT_PROMETHEUS_PASSWORD is not"),
    ({"BAYESCOUNT_PROMETHEUS_TOKEN": "t", "BAYESCOUNT_PROMETHEUS_USER": "u",
      "BAYESCOUNT_PROMETHEUS_PASSWORD": "p"}, "keep one"),
])
def test_inconsistent_credentials(monkeypatch, env, needle):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(PrometheusAuthError, match=needle):
        read("http://127.0.0.1:9")


def test_an_unreadable_token_file(tmp_path):
    with pytest.raises(PrometheusAuthError, match="Cannot read the token file"):
        read("http://127.0.0.1:9", token_file=tmp_path / "absent")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(PrometheusAuthError, match="is empty"):
        read("http://127.0.0.1:9", token_file=tmp_path / "empty")


# -------------------------------------------------------------------------- TLS
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return str(cert), str(key)


def test_tls_verification_is_on_by_default_and_the_error_names_the_fix(certificate):
    with StubServer(tls=certificate) as server:
        server.answer(Answer(200, OK))
        with pytest.raises(PrometheusTLSError) as info:
            read(server.url)
        text = str(info.value)
        assert text.startswith(f"TLS with {server.url} failed: ")
        assert "certificate" in text and "--ca-file" in text and "--insecure" in text
        assert read(server.url, ca_file=certificate[0])["x"].tolist() == [4, 4]
        assert read(server.url, verify=False)["x"].tolist() == [4, 4]
    with pytest.raises(SpecError, match="not both"):
        read(server.url, verify=False, ca_file=certificate[0])
    with pytest.raises(PrometheusTLSError, match="Cannot load the CA file"):
        read(server.url, ca_file=certificate[1] + ".absent")


# --------------------------------------------------------- a real server stopped
def test_a_server_stopped_mid_read(tmp_path, generated):
    server = PrometheusServer(tmp_path, generated.text).start()
    progress = []

    def stop_after_the_first_chunk(done: int, total: int) -> None:
        progress.append((done, total))
        server.stop()

    try:
        with pytest.raises(PrometheusConnectionError) as info:
            bc.read_prometheus(
                server.url, {"errors": "app_errors_total"},
                {"requests": "app_requests_total"}, by=["region"], start=START.isoformat(),
                end=END.isoformat(), step="5m", chunk="1h", on_chunk=stop_after_the_first_chunk,
            )
    finally:
        server.stop()
    assert progress == [(12, 72)]  # the errors of the first hour were read
    text = str(info.value)
    assert text.startswith(f"Cannot connect to {server.url}: connection refused")
    assert "Query: app_requests_total[" in text and "windows 1-12 of 36)" in text
