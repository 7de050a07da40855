"""The example fleet: deterministic, true to its stated truth, committed as generated."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescount as bc
from bayescount.examples import ExampleFleet, FleetTruth, load_example_fleet, make_example_fleet
from bayescount.exceptions import DataError, SpecError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "example_fleet"


@pytest.fixture(scope="module")
def fleet() -> ExampleFleet:
    return make_example_fleet()


def assert_same(a: ExampleFleet, b: ExampleFleet) -> None:
    for name, frame in a.frames().items():
        pd.testing.assert_frame_equal(frame, b.frames()[name], check_exact=True, obj=name)
    assert a.truth == b.truth


def test_same_seed_same_frames_other_seed_other_frames(fleet):
    assert_same(fleet, make_example_fleet(seed=2026))
    other = make_example_fleet(seed=3)
    assert not other.fleet["errors"].equals(fleet.fleet["errors"])
    assert other.truth.node_effect != fleet.truth.node_effect


def test_committed_sample_is_what_the_generator_makes(fleet):
    assert_same(load_example_fleet(), fleet)
    assert load_example_fleet(SAMPLE).truth == fleet.truth
    size = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert size < 1_000_000, size


def test_load_makes_the_fleet_when_there_is_no_sample(fleet, monkeypatch, tmp_path):
    monkeypatch.setattr("bayescount.examples._files.bundled_folder", lambda: tmp_path / "none")
    assert_same(load_example_fleet(), fleet)


def test_write_then_load_is_the_identity(fleet, tmp_path):
    written = fleet.write(tmp_path)
    assert sorted(written) == ["fleet", "future", "holdout", "incident", "next_hour", "sofar",
                               "truth"]
    assert_same(load_example_fleet(tmp_path), fleet)


def test_a_folder_without_the_files_is_one_clear_error(tmp_path):
    (tmp_path / "fleet.csv").write_text("timestamp,errors\n")
    with pytest.raises(DataError, match=r"holdout\.csv, .*truth\.json missing"):
        load_example_fleet(tmp_path)


def test_loading_imports_nothing_slow():
    code = ("import sys, bayescount as bc; f = bc.load_example_fleet(); "
            "print(len(f.fleet), sorted(m for m in ('pymc', 'pytensor', 'xarray', 'arviz_base')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split(maxsplit=1)
    assert out == ["6900", "[]\n"]


def test_shape_of_the_fleet(fleet):
    f, t = fleet.fleet, fleet.truth
    assert list(f.columns) == ["timestamp", "region", "service", "node", "requests", "errors"]
    assert f["timestamp"].min() == t.start == pd.Timestamp("2025-12-30")
    assert f["timestamp"].max() == t.history_end - pd.Timedelta(hours=1)
    assert sorted(f["region"].unique()) == ["r0", "r1", "r2", "r3"]
    assert f["node"].nunique() == 44 and not f.duplicated(["node", "timestamp"]).any()
    assert set(fleet.holdout["node"]) == set(f["node"]) == set(fleet.next_hour["node"])
    assert fleet.holdout["timestamp"].min() == t.history_end
    assert len(fleet.holdout) == 24 * 44 and len(fleet.next_hour) == 44
    assert list(fleet.sofar.columns) == ["time", "total", "bad"] and len(fleet.sofar) == 72
    assert fleet.sofar["bad"].sum() == f.loc[f["timestamp"] >= fleet.sofar["time"].min(),
                                             "errors"].sum()


def test_the_young_region_has_two_days(fleet):
    f, young = fleet.fleet, fleet.truth.young_region
    rows = f[f["region"] == young["region"]]
    assert young["region"] == "r3" and rows["timestamp"].min() == young["start"]
    assert rows["timestamp"].nunique() == 48 and rows["node"].nunique() == 4
    assert (f[f["region"] != "r3"].groupby("node")["timestamp"].min() == fleet.truth.start).all()


def test_the_deploy_raises_its_service_by_the_stated_factor(fleet):
    f, deploy = fleet.fleet, fleet.truth.deploy
    base = fleet.truth.expected_errors(f, deploy=False)
    svc = f["service"] == deploy["service"]
    after = svc & (f["timestamp"] >= deploy["start"])
    before = svc & (f["timestamp"] < deploy["start"])
    assert after.sum() == 34 * 4
    ratio_after = f.loc[after, "errors"].sum() / base[after].sum()
    ratio_before = f.loc[before, "errors"].sum() / base[before].sum()
    assert deploy["factor"] == 2.0
    assert ratio_after / ratio_before == pytest.approx(deploy["factor"], rel=0.15)
    assert ratio_before == pytest.approx(1.0, rel=0.1)


def test_the_incident_is_in_the_held_out_day(fleet):
    inc, truth = fleet.incident, fleet.truth.incident
    assert (truth["service"], str(truth["start"]), str(truth["end"])) == (
        "r1-s2", "2026-01-06 10:00:00", "2026-01-06 12:00:00")
    pd.testing.assert_frame_equal(
        inc, fleet.holdout[fleet.holdout["timestamp"].isin(inc["timestamp"])]
        .reset_index(drop=True))
    assert inc["timestamp"].min() == pd.Timestamp("2026-01-06 08:00") and len(inc) == 6 * 44
    hit = (inc["service"] == truth["service"]) & inc["timestamp"].between(
        truth["start"], truth["end"], inclusive="left")
    base = fleet.truth.expected_errors(inc, incident=False)
    assert inc.loc[hit, "errors"].sum() / base[hit].sum() == pytest.approx(4.0, rel=0.25)
    assert inc.loc[~hit, "errors"].sum() / base[~hit].sum() == pytest.approx(1.0, rel=0.1)


def test_the_outage_rows_are_missing(fleet):
    f, out = fleet.fleet, fleet.truth.outage
    assert out["rows"] == "missing" and out["nodes"] == ["r0-s0-n0", "r0-s0-n1", "r0-s0-n2"]
    during = f["timestamp"].between(out["start"], out["end"], inclusive="left")
    assert not (during & f["node"].isin(out["nodes"])).any()
    assert (f[during].groupby("timestamp")["node"].nunique() == 40 - 3).all()
    assert (f.groupby("node").size().loc[out["nodes"]] == 168 - 4).all()


def test_zero_heavy_nodes_are_mostly_zeros(fleet):
    zeros = fleet.fleet.groupby("node")["errors"].apply(lambda e: (e == 0).mean())
    heavy = list(fleet.truth.zero_heavy_nodes)
    assert heavy == ["r0-s2-n4", "r1-s1-n4", "r2-s3-n5"]
    assert zeros[heavy].min() > 0.6
    assert zeros.drop(heavy).max() < 0.4


def test_errors_follow_the_stated_rates_and_dispersion(fleet):
    f, truth = fleet.fleet, fleet.truth
    mu = truth.expected_errors(f)
    by_service = f.assign(mu=mu).groupby("service")[["errors", "mu"]].sum()
    assert (by_service["errors"] / by_service["mu"]).between(0.85, 1.15).all()
    # method of moments for NB2: E[(y - mu)^2 - mu] = mu^2 / alpha
    y = f["errors"].to_numpy()
    inv_alpha = ((y - mu) ** 2 - mu).sum() / (mu**2).sum()
    assert inv_alpha == pytest.approx(1 / truth.alpha, rel=0.2)
    # group_rates and expected_errors agree: requests x node rate x daily factor
    hours = f["timestamp"].dt.hour.to_numpy()
    daily = np.exp(truth.rate_daily_amplitude * np.cos(2 * np.pi * (hours - truth.peak_hour) / 24))
    rate = truth.group_rates("node").loc[f["node"]].to_numpy()
    plain = truth.expected_errors(f, deploy=False, incident=False)
    np.testing.assert_allclose(plain, f["requests"] * rate * daily, rtol=1e-12)
    assert truth.group_rates("region").index.tolist() == ["r0", "r1", "r2", "r3"]
    assert truth.base_rate == pytest.approx(5e-4)


def test_traffic_has_daily_and_weekly_seasonality(fleet):
    f = fleet.fleet[~fleet.fleet["node"].isin(fleet.truth.zero_heavy_nodes)
                    & (fleet.fleet["region"] != "r3")]
    per_hour = f.groupby(f["timestamp"].dt.hour)["requests"].mean()
    assert per_hour.idxmax() == 15 and per_hour.idxmin() == 3
    assert per_hour.max() / per_hour.min() == pytest.approx(np.exp(1.0), rel=0.1)
    weekend = f["timestamp"].dt.day_of_week >= 5
    per_node = f.groupby([weekend, "node"])["requests"].mean().unstack(0)
    assert (per_node[True] / per_node[False]).median() == pytest.approx(0.7, rel=0.05)


def test_future_repeats_the_last_day_and_has_no_counts(fleet):
    last = fleet.fleet[fleet.fleet["timestamp"] >= fleet.truth.history_end - pd.Timedelta("1D")]
    assert "errors" not in fleet.future and "errors" not in fleet.next_hour
    assert fleet.future["requests"].tolist() == last["requests"].tolist()
    assert (fleet.future["timestamp"] - pd.Timedelta("1D")).tolist() == last["timestamp"].tolist()


def test_repr_is_one_line(fleet):
    assert repr(fleet) == ("ExampleFleet(fleet=6900 rows, holdout=1056 rows, next_hour=44 rows, "
                           "future=1056 rows, incident=264 rows, sofar=72 rows; seed=2026)")


def test_truth_round_trips_through_json(fleet):
    assert FleetTruth.from_dict(fleet.truth.to_dict()) == fleet.truth


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days": 3}, "days must be an integer >= 5"),
    ({"young_days": 7}, r"young_days must be an integer in \[1, days\)"),
    ({"layout": ((1, 1),)}, "layout needs at least 3 regions"),
    ({"alpha": 0.0}, "must be > 0"),
    ({"seed": 1.5}, "seed must be an integer"),
])
def test_bad_arguments_are_spec_errors(kwargs, message):
    with pytest.raises(SpecError, match=message):
        make_example_fleet(**kwargs)


def test_exported_from_the_package():
    assert bc.make_example_fleet is make_example_fleet
    assert bc.load_example_fleet is load_example_fleet and bc.ExampleFleet is ExampleFleet
    with pytest.raises(SpecError, match="Unknown level 'pod'"):
        make_example_fleet().truth.group_rates("pod")
