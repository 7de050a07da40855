"""Regenerate the bundled example fleet (synthetic; deterministic).

``fleet.csv``: errors and requests per 15-minute window over two days for a fleet of
3 regions x 4 services x 1-5 nodes (unbalanced), negative-binomial noise, daily
seasonality in the error rate, plus one new region ("r3") with only 4 hours of
history. ``next_hour.csv``: the next four windows of every node (no counts), with
requests at the last day's level, for ``bayescount predict``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bayescount.testing import simulate_telemetry

HERE = Path(__file__).parent


def main() -> None:
    """Write fleet.csv and next_hour.csv beside this script."""
    sim = simulate_telemetry(
        3, 4, 3, 192, family="negative_binomial", rate=5e-4, sd=(0.3, 0.5, 0.3), alpha=6.0,
        daily_amplitude=0.4, window="15min", unbalanced=True, seed=2026,
    )
    young = simulate_telemetry(
        1, 2, 2, 16, family="negative_binomial", rate=8e-4, sd=(0.0, 0.3, 0.2), alpha=6.0,
        daily_amplitude=0.4, window="15min", seed=7,
    ).frame
    start = sim.frame["timestamp"].max() - pd.Timedelta(hours=4) + pd.Timedelta(minutes=15)
    young = young.assign(
        timestamp=young["timestamp"] - young["timestamp"].min() + start,
        region="r3",
        service=young["service"].str.replace("r0-", "r3-"),
        node=young["node"].str.replace("r0-", "r3-"),
    )
    fleet = pd.concat([sim.frame, young], ignore_index=True).drop(columns="load")
    fleet.to_csv(HERE / "fleet.csv", index=False)
    last = fleet[fleet["timestamp"] == fleet["timestamp"].max()]
    future = []
    for step in range(1, 5):
        future.append(
            last.assign(timestamp=last["timestamp"] + pd.Timedelta(minutes=15 * step))
            .drop(columns="errors")
        )
    pd.concat(future, ignore_index=True).to_csv(HERE / "next_hour.csv", index=False)
    mean = np.round(fleet["errors"].mean(), 2)
    print(len(fleet), "rows;", fleet["node"].nunique(), "nodes; mean errors", mean)


if __name__ == "__main__":
    main()
