"""Entry point and error handling shared by every command."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from bayescount.cli import (
    aggregate_commands,
    backtest_commands,
    check_commands,
    demo_commands,
    export_commands,
    forecast_commands,
    model_commands,
    pull_commands,
    report_commands,
)
from bayescount.exceptions import BayescountError, BayescountWarning

__all__ = ["EXIT_USAGE", "main"]

#: Exit code for bad input (argparse uses the same).
EXIT_USAGE = 2

#: Modules that register subcommands: each has ``register(subparsers)``.
COMMAND_MODULES = [
    model_commands, check_commands, backtest_commands, forecast_commands,
    report_commands, demo_commands, pull_commands, aggregate_commands, export_commands,
]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        self.exit(EXIT_USAGE, f"bayescount: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every registered subcommand."""
    parser = _Parser(
        prog="bayescount",
        description="Bayesian hierarchical models of count telemetry: fit, check, predict.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"bayescount: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Errors from bayescount (:class:`~bayescount.exceptions.BayescountError`) and
    missing or unreadable files print ``bayescount: error: ...`` on one line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The command's exit code; 2 after a one-line error (argparse also exits 2
        on bad arguments, through :class:`SystemExit`).
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="bayescount: %(message)s")
    logging.getLogger("pymc").propagate = False  # PyMC logs through its own handler
    warnings.showwarning = _show_warning
    warnings.simplefilter("default", BayescountWarning)
    try:
        return int(args.handler(args) or 0)
    except (BayescountError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        text = " ".join(str(err).split())
        print(f"bayescount: error: {text}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
