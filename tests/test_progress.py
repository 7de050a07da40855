"""One rule for progress bars: a terminal or a notebook, never under CI; one library."""

from __future__ import annotations

import io

from bayescount import progress as progress_module
from bayescount.inference.executors import SerialExecutor
from bayescount.inference.sampling import _default_progressbar
from bayescount.progress import progress, progress_enabled


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch) -> _Terminal:
    """Make stdout and stderr terminals (inside the test: pytest's capture resets them)."""
    monkeypatch.delenv("CI", raising=False)
    err = _Terminal()
    monkeypatch.setattr("sys.stdout", _Terminal())
    monkeypatch.setattr("sys.stderr", err)
    return err


def test_on_in_a_terminal_off_under_ci_or_a_pipe(monkeypatch):
    _terminal(monkeypatch)
    assert progress_enabled() and _default_progressbar()  # the sampler follows the same rule
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled() and not _default_progressbar()
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stdout", io.StringIO())  # output redirected to a file
    assert not progress_enabled()


def test_bar_is_drawn_on_stderr_and_counts_every_step(monkeypatch):
    terminal = _terminal(monkeypatch)
    with progress(3, "backtest refits") as advance:
        for _ in range(3):
            advance()
    assert "backtest refits" in terminal.getvalue()
    assert "3/3" in terminal.getvalue()


def test_no_bar_when_disabled_or_a_single_step(monkeypatch):
    terminal = _terminal(monkeypatch)
    with progress(1, "one fit") as advance:
        advance()
    monkeypatch.setenv("CI", "1")
    with progress(5, "quiet fits") as advance:
        advance()
    assert terminal.getvalue() == ""


def test_executors_report_each_result():
    seen = []
    out = SerialExecutor().map(lambda x: x * 2, [1, 2, 3], on_result=lambda: seen.append(1))
    assert out == [2, 4, 6] and len(seen) == 3


def test_rich_is_imported_only_to_draw(monkeypatch):
    assert "rich" not in vars(progress_module)


