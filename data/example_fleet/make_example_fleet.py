"""Regenerate the bundled example fleet (synthetic; deterministic).

``fleet.csv``: errors and requests per 15-minute window over two days for a fleet of
3 regions x 4 services x 1-5 nodes (unbalanced), negative-binomial noise, daily
seasonality in the error rate, plus one new region ("r3") with only 4 hours of
history. ``next_hour.csv``: the next four windows of every node (no counts), with
requests at the last day's level, for ``bayescount predict``.

The files of the README's "Checks and decisions" commands:

* ``holdout.csv``: the next two hours (2026-01-07 00:00-01:45) of every node, with
  counts, from the same simulation continued (same group effects, seasonality and
  noise law), for ``bayescount coverage``;
* ``sofar.csv``: the SLO's events so far, one row per window (``time``, ``total``,
  ``bad``): the whole fleet's requests and errors of 2026-01-06, for ``bayescount slo``;
* ``future.csv``: the next six hours of every node (no counts), requests at the
  same hours of the last day, for ``bayescount slo --future`` and ``capacity``;
* ``incident.csv``: 2026-01-06 08:00-14:00 of every node, with the errors of service
  ``r1-s2`` tripled from 10:00 to 12:00, for ``bayescount anomalies`` and ``attribute``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bayescount.testing import simulate_telemetry

HERE = Path(__file__).parent
MAIN = {"n_regions": 3, "n_services": 4, "n_nodes": 3, "family": "negative_binomial",
        "rate": 5e-4, "sd": (0.3, 0.5, 0.3), "alpha": 6.0, "daily_amplitude": 0.4,
        "window": "15min", "unbalanced": True, "seed": 2026}
YOUNG = {"n_regions": 1, "n_services": 2, "n_nodes": 2, "family": "negative_binomial",
         "rate": 8e-4, "sd": (0.0, 0.3, 0.2), "alpha": 6.0, "daily_amplitude": 0.4,
         "window": "15min", "seed": 7}
TRAIN, YOUNG_TRAIN, EXTRA = 192, 16, 8


def _young(frame: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Move the young simulation to region r3, starting at ``start``."""
    return frame.assign(
        timestamp=frame["timestamp"] - frame["timestamp"].min() + start,
        region="r3",
        service=frame["service"].str.replace("r0-", "r3-"),
        node=frame["node"].str.replace("r0-", "r3-"),
    )


def fleet_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(fleet, holdout)``: the two days of history and the next two hours."""
    sim = simulate_telemetry(n_windows=TRAIN, **MAIN).frame
    start = sim["timestamp"].max() - pd.Timedelta(hours=4) + pd.Timedelta(minutes=15)
    young = _young(simulate_telemetry(n_windows=YOUNG_TRAIN, **YOUNG).frame, start)
    fleet = pd.concat([sim, young], ignore_index=True).drop(columns="load")
    # The same simulations run longer: the group effects are drawn first from the same
    # seeds, so they are identical; the windows past the history are the holdout.
    longer = simulate_telemetry(n_windows=TRAIN + EXTRA, **MAIN).frame
    young_longer = _young(simulate_telemetry(n_windows=YOUNG_TRAIN + EXTRA, **YOUNG).frame,
                          start)
    end = fleet["timestamp"].max()
    holdout = pd.concat([longer, young_longer], ignore_index=True).drop(columns="load")
    holdout = holdout[holdout["timestamp"] > end].reset_index(drop=True)
    return fleet, holdout


def main() -> None:
    """Write the example files beside this script."""
    fleet, holdout = fleet_frames()
    fleet.to_csv(HERE / "fleet.csv", index=False)
    last = fleet[fleet["timestamp"] == fleet["timestamp"].max()]
    future = []
    for step in range(1, 5):
        future.append(
            last.assign(timestamp=last["timestamp"] + pd.Timedelta(minutes=15 * step))
            .drop(columns="errors")
        )
    pd.concat(future, ignore_index=True).to_csv(HERE / "next_hour.csv", index=False)

    holdout.to_csv(HERE / "holdout.csv", index=False)
    end = fleet["timestamp"].max() + pd.Timedelta(minutes=15)
    day = fleet[fleet["timestamp"] >= end - pd.Timedelta(days=1)]
    sofar = day.groupby("timestamp", as_index=False)[["requests", "errors"]].sum()
    sofar.columns = ["time", "total", "bad"]
    sofar.to_csv(HERE / "sofar.csv", index=False)
    same_hours = day[day["timestamp"] < day["timestamp"].min() + pd.Timedelta(hours=6)]
    next6 = same_hours.drop(columns="errors").assign(
        timestamp=same_hours["timestamp"] + pd.Timedelta(days=1))
    next6.to_csv(HERE / "future.csv", index=False)
    start = pd.Timestamp("2026-01-06 08:00")
    incident = fleet[fleet["timestamp"].between(start, start + pd.Timedelta(hours=6),
                                                inclusive="left")].copy()
    hit = (incident["service"] == "r1-s2") & incident["timestamp"].between(
        pd.Timestamp("2026-01-06 10:00"), pd.Timestamp("2026-01-06 12:00"), inclusive="left")
    incident.loc[hit, "errors"] *= 3
    incident.to_csv(HERE / "incident.csv", index=False)
    mean = np.round(fleet["errors"].mean(), 2)
    print(len(fleet), "rows;", fleet["node"].nunique(), "nodes; mean errors", mean, ";",
          len(holdout), "holdout,", len(sofar), "sofar,", len(next6), "future,",
          len(incident), "incident rows")


if __name__ == "__main__":
    main()
