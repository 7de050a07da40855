"""Every argument of every command is checked by its argparse type: one line, exit 2.

The test walks ``build_parser()``: each subcommand, each option or positional that
takes a value. Every such argument must have choices, a numeric type carrying its
accepted ``Range`` (``bayescount.cli._shared``), or one of the named types below;
an argument with none fails the test, so a new option cannot skip validation. Each
is then given values outside its rule (negative seeds, zero counts, NaN,
probabilities outside (0, 1), empty names, bad durations...) and must be refused by
argparse with one ``bayescount: error: argument ...`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math

import pytest

from bayescount.cli import main
from bayescount.cli._shared import Range
from bayescount.cli.app import build_parser

#: A command line each subcommand parses (files need not exist: only parsing runs).
BASE: dict[str, list[str]] = {
    "fit": ["d.csv", "--counts", "y", "--no-exposure", "--out", "f.nc"],
    "summary": ["f.nc"],
    "predict": ["f.nc", "--data", "d.csv", "--json"],
    "check": ["f.nc"],
    "coverage": ["f.nc", "--data", "d.csv"],
    "compare": ["d.csv", "--counts", "y", "--no-exposure"],
    "backtest": ["d.csv", "--counts", "y", "--no-exposure"],
    "slo": ["f.nc", "--observed", "o.csv", "--future", "u.csv"],
    "anomalies": ["f.nc", "--data", "d.csv"],
    "attribute": ["f.nc", "--data", "d.csv", "--incident", "2026-01-05T10:00/2026-01-05T12:00"],
    "capacity": ["f.nc", "--data", "d.csv"],
    "pull prometheus": ["--url", "http://localhost:9090", "--counts", "e=x_total",
                        "--start", "2026-01-05T00:00:00Z", "--end", "2026-01-05T01:00:00Z",
                        "--step", "5m", "--out", "c.csv"],
    "report": ["f.nc", "--out", "r.html"],
    "demo": [],
    "aggregate": ["e.csv", "--time", "ts", "--out", "c.csv"],
    "rules": ["f.nc", "--errors-metric", "e_total", "--out", "r.yml"],
    "export openmetrics": ["f.nc", "--data", "d.csv", "--out", "o.om"],
    "export grafana": ["f.nc", "--errors-metric", "e_total", "--out", "g.json"],
}

#: Values each named (non-numeric) type must refuse, and one it accepts.
NAMED: dict[str, tuple[list[str], str]] = {
    "path": ([""], "x.csv"),
    "scheduler address": (["", "tcp://", "host", "tcp://h:0", "tcp://h:x", " h:1"],
                          "tcp://127.0.0.1:8786"),
    "column": (["", " y", "y "], "y"),
    "covariate term": (["", "a:b:c", "a:a", "a:", ":b"], "a:b"),
    "text": (["", "  "], "availability"),
    "time zone": (["Mars/Olympus", "", "+01:00"], "Europe/Paris"),
    "duration": (["-1d", "0d", "7", "x", "", "1 month"], "7d"),
    "SLO window": (["0d", "month", "", "-30d"], "calendar_month"),
    "incident window": (
        ["2026-01-05", "x/y", "2026-01-05T12:00/2026-01-05T10:00", "/2026-01-05",
         "2026-01-05T10:00Z/2026-01-05T12:00"],
        "2026-01-05T10:00/2026-01-05T12:00",
    ),
    "seasonality": (["yearly", "daily:0", "daily:-1", "daily:x", "daily,daily"], "daily:4"),
    "scenario": (
        ["traffic=-1", "traffic=0", "traffic=x", "traffic=nan", "traffic=inf", "nodes=0",
         "nodes=1.5", "nodes=-2", "bogus=1", "traffic", "new_region=eu-2"],
        "traffic=1.3",
    ),
    "parse_levels": (["0", "1", "1.5", "-0.1", "nan", "x", "0.5,0.5", ""], "0.5,0.9"),
    "parse_quantiles": (["-0.1", "1.1", "nan", "x", "", "0.5,0.5"], "0.05,0.95"),
    "parse_families": (["poisson", "gaussian,poisson", ""], "poisson,negative_binomial"),
    "_level_choice": (["node", "node=sideways", "=centered"], "node=centered"),
    "URL": (["", "localhost:9090", "ftp://h", "http://"], "https://prometheus.example:9090"),
    "NAME=SELECTOR": (["", "x_total", "=x_total", "e=", "e x=y", 'x{a="b"}'], 'e=x{a="b"}'),
    "label list": (["", ",", "a,b-c", "1a", "a b", "a,", ",b", "a,a"], "region,service"),
    "RFC 3339 time": (["", "2026-01-05", "2026-01-05T00:00:00", "yesterday"],
                      "2026-01-05T00:00:00+01:00"),
    "Prometheus duration": (["", "5", "5min", "1.5h", "0s", "-5m", "5 m"], "1h30m"),
    "table path": (["", "c.json", "c"], "c.parquet"),
    "column list": (["", "a,", ",b", "a,a"], "region,service"),
}

#: Arguments whose every value is valid (a free label).
FREE = {"exposure_unit"}


def _bad_numbers(accepted: Range) -> list[str]:
    """Values outside ``accepted``: NaN, infinities, words, both sides of each bound."""
    bad = ["nan", "inf", "-inf", "x", "", "1e400"]
    step = 1 if accepted.integer else 1e-3
    if math.isfinite(accepted.low):
        bad.append(f"{accepted.low - step:g}" if accepted.integer else repr(accepted.low - step))
        if not accepted.closed_low:
            bad.append(repr(accepted.low))
    if math.isfinite(accepted.high):
        bad.append(str(int(accepted.high + step)) if accepted.integer
                   else repr(accepted.high + step))
        if not accepted.closed_high:
            bad.append(repr(accepted.high))
    if accepted.integer:
        bad.append("1.5")
    return bad


def _good_number(accepted: Range) -> str:
    low = accepted.low if math.isfinite(accepted.low) else 0.0
    if math.isfinite(accepted.high):
        inside = (low + accepted.high) / 2
    else:
        inside = low + 1
    return str(int(inside)) if accepted.integer else repr(inside)


def _subcommands(parser: argparse.ArgumentParser | None = None,
                 prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every command's parser; nested ones as ``"pull prometheus"``."""
    parser = parser or build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    out = {}
    for name, child in sub.choices.items():
        if any(isinstance(a, argparse._SubParsersAction) for a in child._actions):
            out.update(_subcommands(child, f"{prefix}{name} "))
        else:
            out[prefix + name] = child
    return out


