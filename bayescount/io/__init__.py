"""Readers of count tables, event logs and Prometheus counters, and persistence of fits.

:func:`~bayescount.io.prometheus.read_prometheus` is imported on first use (PEP 562),
so importing this package does not import httpx.
"""

from bayescount.io.aggregate import aggregate_events
from bayescount.io.fitfile import load_fit, save_fit
from bayescount.io.tables import label_columns, read_table

__all__ = [
    "aggregate_events", "label_columns", "load_fit", "read_prometheus", "read_table", "save_fit",
]


def __getattr__(name: str):
    if name == "read_prometheus":
        from bayescount.io.prometheus import read_prometheus

        globals()[name] = read_prometheus
        return read_prometheus
    raise AttributeError(f"module 'bayescount.io' has no attribute {name!r}")
