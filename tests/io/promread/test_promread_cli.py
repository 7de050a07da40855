"""``bayescount pull prometheus``: in-process through ``main``, against the real server."""

from __future__ import annotations

import pandas as pd
import pytest
from promdata import END, START

import bayescount as bc
from bayescount.cli.app import build_parser
from tests.clirun import run_cli


def pull_args(url: str, out, *extra: str) -> list:
    return ["pull", "prometheus", "--url", url,
            "--counts", "errors=app_errors_total", "--exposure", "requests=app_requests_total",
            "--by", "region,service", "--start", START.isoformat(), "--end", END.isoformat(),
            "--step", "15m", "--out", out, *extra]


def one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayescount: error: "), err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_pull_writes_the_readers_frame(prom, tmp_path, suffix):
    out = tmp_path / f"counts{suffix}"
    code, stdout, err = run_cli(pull_args(prom.url, out))
    assert code == 0, err
    assert stdout == f"Wrote 48 rows (4 groups, exact counts) to {out}\n"
    expected = bc.read_prometheus(
        prom.url, {"errors": "app_errors_total"}, {"requests": "app_requests_total"},
        by=["region", "service"], start=START.isoformat(), end=END.isoformat(), step="15m")
    table = bc.read_table(out, text_columns=["region", "service"])
    if suffix == ".csv":
        assert out.read_text().splitlines()[1].startswith("2026-01-05T00:00:00Z,eu,api,")
        table["timestamp"] = pd.to_datetime(table["timestamp"], utc=True).dt.as_unit("ns")
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(("args", "needles"), [
    (["--counts", "app_errors_total"], ["argument --counts", "expected NAME=SELECTOR"]),
    (["--by", "region,,service-x"], ["argument --by", "label names"]),
    (["--start", "2026-01-05 00:00"], ["argument --start", "RFC 3339"]),
    (["--step", "5min"], ["argument --step", "Prometheus duration"]),
    (["--out", "counts.json"], ["argument --out", ".csv or .parquet"]),
    (["--insecure", "--ca-file", "ca.pem"], ["not both"]),
    (["--counts", "requests=x_total"], ["named in both counts and exposure"]),
])
def test_bad_arguments_are_one_line_errors(tmp_path, args, needles):
    base = pull_args("http://127.0.0.1:9", tmp_path / "c.csv")
    code, out, err = run_cli([*base, *args])
    one_line_error(code, out, err, *needles)
    assert not (tmp_path / "c.csv").exists()


def test_a_server_error_is_one_line_and_writes_nothing(prom, tmp_path):
    out = tmp_path / "c.csv"
    args = pull_args(prom.url, out)
    args[args.index("errors=app_errors_total")] = "errors=rate(app_errors_total[5m])"
    code, stdout, err = run_cli(args)
    one_line_error(code, stdout, err, "HTTP 400 bad_data", "parse error")
    assert not out.exists()


def test_credentials_are_not_command_line_arguments():
    parser = build_parser()
    pull = next(a for a in parser._subparsers._group_actions[0].choices["pull"]._actions
                if a.dest == "source").choices["prometheus"]
    options = {s for a in pull._actions for s in a.option_strings}
    assert {"--token-file", "--ca-file", "--insecure"} <= options
    assert not options & {"--token", "--password", "--user"}


@pytest.mark.fit
def test_pull_then_fit(prom, tmp_path, monkeypatch):
    data = tmp_path / "counts.csv"
    assert run_cli(pull_args(prom.url, data))[0] == 0
    monkeypatch.setenv("CI", "1")  # no progress bars
    fit_path = tmp_path / "fit.nc"
    code, out, err = run_cli([
        "fit", data, "--counts", "errors", "--exposure", "requests", "--time", "timestamp",
        "--group", "region", "--group", "service", "--crossed",
        "--draws", "100", "--tune", "100", "--chains", "2", "--seed", "3", "--out", fit_path,
    ])
    assert code == 0, err
    fit = bc.load(fit_path)
    assert fit.observed_counts().sum() == pd.read_csv(data)["errors"].sum()
    assert fit.n_rows == 48