def _arguments():
    """(command, action) for every argument that takes a value."""
    for command, parser in _subcommands().items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.nargs == 0:
                continue
            yield command, action


def _cases():
    """(command, argument label, bad values, good value, how to place a value)."""
    for command, action in _arguments():
        label = action.option_strings[0] if action.option_strings else action.dest
        if action.dest in FREE:
            continue
        if action.choices is not None:
            bad, good = ["bogus", ""], next(iter(action.choices))
        elif hasattr(action.type, "range"):
            bad, good = _bad_numbers(action.type.range), _good_number(action.type.range)
        else:
            name = getattr(action.type, "__name__", None)
            bad, good = NAMED.get(name, (None, name))
        yield pytest.param(command, action, bad, good, id=f"{command} {label}")


def _argv(command: str, action: argparse.Action, value: str) -> list[str]:
    parser = _subcommands()[command]
    base = list(BASE[command])
    if not action.option_strings:  # positionals lead BASE, in order
        positionals = [a.dest for a in parser._actions if not a.option_strings]
        base[positionals.index(action.dest)] = value
        return [*command.split(), *base]
    rivals = [a for group in parser._mutually_exclusive_groups
              if any(a.dest == action.dest for a in group._group_actions)
              for a in group._group_actions]
    for other in [*rivals, action]:  # drop what this option replaces or excludes
        for option in other.option_strings:
            if option in base:
                i = base.index(option)
                del base[i : i + (1 if other.nargs == 0 else 2)]
    return [*command.split(), *base, f"{action.option_strings[0]}={value}"]


def _parse(argv: list[str]) -> tuple[int | None, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit_:
            return exit_.code, err.getvalue()
    return None, err.getvalue()


def test_every_subcommand_has_a_base_command_line():
    assert set(BASE) == set(_subcommands())
    for command, argv in BASE.items():
        code, err = _parse([*command.split(), *argv])
        assert code is None, err


@pytest.mark.parametrize(("command", "action", "bad", "good"), list(_cases()))
def test_out_of_range_values_are_one_line_usage_errors(command, action, bad, good):
    if bad is None:
        pytest.fail(
            f"{command} {action.option_strings or action.dest}: no argparse type validates "
            f"this argument (type {good!r}); give it choices, a Range-carrying number type "
            "or a named type from bayescount.cli._types, and list that type's bad values in "
            "NAMED."
        )
    code, err = _parse(_argv(command, action, good))
    assert code is None, f"the good value {good!r} was refused: {err}"
    for value in bad:
        argv = _argv(command, action, value)
        code, err = _parse(argv)
        assert code == 2, f"{argv} was accepted"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith("bayescount: error: argument "), lines[0]


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


@pytest.mark.parametrize("command", ["fit", "predict", "check", "coverage", "anomalies",
                                     "capacity", "slo", "attribute", "compare", "backtest"])
def test_a_negative_seed_is_refused_before_anything_runs(command):
    code, err = run([command, *BASE[command], "--seed", "-1"])
    assert (code, err) == (2, "bayescount: error: argument --seed: must lie in "
                              "[0, 4294967295], got -1\n")


def test_a_negative_traffic_factor_says_the_rule_not_that_it_is_no_number():
    code, err = run(["capacity", *BASE["capacity"], "--scenario", "traffic=-1"])
    assert code == 2
    assert err == ("bayescount: error: argument --scenario: 'traffic=-1': the traffic factor "
                   "must be > 0 (1.3 is 30% more traffic)\n")


def test_counts_and_exposure_naming_one_column_exit_2_with_one_line(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("errors,requests\n1,10\n2,10\n")
    code, err = run(["fit", str(data), "--counts", "errors", "--exposure", "errors",
                     "--out", str(tmp_path / "f.nc")])
    assert code == 2 and len(err.splitlines()) == 1
    assert "'errors' is named as both counts and exposure" in err
    assert not (tmp_path / "f.nc").exists()
