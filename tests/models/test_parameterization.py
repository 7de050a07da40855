"""choose_parameterization: centered where groups are data-rich, non-centered where poor."""

import numpy as np
import pytest

from bayescount import CountModel
from bayescount.models import choose_parameterization, information_per_group
from bayescount.models.parameterization import signal_to_noise
from bayescount.testing import simulate_telemetry

LEVELS = ["region", "service", "node"]


def prepared(rate, n_windows=12, family="poisson", **options):
    frame = simulate_telemetry(
        n_regions=2, n_services=3, n_nodes=2, n_windows=n_windows, rate=rate, family=family,
        seed=1,
    ).frame
    cm = CountModel("errors", "requests", groups=LEVELS, family=family, **options)
    design, data = cm.prepare(frame)
    return cm.spec, design, data


def test_data_rich_groups_are_centered():
    # ~1,000 errors per row: every group is pinned down by its own data.
    spec, design, data = prepared(rate=0.1)
    assert choose_parameterization(spec, design, data) == dict.fromkeys(LEVELS, "centered")


def test_data_poor_groups_are_non_centered():
    # ~0.02 expected errors per node: the prior dominates, the funnel appears.
    spec, design, data = prepared(rate=1e-6, n_windows=2)
    assert choose_parameterization(spec, design, data) == dict.fromkeys(LEVELS, "non_centered")


def test_each_level_is_judged_on_its_own_signal_to_noise():
    spec, design, data = prepared(rate=2e-5)
    ratios = signal_to_noise(spec, design, data)
    assert set(ratios) == set(LEVELS)
    assert choose_parameterization(spec, design, data) == {
        lv: "centered" if ratios[lv] >= spec.centered_threshold else "non_centered"
        for lv in LEVELS
    }


def test_data_rich_but_identical_groups_are_non_centered():
    # Plenty of data, but the groups do not differ: tau ~ 0 is where the centered funnel bites.
    frame = simulate_telemetry(6, 4, 3, 12, rate=0.1, sd=(0.0, 0.0, 0.0), seed=3).frame
    cm = CountModel("errors", "requests", groups=LEVELS)
    design, data = cm.prepare(frame)
    assert choose_parameterization(cm.spec, design, data) == dict.fromkeys(LEVELS, "non_centered")
    assert max(signal_to_noise(cm.spec, design, data).values()) < 1.0


def test_signal_to_noise_recovers_the_between_group_variance():
    # Rich data: information x tau^2 / information ~ tau^2 close to the simulated sd^2.
    frame = simulate_telemetry(4, 25, 4, 50, rate=2e-3, sd=(0.3, 0.5, 0.3), seed=42).frame
    cm = CountModel("errors", "requests", groups=LEVELS)
    design, data = cm.prepare(frame)
    ratios = signal_to_noise(cm.spec, design, data)
    info = np.median(information_per_group(cm.spec, design, data, "service"))
    assert 0.3 < np.sqrt(ratios["service"] / info) < 0.6


def test_poisson_information_is_the_expected_count_at_the_pooled_rate():
    spec, design, data = prepared(rate=1e-3)
    info = information_per_group(spec, design, data, "service")
    pooled = data.counts.sum() / data.exposure.sum()
    expected = np.bincount(data.group_codes["service"], weights=pooled * data.exposure)
    np.testing.assert_allclose(info, expected, rtol=1e-12)
    np.testing.assert_allclose(info.sum(), data.counts.sum(), rtol=1e-9)


def test_overdispersion_lowers_the_information():
    nb = prepared(rate=1e-3, family="negative_binomial")
    poisson_spec = CountModel("errors", "requests", groups=LEVELS).spec
    info_nb = information_per_group(*nb, "node")
    info_poisson = information_per_group(poisson_spec, nb[1], nb[2], "node")
    assert np.all(info_nb < info_poisson)


@pytest.mark.parametrize(
    ("rate", "override", "expected"),
    [
        (0.1, {"node": "non_centered"}, {"region": "centered", "service": "centered",
                                         "node": "non_centered"}),
        (1e-6, {"region": "centered"}, {"region": "centered", "service": "non_centered",
                                        "node": "non_centered"}),
        (0.1, {"node": "auto"}, dict.fromkeys(LEVELS, "centered")),
    ],
)
def test_an_explicit_choice_wins(rate, override, expected):
    spec, design, data = prepared(rate=rate, n_windows=2, parameterization=override)
    assert choose_parameterization(spec, design, data) == expected


def test_threshold_moves_the_choice():
    spec, design, data = prepared(rate=0.1, centered_threshold=1e9)
    assert set(choose_parameterization(spec, design, data).values()) == {"non_centered"}
