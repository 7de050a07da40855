"""Helpers shared by the typed forecast results: JSON-safe values, summaries, HTML."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["html_block", "json_safe", "quantile_columns", "quantiles_of", "summarise"]


def json_safe(obj: Any) -> Any:
    """Convert numpy / pandas values to plain JSON types; NaN and infinities become None."""
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


def quantile_columns(quantiles: Sequence[float]) -> list[str]:
    """Column names ``q0.05`` ... for ``quantiles``."""
    return [f"q{q:g}" for q in quantiles]


def quantiles_of(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of draws that may hold infinities (no interpolation across them)."""
    values = np.asarray(values, dtype=float).ravel()
    if not values.size:
        return np.full(len(quantiles), math.nan)
    if np.isfinite(values).all():
        return np.quantile(values, list(quantiles))
    return np.quantile(values, list(quantiles), method="inverted_cdf")


def summarise(values: np.ndarray, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> dict:
    """Mean (of the finite draws) and quantiles of draws, flattened."""
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    out: dict[str, float] = {"mean": float(finite.mean()) if finite.size else math.nan}
    qs = quantiles_of(values, quantiles)
    out.update({name: float(v) for name, v in zip(quantile_columns(quantiles), qs, strict=True)})
    return out


def html_block(title: str, frame: pd.DataFrame, lines: Sequence[str] = ()) -> str:
    """Render a title, a few lines of text and a table for ``_repr_html_``."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body = f"<ul>{items}</ul>" if items else ""
    return f"<strong>{html.escape(title)}</strong>{body}{frame.to_html(max_rows=30)}"
