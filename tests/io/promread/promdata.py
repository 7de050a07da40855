"""Synthetic Prometheus counters with known per-window counts, as OpenMetrics text.

Two counters, ``app_requests_total`` and ``app_errors_total``, labelled region ×
service × node (2 × 2 × 2 series each), scraped every 15 s from
:data:`FIRST_SCRAPE` to :data:`LAST_SCRAPE`. Node ``n2`` is scraped 7.321 s after
``n1`` (its samples never sit on a window boundary; ``n1``'s sit on every boundary).
The data hold:

* an **incident**: ``region=eu, service=api`` errors at 30 % instead of 1 % from
  01:00 to 01:40;
* a **counter reset**: ``us/web/n1`` restarts at 01:47:30 (both counters start again
  from the events since the restart);
* a **scrape gap**: ``eu/web/n2`` has no samples from 02:02:30 to 02:21:15, so the
  windows 02:05, 02:10 and 02:15 (5-minute windows) hold none of its samples.

The counters keep counting through the gap (the events still happen, they are only
not scraped). :attr:`Generated.events` holds the true events of every scrape
interval, and :meth:`Generated.truth` the true per-window counts per group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY = pd.Timestamp("2026-01-05T00:00:00Z")
#: The read range of the tests: 3 hours from DAY.
START, END = DAY, DAY + pd.Timedelta(hours=3)
FIRST_SCRAPE = DAY - pd.Timedelta(minutes=10)
LAST_SCRAPE = END + pd.Timedelta(minutes=10)
SCRAPE_S = 15
OFFSETS_MS = {"n1": 0, "n2": 7321}
REGIONS, SERVICES, NODES = ("eu", "us"), ("api", "web"), ("n1", "n2")
INCIDENT = (DAY + pd.Timedelta(hours=1), DAY + pd.Timedelta(minutes=100))
RESET = ("us", "web", "n1", DAY + pd.Timedelta(minutes=107, seconds=30))
GAP = ("eu", "web", "n2", DAY + pd.Timedelta(minutes=122, seconds=30),
       DAY + pd.Timedelta(minutes=141, seconds=15))


@dataclass
class Generated:
    """The samples written and the true events behind them.

    ``events`` has one row per series and scrape slot: region, service, node,
    ``t_ms`` (the sample's Unix time in ms), ``requests`` and ``errors`` (events in the
    interval since the previous slot), ``scraped`` (False in the gap) and the
    counter values ``requests_value``/``errors_value`` (after the reset, counting
    from it).
    """

    events: pd.DataFrame
    text: str

    def truth(self, step: pd.Timedelta, start: pd.Timestamp = START,
              end: pd.Timestamp = END) -> pd.DataFrame:
        """True counts per (region, service) and window ``[start + k·step, …)``.

        Columns: timestamp, region, service, requests, errors; ``full``: True when
        every series of the group has every slot of the window scraped, and the slot
        before the window too (the windows whose read-back must be exact); and
        ``requests_seen``/``errors_seen``: the events of the slots scraped together
        with the slot before them (what the scrapes can show, in any window).
        """
        ev = self.events
        step_ms = int(step.total_seconds() * 1000)
        start_ms = int(start.timestamp() * 1000)
        end_ms = int(end.timestamp() * 1000)
        ev = ev.assign(window=(ev["t_ms"] - start_ms) // step_ms)
        # a slot's predecessor scraped too: the increment is observable
        ev = ev.sort_values(["region", "service", "node", "t_ms"])
        prev = ev.groupby(["region", "service", "node"])["scraped"].shift(1, fill_value=False)
        ev = ev.assign(observed=ev["scraped"] & prev)
        ev = ev.assign(requests_seen=ev["requests"].where(ev["observed"], 0),
                       errors_seen=ev["errors"].where(ev["observed"], 0))
        ev = ev[(ev["t_ms"] >= start_ms) & (ev["t_ms"] < end_ms)]
        keys = ["region", "service", "window"]
        out = ev.groupby(keys).agg(
            requests=("requests", "sum"), errors=("errors", "sum"),
            full=("observed", "all"), requests_seen=("requests_seen", "sum"),
            errors_seen=("errors_seen", "sum"),
        ).reset_index()
        out["timestamp"] = pd.to_datetime(start_ms + out.pop("window") * step_ms, unit="ms",
                                          utc=True)
        return out[["timestamp", "region", "service", "requests", "errors", "full",
                    "requests_seen", "errors_seen"]]


def generate(seed: int = 7) -> Generated:
    """Draw the events, build the counters and their OpenMetrics text."""
    rng = np.random.default_rng(seed)
    first = int(FIRST_SCRAPE.timestamp() * 1000)
    last = int(LAST_SCRAPE.timestamp() * 1000)
    slots = np.arange(first, last + 1, SCRAPE_S * 1000)
    frames = []
    for region in REGIONS:
        for service in SERVICES:
            for node in NODES:
                t_ms = slots + OFFSETS_MS[node]
                rate = {"api": 40, "web": 25}[service] * (1.5 if region == "us" else 1.0)
                requests = rng.poisson(rate, size=t_ms.size)
                p = np.full(t_ms.size, 0.01)
                if (region, service) == ("eu", "api"):
                    lo, hi = (int(x.timestamp() * 1000) for x in INCIDENT)
                    p[(t_ms >= lo) & (t_ms < hi)] = 0.30
                errors = rng.binomial(requests, p)
                requests_value = np.cumsum(requests) + 1000  # started long before
                errors_value = np.cumsum(errors) + 10
                if (region, service, node) == RESET[:3]:
                    at = t_ms >= int(RESET[3].timestamp() * 1000)
                    k = int(np.argmax(at))
                    requests_value[at] = np.cumsum(requests[at])
                    errors_value[at] = np.cumsum(errors[at])
                    assert requests_value[k] < requests_value[k - 1]
                scraped = np.ones(t_ms.size, dtype=bool)
                if (region, service, node) == GAP[:3]:
                    lo, hi = (int(x.timestamp() * 1000) for x in GAP[3:])
                    scraped[(t_ms >= lo) & (t_ms < hi)] = False
                frames.append(pd.DataFrame({
                    "region": region, "service": service, "node": node, "t_ms": t_ms,
                    "requests": requests, "errors": errors, "scraped": scraped,
                    "requests_value": requests_value, "errors_value": errors_value,
                }))
    events = pd.concat(frames, ignore_index=True)
    return Generated(events=events, text=openmetrics(events))


def openmetrics(events: pd.DataFrame) -> str:
    """The scraped samples as OpenMetrics text (each series contiguous, ``# EOF``)."""
    lines = []
    scraped = events[events["scraped"]]
    for family, column in (("app_requests", "requests_value"), ("app_errors", "errors_value")):
        lines.append(f"# TYPE {family} counter")
        for (region, service, node), rows in scraped.groupby(["region", "service", "node"]):
            labels = f'node="{node}",region="{region}",service="{service}"'
            for t, v in zip(rows["t_ms"].to_numpy(), rows[column].to_numpy(), strict=True):
                lines.append(f"{family}_total{{{labels}}} {v} {t // 1000}.{t % 1000:03d}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
