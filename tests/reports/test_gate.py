"""Green, amber and red: the convergence gate as the report shows it."""

from __future__ import annotations

import dataclasses

import pytest

from bayescount.inference.convergence import ConvergenceReport, ConvergenceThresholds
from bayescount.reports import convergence_gate

GOOD = ConvergenceReport(max_rhat=1.002, min_ess_bulk=1800.0, min_ess_tail=1500.0,
                         divergences=0, n_draws=4000, treedepth_fraction=0.0, min_bfmi=0.9,
                         mean_tree_size=7.0, worst_rhat=("intercept",), worst_ess=("alpha",))


def test_a_clean_gate_is_green():
    gate = convergence_gate(GOOD)
    assert gate.colour == "green" and gate.reasons == ()
    assert gate.to_dict()["headline"].startswith("green")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"min_ess_bulk": 450.0}, "ESS as low as 450, close to the limit 400 (alpha)"),
        ({"max_rhat": 1.009}, "R-hat up to 1.009, close to the limit 1.01 (intercept)"),
        ({"min_bfmi": 0.4}, "E-BFMI 0.40, close to the limit 0.3"),
        ({"treedepth_fraction": 0.005}, "0.5% of draws hit the maximum tree depth"),
        ({"divergences": 2, "thresholds": ConvergenceThresholds(max_divergences=5)},
         "2 divergent transitions of 4000 draws (tolerated up to 5)"),
        ({"thresholds": ConvergenceThresholds(min_ess=10.0)}, "looser thresholds than the "
                                                              "defaults (ESS)"),
    ],
)
def test_a_gate_passed_with_a_warning_is_amber(change, reason):
    gate = convergence_gate(dataclasses.replace(GOOD, **change))
    assert gate.colour == "amber"
    assert any(reason in r for r in gate.reasons), gate.reasons


def test_a_failed_gate_is_red_with_its_problems():
    problem = "ESS as low as 120 (< 400) for alpha; run more draws."
    report = dataclasses.replace(GOOD, min_ess_bulk=120.0, problems=(problem,))
    gate = convergence_gate(report)
    assert gate.colour == "red"
    assert gate.reasons == report.problems


def test_the_thresholds_just_passed_are_amber_not_green():
    edge = dataclasses.replace(GOOD, max_rhat=1.01, min_ess_bulk=400.0)
    assert edge.passed
    assert convergence_gate(edge).colour == "amber"


def test_progress_is_quiet_under_ci(monkeypatch, capsys):
    from bayescount.progress import progress_enabled, progress_steps

    monkeypatch.setenv("CI", "1")
    assert not progress_enabled()
    with progress_steps(2) as step:
        step("one")
        step("two")
    assert capsys.readouterr().out == ""
