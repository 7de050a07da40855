"""Issue 12, kind 9: decisions are reproducible by default and every probability has its MC error.

``slo``, ``attribute``, ``anomalies`` and ``capacity`` (CLI and Python) draw with a fixed
default seed, store it in the result and report a Monte Carlo standard error next to
every probability.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_forecast_cli import files, run  # noqa: F401 - the module fixture is reused

from bayescount.forecast import (
    ObservedSoFar,
    SLOSpec,
    attribute_incident,
    detect_anomalies,
    forecast_burn,
    forecast_capacity,
)
from bayescount.forecast._results import DEFAULT_SEED, binomial_mc_se


def _future(frame: pd.DataFrame) -> pd.DataFrame:
    last = frame[frame["timestamp"] > frame["timestamp"].max() - pd.Timedelta(hours=1)]
    return last.drop(columns="errors").assign(timestamp=last["timestamp"] + pd.Timedelta("1h"))


def test_python_entry_points_default_to_a_fixed_stored_seed(sim_nb, nb_truth_model):
    frame, model = sim_nb.frame, nb_truth_model
    future = _future(frame)
    obs = ObservedSoFar(10, 20_000, "23h", future["timestamp"].min())
    slo = SLOSpec(0.999, "1d")
    a, b = forecast_burn(model, slo, obs, future), forecast_burn(model, slo, obs, future)
    assert a.random_seed == b.random_seed == DEFAULT_SEED == 0
    np.testing.assert_array_equal(a.draws["cumulative_consumed"], b.draws["cumulative_consumed"])
    assert a.to_dict()["random_seed"] == 0
    fresh = forecast_burn(model, slo, obs, future, random_seed=None)
    assert isinstance(fresh.random_seed, int) and fresh.random_seed != 0
    again = forecast_burn(model, slo, obs, future, random_seed=fresh.random_seed)
    np.testing.assert_array_equal(fresh.draws["cumulative_consumed"],
                                  again.draws["cumulative_consumed"])
    assert not np.array_equal(fresh.draws["cumulative_consumed"], a.draws["cumulative_consumed"])

    start = frame["timestamp"].min() + pd.Timedelta("1h")
    end = start + pd.Timedelta("1h")
    x, y = (attribute_incident(model, frame, start, end) for _ in range(2))
    pd.testing.assert_frame_equal(x.table, y.table)
    assert x.random_seed == 0 and x.n_draws == 200
    cap = [forecast_capacity(model, future, threshold=30) for _ in range(2)]
    pd.testing.assert_frame_equal(cap[0].table, cap[1].table)
    assert cap[0].random_seed == 0
    anomalies = detect_anomalies(model, frame.head(50))
    assert anomalies.random_seed == 0 and anomalies.n_draws == 200


def test_every_probability_has_its_monte_carlo_error(sim_nb, nb_truth_model):
    frame, model = sim_nb.frame, nb_truth_model
    future = _future(frame)
    fc = forecast_burn(model, SLOSpec(0.999, "1d"),
                       ObservedSoFar(10, 20_000, "23h", future["timestamp"].min()), future)
    tte = fc.time_to_exhaustion()
    assert tte["p_exhausted_by_mc_se"].notna().equals(tte["p_exhausted_by"].notna())
    assert "p_over_1_mc_se" in fc.burn_rates()
    for rule in fc.rules:
        if rule.kind == "forecast" and rule.evaluable:
            assert 0 <= rule.probability_mc_se <= 0.5 / np.sqrt(fc.n_draws) + 0.05
            assert "MC s.e." in rule.reason
    start = frame["timestamp"].min() + pd.Timedelta("1h")
    att = attribute_incident(model, frame, start, start + pd.Timedelta("1h")).table
    np.testing.assert_allclose(att["p_rose_mc_se"], binomial_mc_se(att["p_rose"], 200))
    cap = forecast_capacity(model, future, threshold=30).table
    np.testing.assert_allclose(cap["p_exceed_mc_se"], np.sqrt(
        cap["p_exceed"] * (1 - cap["p_exceed"]) / 200))
    table = detect_anomalies(model, frame.head(50)).table
    np.testing.assert_allclose(table["p_upper_mc_se"], np.sqrt(
        table["p_upper"] * (1 - table["p_upper"]) / 200))
    spiky = frame.head(50).copy()
    spiky.loc[spiky.index[10:13], "errors"] += 60
    alerts = detect_anomalies(model, spiky).alerts()
    assert len(alerts) >= 1 and (alerts["min_tail_prob_mc_se"] >= 0).all()
    assert (alerts["min_tail_prob"] < 0.005).all()


def test_binomial_mc_se():
    assert binomial_mc_se(0.5, 100) == pytest.approx(0.05)
    assert binomial_mc_se(0.0, 100) == 0.0


def test_cli_without_seed_gives_identical_output_and_stores_the_seed(files):  # noqa: F811
    slo = ["slo", files / "truth.nc", "--objective", "0.999", "--window", "1d", "--observed",
           files / "sofar.csv", "--future", files / "future.csv", "--json"]
    first, second = run(slo), run(slo)
    assert first[0] == 0 and first[1] == second[1]
    payload = json.loads(first[1])
    assert payload["random_seed"] == 0 and payload["p_exhaust_mc_se"] is not None
    att = ["attribute", files / "truth.nc", "--data", files / "data.csv", "--incident",
           "2026-01-05T01:00/2026-01-05T02:00", "--json"]
    first, second = run(att), run(att)
    assert first[0] == 0 and first[1] == second[1]
    payload = json.loads(first[1])
    assert payload["random_seed"] == 0 and "p_rose_mc_se" in payload["groups"][0]
    cap = ["capacity", files / "truth.nc", "--data", files / "future.csv", "--threshold", 100]
    first, second = run(cap), run(cap)
    assert first[0] == 0 and first[1] == second[1]
    assert "p_exceed_mc_se" in first[1] and "seed 0" in first[1]
    code, out, err = run(["anomalies", files / "truth.nc", "--data", files / "data.csv"])
    assert code == 0 and "seed 0" in out and "MC s.e." in out
