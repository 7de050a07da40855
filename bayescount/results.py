"""What every typed result shares: JSON-safe values and the Jupyter HTML block.

Check results (:mod:`bayescount.checks`) and forecast results
(:mod:`bayescount.forecast`) both render through these functions, so a result
serialises and displays the same way wherever it comes from. Every result's
``plot()`` returns a :class:`matplotlib.figure.Figure` (:func:`figure_of` unwraps the
``PlotCollection`` of arviz-plots). ``DEFAULT_SEED`` is the
seed every command and function that draws uses when none is given.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayescount.constants import DEFAULT_SEED

__all__ = ["DEFAULT_SEED", "figure_of", "html_block", "json_safe", "new_axes"]



def json_safe(obj: Any) -> Any:
    """Convert numpy / pandas values to plain JSON types, recursively.

    Mappings become dicts with string keys; frames lists of records; arrays, series
    and sequences lists; timestamps ISO 8601 strings; timedeltas hours (float); numpy
    scalars Python scalars; NaN, infinities, ``NaT`` and ``NA`` become ``None`` (JSON
    has no NaN).

    Parameters
    ----------
    obj : object
        Any nesting of mappings, sequences, numpy / pandas objects and scalars.

    Returns
    -------
    object
        The same structure in ``dict``, ``list``, ``str``, ``int``, ``float``,
        ``bool`` and ``None`` only (other objects pass through unchanged).
    """
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return [json_safe(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return json_safe(obj.to_dict())
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, Sequence) and not isinstance(obj, str | bytes):
        return [json_safe(v) for v in obj]
    if isinstance(obj, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(obj)
        return None if pd.isna(stamp) else stamp.isoformat()
    if isinstance(obj, pd.Timedelta | np.timedelta64):
        return None if pd.isna(obj) else pd.Timedelta(obj).total_seconds() / 3600.0
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is pd.NaT or obj is pd.NA:
        return None
    return obj


def html_block(
    title: str, frame: pd.DataFrame | None = None, notes: Sequence[str] = ()
) -> str:
    """Render a title, a bullet list of notes and a table (at most 30 rows), all escaped.

    Every string that came from data (group labels, column names) is escaped by
    :func:`html.escape` or pandas' ``to_html``.

    Parameters
    ----------
    title : str
        Shown in bold.
    frame : pandas.DataFrame, optional
        The table; floats with 4 significant digits.
    notes : sequence of str
        Bullet points under the title.

    Returns
    -------
    str
        An HTML fragment for ``_repr_html_``.
    """
    items = "".join(f"<li>{html.escape(str(note))}</li>" for note in notes)
    out = f"<strong>{html.escape(title)}</strong>" + (f"<ul>{items}</ul>" if items else "")
    if frame is not None:
        out += frame.to_html(max_rows=30, float_format=lambda x: f"{x:.4g}")
    return out


def new_axes(ax: Any = None, figsize: tuple[float, float] = (6.0, 4.0)) -> tuple[Any, Any]:
    """Return ``(figure, axes)``: ``ax`` and its figure, or a new figure of ``figsize`` inches."""
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)


def figure_of(plot: Any) -> Any:
    """Return the matplotlib :class:`~matplotlib.figure.Figure` of a plot object.

    An :class:`arviz_plots.PlotCollection` gives the figure it drew on
    (``pc.viz["figure"]``); a figure is returned as is; axes give their figure.
    """
    import matplotlib.figure

    if isinstance(plot, matplotlib.figure.Figure):
        return plot
    if hasattr(plot, "get_viz"):
        return plot.get_viz("figure")
    return plot.figure
