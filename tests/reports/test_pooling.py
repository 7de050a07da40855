"""The pooling table: raw rates from the data, posterior rates from the draws, shrinkage."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import LABEL

from bayescount.exceptions import LevelNotFoundError
from bayescount.reports import pooling_table
from bayescount.reports.pooling import rate_scale


@pytest.fixture(scope="module")
def pooling(report_fit):
    return pooling_table(report_fit, "service")


def test_raw_rates_and_counts_are_the_data(pooling, fleet):
    train = fleet["train"]
    by = train.groupby("service")
    t = pooling.table.set_index("group")
    np.testing.assert_allclose(t["raw_rate"], (by["errors"].sum() / by["requests"].sum())
                               .loc[t.index])
    assert t["events"].to_dict() == by["errors"].sum().to_dict()
    assert t["rows"].to_dict() == by.size().to_dict()
    assert (t["parent"] == by["region"].first().loc[t.index]).all()


def test_posterior_rate_lies_in_its_interval_and_shrinkage_follows_its_formula(pooling):
    t = pooling.table
    assert ((t["lower"] <= t["posterior_rate"]) & (t["posterior_rate"] <= t["upper"])).all()
    gap = np.log(t["raw_rate"] / t["parent_rate"])
    expected = 1 - np.log(t["posterior_rate"] / t["parent_rate"]) / gap
    keep = np.abs(gap) > np.log(1.05)
    np.testing.assert_allclose(t["shrinkage"][keep], expected[keep])
    assert t["shrinkage"][~keep].isna().all()


def test_a_top_level_is_pooled_toward_the_whole_fleet(report_fit):
    regions = pooling_table(report_fit, "region")
    assert regions.parent_level == "all"
    assert regions.table["parent_rate"].nunique() == 1


def test_unknown_level_is_refused(report_fit):
    with pytest.raises(LevelNotFoundError, match="No group level 'pod'"):
        pooling_table(report_fit, "pod")


def test_pooling_is_a_uniform_result(pooling):
    assert json.loads(json.dumps(pooling.to_dict(), allow_nan=False))["level"] == "service"
    assert "&lt;script&gt;" in pooling._repr_html_() and LABEL not in pooling._repr_html_()
    fig = pooling.plot()
    try:
        assert fig.axes[0].get_xlabel() == "events per 1,000 requests"
        assert fig.axes[0].get_legend() is not None
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("rate", "expected"), [(5e-4, (1e4, "per 10,000")),
                                                (0.02, (100.0, "per 100")),
                                                (3.0, (1.0, "per 1"))])
def test_rate_scale(rate, expected):
    assert rate_scale(rate) == expected
