"""Helpers shared by the typed forecast results: JSON-safe values, summaries, HTML."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import arviz_stats as azs
import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_SEED",
    "binomial_mc_se",
    "html_block",
    "json_safe",
    "mc_se",
    "quantile_columns",
    "quantiles_of",
    "resolve_seed",
    "summarise",
]

#: Seed of the predictive draws when none is given: the same command gives the same numbers.
DEFAULT_SEED = 0


def resolve_seed(seed: int | None) -> int:
    """Return ``seed``, or a fresh one from the operating system when it is ``None``.

    The decision functions store the seed they used in their result, so a run with
    ``random_seed=None`` can still be repeated exactly.

    Parameters
    ----------
    seed : int or None
        A non-negative integer seed, or ``None`` for a fresh one.

    Returns
    -------
    int
        The seed to pass to ``numpy.random.default_rng``.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    return int(seed)


def mc_se(indicator: np.ndarray) -> float:
    """Monte Carlo standard error of a probability estimated from per-draw indicators.

    With ``(chain, draw)`` indicators: ``arviz_stats.mcse`` (ESS-based, so it accounts
    for the autocorrelation of NUTS draws); otherwise, or when that is undefined (one
    chain, ``p`` in {0, 1}, fewer than 4 draws), the binomial
    ``sqrt(p (1 - p) / n)`` (:func:`binomial_mc_se`).
    """
    indicator = np.asarray(indicator)
    p = float(indicator.mean()) if indicator.size else float("nan")
    if indicator.ndim == 2 and indicator.shape[0] > 1 and indicator.shape[1] >= 4 and 0 < p < 1:
        value = float(azs.mcse(indicator.astype(float), chain_axis=0, draw_axis=1))
        if np.isfinite(value):
            return value
    return float(binomial_mc_se(p, indicator.size))


def binomial_mc_se(p: np.ndarray | float, n: int) -> np.ndarray:
    """Binomial Monte Carlo standard error ``sqrt(p (1 - p) / n)`` of a probability.

    ``p`` estimated as the share of ``n`` independent draws. Posterior draws from NUTS
    are autocorrelated, so with ``n`` the number of draws this can understate the error
    by ``sqrt(n / ESS)``; for an average of per-draw probabilities in ``[0, 1]`` (the
    analytic tails of the anomaly flags) it is an upper bound, since such a variable's
    variance is at most ``p (1 - p)``.
    """
    p = np.asarray(p, dtype=float)
    return np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / max(int(n), 1))


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
