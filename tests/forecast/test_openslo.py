from pathlib import Path

import pandas as pd
import pytest

from bayescount.exceptions import SpecError
from bayescount.forecast.openslo import load_openslo, parse_openslo
from bayescount.forecast.slo import CALENDAR_MONTH

FILES = Path(__file__).with_name("openslo")


def test_rolling_bad_over_total():
    slo = load_openslo(FILES / "good_rolling_bad_total.yaml")
    assert slo.objective == 0.995
    assert slo.window == "28d"
    assert slo.window_length() == pd.Timedelta(days=28)
    assert slo.ratio == "bad"
    assert slo.name == "checkout-availability"
    assert slo.error_budget == pytest.approx(0.005)


def test_calendar_month_good_over_total_skips_other_documents():
    slo = load_openslo(FILES / "good_calendar_good_total.yaml")
    assert slo.objective == pytest.approx(0.999)
    assert slo.window == CALENDAR_MONTH
    assert slo.ratio == "good"
    start, end = slo.window_bounds(pd.Timestamp("2024-02-10 12:00"))
    assert (start, end) == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01"))
    assert slo.window_length(pd.Timestamp("2024-02-10")) == pd.Timedelta(days=29)


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("bad_timeslices.yaml", ["spec.budgetingMethod", "Timeslices", "Occurrences"]),
        ("bad_threshold_metric.yaml", ["thresholdMetric", "ratioMetric"]),
        ("bad_two_objectives.yaml", ["spec.objectives", "exactly one"]),
    ],
)
def test_unsupported_fields_are_named(name, needles):
    with pytest.raises(SpecError) as err:
        load_openslo(FILES / name)
    for needle in needles:
        assert needle in str(err.value)
    assert name in str(err.value)


GOOD = (FILES / "good_rolling_bad_total.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("apiVersion: openslo/v1", "apiVersion: openslo/v2alpha", "apiVersion"),
        ("duration: 28d\n      isRolling: true", "duration: 1Q\n      isRolling: false",
         "spec.timeWindow"),
        ("target: 0.995", "target: 99.5", "target"),
        ("        bad:", "        raw:", "ratioMetric"),
    ],
)
def test_invalid_variants(old, new, needle):
    assert old in GOOD
    with pytest.raises(SpecError, match=needle):
        parse_openslo(GOOD.replace(old, new))


def test_indicator_ref_and_missing_file_and_no_slo():
    text = GOOD.replace("  indicator:\n", "  indicatorRef: shared\n  unused:\n")
    with pytest.raises(SpecError, match="indicatorRef"):
        parse_openslo(text)
    with pytest.raises(SpecError, match="No such OpenSLO file"):
        load_openslo(FILES / "missing.yaml")
    with pytest.raises(SpecError, match="exactly one 'kind: SLO'"):
        parse_openslo("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: a}\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_openslo("a: [1, 2")
