"""Command line: ``bayescount <command> ...``.

Thin by design: each command module parses its arguments, calls the library and
prints a table or JSON. Bad input is reported on one line with exit code 2.

:func:`main` is the console entry point. It imports the commands itself, so that a
Ctrl-C (SIGINT) or SIGTERM during the imports, the compilation or the sampling ends
with one line and exit code ``128 + signal`` (130, 143) — never a traceback, and never
a partial fit written — and a closed or full standard output (``| head``,
``> /dev/full``) ends quietly instead of with a ``BrokenPipeError`` traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Sequence

from bayescount import _signals

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_OUTPUT_FAILED", "main"]

#: Exit code of a command whose standard output was closed early (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
#: Exit code when standard output cannot be written (full disk).
EXIT_OUTPUT_FAILED = 1


def _interrupt(signum: int, frame: object) -> None:
    from bayescount.exceptions import FitInterrupted

    _signals.record_signal(signum)
    raise FitInterrupted(signum)


def _quiet_lost_interrupts(unraisable) -> None:
    """``sys.unraisablehook``: an interrupt raised inside a finaliser or a C callback.

    Python cannot propagate it from there (e.g. numba's LLVM object-cache callback
    while compiling) and would print "Exception ignored ... Traceback". The signal
    is recorded (``bayescount._signals``), so the command still
    stops before sampling; other unraisable errors go to the default hook.
    """
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or replaced
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 2 for bad input (one line on stderr); 1 for a failed convergence
        gate with ``--strict`` or output that could not be written; 130 / 143 when
        interrupted by SIGINT / SIGTERM (nothing is written then); 141 when standard
        output was closed early.
    """
    # Python's own defaults only: a caller's handlers (a test runner, a notebook) stay.
    ours = {signal.SIGTERM: (signal.SIG_DFL, _interrupt),
            signal.SIGINT: (signal.default_int_handler, _interrupt)}
    previous = {s: signal.getsignal(s) for s in ours}
    for s, (default, handler) in ours.items():
        if previous[s] is default:
            signal.signal(s, handler)
    hook, sys.unraisablehook = sys.unraisablehook, _quiet_lost_interrupts
    try:
        return _run(argv)
    finally:  # in-process callers (tests, notebooks) get their handler back
        sys.unraisablehook = hook
        for s, (default, _) in ours.items():
            if previous[s] is default:
                signal.signal(s, previous[s])
        while _signals.take_pending_signal() is not None:  # handled: nothing carries over
            pass


def _run(argv: Sequence[str] | None) -> int:
    try:
        from bayescount.cli.app import main as run

        code = run(argv)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"bayescount: interrupted by {name}; nothing was written", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as err:
        if err.errno != errno.ENOSPC:  # files go through atomic_write (OutputError)
            raise
        _silence_stdout()
        print("bayescount: error: cannot write the output: no space left on device",
              file=sys.stderr)
        return EXIT_OUTPUT_FAILED

