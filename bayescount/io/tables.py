"""Read count tables from CSV or Parquet files, keeping labels exactly as written.

Which cells are missing
-----------------------
In a CSV file only an **empty cell** is missing. ``NA``, ``null``, ``None``, ``NaN``
and ``n/a`` are text like any other: a region called ``NA`` (North America) stays
``"NA"``, and the same word in a numeric column is reported as a non-numeric cell
(row and value) by :func:`~bayescount.prep.validate.validate_frame` instead of being
turned silently into a missing value. In a Parquet file a cell is missing when it is
null; strings are kept as stored.

Which columns are text
----------------------
Columns named in ``text_columns`` (group labels, categorical covariates) are read as
text exactly as written: ``007``, ``1e3``, ``1.50`` and ``+1`` stay those strings.
Any other CSV column becomes numbers when every non-empty cell is a plain decimal
number (optional sign, decimals and exponent) and no cell is zero-padded (``007`` is
an identifier, not seven); otherwise it stays text, exactly as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bayescount.exceptions import DataError
from bayescount.prep.validate import NUMBER_PATTERN

if TYPE_CHECKING:
    from bayescount.count_model import CountModel
    from bayescount.inference.fit import Fit
    from bayescount.prep.schema import CountSchema

__all__ = ["label_columns", "numeric_columns", "read_table"]

_CSV = (".csv",)
_PARQUET = (".parquet", ".pq")
#: A zero-padded integer part (``007``, ``-01.5``): an identifier, not a number.
_ZERO_PADDED = r"^\s*[+-]?0\d"


def _matches(values: pa.Array | pa.ChunkedArray, pattern: str) -> pa.BooleanArray:
    return pc.match_substring_regex(values, pattern)


def _infer(column: pd.Series) -> pd.Series:
    """Numbers when every non-empty cell is a plain, unpadded number; else the text."""
    if hasattr(column.array, "__arrow_array__"):  # pandas >= 3: arrow-backed strings
        values = pa.array(column.array)
    else:
        values = pa.array(column.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    present = values.drop_null()
    if len(present) == 0:
        return column
    if not pc.all(_matches(present, f"^(?:{NUMBER_PATTERN})$")).as_py():
        return column
    if pc.any(_matches(present, _ZERO_PADDED)).as_py():
        return column
    trimmed = pc.utf8_trim_whitespace(values)
    whole = pc.all(_matches(present, r"^\s*[+-]?\d+\s*$")).as_py()
    try:
        numbers = pc.cast(trimmed, pa.int64() if whole else pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # beyond int64, say
        return pd.to_numeric(column.str.strip())
    return pd.Series(numbers.to_pandas(), index=column.index, name=column.name)


def _read_csv(path: Path, text: set[str], numeric: set[str] | None) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
    for name in raw.columns:
        if name not in text and (numeric is None or name in numeric):
            raw[name] = _infer(raw[name])
    return raw


def numeric_columns(fit: Fit) -> tuple[str, ...]:
    """Columns a fit reads as numbers: counts, exposure and numeric covariates.

    Pass them as ``read_table(..., numeric_columns=...)`` to read every other column
    (labels, time, identifiers passed through) exactly as written.

    Parameters
    ----------
    fit : Fit
        The fitted model whose schema and design name the columns.

    Returns
    -------
    tuple of str
        The counts column, the exposure column (when the schema has one) and the
        numeric covariates, in that order.
    """
    schema = fit.schema
    numeric = [schema.counts, *([schema.exposure] if schema.exposure else [])]
    numeric += [e.name for e in fit.design.encodings if e.kind == "numeric"]
    return tuple(numeric)


def read_table(
    path: str | Path,
    *,
    text_columns: Iterable[str] = (),
    numeric_columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (format from the extension).

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet`` or ``.pq`` file.
    text_columns : iterable of str
        Columns to read as text exactly as written (group labels, categorical
        covariates); see :func:`label_columns`. Names not in the file are ignored.
    numeric_columns : iterable of str, optional
        When given, only these CSV columns may become numbers; every other column is
        text exactly as written (``predict`` passes columns through unchanged this
        way; see :func:`numeric_columns`).

    Returns
    -------
    pandas.DataFrame
        One column per column of the file. CSV: only empty cells are missing;
        ``text_columns`` and columns that are not all plain numbers are text exactly
        as written; the rest are ``int64`` or ``float64``. Parquet: as stored.

    Raises
    ------
    DataError
        Unknown extension, no such file, or the file cannot be parsed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _CSV + _PARQUET:
        raise DataError(
            f"Cannot read {path}: unknown extension {suffix!r}; use one of "
            f"{sorted(_CSV + _PARQUET)}."
        )
    if not path.is_file():
        raise DataError(f"No such file: {path}.")
    try:
        if suffix in _CSV:
            numeric = None if numeric_columns is None else set(numeric_columns)
            return _read_csv(path, set(text_columns), numeric)
        return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataError(f"Cannot read {path}: {err}") from err


def label_columns(source: CountSchema | CountModel) -> tuple[str, ...]:
    """Columns of labels to read as text for a schema or a fitted model.

    Parameters
    ----------
    source : CountSchema, Fit or CountModel
        A schema (its group columns), a fit, or a model: its group columns and, once
        fitted, its categorical covariates.

    Returns
    -------
    tuple of str
        The ``text_columns`` to pass to :func:`read_table`.
    """
    schema = getattr(source, "schema", source)
    design = getattr(source, "design", None)  # a Fit
    if design is None and getattr(source, "is_fitted", False):  # a fitted CountModel
        design = source.design_
    categorical = tuple(
        e.name for e in (design.encodings if design is not None else ()) if e.kind != "numeric"
    )
    return tuple(dict.fromkeys((*schema.groups, *categorical)))
