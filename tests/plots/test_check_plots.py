"""Structure of the check plots (Agg backend): panels, lines, what they show."""

from __future__ import annotations

import numpy as np
import pytest

from bayescount.checks.coverage import score_predictive, summarize_coverage
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.plots import plot_pit, plot_reliability, plot_rootogram


def _axes(pc):
    return {name: pc.viz["plot"][name].item() for name in pc.viz["plot"].data_vars}


def test_rootogram_single_panel_shows_observed_frequencies(nb_model):
    model, frame = nb_model
    pc = plot_rootogram(model, max_draws=100)
    axes = _axes(pc)
    assert list(axes) == ["errors"]
    (ax,) = axes.values()
    assert ax.get_yscale() == "sqrt"
    observed = pc.viz["observed_markers"]["errors"].item().get_offsets()
    values, counts = np.unique(frame["errors"], return_counts=True)
    np.testing.assert_array_equal(observed[:, 0], values)
    np.testing.assert_array_equal(observed[:, 1], counts)


def test_grouped_rootogram_has_one_panel_per_service(nb_model):
    model, frame = nb_model
    pc = plot_rootogram(model, by="service", max_draws=100)
    axes = _axes(pc)
    assert sorted(axes) == sorted(frame["service"].unique())
    assert len({id(ax) for ax in axes.values()}) == 6
    region = plot_rootogram(model, by="region", max_draws=40)
    assert sorted(_axes(region)) == ["r0", "r1"]
    with pytest.raises(ColumnNotFoundError, match="'zone'"):
        plot_rootogram(model, by="zone")


def test_pit_panels(nb_model):
    model, frame = nb_model
    assert list(_axes(plot_pit(model, max_draws=100))) == ["errors"]
    pc = plot_pit(model, by="region", max_draws=100, coverage=True)
    assert sorted(_axes(pc)) == ["r0", "r1"]


def test_reliability_diagram_draws_one_line_per_group():
    rng = np.random.default_rng(0)
    n = 600
    mu = rng.gamma(2, 3, n)
    y = rng.poisson(mu)
    groups = np.array(["api", "db", "web"])[rng.integers(0, 3, n)]
    report = summarize_coverage(score_predictive(y, mu[None], random_seed=0),
                                groups=groups, by="service")
    fig = plot_reliability(report)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert lines[0].get_linestyle() == ":"  # the diagonal
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["nominal", "overall", "api", "db", "web"]
    assert ax.get_title() == "Coverage of held-out rows per service"
    overall = report.overall
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(),
                               [r.coverage for r in overall])
    only = report.plot(scope="overall", inclusive=True)
    assert {t.get_text() for t in only.axes[0].get_legend().get_texts()} == {
        "nominal", "overall", "overall (inclusive)"}
    with pytest.raises(SpecError, match="scope"):
        plot_reliability(report, scope="nodes")
