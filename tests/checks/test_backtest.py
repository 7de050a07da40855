import json
import warnings

import numpy as np
import pandas as pd
import pytest

from bayescount import ConvergenceThresholds, CountModel, SamplerConfig
from bayescount.checks._backtest_jobs import origin_design, shared_design
from bayescount.checks.backtest import BacktestReport, backtest
from bayescount.exceptions import ColumnNotFoundError, ConvergenceWarning, SpecError
from bayescount.prep.splits import rolling_origins
from bayescount.testing import simulate_telemetry

LOOSE = ConvergenceThresholds(min_ess=10, max_rhat=1.2, max_divergences=5, min_bfmi=0.0)
FAKE = {"config": SamplerConfig(draws=40, chains=2), "thresholds": LOOSE, "executor": "serial"}


@pytest.fixture(scope="module")
def fleet():
    return simulate_telemetry(2, 2, 1, 24, window="1h", daily_amplitude=0.5, seed=3).frame


@pytest.fixture(scope="module")
def fake_report(fleet, fake_sampler) -> BacktestReport:
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       seasonality="daily:1")
    return backtest(model, fleet, origins=3, horizon=2, **FAKE,
                    random_seed=5, sample_fn=fake_sampler)


# ------------------------------------------------------------- report structure
def test_rows_cover_every_holdout_once(fake_report, fleet):
    rows = fake_report.rows
    splits = rolling_origins(fleet, "timestamp", origins=3, horizon=2)
    assert len(rows) == sum(len(s.holdout) for s in splits) == 3 * 2 * 4
    assert sorted(rows["horizon"].unique()) == [1, 2]
    assert rows.groupby("origin")["timestamp"].min().gt(
        rows.groupby("origin")["origin_time"].first()).all()
    assert rows["pit"].between(0, 1).all() and (rows["crps"] >= 0).all()
    assert fake_report.baseline == "mean"  # 24 hourly steps: a day does not fit the training


def test_to_frame_has_every_scope_and_consistent_numbers(fake_report):
    frame = fake_report.to_frame()
    scopes = frame.index.get_level_values("scope").unique().tolist()
    assert scopes == ["overall", "group", "horizon", "origin"]
    assert set(frame.loc["horizon"].index.get_level_values("group")) == {"1", "2"}
    assert set(frame.loc["origin"].index.get_level_values("group")) == {"0", "1", "2"}
    rows = fake_report.rows
    overall = frame.loc[("overall", "(all)", 0.9)]
    assert overall["n"] == len(rows)
    assert overall["mae"] == pytest.approx((rows["observed"] - rows["mean"]).abs().mean())
    assert overall["scaled_mae"] == pytest.approx(overall["mae"] / rows["observed"].mean())
    base = (rows["observed"] - rows["baseline"]).abs().mean()
    assert overall["relative_mae"] == pytest.approx(overall["mae"] / base)
    # randomised coverage from the stored PIT values
    inside = (rows["pit"] > 0.05) & (rows["pit"] < 0.95)
    assert overall["coverage"] == pytest.approx(inside.mean())
    h1 = rows[rows["horizon"] == 1]
    assert frame.loc[("horizon", "1", 0.5), "n"] == len(h1)


def test_report_serialises_and_displays(fake_report):
    doc = json.loads(json.dumps(fake_report.to_dict(), allow_nan=False))
    assert set(doc["point_metrics"]["horizons"]) == {"1", "2"}
    assert doc["workers"] == 1 and doc["reused_compiled"] is False
    assert len(doc["origins"]) == 3 and doc["baseline"] == "mean"
    assert set(doc["origin_coverage"]) == {"0", "1", "2"}
    text = str(fake_report)
    assert "3 origin(s) x 2 step(s)" in text and "MAE / mean(observed)" in text
    assert "<table" in fake_report._repr_html_()
    assert list(fake_report.origins_frame()["n_train"]) == [18 * 4, 20 * 4, 22 * 4]


def test_plot_shows_coverage_by_horizon(fake_report):
    import matplotlib

    matplotlib.use("Agg")
    fig = fake_report.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("horizon")
    assert len(ax.lines) == 2 * 4  # a coverage line and a nominal line per level


