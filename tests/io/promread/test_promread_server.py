"""read_prometheus against a real Prometheus server holding generated counters.

The counters (:mod:`promdata`) hold an incident, a counter reset and a scrape gap;
the generator keeps the true events of every scrape interval, so every window's
count is known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from promdata import END, GAP, RESET, START
from promserver import PrometheusServer

import bayescount as bc
from bayescount.exceptions import DataWarning, PrometheusQueryError, SpecError

COUNTS = {"errors": "app_errors_total"}
EXPOSURE = {"requests": "app_requests_total"}
KEYS = ["timestamp", "region", "service"]


def read(server, **kwargs) -> pd.DataFrame:
    options = {"by": ["region", "service"], "start": START.isoformat(),
               "end": END.isoformat(), "step": "5m"}
    options.update(kwargs)
    return bc.read_prometheus(server.url, COUNTS, EXPOSURE, **options)


@pytest.fixture(scope="module")
def exact(prom) -> pd.DataFrame:
    return read(prom)


@pytest.fixture(scope="module")
def compared(exact, generated) -> pd.DataFrame:
    truth = generated.truth(pd.Timedelta("5min"))
    return truth.merge(exact, on=KEYS, how="left", suffixes=("_true", ""),
                       validate="one_to_one", indicator=True)


def test_the_frame_has_the_documented_shape(exact):
    assert list(exact.columns) == ["timestamp", "region", "service", "errors", "requests"]
    assert str(exact["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert exact["errors"].dtype == np.int64 and exact["requests"].dtype == np.int64
    assert exact["timestamp"].min() == START
    assert exact["timestamp"].max() == END - pd.Timedelta("5min")
    assert not exact.duplicated(KEYS).any()


def test_counts_equal_the_generated_counts_exactly_in_every_fully_sampled_window(compared):
    full = compared[compared["full"]]
    # 4 groups × 36 windows, less the 5 windows the gap touches
    assert len(full) == 4 * 36 - 5
    assert (full["_merge"] == "both").all()
    assert full["errors"].tolist() == full["errors_true"].tolist()
    assert full["requests"].tolist() == full["requests_true"].tolist()


def test_the_incident_and_the_reset_are_read_exactly(compared):
    eu_api = compared[(compared["region"] == "eu") & (compared["service"] == "api")]
    incident = eu_api[(eu_api["timestamp"] >= START + pd.Timedelta("60min"))
                      & (eu_api["timestamp"] < START + pd.Timedelta("100min"))]
    assert len(incident) == 8
    assert (incident["errors"] / incident["requests"]).min() > 0.2  # 30 % errors
    region, service, _, at = RESET
    window = at.floor("5min")
    row = compared[(compared["region"] == region) & (compared["service"] == service)
                   & (compared["timestamp"] == window)]
    assert row["full"].item()
    assert row["requests"].item() == row["requests_true"].item()


def test_gap_windows_are_missing_not_zero_and_their_neighbours_count_what_was_scraped(
    compared, prom
):
    region, service, _, lo, hi = GAP
    group = compared[(compared["region"] == region) & (compared["service"] == service)]
    touched = group[~group["full"]]
    assert touched["timestamp"].tolist() == [
        START + pd.Timedelta(minutes=m) for m in (120, 125, 130, 135, 140)
    ]
    empty = touched[(touched["timestamp"] >= lo.ceil("5min"))
                    & (touched["timestamp"] + pd.Timedelta("5min") <= hi)]
    assert len(empty) == 3
    assert (empty["_merge"] == "left_only").all()  # no row: missing, not zero
    edges = touched[touched["_merge"] == "both"]
    assert len(edges) == 2
    # the windows around the gap hold the increments the scrapes saw (the window
    # after the gap counts from its own first sample): less than the truth
    assert edges["requests"].tolist() == edges["requests_seen"].tolist()
    assert edges["errors"].tolist() == edges["errors_seen"].tolist()
    assert (edges["requests"] < edges["requests_true"]).all()
    missing = read(prom, keep_missing=True)
    assert len(missing) == 4 * 36
    nan_rows = missing[missing["requests"].isna()]
    assert nan_rows["timestamp"].tolist() == empty["timestamp"].tolist()
    assert nan_rows["errors"].isna().all()


def test_counts_and_exposure_cover_the_same_windows(exact):
    # both columns are present in every row, never one without the other
    assert exact[["errors", "requests"]].notna().all().all()
    assert (exact["requests"] > 0).all()


def test_chunked_reads_equal_the_unchunked_read_edges_included(prom, exact):
    calls = []
    one_window = read(prom, chunk="5m", on_chunk=lambda done, total: calls.append(done))
    assert len(calls) == 2 * 36 and calls[-1] == 2 * 36
    pd.testing.assert_frame_equal(one_window, exact)
    odd = read(prom, chunk="35m")  # chunk edges fall between and on samples
    pd.testing.assert_frame_equal(odd, exact)
    whole = read(prom, chunk="3h")
    pd.testing.assert_frame_equal(whole, exact)


def test_too_many_samples_halves_the_chunk_and_reads_the_same(tmp_path, generated, exact):
    # 8 series × 20 samples per window: a chunk of more than one window is refused
    calls = []
    with PrometheusServer(tmp_path, generated.text,
                          extra_args=["--query.max-samples=400"]) as small:
        halved = read(small, chunk="3h", on_chunk=lambda done, total: calls.append(done))
        with pytest.raises(PrometheusQueryError, match="too many samples"):
            read(small, chunk="5m", by=[], step="1h")
    pd.testing.assert_frame_equal(halved, exact)
    assert np.diff([0, *calls]).max() < 36  # read in smaller chunks than asked
    assert calls[-1] == 2 * 36 and (np.diff(calls) >= 0).all()  # progress never overcounts


def test_other_steps_and_groupings(prom, generated):
    frame = read(prom, step="15m", by=["region"])
    truth = generated.truth(pd.Timedelta("15min"))
    truth = truth.groupby(["timestamp", "region"]).agg(
        requests=("requests", "sum"), full=("full", "all")).reset_index()
    merged = truth[truth["full"]].merge(frame, on=["timestamp", "region"], validate="1:1")
    assert len(merged) == 2 * 12 - 2  # the gap touches 02:00 and 02:15
    assert merged["requests_x"].tolist() == merged["requests_y"].tolist()
    total = bc.read_prometheus(prom.url, COUNTS, start=START.isoformat(),
                               end=END.isoformat(), step="10m")
    assert list(total.columns) == ["timestamp", "errors"]
    # one group; 02:10-02:20 lies inside the gap and is missing
    assert len(total) == 17
    assert START + pd.Timedelta("130min") not in set(total["timestamp"])
    assert total["errors"].sum() < generated.events["errors"].sum()


def test_increase_extrapolates_to_non_integers_near_the_exact_counts(prom, exact):
    est = read(prom, method="increase")
    merged = exact.merge(est, on=KEYS, suffixes=("", "_inc"))
    assert len(merged) == len(exact)
    assert not np.allclose(merged["requests_inc"], np.round(merged["requests_inc"]))
    ratio = merged["requests_inc"] / merged["requests"]
    assert 0.9 < ratio.median() < 1.1
    assert len(est) == 4 * 36  # increase() has a value wherever any series has two samples
    pd.testing.assert_frame_equal(read(prom, method="increase", chunk="35m"), est)


def test_a_bad_selector_is_the_servers_400_message(prom):
    with pytest.raises(PrometheusQueryError) as info:
        bc.read_prometheus(prom.url, {"errors": "sum(app_errors_total)"},
                           start=START.isoformat(), end=END.isoformat(), step="5m")
    text = str(info.value)
    assert text.startswith(f"{prom.url} refused the query (HTTP 400 bad_data): ")
    assert "ranges only allowed for vector selectors" in text
    assert "Query: sum(app_errors_total)[" in text


def test_a_by_label_on_no_series_is_an_error_not_one_group(prom):
    with pytest.raises(SpecError, match=r"'regoin' are on no series.*region, service"):
        read(prom, by=["regoin", "service"])


def test_a_selector_matching_nothing_is_an_error_or_a_warning(prom, exact):
    with pytest.raises(PrometheusQueryError, match="matched no series"):
        bc.read_prometheus(prom.url, {"errors": "app_erors_total"},
                           start=START.isoformat(), end=END.isoformat(), step="5m")
    with pytest.warns(DataWarning, match="app_nothing_total"):
        frame = bc.read_prometheus(prom.url, {"errors": "app_nothing_total"}, EXPOSURE,
                                   by=["region", "service"], start=START.isoformat(),
                                   end=END.isoformat(), step="5m")
    assert (frame["errors"] == 0).all()
    assert frame["requests"].tolist() == exact["requests"].tolist()


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"end": "2026-01-05T03:02:00Z"}, "end=2026-01-05T03:05:00Z"),
    ({"start": "2026-01-05T00:00:00"}, "no time zone"),
    ({"step": "5 minutes"}, "Cannot read step"),
    ({"by": ["region-x"]}, "not a Prometheus label name"),
    ({"method": "rate"}, "choose 'exact' or 'increase'"),
])
def test_bad_arguments_are_spec_errors(kwargs, needle):
    options = {"start": START.isoformat(), "end": END.isoformat(), "step": "5m"}
    options.update(kwargs)
    with pytest.raises(SpecError, match=needle):
        bc.read_prometheus("http://127.0.0.1:9", COUNTS, **options)


def test_the_how_to_example_exact_12_increase_13_33(tmp_path):
    # docs/howto/prometheus.md: one window [00:00, 01:00), scrapes at :05, :20, :35, :50
    t0 = int(START.timestamp())
    samples = [(-10, 98), (5, 100), (20, 103), (35, 104), (50, 110), (65, 111)]
    text = "# TYPE demo counter\n" + "".join(
        f"demo_total {v} {t0 + t}\n" for t, v in samples) + "# EOF\n"
    with PrometheusServer(tmp_path, text) as server:
        one = {"start": t0, "end": t0 + 60, "step": "1m"}
        exact = bc.read_prometheus(server.url, {"n": "demo_total"}, **one)
        estimate = bc.read_prometheus(server.url, {"n": "demo_total"}, method="increase", **one)
    assert exact["n"].tolist() == [12]  # 2 + 3 + 1 + 6
    assert estimate["n"].tolist() == [pytest.approx(10 * 60 / 45)]  # 13.33
