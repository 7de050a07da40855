"""Signals that arrived before a fit started (stdlib only: safe inside a signal handler).

The command line's SIGINT / SIGTERM handlers record the signal here before raising. A
:class:`KeyboardInterrupt` raised while the interpreter runs a finaliser (``__del__``, a
weakref callback) is printed and dropped, and the command would otherwise go on to
sample; :func:`bayescount.inference.interrupt.interruptible` refuses to start while a
recorded signal is pending.
"""

from __future__ import annotations

_PENDING: list[int] = []


def record_signal(signum: int) -> None:
    """Remember that ``signum`` arrived (called from a signal handler).

    Parameters
    ----------
    signum : int
        The signal's number.
    """
    _PENDING.append(signum)


def take_pending_signal() -> int | None:
    """Return and forget the oldest recorded signal (``None`` when none is pending)."""
    return _PENDING.pop(0) if _PENDING else None
