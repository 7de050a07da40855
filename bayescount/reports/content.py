"""What a report is made of: sections of facts, tables and figures, format-free.

The section builders (:mod:`~bayescount.reports.sections_fit`,
:mod:`~bayescount.reports.sections_decisions`) compute typed results and turn them into
these plain objects; the templates lay them out as HTML or Markdown, so both formats
carry the same content. Every string here may come from data (group labels): the
templates escape all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Figure", "Section", "Table", "fmt", "table_from_frame"]


@dataclass(frozen=True)
class Table:
    """A small table of pre-formatted cells.

    Attributes
    ----------
    caption : str
        One line above the table.
    columns : tuple of str
        Column headers.
    rows : tuple of tuple of str
        Cells, already formatted as text.
    numeric : tuple of bool
        Per column, whether to right-align it.
    """

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A matplotlib figure to embed, with a slug for its file name.

    Attributes
    ----------
    slug : str
        File-name-safe name (``"rootogram"``), set by the builder, never from data.
    title : str
        Alt text and caption.
    figure : matplotlib.figure.Figure
        The figure; closed once rendered.
    """

    slug: str
    title: str
    figure: Any


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    key : str
        Stable identifier (``"data"``, ``"gate"``, ``"ppc"``...), the HTML anchor.
    title : str
        Heading.
    intro : str
        What the section shows and how to read it.
    facts : tuple of (str, str)
        Key figures, label and value.
    figures, tables : tuple
        :class:`Figure` and :class:`Table` objects, in order.
    notes : tuple of str
        Caveats and flagged problems, shown as a list.
    status : str, optional
        ``"green"``, ``"amber"`` or ``"red"``: a coloured badge beside the heading.
    status_text : str
        The badge's text.
    """

    key: str
    title: str
    intro: str
    facts: tuple[tuple[str, str], ...] = ()
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    status: str | None = None
    status_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fmt(value: Any, digits: int = 4) -> str:
    """Format one cell: ``digits`` significant digits, ``-`` for missing, text as is.

    Parameters
    ----------
    value : object
        A number, timestamp, boolean or text.
    digits : int
        Significant digits of floats.

    Returns
    -------
    str
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, np.datetime64):
        return fmt(pd.Timestamp(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isnan(x):
            return "-"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if x == round(x) and abs(x) < 1e15:
            return f"{int(round(x)):,}"
        return f"{x:.{digits}g}"
    return str(value)


def table_from_frame(
    frame: pd.DataFrame,
    caption: str,
    columns: Sequence[str] | None = None,
    *,
    rename: dict[str, str] | None = None,
    max_rows: int = 40,
) -> Table:
    """Turn a DataFrame into a :class:`Table` (index included when it is named).

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; a named index (or a MultiIndex) becomes leading columns.
    caption : str
        Shown above the table; says when rows were left out.
    columns : sequence of str, optional
        Columns to keep, in order (default all).
    rename : dict, optional
        Header text for some columns.
    max_rows : int
        Rows shown at most.

    Returns
    -------
    Table
    """
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    n = len(frame)
    if n > max_rows:
        frame = frame.head(max_rows)
        caption = f"{caption} (first {max_rows} of {n} rows)"
    rename = rename or {}
    numeric = tuple(pd.api.types.is_numeric_dtype(frame[c]) and
                    not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns)
    rows = tuple(tuple(fmt(v) for v in record) for record in frame.itertuples(index=False))
    return Table(caption, tuple(rename.get(str(c), str(c)) for c in frame.columns), rows, numeric)