def test_same_seed_same_numbers_with_the_fake(fleet, fake_sampler, fake_report):
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       seasonality="daily:1")
    again = backtest(model, fleet, origins=3, horizon=2, **FAKE,
                     random_seed=5, sample_fn=fake_sampler)
    pd.testing.assert_frame_equal(again.rows, fake_report.rows)


# ---------------------------------------------------------------- baselines
def _daily_series(days=4):
    times = pd.date_range("2026-01-05", periods=24 * days, freq="1h")
    hour = times.hour.to_numpy()
    exposure = np.where(np.arange(len(times)) % 2 == 0, 10.0, 20.0)
    rate = 1.0 + hour  # exactly periodic rate per unit exposure
    return pd.DataFrame({"t": times, "exposure": exposure, "y": (rate * exposure).astype(int)})


def test_seasonal_naive_baseline_carries_the_rate_one_season_back(fake_sampler):
    frame = _daily_series()
    model = CountModel("y", "exposure", time="t", seasonality="daily:1")
    # horizon 30 > one day: rows 25..30 steps ahead look back two days
    report = backtest(model, frame, origins=1, horizon=30, **FAKE, random_seed=1,
                      sample_fn=fake_sampler)
    assert report.baseline == "seasonal_naive" and report.baseline_period == 24
    rows = report.rows
    np.testing.assert_allclose(rows["baseline"], rows["observed"])
    assert report.point_metrics().loc[("overall", "(all)"), "baseline_mae"] == 0


def test_mean_baseline_is_the_training_rate_times_exposure(fake_sampler):
    frame = _daily_series()
    model = CountModel("y", "exposure", time="t", seasonality="daily:1")
    report = backtest(model, frame, origins=1, horizon=5, baseline="mean", **FAKE,
                      random_seed=1, sample_fn=fake_sampler)
    train = frame.iloc[:-5]
    rate = train["y"].sum() / train["exposure"].sum()
    np.testing.assert_allclose(report.rows["baseline"], rate * frame["exposure"].iloc[-5:])


def test_seasonal_naive_needs_a_season_that_fits(fake_sampler, fleet):
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    with pytest.raises(SpecError, match="seasonal_naive"):
        backtest(model, fleet, origins=1, horizon=2, baseline="seasonal_naive",
                 **FAKE, sample_fn=fake_sampler)


# ----------------------------------------------------------- design and inputs
def test_design_has_all_labels_and_earliest_training_constants(fleet):
    late = fleet[fleet["timestamp"] >= fleet["timestamp"].min() + pd.Timedelta("20h")].copy()
    late["service"] = late["service"].where(late["service"] != "r0-s0", "r0-new")
    frame = pd.concat([fleet, late.iloc[:4].assign(timestamp=late["timestamp"].iloc[:4])])
    frame = frame.drop_duplicates(["timestamp", "region", "service"]).reset_index(drop=True)
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    splits = rolling_origins(frame, "timestamp", origins=2, horizon=2)
    design = shared_design(frame, splits, model.spec)
    assert "r0-new" in design.level("service").labels
    early, _ = model.prepare(splits[0].train)
    assert design.pooled_log_rate == early.pooled_log_rate
    assert design.reference_exposure == early.reference_exposure
    assert design.time_grid is None


def test_latent_states_end_at_each_origin(fleet):
    """Held-out steps continue each draw's path, as predict does; no prior-only states."""
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       latent="ar1")
    splits = rolling_origins(fleet, "timestamp", origins=2, horizon=3)
    design = shared_design(fleet, splits, model.spec)
    for split in splits:
        grid = origin_design(design, split, model.spec).time_grid
        assert grid.origin == fleet["timestamp"].min()
        assert grid.origin + grid.step * (grid.length - 1) == split.origin
    plain = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    assert origin_design(design, splits[0], plain.spec) is None


def test_label_absent_from_early_training_is_predicted(fake_sampler, fleet):
    frame = fleet.copy()
    late = frame["timestamp"] >= frame["timestamp"].min() + pd.Timedelta("21h")
    frame.loc[late & (frame["service"] == "r1-s1"), "service"] = "r1-s9"
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    report = backtest(model, frame, origins=2, horizon=2, **FAKE,
                      random_seed=2, sample_fn=fake_sampler)
    assert "r1-s9" in set(report.rows["service"])
    assert np.isfinite(report.rows["mean"]).all()


