"""Run the command line in-process and capture what it prints."""

from __future__ import annotations

import contextlib
import io

from bayescount.cli import main


def run_cli(args: list) -> tuple[int, str, str]:
    """Run ``bayescount ARGS``; return ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()
