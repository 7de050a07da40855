"""Progress of long report work on a terminal (rich), quiet under ``CI`` or without a TTY."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_enabled", "progress_steps"]


def progress_enabled() -> bool:
    """Return whether to show progress: stdout is a terminal and ``CI`` is not set."""
    return "CI" not in os.environ and sys.stdout.isatty()


@contextmanager
def progress_steps(total: int, enabled: bool | None = None) -> Iterator[Callable[[str], None]]:
    """Yield ``step(description)``, which advances a rich progress bar of ``total`` steps.

    Parameters
    ----------
    total : int
        Number of steps.
    enabled : bool, optional
        Show the bar; default :func:`progress_enabled`. When off, ``step`` does nothing.

    Yields
    ------
    callable
        ``step(description)``: the previous step is done, ``description`` starts.
    """
    if not (progress_enabled() if enabled is None else enabled):
        yield lambda description: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("starting", total=total)
        started = [False]

        def step(description: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=description)

        yield step
        bar.update(task, completed=total)
