"""Window arithmetic of the exact reader, without a server: resets, gaps, edges."""

from __future__ import annotations

import numpy as np
import pytest

from bayescount.exceptions import SpecError
from bayescount.io._prom_windows import (
    SeriesWindows,
    combine_groups,
    parse_duration_ms,
    series_windows,
)

S = 1000  # ms


def windows(t_s, v, start=0, step=60, n=3) -> SeriesWindows:
    return series_windows(np.array(t_s) * S, np.array(v, dtype=float), start * S, step * S, n)


def test_increments_go_to_the_window_of_the_later_sample():
    # samples every 15 s from -15 s; windows [0, 60), [60, 120), [120, 180)
    t = np.arange(-15, 180, 15)
    v = np.arange(t.size) * 2.0  # +2 per interval
    sw = windows(t, v)
    assert sw.counts.tolist() == [8.0, 8.0, 8.0]  # 4 samples per window, each +2
    assert sw.sampled.tolist() == [True, True, True]
    assert sw.sampled_before


def test_a_sample_on_a_window_edge_belongs_to_the_window_it_starts():
    # samples at 0, 60, 120 only: each window holds exactly its edge sample
    sw = windows([-60, 0, 60, 120], [0, 5, 12, 20])
    assert sw.counts.tolist() == [5.0, 7.0, 8.0]
    sw = windows([-60, 0, 60, 120], [0, 5, 12, 20], n=2)  # 120 is outside [0, 120)
    assert sw.counts.tolist() == [5.0, 7.0]


def test_a_drop_is_a_reset_whose_increment_is_the_new_value():
    sw = windows([0, 15, 30, 45, 60, 75], [100, 110, 3, 9, 20, 21], n=2)
    # 0→15: +10, 15→30: reset, +3, 30→45: +6 | 45→60: +11, 60→75: +1
    assert sw.counts.tolist() == [19.0, 12.0]


def test_a_window_without_samples_is_unsampled_and_the_next_counts_from_its_own_samples():
    # samples in window 0 and window 2; window 1 is empty
    sw = windows([0, 30, 150, 165], [10, 20, 50, 54])
    assert sw.sampled.tolist() == [True, False, True]
    # window 0: only 0→30 (+10; the first sample has no predecessor: 10 is not counted)
    # window 2: 30→150 spans the empty window and is dropped; 150→165: +4
    assert sw.counts.tolist() == [10.0, 0.0, 4.0]


def test_an_increment_from_the_window_before_counts():
    # the gap ends inside window 1: 30 → 100 crosses one edge and counts in window 1
    sw = windows([0, 30, 100], [0, 1, 11])
    assert sw.counts.tolist() == [1.0, 10.0, 0.0]
    assert sw.sampled.tolist() == [True, True, False]


def test_duplicates_and_order_do_not_matter_and_nan_samples_are_ignored():
    a = windows([0, 15, 30, 45], [1, 2, 4, 8], n=1)
    b = windows([45, 30, 15, 15, 0, 20], [8, 4, 2, 2, 1, np.nan], n=1)
    assert a.counts.tolist() == b.counts.tolist() == [7.0]


def test_only_the_window_before_start_serves_as_predecessor():
    sw = windows([-90, -30, 10], [0, 5, 9], n=1)  # -90 is two windows back: ignored
    assert sw.counts.tolist() == [4.0]
    sw = windows([-90, 10], [0, 9], n=1)
    assert sw.counts.tolist() == [0.0] and not sw.sampled_before


def test_chunks_equal_the_whole():
    rng = np.random.default_rng(1)
    t = np.sort(rng.choice(np.arange(-60_000, 600_000, 250), 900, replace=False))
    v = np.cumsum(rng.integers(0, 5, t.size)).astype(float)
    v[400:] -= v[400] - 2  # a reset
    whole = series_windows(t, v, 0, 60_000, 10)
    parts = [series_windows(t, v, k * 60_000, 60_000, 3).counts for k in (0, 3, 6)]
    parts.append(series_windows(t, v, 9 * 60_000, 60_000, 1).counts)
    assert np.concatenate(parts).tolist() == whole.counts.tolist()


def sw(counts, sampled, before=False) -> SeriesWindows:
    return SeriesWindows(np.array(counts, dtype=float), np.array(sampled, dtype=bool), before)


def test_groups_sum_series_and_a_gap_of_one_series_drops_the_groups_window():
    series = {
        "errors": [({"region": "eu", "node": "a"}, sw([1, 2, 3, 4], [1, 1, 1, 1])),
                   ({"region": "eu", "node": "b"}, sw([1, 0, 0, 1], [1, 0, 1, 1]))],
        "requests": [({"region": "eu", "node": "a"}, sw([10, 20, 30, 40], [1, 1, 1, 1])),
                     ({"region": "eu", "node": "b"}, sw([10, 0, 5, 10], [1, 0, 1, 1]))],
    }
    out = combine_groups(series, ["region"], ["requests"], 4)
    assert out.keys == [("eu",)]
    assert out.keep.tolist() == [[True, False, True, True]]
    assert out.values["errors"][0].tolist() == [2, 2, 3, 5]
    assert out.values["requests"][0].tolist() == [20, 20, 35, 50]


def test_a_series_that_starts_or_ends_inside_the_range_is_not_a_gap():
    series = {"requests": [
        ({"node": "old"}, sw([5, 5, 0, 0], [1, 1, 0, 0], before=True)),
        ({"node": "new"}, sw([0, 0, 1, 7], [0, 0, 1, 1])),
        ({"node": "gap"}, sw([3, 0, 3, 0], [1, 0, 1, 0])),
    ]}
    out = combine_groups(series, [], ["requests"], 4)
    # "gap" is expected in window 1 (sampled before and after); "old" ended, "new" began
    assert out.keep.tolist() == [[True, False, True, True]]
    assert out.values["requests"].tolist() == [[8, 5, 4, 7]]


def test_a_counter_without_series_in_a_sampled_window_is_zero_and_without_exposure_missing():
    series = {
        "errors": [({"svc": "a"}, sw([2, 2], [1, 1]))],
        "requests": [({"svc": "a"}, sw([9, 9], [1, 1])), ({"svc": "b"}, sw([9, 0], [1, 0]))],
    }
    out = combine_groups(series, ["svc"], ["requests"], 2)
    assert out.keys == [("a",), ("b",)]
    assert out.keep.tolist() == [[True, True], [True, False]]
    assert out.values["errors"].tolist() == [[2, 2], [0, 0]]


def test_a_missing_by_label_is_the_empty_string():
    out = combine_groups({"e": [({"x": "1"}, sw([1], [1])), ({}, sw([2], [1]))]}, ["x"], [], 1)
    assert out.keys == [("",), ("1",)]


@pytest.mark.parametrize(("text", "ms"), [("15s", 15_000), ("5m", 300_000),
                                         ("1h30m", 5_400_000), ("250ms", 250), ("1d", 86_400_000)])
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["5", "5 m", "1.5h", "0s", "-5m", "5M"])
def test_bad_durations(text):
    with pytest.raises(SpecError, match="step"):
        parse_duration_ms(text, "step")
