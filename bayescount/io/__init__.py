"""Readers of count tables and event logs, and persistence of fits."""

from bayescount.io.aggregate import aggregate_events
from bayescount.io.fitfile import load_fit, save_fit
from bayescount.io.tables import label_columns, read_table

__all__ = ["aggregate_events", "label_columns", "load_fit", "read_table", "save_fit"]
