import numpy as np
import pandas as pd
import pytest

from bayescount.exceptions import ColumnNotFoundError
from bayescount.forecast.rollup import group_paths, rollup_draws, summarise_draws

ROWS = pd.DataFrame({
    "region": ["r0", "r0", "r0", "r1", "r1"],
    "service": ["a", "a", "b", "c", "c"],
    "node": ["a1", "a2", "b1", "c1", "c2"],
})
LEVELS = ["region", "service", "node"]


def test_rollup_equals_sum_over_draws():
    rng = np.random.default_rng(0)
    draws = rng.poisson([3, 5, 7, 11, 13], size=(2, 300, 5))
    sums = rollup_draws(draws, ROWS, LEVELS)
    flat = draws.reshape(600, 5)
    np.testing.assert_array_equal(sums["region"].sel(group="r0").values, flat[:, :3].sum(1))
    np.testing.assert_array_equal(sums["service"].sel(group="r0/a").values, flat[:, :2].sum(1))
    np.testing.assert_array_equal(sums["node"].sel(group="r1/c/c2").values, flat[:, 4])
    np.testing.assert_array_equal(sums["global"].sel(group="all").values, flat.sum(1))
    assert list(sums) == ["region", "service", "node", "global"]


def test_parent_quantiles_are_not_sums_of_child_quantiles():
    rng = np.random.default_rng(1)
    draws = rng.poisson(20, size=(4000, 5))
    table = summarise_draws(rollup_draws(draws, ROWS, LEVELS), quantiles=(0.05, 0.95))
    nodes = table[table["level"] == "node"]
    world = table[table["level"] == "global"].iloc[0]
    # Means add up; upper quantiles of independent parts do not (sum of q95 > q95 of sum).
    assert world["mean"] == pytest.approx(nodes["mean"].sum())
    assert nodes["q0.95"].sum() > world["q0.95"] + 10
    assert world["q0.95"] == pytest.approx(np.quantile(draws.sum(1), 0.95))


def test_group_paths_and_errors():
    assert list(group_paths(ROWS, LEVELS, "service")) == ["r0/a", "r0/a", "r0/b", "r1/c", "r1/c"]
    with pytest.raises(ColumnNotFoundError, match="No group level 'zone'"):
        group_paths(ROWS, LEVELS, "zone")
