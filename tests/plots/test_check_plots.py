"""Structure of the check plots (Agg backend): panels, lines, what they show."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayescount.checks.coverage import score_predictive, summarize_coverage
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.plots import plot_pit, plot_reliability, plot_rootogram
from bayescount.plots.pit import randomised_pit


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


def _p_value(ax) -> float:
    (text,) = [t.get_text() for t in ax.texts if t.get_text().startswith("p=")]
    return float(text.split("=")[1].split("(")[0])


def test_pit_of_a_model_simulated_from_itself_is_uniform_with_a_band(nb_model):
    """The fake fit sits at the truth the rows were drawn from: PIT values are uniform."""
    model, frame = nb_model
    pit = randomised_pit(model, max_draws=100, random_seed=0)
    assert pit.shape == (len(frame),) and 0 <= pit.min() and pit.max() <= 1
    assert stats.kstest(pit, "uniform").pvalue > 0.01
    pc = plot_pit(model, max_draws=100)
    ax = _axes(pc)["errors"]
    assert _p_value(ax) > 0.01
    band = pc.viz["band"]["errors"].item()
    (path,) = band.get_paths()
    spread = np.ptp(path.vertices[:, 1])
    assert 0.05 < spread < 0.3  # about +-2.4/sqrt(n) at the middle for n = 576
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    assert ax.figure.get_suptitle().startswith("Randomised PIT")


def test_pit_from_replicates_is_what_failed(nb_model):
    """Why the exact CDF: PITs against 100 replicates sit on a 1/100 grid, and the test
    over 576 rows rejects a model simulated from itself (the old ``p=0.00``)."""
    from arviz_plots import plot_ppc_pit

    from bayescount.inference.draws import predictive_tree

    model, _ = nb_model
    with np.errstate(all="ignore"):
        pc = plot_ppc_pit(predictive_tree(model, max_draws=100, random_seed=0))
    assert _p_value(_axes(pc)["errors"]) < 0.01


def test_rootogram_has_a_legend_and_units(nb_model):
    model, _ = nb_model
    ax = _axes(plot_rootogram(model, max_draws=40))["errors"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["predicted mean frequency", "90% predictive interval",
                      "observed frequency"]
    assert ax.get_xlabel() == "count per window" and "square-root" in ax.get_ylabel()


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
