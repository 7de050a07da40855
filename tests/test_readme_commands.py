"""Every ``bayescount`` command of the README's bash blocks runs as written (issue 12).

The blocks are parsed from README.md (continuation lines joined, comments dropped,
``make`` lines skipped) and run in order through ``bayescount.cli.app.main`` in a
scratch directory where ``data/`` points at the repository's bundled data. Commands
that sample get tiny sampler settings appended (``--draws 40 --tune 40 --chains 2``)
and ``backtest`` two origins instead of four: only the sampler's workload changes.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--draws", "40", "--tune", "40", "--chains", "2"]
cli_main = importlib.import_module("bayescount.cli.app")


def readme_commands(text: str) -> list[list[str]]:
    """The ``bayescount`` command lines of the ```` ```bash ```` blocks, as argv lists."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            argv = shlex.split(line, comments=True)
            if argv and argv[0] == "bayescount":
                commands.append(argv[1:])
    return commands


def tiny(argv: list[str]) -> list[str]:
    """Append tiny sampler settings to commands that fit (they take ``--counts``)."""
    if "--counts" not in argv:
        return argv
    argv = [*argv, *TINY]
    if argv[0] == "backtest":
        argv[argv.index("--origins") + 1] = "2"
    return argv


def test_readme_commands_are_parsed():
    commands = readme_commands((ROOT / "README.md").read_text())
    names = [c[0] for c in commands]
    assert names[:3] == ["fit", "summary", "predict"]
    assert {"check", "coverage", "backtest", "compare", "slo", "anomalies", "attribute",
            "capacity"} <= set(names)
    for argv in commands:
        assert not any("<" in a or ">" in a for a in argv), argv  # no placeholders
        for arg in argv:
            if arg.startswith("data/"):
                assert (ROOT / arg).is_file(), f"{arg} is not bundled"


@pytest.mark.fit
def test_every_readme_command_runs_as_written(tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    for argv in readme_commands((ROOT / "README.md").read_text()):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main.main(tiny(argv))
            except SystemExit as exit_:
                code = exit_.code
        assert code == 0, f"bayescount {' '.join(argv)} exited {code}: {err.getvalue()[-2000:]}"
        if "--json" in argv and argv[0] != "summary":
            assert out.getvalue().lstrip().startswith(("{", "[")), argv
    assert (tmp_path / "fleet_fit.nc").is_file() and (tmp_path / "forecast.csv").is_file()
