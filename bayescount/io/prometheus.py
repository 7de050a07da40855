"""Read window counts from a Prometheus server: :func:`read_prometheus`.

Exact counts (the default)
--------------------------
For each counter selector the reader fetches the **raw samples** (range-vector
queries ``selector[range]`` through ``/api/v1/query``), and for every series and
window sums the increments between consecutive samples whose later sample lies in
the window; a drop is a counter reset, whose increment is the new value. Series are
summed within each group (the labels not in ``by``) *after* their increments are
computed. With integer counters the counts are integers and equal the events
counted by the scrapes, exactly. Window ``k`` is ``[start + k·step, start +
(k+1)·step)``; its row is stamped with its start, in UTC.

Gaps
----
A series is expected in every window between its first and last sampled windows of
the range read; a window where an expected series has no sample is a **gap**, and
the group's window is missing (no row; NaN with ``keep_missing=True``), never zero.
The window after a gap counts from its own first sample (the increment across the
gap cannot be placed). Counts and exposure cover the same samples: a window is kept
for a group only when no series of *either* metric of the group has a gap there, and
every increment is taken between the same consecutive scrapes of each series, so
when the counts and the exposure counters come from the same targets (errors and
requests of one service) both sum the same scrape intervals. Before its first or
after its last sample in the range, a series is taken as not existing (a node added
or retired), not as a gap.

``method="increase"``
---------------------
``sum by (by) (increase(selector[step]))`` through ``/api/v1/query_range``, one
evaluation at each window's end: Prometheus's own estimate, which extrapolates from
the first and last sample in each window to the window's edges, so it returns
non-integers and differs from the counts the scrapes saw (see the how-to). Windows
where a counts metric has no value and the exposure has one are 0. Gaps are not
detected: a group's window sums whichever of its series have samples there.

Limits
------
The range is read in chunks of whole windows (``chunk=``, default 6 hours): each
range-vector request loads at most the chunk's samples of the matching series (the
server refuses more than ``--query.max-samples``, 50 million by default: the reader
then halves the chunk and reads again), and each ``query_range`` at most 10,000
points per series (the server's limit is 11,000). Each chunk also fetches the window
before it, whose samples only serve as predecessors, so a chunked read equals an
unchunked one exactly, samples on chunk edges included.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from bayescount._warnings import warn
from bayescount.exceptions import (
    DataWarning,
    PrometheusQueryError,
    SpecError,
)
from bayescount.io._prom_http import PromClient, Series, make_auth
from bayescount.io._prom_windows import (
    GroupWindows,
    SeriesWindows,
    combine_groups,
    parse_duration_ms,
    series_windows,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_CHUNK", "MAX_POINTS", "read_prometheus"]

#: Default length of one request's time range.
DEFAULT_CHUNK = "6h"
#: Most evaluation points of one ``query_range`` request (the server allows 11,000).
MAX_POINTS = 10_000
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def read_prometheus(
    url: str,
    counts: Mapping[str, str],
    exposure: Mapping[str, str] | None = None,
    *,
    by: Sequence[str] = (),
    start: str | _dt.datetime | float,
    end: str | _dt.datetime | float,
    step: str | _dt.timedelta,
    method: Literal["exact", "increase"] = "exact",
    chunk: str | _dt.timedelta | None = None,
    keep_missing: bool = False,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 0.5,
    token_file: str | Path | None = None,
    verify: bool = True,
    ca_file: str | Path | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> pd.DataFrame:
    """Read per-window counter increments from Prometheus, one row per window and group.

    Parameters
    ----------
    url : str
        The server's base URL, e.g. ``"http://localhost:9090"``.
    counts : mapping of str to str
        Output column name → counter selector, e.g.
        ``{"errors": 'app_errors_total{job="api"}'}``.
    exposure : mapping of str to str, optional
        Output column name → counter selector of the exposure, e.g.
        ``{"requests": "app_requests_total"}``; a window is kept only where it is
        sampled.
    by : sequence of str
        Labels to group by; series are summed over every other label. Empty: one
        group.
    start, end : str, datetime or float
        The range read, ``[start, end)``: RFC 3339 text with a zone
        (``"2026-01-05T00:00:00Z"``), a time-zone-aware datetime, or Unix seconds.
        ``end - start`` must be a whole number of steps.
    step : str or timedelta
        Window length, a Prometheus duration (``"5m"``, ``"1h"``).
    method : {"exact", "increase"}
        ``"exact"`` (default): integer counts from raw samples. ``"increase"``:
        Prometheus's ``increase()``, extrapolated, non-integer (see the module notes).
    chunk : str or timedelta, optional
        Time range of one request, rounded down to whole windows (at least one);
        default 6 hours, at most 10,000 windows.
    keep_missing : bool
        Keep missing windows as NaN rows instead of leaving them out.
    timeout : float
        Seconds to wait for each answer.
    retries : int
        Retries of a request answered 429/502/503/504 or timed out.
    backoff : float
        Seconds before the first retry, doubled each time.
    token_file : str or Path, optional
        File holding a bearer token. Otherwise credentials come from
        ``BAYESCOUNT_PROMETHEUS_TOKEN``, or ``BAYESCOUNT_PROMETHEUS_USER`` and
        ``BAYESCOUNT_PROMETHEUS_PASSWORD``.
    verify : bool
        Verify the server's TLS certificate (default True).
    ca_file : str or Path, optional
        PEM file of the CA that signed the server's certificate.
    on_chunk : callable, optional
        Called as ``on_chunk(done, total)`` after each request, in windows × metrics.
    transport : httpx.BaseTransport, optional
        Replaces the network (``httpx.MockTransport`` in tests).

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp`` (window start, ``datetime64[ns, UTC]``), the ``by``
        labels (text; empty where a series lacks the label), then one column per
        name of ``counts`` and ``exposure`` (int64 when every value is whole, else
        float). Sorted by the labels, then time.

    Raises
    ------
    SpecError
        Bad names, labels, times, step or chunk.
    PrometheusQueryError
        The server refused a query (400 ``bad_data``, 422), or no selector matched
        any series.
    PrometheusConnectionError, PrometheusTLSError, PrometheusTimeoutError,
    PrometheusUnavailableError, PrometheusAuthError
        The server could not be read (see :mod:`bayescount.exceptions`).
    """
    exposure = dict(exposure or {})
    selectors = _check_names(dict(counts), exposure, list(by))
    if method not in ("exact", "increase"):
        raise SpecError(f"method={method!r}: choose 'exact' or 'increase'.")
    start_ms, end_ms = _instant_ms(start, "start"), _instant_ms(end, "end")
    step_ms = _duration_ms(step, "step")
    n_windows = _n_windows(start_ms, end_ms, step_ms, step)
    chunk_ms = _duration_ms(chunk if chunk is not None else DEFAULT_CHUNK, "chunk")
    per_chunk = min(max(chunk_ms // step_ms, 1), MAX_POINTS)
    client = PromClient(
        url, timeout=timeout, retries=retries, backoff=backoff,
        auth=make_auth(token_file), verify=verify, ca_file=ca_file, transport=transport,
    )
    with client:
        reader = _Reader(client, selectors, list(by), start_ms, step_ms, n_windows, on_chunk)
        grouped = reader.read(per_chunk, method, list(exposure))
    return _frame(grouped, list(by), list(selectors), start_ms, step_ms, keep_missing)


# ---------------------------------------------------------------- validation
def _check_names(
    counts: dict[str, str], exposure: dict[str, str], by: list[str]
) -> dict[str, str]:
    if not counts:
        raise SpecError("Give at least one counts selector, e.g. counts={'errors': "
                        "'app_errors_total'}.")
    for label in by:
        if not isinstance(label, str) or not _LABEL.match(label):
            raise SpecError(f"by label {label!r} is not a Prometheus label name "
                            "([a-zA-Z_][a-zA-Z0-9_]*).")
    if len(set(by)) != len(by):
        raise SpecError(f"by={by} names a label twice.")
    both = sorted(set(counts) & set(exposure))
    if both:
        raise SpecError(f"{both} named in both counts and exposure: give each column once.")
    selectors = {**counts, **exposure}
    for name, selector in selectors.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise SpecError(f"Column name {name!r}: use letters, digits, '_', '.', '-'.")
        if name == "timestamp" or name in by:
            raise SpecError(f"Column name {name!r} is taken by the timestamp or a by label: "
                            "choose another.")
        if not isinstance(selector, str) or not selector.strip():
            raise SpecError(f"The selector of {name!r} is empty: give a counter series "
                            "selector such as app_errors_total{job=\"api\"}.")
        selectors[name] = selector.strip()
    return selectors


def _instant_ms(value: str | _dt.datetime | float, what: str) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value) * 1000)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise SpecError(f"Cannot read {what}={value!r} as a time ({err}): give RFC 3339 "
                        "text such as '2026-01-05T00:00:00Z'.") from None
    if stamp is pd.NaT:
        raise SpecError(f"{what} is missing (NaT).")
    if stamp.tzinfo is None:
        raise SpecError(f"{what}={value!r} has no time zone: add 'Z' (UTC) or an offset "
                        "such as '+01:00'.")
    return int(stamp.value // 1_000_000)


def _duration_ms(value: str | _dt.timedelta, what: str) -> int:
    if isinstance(value, _dt.timedelta):
        ms = round(value.total_seconds() * 1000)
        if ms <= 0:
            raise SpecError(f"The {what} {value} must be positive.")
        return ms
    return parse_duration_ms(value, what)


def _n_windows(start_ms: int, end_ms: int, step_ms: int, step: object) -> int:
    span = end_ms - start_ms
    if span <= 0:
        raise SpecError(f"end must be after start (got {_iso(end_ms)} ≤ {_iso(start_ms)}).")
    n, rest = divmod(span, step_ms)
    if rest:
        raise SpecError(
            f"end - start is not a whole number of steps ({step}): the last window would be "
            f"partial. Give end={_iso(start_ms + n * step_ms)} or "
            f"end={_iso(start_ms + (n + 1) * step_ms)}."
        )
    return n


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------- reading
class _Reader:
    """Reads every selector chunk by chunk and stitches the per-window results."""

    def __init__(self, client: PromClient, selectors: dict[str, str], by: list[str],
                 start_ms: int, step_ms: int, n_windows: int,
                 on_chunk: Callable[[int, int], None] | None) -> None:
        self.client, self.selectors, self.by = client, selectors, by
        self.start_ms, self.step_ms, self.n = start_ms, step_ms, n_windows
        self.on_chunk = on_chunk
        self.done = 0

    def read(self, per_chunk: int, method: str, exposure: list[str]) -> GroupWindows:
        exact = method == "exact"
        parts: dict[str, dict] = {name: {} for name in self.selectors}
        k0 = 0
        while k0 < self.n:
            size = min(per_chunk, self.n - k0)
            done_before = self.done
            try:
                for name, selector in self.selectors.items():
                    if exact:
                        self._exact_chunk(parts[name], selector, k0, size)
                    else:
                        self._increase_chunk(parts[name], selector, k0, size)
                    self._progress(size)
            except PrometheusQueryError as err:
                if "too many samples" not in str(err) or size == 1:
                    raise
                per_chunk = max(size // 2, 1)  # read this chunk again, smaller
                self.done = done_before
                continue
            k0 += size
        empty = [name for name, found in parts.items() if not found]
        if len(empty) == len(parts) or set(empty) & set(exposure):
            missing = [n for n in empty if n in exposure] or empty
            raise PrometheusQueryError(
                "; ".join(f"{n}: {self.selectors[n]!r}" for n in missing)
                + f" matched no series between {_iso(self.start_ms)} and "
                f"{_iso(self.start_ms + self.n * self.step_ms)} on {self.client.url}: check "
                "the metric name and labels (the Prometheus UI's graph page lists them)."
            )
        for name in empty:
            warn(f"{name}: {self.selectors[name]!r} matched no series on {self.client.url}; "
                 f"its counts are 0 wherever the other metrics are sampled.", DataWarning)
        if exact:
            series = {name: [(dict(key), sw) for key, sw in found.items()]
                      for name, found in parts.items()}
            present = {label for pairs in series.values() for labels, _ in pairs
                       for label in labels}
            absent = [label for label in self.by if label not in present]
            if absent:
                raise SpecError(
                    f"by label(s) {', '.join(map(repr, absent))} are on no series of "
                    f"{', '.join(self.selectors.values())}; their labels are "
                    f"{', '.join(sorted(present - {'__name__'})) or 'none'}. Check the "
                    "spelling of --by."
                )
            return combine_groups(series, self.by, exposure, self.n)
        return self._increase_groups(parts, exposure)

    def _progress(self, size: int) -> None:
        self.done += size
        if self.on_chunk is not None:
            self.on_chunk(self.done, self.n * len(self.selectors))

    def _context(self, k0: int, size: int) -> str:
        lo = self.start_ms + k0 * self.step_ms
        return (f" (reading {_iso(lo)} to {_iso(lo + size * self.step_ms)}, windows "
                f"{k0 + 1}-{k0 + size} of {self.n})")

    def _exact_chunk(self, found: dict, selector: str, k0: int, size: int) -> None:
        lo = self.start_ms + k0 * self.step_ms
        hi = lo + size * self.step_ms
        # samples of [lo - step, hi): evaluated at hi - 1 ms over a range 1 ms wider than
        # that (a range is closed in Prometheus 2, left-open in 3); the edges are then
        # cut here, exactly.
        expr = f"{selector}[{hi - lo + self.step_ms}ms]"
        answer = self.client.query_matrix(expr, hi - 1, context=self._context(k0, size))
        for item in answer:
            key = tuple(sorted(item.labels.items()))
            sw = series_windows(np.asarray(item.t_ms, dtype=np.int64),
                                np.asarray(item.values), lo, self.step_ms, size)
            whole = found.get(key)
            if whole is None:
                whole = found[key] = SeriesWindows(
                    counts=np.zeros(self.n), sampled=np.zeros(self.n, dtype=bool))
            whole.counts[k0:k0 + size] = sw.counts
            whole.sampled[k0:k0 + size] = sw.sampled
            if k0 == 0:
                whole.sampled_before = sw.sampled_before

    def _increase_chunk(self, found: dict, selector: str, k0: int, size: int) -> None:
        lo = self.start_ms + k0 * self.step_ms
        groups = ", ".join(self.by)
        expr = f"sum by ({groups}) (increase({selector}[{self.step_ms}ms]))"
        answer: list[Series] = self.client.query_range(
            expr, lo + self.step_ms, lo + size * self.step_ms, self.step_ms,
            context=self._context(k0, size),
        )
        for item in answer:
            key = tuple(item.labels.get(b, "") for b in self.by)
            row = found.setdefault(key, np.full(self.n, np.nan))
            for t, v in zip(item.t_ms, item.values, strict=True):
                k = (t - self.start_ms) // self.step_ms - 1
                if 0 <= k < self.n:
                    row[k] = v

    def _increase_groups(self, parts: dict[str, dict], exposure: list[str]) -> GroupWindows:
        keys = sorted({key for found in parts.values() for key in found})
        values = {
            name: np.array([found.get(key, np.full(self.n, np.nan)) for key in keys])
            .reshape(len(keys), self.n)
            for name, found in parts.items()
        }
        names = exposure or list(parts)
        reduce = np.logical_and if exposure else np.logical_or
        keep = reduce.reduce([~np.isnan(values[n]) for n in names])
        for name in parts:
            if name not in exposure:
                values[name] = np.where(np.isnan(values[name]) & keep, 0.0, values[name])
        return GroupWindows(keys=keys, values=values, keep=keep)


# -------------------------------------------------------------------- output
def _frame(grouped: GroupWindows, by: list[str], names: list[str], start_ms: int,
           step_ms: int, keep_missing: bool) -> pd.DataFrame:
    n_groups, n = grouped.keep.shape if grouped.keys else (0, 0)
    g, k = np.nonzero(np.ones_like(grouped.keep) if keep_missing else grouped.keep)
    stamps = pd.to_datetime(start_ms + k.astype(np.int64) * step_ms, unit="ms", utc=True)
    frame = pd.DataFrame({"timestamp": stamps.as_unit("ns")})
    for j, label in enumerate(by):
        frame[label] = [grouped.keys[i][j] for i in g]
    for name in names:
        column = grouped.values[name][g, k] if n_groups else np.zeros(0)
        column = np.where(grouped.keep[g, k], column, np.nan) if n_groups else column
        whole = np.all(np.isfinite(column)) and np.all(column == np.round(column))
        frame[name] = column.astype(np.int64) if whole else column
    if frame.empty:
        return frame
    return frame.sort_values([*by, "timestamp"], kind="stable").reset_index(drop=True)
