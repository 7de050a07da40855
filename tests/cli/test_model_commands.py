"""``bayescount fit | summary | predict``: in-process through ``main`` plus one console run."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescount
from bayescount.cli import main
from bayescount.cli.app import build_parser
from bayescount.cli.fit_options import fit_kwargs_from_args, model_from_args
from bayescount.testing import simulate_telemetry

CONSOLE_SCRIPT = Path(sys.executable).with_name("bayescount")
QUANTILE_COLUMNS = ["q0.05", "q0.5", "q0.95"]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Run ``main(args)`` in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse errors
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def assert_usage_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bayescount: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


# ----------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def data_csv(workdir) -> Path:
    sim = simulate_telemetry(2, 2, 2, 24, family="negative_binomial", seed=3)
    path = workdir / "telemetry.csv"
    sim.frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def new_csv(workdir, data_csv) -> Path:
    """Twelve rows to predict: every 16th training row (all nodes), counts dropped."""
    frame = pd.read_csv(data_csv).iloc[::16].drop(columns="errors")
    path = workdir / "new.csv"
    frame.to_csv(path, index=False)
    return path


FIT_ARGS = [
    "--counts", "errors", "--exposure", "requests", "--exposure-unit", "requests",
    "--time", "timestamp", "--group", "region", "--group", "service", "--group", "node",
    "--covariate", "load", "--family", "negative_binomial",
    "--parameterization", "node=non_centered",
    "--draws", "150", "--tune", "150", "--chains", "2", "--seed", "11",
]


@pytest.fixture(scope="module")
def fitted(workdir, data_csv):
    """One tiny fit through ``bayescount fit``, shared by the module."""
    path = workdir / "model.nc"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CI", "1")  # no progress bars in captured output
        code, out, err = run_cli(["fit", data_csv, *FIT_ARGS, "--out", path])
    return {"path": path, "code": code, "out": out, "err": err}


# ---------------------------------------------------- argument → model mapping
def parse(*args: str):
    return build_parser().parse_args(["fit", "data.csv", *args, "--out", "fit.nc"])


def test_model_from_args_maps_every_option():
    args = parse(
        "--counts", "y", "--exposure", "requests", "--exposure-unit", "requests",
        "--time", "t", "--group", "region", "service", "--group", "node",
        "--covariate", "load", "--covariate", "tier", "--family", "negative_binomial",
        "--seasonality", "daily,weekly:1", "--dispersion-by", "service",
        "--parameterization", "region=centered", "node=non_centered",
        "--draws", "300", "--tune", "200", "--chains", "3", "--seed", "5",
        "--sampler", "pymc", "--target-accept", "0.9",
    )
    spec = model_from_args(args).spec
    s = spec.schema
    assert (s.counts, s.exposure, s.exposure_unit, s.time) == ("y", "requests", "requests", "t")
    assert s.groups == ("region", "service", "node")
    assert s.nesting == "nested"
    assert s.covariates == ("load", "tier")
    assert spec.family == "negative_binomial"
    assert [(c.name, c.period_days, c.order) for c in spec.seasonality] == [
        ("daily", 1.0, 3), ("weekly", 7.0, 1)
    ]
    assert spec.dispersion_by == "service"
    assert spec.parameterization == {"region": "centered", "node": "non_centered"}
    assert fit_kwargs_from_args(args) == {
        "draws": 300, "tune": 200, "chains": 3, "random_seed": 5,
        "sampler": "pymc", "target_accept": 0.9,
        "progressbar": False,  # stdout is no terminal here: no progress table in the output
    }


def test_model_from_args_maps_the_latent_level():
    args = parse("--counts", "y", "--exposure", "n", "--time", "t", "--group", "service",
                 "node", "--latent", "ar1_laplace", "--latent-by", "service",
                 "--parameterization", "latent=centered")
    spec = model_from_args(args).spec
    assert (spec.latent, spec.latent_level) == ("ar1_laplace", "service")
    assert spec.parameterization == {"latent": "centered"}
    assert model_from_args(parse("--counts", "y", "--exposure", "n")).spec.latent is None


def test_model_from_args_defaults_crossed_and_no_exposure():
    plain = model_from_args(parse("--counts", "y", "--exposure", "n"))
    assert plain.spec.schema.groups == ()
    assert plain.spec.family == "poisson"
    assert plain.spec.seasonality == ()
    crossed = model_from_args(
        parse("--counts", "y", "--no-exposure", "--group", "a", "--group", "b", "--crossed")
    )
    assert crossed.spec.schema.exposure is None
    assert crossed.spec.schema.nesting == "crossed"
    assert crossed.spec.schema.groups == ("a", "b")
    kwargs = fit_kwargs_from_args(parse("--counts", "y", "--no-exposure"))
    assert kwargs == {"draws": 1000, "tune": 1000, "chains": 4, "random_seed": None,
                      "sampler": "nutpie", "target_accept": 0.8, "progressbar": False}


# ----------------------------------------------------- bad input, no sampling
def _negative_counts_csv(workdir: Path, data_csv: Path) -> Path:
    frame = pd.read_csv(data_csv)
    frame.loc[[3, 7], "errors"] = -1
    path = workdir / "negative.csv"
    frame.to_csv(path, index=False)
    return path


BASE = ["--counts", "errors", "--exposure", "requests", "--group", "region"]


@pytest.mark.parametrize(
    ("case", "args", "needles"),
    [
        ("missing file", ["{missing}", *BASE], ["No such file", "missing.csv"]),
        ("bad extension", ["{txt}", *BASE], [".txt"]),
        ("unknown column", ["{data}", "--counts", "nope", "--exposure", "requests"],
         ["'nope'", "not found"]),
        ("negative counts", ["{negative}", *BASE], ["'errors'", "2 negative counts"]),
        ("no exposure option", ["{data}", "--counts", "errors"], ["--exposure", "required"]),
        ("both exposure options", ["{data}", *BASE, "--no-exposure"], ["not allowed with"]),
        ("bad parameterization", ["{data}", *BASE, "--parameterization", "region"],
         ["LEVEL=CHOICE", "'region'"]),
        ("parameterization of a non-group", ["{data}", *BASE, "--parameterization",
                                             "node=centered"], ["'node'", "not a group"]),
        ("repeated parameterization", ["{data}", *BASE, "--parameterization",
                                       "region=centered", "region=non_centered"],
         ["more than once"]),
        ("unknown family", ["{data}", *BASE, "--family", "gaussian"], ["'gaussian'"]),
        ("zero draws", ["{data}", *BASE, "--draws", "0"], ["--draws", ">= 1"]),
        ("bad seasonality", ["{data}", *BASE, "--time", "timestamp", "--seasonality",
                             "yearly"], ["'yearly'"]),
        ("seasonality without time", ["{data}", *BASE, "--seasonality", "daily"],
         ["time column"]),
        ("dispersion for poisson", ["{data}", *BASE, "--dispersion-by", "region"],
         ["negative binomial"]),
        ("latent without time", ["{data}", *BASE, "--latent", "ar1"], ["time column"]),
        ("target accept out of range", ["{data}", *BASE, "--target-accept", "1.5"],
         ["argument --target-accept: must lie in [0.5, 1), got 1.5"]),
    ],
)
def test_fit_bad_input_is_one_line_exit_2(workdir, data_csv, case, args, needles):
    txt = workdir / "table.txt"
    txt.write_text("errors,requests\n1,2\n")
    paths = {
        "data": data_csv,
        "missing": workdir / "missing.csv",
        "txt": txt,
        "negative": _negative_counts_csv(workdir, data_csv),
    }
    args = [a.format(**paths) for a in args]
    out_path = workdir / f"never-{case.replace(' ', '-')}.nc"
    code, out, err = run_cli(["fit", *args, "--out", out_path])
    assert_usage_error(code, out, err, *needles)
    assert not out_path.exists()


def test_fit_out_is_a_directory(workdir, data_csv):
    code, out, err = run_cli(["fit", data_csv, *BASE, "--out", workdir])
    assert_usage_error(code, out, err, "is a directory")


@pytest.mark.parametrize("command", [["summary", "{fit}"], ["summary", "{fit}", "--json"],
                                     ["predict", "{fit}", "--data", "{data}", "--json"]])
def test_fit_argument_that_is_not_a_fit_file(data_csv, workdir, command):
    code, out, err = run_cli([c.format(fit=data_csv, data=data_csv) for c in command])
    assert_usage_error(code, out, err, "not a bayescount fit", "telemetry.csv")
    code, out, err = run_cli([c.format(fit=workdir / "absent.nc", data=data_csv)
                              for c in command])
    assert_usage_error(code, out, err, "No fit file", "absent.nc")


# ------------------------------------------------------------------- real fit
@pytest.mark.fit
def test_fit_saves_and_prints_summary(fitted):
    assert fitted["code"] == 0
    model = bayescount.load(fitted["path"])
    out = fitted["out"]
    for name in model.summary().index:
        assert name in out
    assert "Parameterization: " in out
    for level, choice in model.parameterization.items():
        assert f"{level}={choice}" in out
    assert model.parameterization["node"] == "non_centered"
    assert f"mean tree size {model.convergence.mean_tree_size:.1f}" in out
    assert f"Saved fit to {fitted['path']}" in out
    # 300 draws cannot pass the ESS >= 400 gate: warned on stderr, still saved, exit 0.
    assert not model.convergence.passed
    assert "bayescount: warning: Convergence gate: FAILED" in fitted["err"]
    assert model.convergence.problems[0] in fitted["err"]
    assert "Traceback" not in fitted["err"]
    assert model.spec.schema.exposure_unit == "requests"
    assert model.sampler_config.draws == 150
    assert model.sampler_config.random_seed == 11


@pytest.mark.fit
def test_summary_json_matches_library(fitted):
    code, out, err = run_cli(["summary", fitted["path"], "--json"])
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    assert set(doc) == {"parameters", "convergence", "spec", "parameterization"}
    model = bayescount.load(fitted["path"])
    table = model.summary()
    assert list(doc["parameters"]) == list(table.index)
    columns = {"mean": "mean", "sd": "sd", "hdi_low": "hdi94_lb", "hdi_high": "hdi94_ub",
               "r_hat": "r_hat", "ess_bulk": "ess_bulk", "ess_tail": "ess_tail"}
    for name, values in doc["parameters"].items():
        assert set(values) == set(columns)
        for key, column in columns.items():
            assert values[key] == pytest.approx(table.loc[name, column], rel=1e-12)
        assert values["hdi_low"] < values["mean"] < values["hdi_high"]
    conv = model.convergence.to_dict()
    assert doc["convergence"]["passed"] is False
    assert doc["convergence"]["problems"] == conv["problems"]
    assert doc["convergence"]["min_ess_bulk"] == pytest.approx(conv["min_ess_bulk"])
    assert doc["convergence"]["thresholds"] == conv["thresholds"]
    assert doc["spec"] == json.loads(json.dumps(model.spec.to_dict()))
    assert doc["parameterization"] == model.parameterization


@pytest.mark.fit
def test_console_script_prints_aligned_summary(fitted):
    # the console script of the environment, running the bayescount under test
    source = str(Path(bayescount.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "summary", str(fitted["path"])],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.split()[:3] == ["parameter", "mean", "sd"])
    table = bayescount.load(fitted["path"]).summary()
    rows = [line for line in lines if line.split() and line.split()[0] in table.index]
    assert [r.split()[0] for r in rows] == list(table.index)
    # Aligned: every row is as wide as the header and ends in the tail-ESS column.
    assert {len(r) for r in rows} == {len(header)}
    intercept = next(r for r in rows if r.startswith("intercept")).split()
    assert float(intercept[1]) == pytest.approx(table.loc["intercept", "mean"], rel=1e-3)
    assert float(intercept[7]) == pytest.approx(table.loc["intercept", "ess_tail"], abs=0.5)
    assert "Convergence gate: FAILED" in proc.stdout
    assert "min bulk ESS" in proc.stdout


def predict_json(fitted, new_csv, *extra) -> pd.DataFrame:
    code, out, err = run_cli(["predict", fitted["path"], "--data", new_csv, "--json", *extra])
    assert code == 0, err
    assert err == ""
    return pd.DataFrame(json.loads(out))


@pytest.mark.fit
def test_predict_one_row_per_input_with_ordered_quantiles(fitted, new_csv):
    new = pd.read_csv(new_csv)
    pred = predict_json(fitted, new_csv, "--seed", "1")
    assert len(pred) == len(new) == 12
    assert list(pred.columns) == [*new.columns, "mean", *QUANTILE_COLUMNS]
    pd.testing.assert_frame_equal(pred[new.columns], new, check_dtype=False)
    q = pred[QUANTILE_COLUMNS].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q[:, 0] <= pred["mean"]).all() and (pred["mean"] <= q[:, 2]).all()
    # The command's means are the library's for the same seed.
    model = bayescount.load(fitted["path"])
    expected = model.predict(new, random_seed=1).mean()
    np.testing.assert_allclose(pred["mean"], expected, rtol=1e-12)


@pytest.mark.fit
def test_predict_custom_quantiles_and_seed_reproducible(fitted, new_csv):
    first = predict_json(fitted, new_csv, "--seed", "4", "--quantiles", "0.1,0.9")
    again = predict_json(fitted, new_csv, "--seed", "4", "--quantiles", "0.1,0.9")
    assert list(first.columns[-3:]) == ["mean", "q0.1", "q0.9"]
    pd.testing.assert_frame_equal(first, again)
    other = predict_json(fitted, new_csv, "--seed", "5", "--quantiles", "0.1,0.9")
    assert not np.array_equal(first["mean"], other["mean"])


@pytest.mark.fit
def test_predict_rate_is_counts_over_exposure(fitted, new_csv):
    counts = predict_json(fitted, new_csv, "--seed", "2")
    rate = predict_json(fitted, new_csv, "--seed", "2", "--scale", "rate")
    for column in ["mean", *QUANTILE_COLUMNS]:
        np.testing.assert_allclose(rate[column], counts[column] / counts["requests"], rtol=1e-9)


@pytest.mark.fit
def test_predict_out_csv_and_parquet_match_json(fitted, new_csv, tmp_path):
    expected = predict_json(fitted, new_csv, "--seed", "3")
    for name in ("pred.csv", "pred.parquet"):
        code, out, err = run_cli(["predict", fitted["path"], "--data", new_csv, "--seed", "3",
                                  "--out", tmp_path / name])
        assert code == 0, err
        assert out.strip() == f"Wrote 12 rows to {tmp_path / name}"
        written = bayescount.read_table(tmp_path / name)
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv", "pred.parquet"]


@pytest.mark.fit
def test_predict_unseen_labels(fitted, new_csv, tmp_path):
    frame = pd.read_csv(new_csv)
    extra = frame.iloc[[0]].assign(node="r0-s0-n9")
    path = tmp_path / "unseen.csv"
    pd.concat([frame, extra]).to_csv(path, index=False)
    code, out, err = run_cli(["predict", fitted["path"], "--data", path, "--json",
                              "--unseen", "error"])
    assert_usage_error(code, out, err, "r0-s0-n9")
    pred = predict_json(fitted, path, "--seed", "1")
    assert len(pred) == 13
    assert pred["node"].iloc[-1] == "r0-s0-n9"
    assert math.isfinite(pred["mean"].iloc[-1]) and pred["mean"].iloc[-1] > 0


@pytest.mark.fit
@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--json", "--quantiles", "0.5,abc"], ["--quantiles", "'abc'"]),
        (["--json", "--quantiles", "1.5"], ["--quantiles", "'1.5'", "[0, 1]"]),
        (["--json", "--quantiles", ""], ["--quantiles", "at least one"]),
        (["--json", "--quantiles", "0.5,0.5"], ["repeats"]),
        (["--json", "--scale", "log"], ["--scale", "'log'"]),
        ([], ["--out", "--json", "required"]),
        (["--json", "--out", "{tmp}/p.csv"], ["not allowed with"]),
        (["--out", "{tmp}/p.txt"], ["'.txt'", ".parquet"]),
        (["--out", "{tmp}/no/such/dir/p.csv"], ["does not exist"]),
        (["--json", "--data", "{no_exposure}"], ["'requests'", "exposure"]),
        (["--json", "--data", "{tmp}/missing.csv"], ["No such file"]),
    ],
)
def test_predict_bad_input_is_one_line_exit_2(fitted, new_csv, tmp_path, extra, needles):
    no_exposure = tmp_path / "no_exposure.csv"
    pd.read_csv(new_csv).drop(columns="requests").to_csv(no_exposure, index=False)
    extra = [e.format(tmp=tmp_path, no_exposure=no_exposure) for e in extra]
    code, out, err = run_cli(["predict", fitted["path"], "--data", new_csv, *extra])
    assert_usage_error(code, out, err, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no_exposure.csv"]


@pytest.mark.fit
def test_predict_parquet_input_gives_iso_dates(fitted, new_csv, tmp_path):
    frame = pd.read_csv(new_csv, parse_dates=["timestamp"])
    path = tmp_path / "new.parquet"
    frame.to_parquet(path)
    from_parquet = predict_json(fitted, path, "--seed", "6")
    from_csv = predict_json(fitted, new_csv, "--seed", "6")
    assert from_parquet["timestamp"].iloc[0] == "2026-01-05T00:00:00.000"
    assert pd.to_datetime(from_parquet["timestamp"]).equals(frame["timestamp"])
    np.testing.assert_allclose(from_parquet["mean"], from_csv["mean"], rtol=1e-12)
