"""Progress bars of long work: one rule for when they show, one library (rich) to draw them.

A bar shows only where someone watches: in a terminal (standard output *and* standard
error are terminals) or in a Jupyter kernel, and never when ``CI`` is set (as numpyro
does). The same rule switches the sampler's own progress bar (nutpie, PyMC) on or off
(:func:`progress_enabled`), so the command line, notebooks and CI logs agree. Loops over
many fits (backtest origins, compared families, SBC replications) advance one bar per
finished fit through :func:`progress`. rich is imported when a bar is drawn.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

__all__ = ["progress", "progress_enabled", "progress_steps"]


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def progress_enabled() -> bool:
    """Whether progress bars should show here.

    Returns
    -------
    bool
        ``False`` when the ``CI`` environment variable is set; otherwise ``True`` in a
        Jupyter kernel or when both standard output and standard error are terminals
        (so output redirected to a file or a pipe holds the results alone).
    """
    if "CI" in os.environ:
        return False
    return _in_notebook() or (_is_terminal(sys.stdout) and _is_terminal(sys.stderr))


@contextlib.contextmanager
def progress(total: int, description: str, *, enabled: bool | None = None
             ) -> Iterator[Callable[[], None]]:
    """Show a bar of ``total`` steps on standard error while the block runs.

    Parameters
    ----------
    total : int
        Steps of the work (e.g. fits); a single step shows no bar.
    description : str
        What is counted, e.g. ``"backtest refits"``.
    enabled : bool, optional
        Force the bar on or off; default :func:`progress_enabled`.

    Yields
    ------
    callable
        ``advance()``: one step done. A no-op when no bar is shown.

    Examples
    --------
    >>> with progress(3, "fits", enabled=False) as advance:
    ...     for _ in range(3):
    ...         advance()
    """
    show = progress_enabled() if enabled is None else enabled
    if not show or total <= 1:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


@contextlib.contextmanager
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
