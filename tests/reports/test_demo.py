"""``bayescount demo`` end to end, at the small size (2 chains x 100 draws): one HTML report
with every section and a fit file that loads, their paths printed."""

from __future__ import annotations

import re

import pytest

import bayescount as bc
from bayescount.cli import main
from bayescount.reports import SECTIONS


@pytest.mark.fit
def test_demo_writes_the_report_and_the_fit(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BAYESCOUNT_DEMO_SIZE", "small")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report, fit = out / "report.html", out / "fleet_fit.nc"
    assert f"Report: {report}" in printed and f"Fit:    {fit}" in printed
    assert "2 chains x 100 draws after 100 warm-up" in printed
    html = report.read_text()
    assert re.findall(r'<section id="([a-z]+)"', html) == list(SECTIONS)
    loaded = bc.load(fit)
    assert loaded.sampler_config.draws == 100
    assert loaded.n_rows == len(bc.load_example_fleet().fleet)  # every row of the fleet
    assert "r1-s2" in html  # the incident's service is named in the attribution


def test_demo_refuses_an_unknown_size(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BAYESCOUNT_DEMO_SIZE", "huge")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown demo size 'huge'; choose from ['full', 'small']" in err
