"""Every command and snippet of the getting-started and how-to pages runs as written.

The ```` ```bash ```` and ```` ```python ```` blocks of ``docs/getting-started.md`` and
``docs/howto/*.md`` are run in page order, in one scratch directory where ``data/``
points at the repository's bundled data (so the getting-started page's
``fleet_fit.nc`` serves the how-to pages, as it does for a reader): ``bayescount``
lines through ``bayescount.cli.app.main`` (``make`` lines skipped), Python blocks with
``exec`` in one namespace per page. ``console`` and ``text`` blocks (manual
installation, sample output) are not run.

Only the sampler's workload changes: ``nutpie.sample`` — which every fit goes through,
``CountModel.fit``, the CLI, ``compare`` and backtests alike — is wrapped to sample
40 draws after 40 warm-up steps on 2 chains.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Pages that need a live Prometheus server; their commands are run against a real
#: server by tests/io/promread and tests/export instead.
NEEDS_SERVER = {"howto/prometheus.md"}
PAGES = ["getting-started.md", *sorted(
    p.relative_to(DOCS).as_posix() for p in (DOCS / "howto").glob("*.md")
    if p.relative_to(DOCS).as_posix() not in NEEDS_SERVER
)]
TINY = 40
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", flags=re.S | re.M)


def blocks(text: str) -> list[tuple[str, str]]:
    """``(language, code)`` of the page's bash and python blocks, in order."""
    return BLOCK.findall(text)


def bash_commands(code: str) -> list[list[str]]:
    """The ``bayescount`` command lines of a bash block, as argv lists."""
    joined = re.sub(r"\\\n\s*", " ", code)
    commands = []
    for line in joined.splitlines():
        argv = shlex.split(line, comments=True)
        if argv and argv[0] == "bayescount":
            commands.append(argv[1:])
        elif argv:
            assert argv[0] == "make", f"unexpected command in a bash block: {line}"
    return commands


def test_pages_have_runnable_blocks():
    assert "howto/slo.md" in PAGES and "howto/exposure.md" in PAGES
    for page in PAGES:
        found = blocks((DOCS / page).read_text())
        assert found, f"{page} has no bash or python block"
        for lang, code in found:
            if lang == "bash":
                for argv in bash_commands(code):
                    assert not any("<" in a or ">" in a for a in argv), argv  # no placeholders
                    for arg in argv:
                        if arg.startswith("data/"):
                            assert (ROOT / arg).is_file(), f"{page}: {arg} is not bundled"
            else:
                compile(code, page, "exec")  # valid Python


@pytest.fixture
def tiny_sampling(monkeypatch):
    nutpie = pytest.importorskip("nutpie")
    real = nutpie.sample

    def sample(*args, **kwargs):
        kwargs.update(draws=min(kwargs.get("draws", TINY), TINY),
                      tune=min(kwargs.get("tune", TINY), TINY), chains=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", sample)


@pytest.mark.fit
def test_every_docs_command_and_snippet_runs(tmp_path, monkeypatch, tiny_sampling):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cli = importlib.import_module("bayescount.cli.app")
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        # 40-draw fits fail the convergence gate by design; the pages' warnings are not
        # what this test checks
        warnings.simplefilter("ignore")
        for page in PAGES:
            namespace: dict = {"__name__": "__docs__"}
            for n, (lang, code) in enumerate(blocks((DOCS / page).read_text())):
                if lang == "python":
                    try:
                        exec(compile(code, f"{page} block {n}", "exec"), namespace)
                    except Exception as err:  # noqa: BLE001 - report which block failed
                        pytest.fail(f"{page}, python block {n} failed: {err!r}\n{code}")
                    plt.close("all")
                    continue
                for argv in bash_commands(code):
                    out, err = io.StringIO(), io.StringIO()
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        try:
                            code_ = cli.main(argv)
                        except SystemExit as exit_:
                            code_ = exit_.code
                    assert code_ == 0, (
                        f"{page}: bayescount {' '.join(argv)} exited {code_}: "
                        f"{err.getvalue()[-2000:]}"
                    )
                    if "--json" in argv:
                        assert out.getvalue().lstrip().startswith(("{", "[")), argv
    assert (tmp_path / "fleet_fit.nc").is_file() and (tmp_path / "forecast.csv").is_file()
