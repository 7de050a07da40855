"""Turn SIGINT and SIGTERM during sampling into :class:`~bayescount.exceptions.FitInterrupted`.

nutpie (and PyMC's own sampler) catch :class:`KeyboardInterrupt`, abort, and return
the draws made so far as if sampling had finished. A partial posterior then looked
like a fit: the command line printed a table of NaN, saved it and overwrote an older
valid fit. Inside :func:`interruptible` a SIGINT or SIGTERM is recorded before the
sampler sees it, and once the sampler returns the recorded signal is raised as
:class:`~bayescount.exceptions.FitInterrupted`, so nothing partial escapes.
"""

from __future__ import annotations

import _thread
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bayescount._signals import take_pending_signal
from bayescount.exceptions import FitInterrupted

__all__ = ["Interruption", "interruptible"]

#: Signals that end a fit.
SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds after which a signal whose KeyboardInterrupt was dropped is delivered again.
REDELIVER_SECONDS = 2.0


@dataclass
class Interruption:
    """The signal received inside :func:`interruptible` (``None`` while none came)."""

    signum: int | None = None


@contextmanager
def interruptible() -> Iterator[Interruption]:
    """Run a block in which SIGINT and SIGTERM abort the work and raise ``FitInterrupted``.

    The handlers are installed only in the main thread (Python delivers signals
    there alone); elsewhere — a Dask worker thread, say — the block runs unchanged.
    The previous handlers are restored on exit.

    Raises
    ------
    FitInterrupted
        A SIGINT or SIGTERM arrived in the block, whether the block then raised
        :class:`KeyboardInterrupt` or returned (partial) results, or one was
        recorded earlier (:func:`bayescount._signals.record_signal`) and the block
        does not start.
    """
    got = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    pending = take_pending_signal()
    if pending is not None:  # interrupted earlier, and the KeyboardInterrupt was lost
        raise FitInterrupted(pending)

    active = threading.Event()
    active.set()

    def redeliver(signum: int) -> None:
        # The KeyboardInterrupt may have been raised inside a C callback (numba's
        # compiler, a finaliser), which prints and drops it: the block would then go
        # on to sample. Deliver the signal again until the block has ended.
        if active.is_set():
            _thread.interrupt_main(signum)

    def handler(signum: int, frame: object) -> None:
        got.signum = signum
        if active.is_set():
            timer = threading.Timer(REDELIVER_SECONDS, redeliver, args=(signum,))
            timer.daemon = True
            timer.start()
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    held = warnings.catch_warnings(record=True)
    caught = held.__enter__()
    warnings.simplefilter("always")
    try:
        yield got
    except FitInterrupted:
        raise
    except KeyboardInterrupt:
        raise FitInterrupted(got.signum or signal.SIGINT) from None
    finally:
        active.clear()
        held.__exit__(None, None, None)
        for s, old in previous.items():
            signal.signal(s, old)
    if got.signum is not None:  # warnings about the partial draws mean nothing now
        raise FitInterrupted(got.signum)
    for w in caught:  # a normal run: pass its warnings on
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
