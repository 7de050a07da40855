"""Command line: ``bayescount <command> ...``.

Thin by design: each command module parses its arguments, calls the library and
prints a table or JSON. Bad input is reported on one line with exit code 2.
"""

from bayescount.cli.main import main

__all__ = ["main"]
