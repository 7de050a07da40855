"""``bayescount report`` end to end on a saved fake fit, its one-line errors, and lazy
imports of the ``report`` and ``demo`` command modules."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import INCIDENT

import bayescount as bc
from bayescount.cli import main
from bayescount.reports import SECTIONS


@pytest.fixture(scope="module")
def files(report_fit, fleet, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    bc.save(report_fit, folder / "fit.nc")
    for name in ("holdout", "future", "incident"):
        fleet[name].to_csv(folder / f"{name}.csv", index=False)
    pd.DataFrame({"bad": [50], "total": [1_000_000], "elapsed": ["2d"]}).to_csv(
        folder / "sofar.csv", index=False)
    return folder


def test_report_command_writes_every_section(files, capsys):
    out = files / "report.html"
    code = main([
        "report", str(files / "fit.nc"), "--data", str(files / "holdout.csv"),
        "--slo", "0.99/7d", "--observed", str(files / "sofar.csv"),
        "--future", str(files / "future.csv"), "--incident", "/".join(INCIDENT),
        "--incident-data", str(files / "incident.csv"), "--scenario", "traffic=1.3",
        "--max-draws", "60", "--out", str(out),
    ])
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text()
    assert re.findall(r'<section id="([a-z]+)"', html) == list(SECTIONS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


def test_report_command_markdown_prints_the_figures(files, capsys):
    out = files / "notes.md"
    code = main(["report", str(files / "fit.nc"), "--max-draws", "60", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert printed[0] == str(out)
    assert len(printed) > 1 and all(p.endswith(".png") and "notes_files" in p
                                    for p in printed[1:])


ERRORS = pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "report.pdf"], "Cannot tell the report format of 'report.pdf'"),
        (["--slo", "0.999/30d", "--out", "r.html"], "needs the future windows"),
        (["--incident", "2026-01-01T11:00/2026-01-01T10:00", "--out", "r.html"],
         "the incident must start before it ends"),
        (["--scenario", "traffic=0", "--out", "r.html"], "traffic factor must be > 0"),
    ],
)


def _exit_code(argv: list[str]) -> int:
    """``main``'s return value, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code)


@ERRORS
def test_report_command_errors_are_one_line(files, capsys, args, message):
    assert _exit_code(["report", str(files / "fit.nc"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bayescount: error:") and "\n" not in err and message in err


def test_command_modules_import_no_heavy_library():
    code = ("import sys, bayescount.cli.report_commands, bayescount.cli.demo_commands;"
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz_base', 'arviz_stats', "
            "'arviz_plots', 'matplotlib', 'jinja2', 'nutpie') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
