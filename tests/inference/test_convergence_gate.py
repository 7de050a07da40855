"""The convergence gate on hand-made DataTrees: each check fails for its own reason."""

import json
import warnings

import numpy as np
import pytest
import xarray as xr

from bayescount import (
    ConvergenceReport,
    ConvergenceThresholds,
    ConvergenceWarning,
    SpecError,
    check_convergence,
)

CHAINS, DRAWS = 4, 1000


def make_tree(mu=None, theta=None, *, diverging=None, maxdepth=None, energy=None, seed=0):
    """A fit-shaped tree: ``mu`` (chain, draw), ``theta`` (chain, draw, school)."""
    rng = np.random.default_rng(seed)
    shape = (CHAINS, DRAWS)
    mu = rng.normal(size=shape) if mu is None else mu
    theta = rng.normal(size=(*shape, 3)) if theta is None else theta
    posterior = xr.Dataset(
        {"mu": (("chain", "draw"), mu), "theta": (("chain", "draw", "school"), theta)},
        coords={"chain": np.arange(CHAINS), "draw": np.arange(DRAWS),
                "school": ["a", "b", "c"]},
    )
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"),
                          np.zeros(shape, bool) if diverging is None else diverging),
            "maxdepth_reached": (("chain", "draw"),
                                 np.zeros(shape, bool) if maxdepth is None else maxdepth),
            "energy": (("chain", "draw"), rng.normal(size=shape) if energy is None else energy),
            "n_steps": (("chain", "draw"), np.full(shape, 7.0)),
        },
        coords={"chain": np.arange(CHAINS), "draw": np.arange(DRAWS)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def gate(tree, **kwargs) -> ConvergenceReport:
    return check_convergence(tree, emit_warning=False, **kwargs)


def test_iid_draws_pass():
    report = check_convergence(make_tree())  # warnings are errors in this suite
    assert report.passed and report.problems == ()
    assert report.max_rhat < 1.01
    assert report.min_ess_bulk > 2000 and report.min_ess_tail > 1000
    assert report.divergences == 0 and report.n_draws == CHAINS * DRAWS
    assert report.treedepth_fraction == 0.0
    assert report.min_bfmi > 1.0  # iid energy: E-BFMI about 2
    assert report.mean_tree_size == 7.0
    assert report.to_frame()["ok"].all()


def test_chains_with_different_means_fail_rhat_naming_the_parameter():
    theta = np.random.default_rng(1).normal(size=(CHAINS, DRAWS, 3))
    theta[0, :, 1] += 3.0  # chain 0 sits elsewhere for school "b"
    report = gate(make_tree(theta=theta))
    assert not report.passed
    assert report.max_rhat > 1.1
    assert report.worst_rhat[0] == "theta[b]"
    (problem,) = [p for p in report.problems if "R-hat" in p]
    assert "theta[b]" in problem and "> 1.01" in problem
    assert report.to_frame().loc["max R-hat", "ok"] == np.False_


def test_divergences_are_counted_and_reported():
    diverging = np.zeros((CHAINS, DRAWS), bool)
    diverging[2, [5, 50, 500]] = True
    report = gate(make_tree(diverging=diverging), parameterization={"node": "centered"})
    assert report.divergences == 3
    (problem,) = report.problems
    assert problem.startswith(f"3 divergent transitions of {CHAINS * DRAWS} draws")
    assert "target_accept" in problem and "node" in problem
    # Tolerated when the threshold allows it.
    assert gate(make_tree(diverging=diverging),
                thresholds=ConvergenceThresholds(max_divergences=3)).passed


def test_a_stuck_chain_has_a_low_ess():
    mu = np.random.default_rng(2).normal(size=(CHAINS, DRAWS))
    mu[1] = np.repeat(mu[1, :10], 100)  # chain 1 moves only 10 times
    report = gate(make_tree(mu=mu))
    assert report.min_ess_bulk < 400 or report.min_ess_tail < 400
    assert report.worst_ess[0] == "mu"
    (problem,) = [p for p in report.problems if p.startswith("ESS")]
    assert "for mu" in problem and "(< 400)" in problem


def test_slow_mixing_gives_low_ess_without_other_problems():
    rng = np.random.default_rng(3)
    mu = np.zeros((CHAINS, DRAWS))
    for t in range(1, DRAWS):  # AR(1), phi = 0.97: ESS about 15 per 1000 draws
        mu[:, t] = 0.97 * mu[:, t - 1] + rng.normal(size=CHAINS) * np.sqrt(1 - 0.97**2)
    report = gate(make_tree(mu=mu), thresholds=ConvergenceThresholds(max_rhat=1.1))
    assert report.min_ess_bulk < 150
    assert len(report.problems) == 1 and report.problems[0].startswith("ESS")


def test_tree_depth_and_bfmi_checks():
    maxdepth = np.zeros((CHAINS, DRAWS), bool)
    maxdepth[:, :50] = True  # 5% of draws
    energy = np.cumsum(np.random.default_rng(4).normal(size=(CHAINS, DRAWS)), axis=1)
    report = gate(make_tree(maxdepth=maxdepth, energy=energy))
    assert report.treedepth_fraction == pytest.approx(0.05)
    assert report.min_bfmi < 0.3
    text = " ".join(report.problems)
    assert "5.0% of draws hit the maximum tree depth" in text
    assert "E-BFMI" in text


def test_warning_is_emitted_at_the_callers_line_and_can_be_suppressed():
    theta = np.random.default_rng(1).normal(size=(CHAINS, DRAWS, 3))
    theta[0] += 3.0
    tree = make_tree(theta=theta)
    with pytest.warns(ConvergenceWarning, match=r"R-hat up to .* for theta\[") as record:
        check_convergence(tree)
    assert record[0].filename == __file__
    assert "Convergence gate: FAILED" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_convergence(tree, emit_warning=False)
    assert not report.passed


def test_report_serialises_to_json():
    report = gate(make_tree(diverging=np.ones((CHAINS, DRAWS), bool)))
    d = json.loads(json.dumps(report.to_dict()))
    assert d["passed"] is False and d["divergences"] == CHAINS * DRAWS
    assert d["thresholds"]["max_rhat"] == 1.01
    assert "FAILED" in str(report) and "<li>" in report._repr_html_()


def test_invalid_thresholds_are_refused():
    with pytest.raises(SpecError):
        ConvergenceThresholds(max_rhat=0.99)
    with pytest.raises(SpecError):
        ConvergenceThresholds(min_ess=-1)


def constant_effect_tree():
    # A parent with a single child: that child's effect is exactly 0 in every draw.
    theta = np.random.default_rng(5).normal(size=(CHAINS, DRAWS, 3))
    theta[..., 2] = 0.0
    return make_tree(theta=theta)


def test_a_constant_parameter_does_not_fail_the_gate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = check_convergence(constant_effect_tree())
    assert report.passed
    assert np.isfinite(report.max_rhat) and report.max_rhat < 1.01
    assert np.isfinite(report.min_ess_bulk) and np.isfinite(report.min_ess_tail)


def test_a_constant_parameter_passes_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_convergence(constant_effect_tree()).passed
