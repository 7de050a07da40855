"""Read count tables from CSV or Parquet files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayescount.exceptions import DataError

__all__ = ["read_table"]

_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (format from the extension)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise DataError(
            f"Cannot read {path}: unknown extension {suffix!r}; use one of {sorted(_READERS)}."
        )
    if not path.is_file():
        raise DataError(f"No such file: {path}.")
    try:
        return _READERS[suffix](path)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataError(f"Cannot read {path}: {err}") from err