def test_failed_gate_warns_once_naming_origins(fleet, fake_sampler):
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    strict = {**FAKE, "thresholds": ConvergenceThresholds(min_ess=10_000)}
    with pytest.warns(ConvergenceWarning, match=r"failed at 2 of 2 backtest origins \(\[0, 1\]\)"):
        report = backtest(model, fleet, origins=2, horizon=1, sample_fn=fake_sampler, **strict)
    assert not report.converged


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"executor": "threads"}, SpecError, "Unknown executor 'threads'"),
        ({"executor": "processes", "scheduler": "tcp://x:1"}, SpecError, "needs executor='dask'"),
        ({"baseline": "naive"}, SpecError, "baseline must be"),
        ({"by": "zone"}, ColumnNotFoundError, "by='zone'"),
        ({"max_workers": 0}, SpecError, "max_workers"),
    ],
)
def test_bad_arguments_are_refused(fleet, fake_sampler, kwargs, error, match):
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    kwargs = {**FAKE, "sample_fn": fake_sampler, **kwargs}
    with pytest.raises(error, match=match):
        backtest(model, fleet, origins=2, horizon=1, **kwargs)


def test_old_keyword_names_work_for_one_release(fleet, fake_sampler, fake_report):
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       seasonality="daily:1")
    old = {"draws": 40, "chains": 2, "thresholds": LOOSE, "random_seed": 5}
    with pytest.warns(FutureWarning, match="fit_kwargs= is deprecated"), \
            pytest.warns(FutureWarning, match="parallel= is deprecated"):
        again = backtest(model, fleet, origins=3, horizon=2, fit_kwargs=old, parallel=False,
                         sample_fn=fake_sampler)
    assert again.executor == "serial"
    pd.testing.assert_frame_equal(again.rows, fake_report.rows)
    with pytest.warns(FutureWarning), pytest.raises(SpecError, match="Unknown fit_kwargs"):
        backtest(model, fleet, fit_kwargs={"draw": 10}, sample_fn=fake_sampler)
    with pytest.warns(FutureWarning), pytest.raises(SpecError, match="not both"):
        backtest(model, fleet, executor="serial", parallel=True, sample_fn=fake_sampler)


def test_backtest_needs_a_time_column(fleet):
    with pytest.raises(SpecError, match="time column"):
        backtest(CountModel("errors", "requests", groups=["region", "service"]), fleet)


# -------------------------------------------------------------- real refits
@pytest.mark.fit
def test_serial_and_parallel_give_identical_numbers():
    """Two origins, a tiny Poisson model: one compile re-used serially; two workers.

    Two regions make ``region_sd`` barely identified: what is tested is that both
    executors give the same numbers, so the gate only refuses a broken run.
    """
    frame = simulate_telemetry(2, 2, 1, 12, window="1h", seed=3).frame
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"],
                       parameterization={"region": "non_centered", "service": "non_centered"})
    kwargs = {
        "origins": 2,
        "horizon": 2,
        "config": SamplerConfig(draws=200, tune=300, chains=2, target_accept=0.9),
        "thresholds": ConvergenceThresholds(min_ess=5, max_rhat=1.5, max_divergences=20,
                                            min_bfmi=0.0),
        "random_seed": 7,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        serial = backtest(model, frame, executor="serial", **kwargs)
        parallel = backtest(model, frame, executor="processes", max_workers=2, **kwargs)
    assert serial.workers == 1 and parallel.workers == 2
    assert (serial.executor, parallel.executor) == ("serial", "processes")
    assert serial.reused_compiled and parallel.reused_compiled
    # serially the model is compiled once and re-used by the second origin
    assert serial.origins[0].compile_seconds > 0 and serial.origins[1].compile_seconds == 0
    assert all(o.compile_seconds > 0 for o in parallel.origins)  # one compile per worker
    cols = ["observed", "mean", "baseline", "pit", "crps"]
    pd.testing.assert_frame_equal(serial.rows[cols], parallel.rows[cols], check_exact=True)
    assert serial.to_frame().equals(parallel.to_frame())
    assert len(serial.rows) == 2 * 2 * 4


# ---------------------------------------------------------------------- CLI
def _cli(argv, monkeypatch, fake_sampler):
    """Run ``bayescount backtest`` through a parser holding only this command."""
    import argparse
    import functools

    from bayescount.checks import backtest as backtest_module
    from bayescount.cli import backtest_commands

    calls = []
    original = backtest  # the library function, even when an earlier call patched it

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, sample_fn=fake_sampler, **kwargs)

    # the command imports the library when it runs: patch the function at its source
    monkeypatch.setattr(backtest_module, "backtest", functools.wraps(backtest)(spy))
    parser = argparse.ArgumentParser(prog="bayescount")
    backtest_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args), calls


