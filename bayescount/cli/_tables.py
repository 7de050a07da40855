"""Tables and text on the terminal, through rich: one place decides widths and colour.

Every command prints its tables with :func:`print_table`. On a terminal rich fits
them to its width; when standard output is a pipe or a file the width is
``$COLUMNS`` (else :data:`PIPE_WIDTH`) and no ANSI codes are written. Colour is also
off under ``NO_COLOR`` (https://no-color.org) and ``CI``. rich and pandas are imported
when something is printed, not when the parser is built.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

__all__ = ["PIPE_WIDTH", "console", "format_cell", "print_table", "print_text", "render_table"]

#: Width of the output when standard output is not a terminal and ``$COLUMNS`` is unset.
PIPE_WIDTH = 100


def _plain() -> bool:
    """Whether to write without colour: not a terminal, ``NO_COLOR`` or ``CI`` set."""
    isatty = getattr(sys.stdout, "isatty", lambda: False)
    return not isatty() or "NO_COLOR" in os.environ or "CI" in os.environ


def console() -> Console:
    """Return a rich console writing to the current ``sys.stdout``.

    Returns
    -------
    rich.console.Console
        Terminal width and colour on a terminal; ``$COLUMNS`` or :data:`PIPE_WIDTH`
        columns and no ANSI codes otherwise (or under ``NO_COLOR``/``CI``).
    """
    from rich.console import Console

    tty = getattr(sys.stdout, "isatty", lambda: False)()
    width = None
    if not tty:
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH
    plain = _plain()
    return Console(
        file=sys.stdout,
        width=width,
        no_color=plain,
        color_system=None if plain else "auto",
        force_terminal=False if not tty else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def format_cell(value: Any, digits: int = 4) -> str:
    """Write one table cell: numbers with ``digits`` significant digits, NaN as ``-``.

    Parameters
    ----------
    value : object
        A number, string, boolean, timestamp...
    digits : int
        Significant digits of floats.

    Returns
    -------
    str
    """
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        number = float(value)
        if math.isnan(number):
            return "-"
        return f"{number:.{digits}g}" if math.isfinite(number) else str(number)
    return str(value)


def print_table(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    index: bool = False,
    digits: int = 4,
    formatters: dict[str, Callable[[Any], str]] | None = None,
    caption: str | None = None,
) -> None:
    """Print ``frame`` as a rich table fitted to the output width.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to print; an empty frame prints ``(none)``.
    title : str, optional
        A line above the table.
    index : bool
        Also print the index (its levels become the first columns).
    digits : int
        Significant digits of floats (:func:`format_cell`).
    formatters : dict, optional
        Column name -> function writing that column's cells.
    caption : str, optional
        A line below the table (e.g. how to see every row).
    """
    from rich.text import Text

    out = console()
    if title:
        out.print(Text(title))
    out.print(_rich_table(frame, index=index, digits=digits, formatters=formatters))
    if caption:
        out.print(Text(caption))


def render_table(frame: pd.DataFrame, *, index: bool = False, digits: int = 4) -> str:
    """Return ``frame`` as the text :func:`print_table` would print (no trailing newline).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows; an empty frame gives ``(none)``.
    index : bool
        Also write the index.
    digits : int
        Significant digits of floats.

    Returns
    -------
    str
    """
    out = console()
    with out.capture() as captured:
        out.print(_rich_table(frame, index=index, digits=digits, formatters=None))
    return captured.get().rstrip("\n")


def _rich_table(frame, *, index, digits, formatters):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if len(frame) == 0:
        return Text("(none)")
    data = frame.reset_index() if index else frame
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True,
                  header_style="bold")
    for name in data.columns:
        numeric = getattr(data[name].dtype, "kind", "O") in "iuf"
        table.add_column(Text(str(name)), justify="right" if numeric else "left",
                         overflow="fold", min_width=len(str(name)))  # headers never fold
    formatters = formatters or {}
    for row in data.itertuples(index=False):
        table.add_row(*[  # Text: labels such as 'fourier[daily_sin1]' are not markup
            Text(formatters[c](v) if c in formatters else format_cell(v, digits))
            for c, v in zip(data.columns, row, strict=True)
        ])
    return table


def print_text(lines: str | Sequence[str]) -> None:
    """Print lines of text as they are (the terminal wraps long lines, not bayescount).

    Parameters
    ----------
    lines : str or sequence of str
        One string, or lines joined with newlines.
    """
    print(lines if isinstance(lines, str) else "\n".join(lines))
