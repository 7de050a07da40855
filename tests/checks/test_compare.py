"""LOO comparison and family selection (fits replaced by posterior draws at the truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fakefit_helpers import fake_fit, truth_sampler

from bayescount import ConvergenceThresholds, SamplerConfig
from bayescount.checks.compare import (
    Comparison,
    ComparisonRow,
    choose_family,
    compare_families,
    compare_models,
    select_family,
)
from bayescount.exceptions import SpecError
from bayescount.inference.fit import Fit
from bayescount.testing import simulate_telemetry

LOOSE = ConvergenceThresholds(min_ess=50, max_rhat=1.2)
MODEL = {"counts": "errors", "exposure": "requests", "time": "timestamp",
         "groups": ["region", "service", "node"]}


def _row(name, diff, dse, elpd=-1000.0, high_k=0):
    return ComparisonRow(name=name, rank=0, elpd=elpd + diff, se=20.0, elpd_diff=diff, dse=dse,
                         p_loo=10.0, weight=0.5, n_high_k=high_k, n=500)


def test_simpler_family_within_two_se_is_preferred():
    comp = Comparison((_row("negative_binomial", 0.0, 0.0), _row("poisson", -3.0, 2.0)))
    family, reason = choose_family(comp)
    assert family == "poisson"
    assert reason == (
        "poisson is within 2 SE of the best, negative_binomial (ELPD difference -3.0 ± 2.0), "
        "and is simpler"
    )


def test_best_family_wins_when_simpler_ones_are_clearly_worse():
    comp = Comparison((
        _row("zero_inflated_negative_binomial", 0.0, 0.0, high_k=3),
        _row("negative_binomial", -12.0, 4.0),
        _row("poisson", -80.0, 9.0),
    ))
    family, reason = choose_family(comp)
    assert family == "zero_inflated_negative_binomial"
    assert "highest LOO ELPD" in reason and "more than 2 SE" in reason
    assert "3 of 500 observations have Pareto k > 0.7" in reason


def test_the_simplest_of_several_close_families_is_chosen():
    comp = Comparison((
        _row("zero_inflated_negative_binomial", 0.0, 0.0),
        _row("zero_inflated_poisson", -1.0, 1.0),
        _row("negative_binomial", -1.5, 1.0),
        _row("poisson", -30.0, 5.0),
    ))
    assert choose_family(comp)[0] == "negative_binomial"


def test_choose_family_refuses_non_families():
    with pytest.raises(SpecError, match="not in"):
        choose_family(Comparison((_row("mine", 0, 0), _row("poisson", -1, 1))))


@pytest.fixture(scope="module")
def nb_data():
    return simulate_telemetry(family="negative_binomial", alpha=2.0, rate=2e-3, seed=1)


def test_compare_families_prefers_the_true_family(nb_data):
    selection = select_family(
        nb_data.frame, MODEL, ("poisson", "negative_binomial"),
        config=SamplerConfig(draws=100, chains=2, random_seed=1), thresholds=LOOSE,
        sample_fn=truth_sampler(nb_data.frame, nb_data.truth),
    )
    assert selection.family == "negative_binomial"
    assert isinstance(selection.model, Fit)
    assert selection.model is selection.comparison.models["negative_binomial"]
    assert selection.model.spec.family == "negative_binomial"
    rows = {r.name: r for r in selection.comparison.rows}
    assert rows["negative_binomial"].rank == 0 and rows["negative_binomial"].elpd_diff == 0
    assert rows["poisson"].elpd_diff < -2 * rows["poisson"].dse
    assert "every simpler family is worse by more than 2 SE" in selection.reason
    doc = json.loads(json.dumps(selection.to_dict(), allow_nan=False))
    assert doc["comparison"]["best"] == "negative_binomial"
    assert list(selection.comparison.to_frame().index) == ["negative_binomial", "poisson"]


def test_compare_computes_a_missing_log_likelihood_from_the_draws(nb_data):
    # Fits made without log_likelihood=True (e.g. saved by the CLI) compare without a refit.
    a = fake_fit(nb_data.frame, nb_data.truth, family="poisson")
    b = fake_fit(nb_data.frame, nb_data.truth, family="negative_binomial")
    assert "log_likelihood" not in a.fit_.tree.children
    rows = {r.name: r for r in compare_models({"poisson": a, "negative_binomial": b}).rows}
    # The data are NB (alpha 20 over many rows): the Poisson model is clearly worse.
    assert rows["negative_binomial"].rank == 0
    assert rows["poisson"].elpd_diff < -2 * rows["poisson"].dse
    assert np.isfinite(rows["poisson"].elpd) and rows["poisson"].elpd < 0
    assert "log_likelihood" not in a.fit_.tree.children  # the fit itself is unchanged
    with pytest.raises(SpecError, match="at least two"):
        compare_models({"poisson": a})


def test_compare_families_validates_families(nb_data):
    with pytest.raises(SpecError, match="Unknown families"):
        compare_families(nb_data.frame, MODEL, ("poisson", "gaussian"))


def test_fit_kwargs_still_work_for_one_release(nb_data):
    sampler = truth_sampler(nb_data.frame, nb_data.truth)
    config = SamplerConfig(draws=100, chains=2, random_seed=1)
    new = compare_families(nb_data.frame, MODEL, ("poisson", "negative_binomial"),
                           config=config, thresholds=LOOSE, sample_fn=sampler)
    old_kwargs = {"draws": 100, "chains": 2, "random_seed": 1, "thresholds": LOOSE,
                  "sample_fn": sampler}
    with pytest.warns(FutureWarning, match="fit_kwargs= is deprecated"):
        old = compare_families(nb_data.frame, MODEL, ("poisson", "negative_binomial"),
                               old_kwargs)
    assert old.to_dict() == new.to_dict()
    assert all(fit.tree["log_likelihood"] is not None for fit in old.models.values())
    with pytest.warns(FutureWarning), pytest.raises(SpecError, match="not both"):
        compare_families(nb_data.frame, MODEL, ("poisson", "negative_binomial"), old_kwargs,
                         config=config)


def test_nb_options_are_dropped_for_other_families(nb_data):
    model = {**MODEL, "family": "negative_binomial", "dispersion_by": "region"}
    calls = []

    def sampler(pm_model, config):
        calls.append(sorted(pm_model.named_vars))
        return truth_sampler(nb_data.frame, nb_data.truth)(pm_model, config)

    comparison = compare_families(nb_data.frame, model, ("poisson", "negative_binomial"),
                                  config=SamplerConfig(draws=100, chains=2, random_seed=1),
                                  thresholds=LOOSE, sample_fn=sampler)
    specs = {name: fit.spec for name, fit in comparison.models.items()}
    assert specs["poisson"].dispersion_by is None
    assert specs["negative_binomial"].dispersion_by == "region"
    assert any("inv_sqrt_alpha" in names for names in calls)
