"""Small helpers shared by the check results: HTML and JSON-safe values."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["html_block", "json_number"]


def json_number(value: Any) -> Any:
    """Return a JSON-safe scalar: numpy scalars unwrapped, NaN and infinities as ``None``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def html_block(title: str, frame: pd.DataFrame | None, notes: Iterable[str] = ()) -> str:
    """Render a title, an optional table and a bullet list of notes, escaped."""
    out = f"<strong>{html.escape(title)}</strong>"
    if frame is not None:
        out += frame.to_html(float_format=lambda x: f"{x:.4g}")
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return out + (f"<ul>{items}</ul>" if items else "")
