"""Rows per second of ``aggregate_events`` (DuckDB) on a generated event log.

Usage::

    python benchmarks/aggregate_rows.py [N_ROWS] [--threads T]

Writes N_ROWS events (default 10**7: 3 regions x 4 services x 5 nodes, 1 day, status
codes with ~2 % errors) to a Parquet and a CSV file with DuckDB itself, then times
``aggregate_events`` (5-minute windows, by region/service/node, ``status >= 500``) on
each and prints rows per second. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from bayescount.io.aggregate import aggregate_events


def write_events(folder: Path, n: int) -> dict[str, Path]:
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE ev AS
        SELECT TIMESTAMPTZ '2026-01-05 00:00:00+00'
                   + to_microseconds((random() * 86400e6)::BIGINT) AS ts,
               'region-' || (i % 3) AS region,
               'svc-' || ((i // 3) % 4) AS service,
               'node-' || ((i // 12) % 5) AS node,
               CASE WHEN random() < 0.02 THEN 503 ELSE 200 END AS status
        FROM range({n}) t(i)
    """)
    paths = {"parquet": folder / "events.parquet", "csv": folder / "events.csv"}
    con.execute(f"COPY ev TO '{paths['parquet']}' (FORMAT parquet)")
    con.execute(f"COPY ev TO '{paths['csv']}' (FORMAT csv, HEADER)")
    con.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=10**7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_events(Path(tmp), args.rows)
        for kind, path in paths.items():
            size = path.stat().st_size / 2**20
            start = time.perf_counter()
            out = aggregate_events(path, time="ts", by=["region", "service", "node"],
                                   step="5m", error_when="status >= 500")
            seconds = time.perf_counter() - start
            print(f"{kind:8s} {args.rows:,} rows ({size:.0f} MiB) -> {len(out):,} window rows "
                  f"in {seconds:.2f} s: {args.rows / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
