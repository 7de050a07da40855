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
    for part in _rich_tables(frame, out.width, index=index, digits=digits,
                             formatters=formatters):
        out.print(part)
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
        for part in _rich_tables(frame, out.width, index=index, digits=digits, formatters=None):
            out.print(part)
    return captured.get().rstrip("\n")


#: Blanks between two columns (rich's collapsed padding around the separator).
_GAP = 2


def _rich_tables(frame, width, *, index, digits, formatters):
    """Tables of at most ``width`` columns of text, like pandas' wrapping of wide frames.

    Columns are packed left to right; each part repeats the key columns (the index, or
    the first column) so every row stays identified. No cell is folded unless a single
    column is wider than the output.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if len(frame) == 0:
        return [Text("(none)")]
    data = frame.reset_index() if index else frame
    formatters = formatters or {}
    names = [str(c) for c in data.columns]
    cells = {
        name: [formatters[col](v) if col in formatters else format_cell(v, digits)
               for v in data[col]]
        for name, col in zip(names, data.columns, strict=True)
    }
    numeric = {str(c): getattr(data[c].dtype, "kind", "O") in "iuf" for c in data.columns}
    size = {n: max([len(n), *map(len, cells[n])]) for n in names}
    n_keys = max(1, frame.index.nlevels if index else 1)
    keys, rest = names[:n_keys], names[n_keys:]
    parts, current = [], []
    used = sum(size[k] + _GAP for k in keys)
    for name in rest:
        if current and used + size[name] > width:
            parts.append(current)
            current, used = [], sum(size[k] + _GAP for k in keys)
        current.append(name)
        used += size[name] + _GAP
    parts.append(current)
    tables = []
    for part in parts:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                      collapse_padding=True, header_style="bold")
        columns = keys + part
        for name in columns:
            table.add_column(Text(name), justify="right" if numeric[name] else "left",
                             overflow="fold", min_width=min(len(name), width // 2))
        for i in range(len(data)):
            # Text: labels such as 'fourier[daily_sin1]' are not rich markup
            table.add_row(*[Text(cells[name][i]) for name in columns])
        tables += [Text(""), table] if tables else [table]  # a blank line between parts
    return tables


def print_text(lines: str | Sequence[str]) -> None:
    """Print lines of text as they are (the terminal wraps long lines, not bayescount).

    Parameters
    ----------
    lines : str or sequence of str
        One string, or lines joined with newlines.
    """
    print(lines if isinstance(lines, str) else "\n".join(lines))
