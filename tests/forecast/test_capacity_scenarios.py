"""Capacity: predictive counts under scenarios, P(count > threshold), headroom multiplier."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from bayescount.exceptions import SpecError
from bayescount.forecast.capacity import capacity_table, forecast_capacity
from bayescount.forecast.scenarios import NewRegion, NodeCount, Traffic, parse_scenario
from bayescount.prep.schema import CountSchema

ROWS = pd.DataFrame({
    "t": np.repeat(pd.date_range("2026-01-01", periods=4, freq="1h"), 2),
    "svc": ["a", "b"] * 4,
})
MU = np.array([20.0, 5.0] * 4)  # per row; Poisson with no posterior spread


def lam(n=10_000):
    return np.broadcast_to(MU, (n, len(MU))).copy()


def test_total_exceedance_and_headroom_match_the_poisson_cdf():
    table = capacity_table(lam(), ROWS, ["svc"], per="total", threshold=100, risk=0.05,
                           rng=np.random.default_rng(0)).set_index("group")
    a = table.loc["a"]  # total ~ Poisson(80)
    assert a["mean"] == pytest.approx(80, rel=0.01)
    assert a["p_exceed"] == pytest.approx(stats.poisson.sf(100, 80), abs=0.006)
    # Largest m with P(Poisson(80 m) > 100) <= 0.05.
    exact = optimize.brentq(lambda m: stats.poisson.sf(100, 80 * m) - 0.05, 0.5, 2.0)
    assert a["max_multiplier"] == pytest.approx(exact, rel=0.01)
    assert table.loc["all", "mean"] == pytest.approx(100, rel=0.01)


def test_peak_exceedance_is_any_window_over():
    table = capacity_table(lam(), ROWS, ["svc"], time="t", per="peak", threshold=28,
                           rng=np.random.default_rng(1)).set_index("group")
    p_window = stats.poisson.sf(28, 20)
    assert table.loc["a", "p_exceed"] == pytest.approx(1 - (1 - p_window) ** 4, abs=0.01)


def test_headroom_is_the_limit_of_bisection_with_common_random_numbers():
    """P(count > k | m) recomputed by brute force at many m agrees with the headroom."""
    rng = np.random.default_rng(2)
    n = 2000
    lam_rows = rng.gamma(50, 20 / 50, size=(n, len(MU))) * (MU / 20)  # posterior spread
    table = capacity_table(lam_rows, ROWS, ["svc"], time="t", per="peak", threshold=30,
                           risk=0.1, rng=np.random.default_rng(3)).set_index("group")
    # Rebuild the same uniforms: capacity_table draws one uniform per cell per level.
    u_rng = np.random.default_rng(3)
    u = u_rng.random((n, 8))  # level "svc": cells (svc, t) in sorted order
    cells = lam_rows[:, np.lexsort((ROWS["t"], ROWS["svc"]))]
    probs = []
    for m in np.linspace(0.5, 2.0, 16):
        counts = stats.poisson.ppf(u, m * cells)
        peak_a = counts[:, :4].max(1)
        probs.append(np.mean(peak_a > 30))
    assert np.all(np.diff(probs) >= 0)  # monotone in the multiplier
    m_star = table.loc["a", "max_multiplier"]
    below = np.mean(stats.poisson.ppf(u, m_star * 0.999 * cells)[:, :4].max(1) > 30)
    above = np.mean(stats.poisson.ppf(u, m_star * 1.01 * cells)[:, :4].max(1) > 30)
    assert below <= 0.1 < above


def test_scaling_traffic_scales_headroom_exactly(nb_truth_model, sim_nb):
    base = sim_nb.frame[sim_nb.frame["timestamp"] < sim_nb.frame["timestamp"].min()
                        + pd.Timedelta(hours=1)]
    result = forecast_capacity(nb_truth_model, base, [Traffic(1.5), Traffic(2.0)],
                               threshold=150, risk=0.05, random_seed=7)
    t = result.table.set_index(["scenario", "level", "group"])
    one = t.loc[("current", "global", "all")]
    two = t.loc[("traffic=2", "global", "all")]
    onehalf = t.loc[("traffic=1.5", "global", "all")]
    # Same seed, same uniforms: intensities x2 => critical multipliers / 2.
    assert two["max_multiplier"] == pytest.approx(one["max_multiplier"] / 2, rel=1e-9)
    assert one["p_exceed"] <= onehalf["p_exceed"] <= two["p_exceed"]
    assert one["q0.5"] < onehalf["q0.5"] < two["q0.5"]
    nodes = t.xs("node", level="level")
    assert (nodes["max_multiplier"] > 0).all()
    assert result.per == "peak"


def test_scenarios_rewrite_the_table():
    schema = CountSchema("errors", "requests", time="t", groups=("region", "service", "node"))
    base = pd.DataFrame({
        "t": ["w1", "w1", "w1", "w2", "w2", "w2"],
        "region": ["r0", "r0", "r1"] * 2,
        "service": ["r0-s0", "r0-s0", "r1-s0"] * 2,
        "node": ["n0", "n1", "m0"] * 2,
        "requests": [100.0, 300.0, 50.0] * 2,
    })
    traffic = Traffic(1.3).apply(base, schema)
    assert traffic["requests"].tolist() == pytest.approx([130, 390, 65] * 2)
    region = NewRegion("r9", like="r0").apply(base, schema)
    new = region[region["region"] == "r9"]
    assert len(new) == 4 and set(new["node"]) == {"r9/n0", "r9/n1"}
    nodes = NodeCount(4, service="r0-s0").apply(base, schema)
    svc = nodes[nodes["service"] == "r0-s0"]
    assert len(svc) == 8 and set(svc["node"]) == {"n0", "n1", "r0-s0/new0", "r0-s0/new1"}
    assert svc.groupby("t")["requests"].sum().tolist() == [400.0, 400.0]
    assert nodes[nodes["service"] == "r1-s0"]["requests"].tolist() == [50.0, 50.0]
    with pytest.raises(SpecError, match="like='r5'"):
        NewRegion("r9", like="r5").apply(base, schema)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("traffic=1.3", Traffic(1.3)), ("new_region=eu-2,like=eu-1", NewRegion("eu-2", "eu-1")),
     ("nodes=8", NodeCount(8)), ("nodes=3,service=api", NodeCount(3, "api"))],
)
def test_parse_scenario(text, expected):
    assert parse_scenario(text) == expected


@pytest.mark.parametrize("text", ["traffic", "traffic=x", "growth=2", "nodes=0", "traffic=-1"])
def test_parse_scenario_errors(text):
    with pytest.raises(SpecError):
        parse_scenario(text)
