"""The gate as a traffic light (``gate_colour``) and the Jupyter display of a fit."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from bayescount import ConvergenceReport, CountModel
from bayescount.inference import gate_colour
from bayescount.inference.convergence import gate_html

GREEN = ConvergenceReport(
    max_rhat=1.001, min_ess_bulk=2000.0, min_ess_tail=1800.0, divergences=0, n_draws=4000,
    treedepth_fraction=0.0, min_bfmi=0.9, mean_tree_size=7.0, worst_rhat=("mu",),
    worst_ess=("theta[a]",),
)


def test_clean_gate_is_green():
    assert gate_colour(GREEN) == ("green", ())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"max_rhat": 1.009}, "R-hat up to 1.009, close to the limit 1.01 (mu); run more draws."),
        ({"min_ess_tail": 450.0},
         "ESS as low as 450, close to the limit 400 (theta[a]); run more draws."),
        ({"treedepth_fraction": 0.004}, "0.4% of draws hit the maximum tree depth."),
    ],
)
def test_passed_with_warnings_is_amber(change, reason):
    report = dataclasses.replace(GREEN, **change)
    assert report.passed
    assert gate_colour(report) == ("amber", (reason,))


def test_failed_gate_is_red_with_its_problems():
    problems = ("R-hat up to 1.200 (> 1.01) for mu; run longer.",)
    report = dataclasses.replace(GREEN, max_rhat=1.2, problems=problems)
    assert gate_colour(report) == ("red", problems)
    html = gate_html(report)
    assert "bayescount-gate-red" in html and "FAILED" in html and "<li>R-hat up to" in html


def test_badge_escapes_reasons():
    report = dataclasses.replace(GREEN, max_rhat=1.009, worst_rhat=("<script>x</script>",))
    html = gate_html(report)
    assert "bayescount-gate-amber" in html and "&lt;script&gt;" in html
    assert "<script>" not in html


@pytest.fixture(scope="module")
def fitted_model():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
    from fakefit_helpers import simulated_fake

    model, frame, _ = simulated_fake("negative_binomial", seed=2, rate=1e-3)
    return model, frame


def test_fit_html_is_a_compact_summary_with_the_gate_colour(fitted_model):
    model, frame = fitted_model
    fit = model.fit_
    html = fit._repr_html_()
    colour, _ = gate_colour(fit.convergence)
    assert f"bayescount-gate-{colour}" in html
    assert "negative_binomial" in html and f"{len(frame):,}" in html
    post = fit.posterior
    assert f"{post.sizes['chain']} chains x {post.sizes['draw']}" in html
    for level in fit.design.levels:
        assert f"{level.name} ({len(level.labels)})" in html
    assert "<details><summary>parameters</summary>" in html
    # the model shows the fit's display when fitted, and only its repr before
    assert fit._repr_html_() in model._repr_html_()
    unfitted = CountModel("errors", "requests", groups=["region"])
    assert "bayescount-gate" not in unfitted._repr_html_()
    assert np.isfinite(fit.convergence.max_rhat)