def test_cli_backtest_json(tmp_path, fleet, monkeypatch, fake_sampler, capsys):
    path = tmp_path / "fleet.csv"
    fleet.to_csv(path, index=False)
    argv = ["backtest", str(path), "--counts", "errors", "--exposure", "requests",
            "--time", "timestamp", "--group", "region", "service", "--draws", "30",
            "--chains", "2", "--seed", "3", "--origins", "2", "--horizon", "2",
            "--probs", "0.5,0.9", "--serial", "--json"]
    with pytest.warns(ConvergenceWarning):  # default thresholds: 60 fake draws
        code, calls = _cli(argv, monkeypatch, fake_sampler)
    assert code == 0
    (kwargs,) = calls
    assert kwargs["origins"] == 2 and kwargs["horizon"] == 2 and kwargs["executor"] == "serial"
    assert kwargs["probs"] == (0.5, 0.9) and kwargs["config"].random_seed == 3
    assert kwargs["config"].draws == 30 and kwargs["scheduler"] is None
    doc = json.loads(capsys.readouterr().out)
    assert doc["coverage"]["levels"] == [0.5, 0.9]
    assert set(doc["point_metrics"]["horizons"]) == {"1", "2"}
    assert doc["converged"] is False


def test_cli_backtest_table_and_strict(tmp_path, fleet, monkeypatch, fake_sampler, capsys):
    path = tmp_path / "fleet.csv"
    fleet.to_csv(path, index=False)
    argv = ["backtest", str(path), "--counts", "errors", "--exposure", "requests",
            "--time", "timestamp", "--group", "region", "service", "--draws", "30",
            "--chains", "2", "--origins", "2", "--serial", "--strict"]
    with pytest.warns(ConvergenceWarning):
        code, _ = _cli(argv, monkeypatch, fake_sampler)
    assert code == 1  # the fake fit fails the default convergence gate
    out = capsys.readouterr().out
    assert len(out.splitlines()) <= 25, out
    assert "Least calibrated of" in out and "By horizon:" not in out
    assert "Refits: 0 of 2 passed the convergence gate" in out
    with pytest.warns(ConvergenceWarning):
        code, _ = _cli([*argv, "--all"], monkeypatch, fake_sampler)
    out = capsys.readouterr().out
    assert "By horizon:" in out and "By group:" in out and "Refits:" in out


def test_cli_refuses_bad_input(tmp_path, fleet, monkeypatch, fake_sampler, capsys):
    path = tmp_path / "fleet.csv"
    fleet.to_csv(path, index=False)
    base = ["backtest", str(path), "--counts", "errors", "--exposure", "requests",
            "--group", "region", "service"]
    with pytest.raises(SystemExit) as exit_info:
        _cli([*base, "--time", "timestamp", "--origins", "0"], monkeypatch, fake_sampler)
    assert exit_info.value.code == 2
    assert "must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SpecError, match="time column"):  # main() prints it, exit code 2
        _cli(base, monkeypatch, fake_sampler)


def test_cli_executor_options():
    import argparse

    from bayescount.cli import backtest_commands
    from bayescount.cli.fit_options import executor_from_args

    parser = argparse.ArgumentParser(prog="bayescount")
    backtest_commands.register(parser.add_subparsers(dest="command", required=True))

    def chosen(*argv):
        return executor_from_args(parser.parse_args(
            ["backtest", "data.csv", "--counts", "y", "--no-exposure", *argv]))

    assert chosen() == "processes"  # the backtest default
    assert chosen("--serial") == chosen("--executor", "serial") == "serial"
    assert chosen("--executor", "dask") == "dask"
    assert chosen("--scheduler", "tcp://10.0.0.1:8786") == "dask"
    with pytest.raises(SpecError, match="--serial .* conflicts with --executor dask"):
        chosen("--serial", "--executor", "dask")
    with pytest.raises(SpecError, match="--scheduler needs --executor dask, not serial"):
        chosen("--serial", "--scheduler", "tcp://10.0.0.1:8786")
