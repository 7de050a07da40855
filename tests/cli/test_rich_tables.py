"""Tables through rich: widths that fit, no colour codes outside a terminal."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from bayescount.cli import _tables


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


FRAME = pd.DataFrame({
    "group": ["fourier[daily_sin1]", "r0/r0-s0/r0-s0-n0"],
    "mean": [0.123456789, float("nan")],
    "p_exceed_mc_se": [1e-6, 12345.0],
})


def _printed(monkeypatch, stream, **env) -> str:
    for name in ("COLUMNS", "NO_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdout", stream)
    _tables.print_table(FRAME, title="Title [not markup]", caption="and 3 more rows")
    return stream.getvalue()


def test_pipe_gets_plain_text_at_the_default_width(monkeypatch):
    out = _printed(monkeypatch, io.StringIO())
    lines = out.splitlines()
    assert "\x1b[" not in out
    assert lines[0] == "Title [not markup]" and lines[-1] == "and 3 more rows"
    assert "fourier[daily_sin1]" in out  # labels are text, not rich markup
    assert "0.1235" in out and " - " in out + " "  # 4 significant digits; NaN as '-'
    assert "p_exceed_mc_se" in lines[1]  # headers never fold
    assert max(len(line) for line in lines) <= _tables.PIPE_WIDTH


def test_columns_sets_the_width_of_a_pipe(monkeypatch):
    out = _printed(monkeypatch, io.StringIO(), COLUMNS="40")
    assert max(len(line) for line in out.splitlines()) <= 40
    assert "p_exceed_mc_se" in out  # the label column folds, not the header


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"NO_COLOR": "1"}, False),
                                               ({"CI": "true"}, False)])
def test_colour_only_on_a_terminal_without_no_color_or_ci(monkeypatch, env, coloured):
    out = _printed(monkeypatch, _Terminal(), TERM="xterm-256color", **env)
    assert ("\x1b[" in out) is coloured


def test_empty_table_and_render(monkeypatch):
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert _tables.render_table(FRAME.iloc[:0]) == "(none)"
    text = _tables.render_table(FRAME)
    assert text.splitlines()[0].split() == ["group", "mean", "p_exceed_mc_se"]
    assert _tables.format_cell(True) == "True" and _tables.format_cell(2.0) == "2"


def test_wide_tables_wrap_into_parts_that_repeat_the_key_column(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    wide = pd.DataFrame({"rule": ["page-1h-5m", "ticket-3d-6h"],
                         **{f"long_column_{i}": [1.5, 2.5] for i in range(6)}})
    lines = _tables.render_table(wide).splitlines()
    assert max(len(line) for line in lines) <= 60
    headers = [line.split() for line in lines if line.startswith("rule")]
    assert len(headers) == 2  # 3 + 3 value columns, each part led by 'rule'
    assert sum(len(h) - 1 for h in headers) == 6
    assert sum(line.startswith("ticket-3d-6h") for line in lines) == 2  # no folded cells
