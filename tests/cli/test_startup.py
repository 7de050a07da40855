"""The command line answers ``--help`` and argument errors without the heavy libraries.

PyMC, PyTensor, ArviZ, pandas and matplotlib are imported by the commands that use
them, when they run; building the parser and rejecting an argument need none of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

HEAVY = ("pymc", "pytensor", "arviz_base", "arviz_stats", "arviz_plots", "pandas",
         "matplotlib", "scipy", "xarray", "nutpie")

_PROBE = """
import contextlib, io, json, sys
from bayescount.cli.app import main
argv = json.loads(sys.argv[1])
err = io.StringIO()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
    try:
        main(argv)
    except SystemExit as exit_:
        code = exit_.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"code": code, "heavy": heavy, "err": err.getvalue()}))
"""


def _probe(argv: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["fit", "--help"],
        ["backtest", "--help"],
        ["capacity", "--help"],
        ["check", "--help"],
        ["slo", "--help"],
    ],
)
def test_help_imports_no_heavy_library(argv):
    result = _probe(argv)
    assert result["code"] == 0
    assert result["heavy"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "t.csv", "--counts", "y", "--no-exposure", "--draws", "0", "--out", "f.nc"],
         "argument --draws: must be >= 1, got 0"),
        (["fit", "t.csv", "--counts", "y", "--no-exposure", "--family", "gauss",
          "--out", "f.nc"], "argument --family: invalid choice: 'gauss'"),
        (["check", "f.nc", "--fdr", "2"], "argument --fdr: must lie in (0, 1), got 2"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_argument_errors_import_no_heavy_library(argv, message):
    result = _probe(argv)
    assert result["code"] == 2
    assert message in result["err"] and result["err"].startswith("bayescount: error:")
    assert result["heavy"] == []


def test_help_answers_quickly():
    """Wall time of a fresh ``python -m bayescount --help`` (bound generous for busy CI)."""
    best = min(_timed_help() for _ in range(3))
    assert best < 1.5, f"--help took {best:.2f} s"


def _timed_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bayescount", "--help"], capture_output=True,
                   check=True)
    return time.perf_counter() - start
