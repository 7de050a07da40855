"""Readers of count tables and persistence of fits."""

from bayescount.io.fitfile import load_fit, save_fit
from bayescount.io.tables import label_columns, read_table

__all__ = ["label_columns", "load_fit", "read_table", "save_fit"]
