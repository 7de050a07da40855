"""Which sections a report holds, and what they say: every section when its input is
given, none when not; the fake fit's numbers in the data section; input errors."""

from __future__ import annotations

import re

import pytest
from conftest import LABEL

import bayescount as bc
from bayescount.exceptions import SpecError
from bayescount.reports import SECTIONS

ALWAYS = ["data", "model", "gate", "ppc", "pooling"]


def _ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)"', html)


def test_every_section_when_every_input_is_given(full_html):
    result, html = full_html
    assert result.sections == tuple(SECTIONS)
    assert _ids(html) == list(SECTIONS)
    assert result.format == "html" and result.figures == ()


@pytest.mark.parametrize(
    ("given", "extra"),
    [
        ((), []),
        (("holdout",), ["coverage", "anomalies"]),
        (("slo", "observed", "future"), ["slo"]),
        (("incident", "incident_data"), ["anomalies", "incident"]),
        (("scenario", "future"), ["capacity"]),
    ],
)
def test_a_section_appears_only_with_its_inputs(report_fit, all_inputs, tmp_path, given, extra):
    kwargs = {k: all_inputs[k] for k in given}
    result = bc.report(report_fit, out=tmp_path / "r.html", max_draws=60, **kwargs)
    expected = [k for k in SECTIONS if k in ALWAYS + extra]
    assert list(result.sections) == expected
    html = (tmp_path / "r.html").read_text()
    assert _ids(html) == expected
    for key in set(SECTIONS) - set(expected):  # left out, not shown empty
        assert f'id="{key}"' not in html and f'href="#{key}"' not in html


def test_data_section_counts_the_training_rows(full_html, fleet):
    _, html = full_html
    train = fleet["train"]
    zeros = (train["errors"] == 0).mean()
    section = html[html.index('id="data"'):html.index('id="model"')]
    assert f"{len(train):,}" in section
    assert f"{int(train['errors'].sum()):,} errors" in section
    assert f"{zeros:.1%} of rows" in section
    assert "36 of 15 min" in section  # 9 h of 15-minute windows


def test_model_section_names_family_hierarchy_priors_and_parameterization(full_html,
                                                                         report_fit):
    _, html = full_html
    section = html[html.index('id="model"'):html.index('id="gate"')]
    assert "negative binomial" in section
    assert "region → service → node (nested)" in section
    assert "HalfNormal(sigma=1)" in section and "inv_sqrt_alpha" in section
    for level, how in report_fit.parameterization.items():
        assert re.search(rf"<td>{level}</td>.*?<td>{how}</td>", section, re.S)


def test_the_gate_of_a_loose_fake_fit_is_amber_with_the_reason(full_html):
    result, html = full_html
    assert result.gate == "amber"
    section = html[html.index('id="gate"'):html.index('id="ppc"')]
    assert "badge-amber" in section and "looser thresholds than the defaults" in section


def test_the_label_reaches_tables_but_only_as_text(full_html):
    _, html = full_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert LABEL not in html
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slo": "0.999/30d"}, "needs the future windows"),
        ({"slo": "0.999/30d", "future": "F"}, "must be a pandas DataFrame"),
        ({"observed": "x"}, "give slo= too"),
        ({"slo": "fast", "future": None}, "Cannot read the SLO 'fast'"),
        ({"incident": "2026-01-01T10:00/2026-01-01T11:00"}, "needs the observed rows"),
        ({"scenario": "traffic=2"}, "needs base windows"),
        ({"scenario": "traffic=fast"}, "must be a number"),
        ({"by": "pod"}, "by='pod' is not a group level"),
    ],
)
def test_bad_inputs_are_one_clear_error(report_fit, tmp_path, kwargs, message, fleet):
    if kwargs.get("future", "") is None:
        kwargs = {**kwargs, "future": fleet["future"]}
    with pytest.raises(SpecError, match=re.escape(message)):
        bc.report(report_fit, out=tmp_path / "r.html", **kwargs)
    assert not (tmp_path / "r.html").exists()


def test_incident_window_must_be_ordered(report_fit, fleet, tmp_path):
    with pytest.raises(SpecError, match="must start before it ends"):
        bc.report(report_fit, out=tmp_path / "r.html", holdout=fleet["holdout"],
                  incident=("2026-01-01T11:00", "2026-01-01T10:00"))


def test_unknown_extension_is_refused_before_any_work(report_fit, tmp_path):
    with pytest.raises(SpecError, match=r"\.html.*\.md"):
        bc.report(report_fit, out=tmp_path / "report.pdf")


def test_a_fitted_count_model_is_accepted_and_an_unfitted_one_refused(report_fit, tmp_path):
    from bayescount import CountModel
    from bayescount.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="hasn't been fit"):
        bc.report(CountModel("errors", "requests"), out=tmp_path / "r.html")
