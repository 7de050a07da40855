"""A signal recorded before a fit starts stops it even if its KeyboardInterrupt was lost."""

import signal

import pytest

from bayescount._signals import record_signal, take_pending_signal
from bayescount.exceptions import FitInterrupted
from bayescount.inference.interrupt import interruptible


def test_a_recorded_signal_stops_the_next_fit_before_it_starts():
    record_signal(signal.SIGINT)
    ran = []
    with pytest.raises(FitInterrupted) as caught, interruptible():
        ran.append(True)
    assert ran == []  # the block (the sampling) never started
    assert caught.value.signum == signal.SIGINT
    assert take_pending_signal() is None  # consumed: the next fit runs
    with interruptible():
        ran.append(True)
    assert ran == [True]


def test_the_command_line_clears_what_it_handled(capsys):
    from bayescount.cli import main

    record_signal(signal.SIGTERM)  # e.g. a signal whose exception was handled
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert take_pending_signal() is None
