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


def test_a_signal_whose_keyboardinterrupt_is_dropped_inside_the_block_is_delivered_again():
    import os
    import time

    reached = []
    start = time.monotonic()
    with pytest.raises(FitInterrupted) as caught, interruptible():
        try:  # what numba's compiler callback does to an exception: print and drop it
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1.0)
        except KeyboardInterrupt:
            reached.append("dropped")
        while time.monotonic() - start < 15:  # the sampling that would follow
            time.sleep(0.05)
        reached.append("ran to the end")
    assert reached == ["dropped"]
    assert caught.value.signum == signal.SIGINT
    assert time.monotonic() - start < 10
    time.sleep(3)  # no late re-delivery once the block has ended (would raise here)
