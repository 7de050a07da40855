"""Window arithmetic of the Prometheus reader: exact counts from raw counter samples.

All times are integer Unix milliseconds (Prometheus's resolution), so window edges
and sample times compare exactly. Window ``k`` is ``[start + k·step, start +
(k+1)·step)``: a sample on an edge belongs to the window that starts there.

One series
----------
A window's count is the sum of the increments between consecutive samples whose
later sample lies in the window; a drop is a counter reset and its increment is the
new value (as Prometheus's ``increase`` treats resets). An increment counts only when
the earlier sample lies in the same window or the one before: after a window with no
samples (a scrape gap) the next window counts from its own first sample, since the
increment across the gap cannot be placed in either window. Reading window ``k``
therefore needs the samples of ``[start + (k-1)·step, start + (k+1)·step)``: the
reader fetches one window before each chunk, which is why chunked and unchunked
reads agree exactly.

Pure numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bayescount.exceptions import SpecError

__all__ = ["SeriesWindows", "parse_duration_ms", "series_windows"]

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
             "w": 604_800_000, "y": 31_536_000_000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")


def parse_duration_ms(text: str, what: str = "duration") -> int:
    """Parse a Prometheus duration (``15s``, ``5m``, ``1h30m``) into milliseconds.

    Parameters
    ----------
    text : str
        Whole numbers with units ``ms``, ``s``, ``m``, ``h``, ``d``, ``w``, ``y``, in
        Prometheus's own syntax.
    what : str
        Names the argument in the error message.

    Returns
    -------
    int
        The duration in milliseconds, > 0.

    Raises
    ------
    SpecError
        Not a duration, or zero.
    """
    compact = str(text).strip()
    if not _DURATION.match(compact):
        raise SpecError(
            f"Cannot read {what} {text!r}: write whole numbers with units ms, s, m, h, d, w "
            "(e.g. '15s', '5m', '1h30m'), as Prometheus does."
        )
    total = sum(int(n) * _UNITS_MS[u] for n, u in _PART.findall(compact))
    if total <= 0:
        raise SpecError(f"The {what} {text!r} must be positive.")
    return total


@dataclass
class SeriesWindows:
    """Per-window increments of one series over windows ``0 … n-1``.

    ``counts[k]`` is the window's count (0.0 when it has samples but no countable
    increment); ``sampled[k]`` says whether the window holds a sample at all;
    ``sampled_before`` whether the window before window 0 does.
    """

    counts: np.ndarray
    sampled: np.ndarray
    sampled_before: bool = False


def series_windows(
    t_ms: np.ndarray, values: np.ndarray, start_ms: int, step_ms: int, n_windows: int
) -> SeriesWindows:
    """Exact per-window counts of one counter series.

    Parameters
    ----------
    t_ms : numpy.ndarray of int
        Sample times (Unix ms), any order, duplicates allowed (dropped); samples
        outside ``[start_ms - step_ms, start_ms + n_windows·step_ms)`` are ignored.
    values : numpy.ndarray of float
        The counter's values at those times; NaN samples are ignored.
    start_ms, step_ms : int
        Window 0 starts at ``start_ms``; each window is ``step_ms`` long.
    n_windows : int
        Number of windows.

    Returns
    -------
    SeriesWindows
        The counts, which windows hold samples, and whether the window before
        window 0 does.
    """
    t = np.asarray(t_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(v) & (t >= start_ms - step_ms) & (t < start_ms + n_windows * step_ms)
    t, v = t[keep], v[keep]
    t, first = np.unique(t, return_index=True)  # sorted, one sample per time
    v = v[first]
    window = (t - start_ms) // step_ms  # -1 … n_windows-1
    counts = np.zeros(n_windows, dtype=np.float64)
    sampled = np.zeros(n_windows, dtype=bool)
    inside = window >= 0
    sampled[window[inside]] = True
    if t.size > 1:
        step = np.diff(v)
        increment = np.where(step >= 0, step, v[1:])  # a drop is a reset
        countable = (window[1:] - window[:-1] <= 1) & (window[1:] >= 0)
        np.add.at(counts, window[1:][countable], increment[countable])
    return SeriesWindows(counts=counts, sampled=sampled, sampled_before=bool((~inside).any()))


@dataclass
class GroupWindows:
    """Counts per group and window, and which windows to keep.

    ``keys`` lists the groups (tuples of ``by`` label values); ``values[name]`` has
    shape ``(len(keys), n_windows)``; ``keep`` is True where the window is kept.
    """

    keys: list[tuple[str, ...]]
    values: dict[str, np.ndarray]
    keep: np.ndarray


def combine_groups(
    series: dict[str, list[tuple[dict[str, str], SeriesWindows]]],
    by: list[str],
    exposure_names: list[str],
    n_windows: int,
) -> GroupWindows:
    """Sum per-series window counts within groups; keep only windows without gaps.

    A series *is expected* in the windows from its first sampled window (the window
    before window 0 counts) to its last; an expected window without samples is a
    **gap**. A group's window is kept when no series of any metric in the group has
    a gap there, and every exposure metric (or, without exposure, some metric) has a
    sampled series in the group there. A counts metric with no sampled series in a
    kept window (a labelled counter a client library has not created yet) counts 0.

    Parameters
    ----------
    series : dict
        Metric name → list of (labels, :class:`SeriesWindows`).
    by : list of str
        The grouping labels; a label a series lacks is the empty string (as
        PromQL's ``sum by`` treats it).
    exposure_names : list of str
        The names (keys of ``series``) that are exposure.
    n_windows : int
        Number of windows.

    Returns
    -------
    GroupWindows
    """
    index: dict[tuple[str, ...], int] = {}
    for items in series.values():
        for labels, _ in items:
            index.setdefault(tuple(labels.get(b, "") for b in by), len(index))
    keys = sorted(index)
    order = {key: i for i, key in enumerate(keys)}
    shape = (len(keys), n_windows)
    gap = np.zeros(shape, dtype=bool)
    values, sampled = {}, {}
    for name, items in series.items():
        values[name] = np.zeros(shape, dtype=np.float64)
        sampled[name] = np.zeros(shape, dtype=bool)
        for labels, sw in items:
            g = order[tuple(labels.get(b, "") for b in by)]
            where = np.flatnonzero(sw.sampled)
            if where.size == 0:
                continue
            first = -1 if sw.sampled_before else int(where[0])
            expected = np.zeros(n_windows, dtype=bool)
            expected[max(first, 0): int(where[-1]) + 1] = True
            gap[g] |= expected & ~sw.sampled
            values[name][g] += sw.counts
            sampled[name][g] |= sw.sampled
    if exposure_names:
        present = np.logical_and.reduce([sampled[n] for n in exposure_names])
    else:
        present = np.logical_or.reduce(list(sampled.values()))
    return GroupWindows(keys=keys, values=values, keep=present & ~gap)
