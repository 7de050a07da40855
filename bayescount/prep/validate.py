"""Check a count table against its :class:`~bayescount.prep.schema.CountSchema`.

:func:`validate_frame` is the single gate every table passes before a model sees it.
It returns a clean copy with canonical dtypes, or raises one of bayescount's
:class:`~bayescount.exceptions.DataError` subclasses whose message names the column,
counts the bad rows, shows the first few (row label: value) and says what to do.

This module is pure pandas/numpy; it never imports pymc.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from bayescount._warnings import warn
from bayescount.exceptions import (
    ColumnNotFoundError,
    CountValueError,
    DataError,
    DataWarning,
    DuplicateRowError,
    ExposureError,
    MissingValueError,
    NestingError,
    WrongTypeError,
)
from bayescount.prep._cells import (
    LIMIT,
    _fmt,
    _is_na,
    _is_numeric_column,
    _is_real_number,
    _labels,
    _missing_mask,
    _plural,
    _rows,
)
from bayescount.prep.schema import MAX_COUNT, CountSchema
from bayescount.prep.timestamps import parse_time_column

__all__ = ["NUMBER_PATTERN", "validate_frame"]

_LIMIT = LIMIT
#: A number written as text: optional sign, digits, decimals and exponent; blanks around.
NUMBER_PATTERN = r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*"
_NUMBER = re.compile(NUMBER_PATTERN)
_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*")
_NULL_WORDS = frozenset({"na", "n/a", "nan", "null", "none", "nil", "-", "--", "?", "#n/a"})
_NUMERIC_OBJECT = frozenset({"integer", "floating", "mixed-integer-float"})
# Object columns of these are refused as covariates (derive a feature instead).
_UNSUPPORTED_OBJECT = frozenset(
    {
        "datetime",
        "datetime64",
        "date",
        "time",
        "timedelta",
        "timedelta64",
        "period",
        "complex",
        "interval",
    }
)


def _is_number_text(value: Any) -> bool:
    """Return True for a string that is a plain number (``"12"``, ``" 1.5e3 "``)."""
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None


def _number_hint(values: np.ndarray) -> str:
    """Return a hint for the commonest ways a number is mis-written in a table."""
    hints = []
    if any(isinstance(v, str) and _THOUSANDS.fullmatch(v) for v in values):
        hints.append(" Thousands separators are not read: write 1234, not 1,234.")
    if any(isinstance(v, str) and v.strip().lower() in _NULL_WORDS for v in values):
        hints.append(
            " Only an empty cell counts as missing; words such as 'NA' or 'null' are "
            "text, and this column cannot be missing anyway."
        )
    return "".join(hints)


def _as_numeric(
    series: pd.Series, name: str, index: pd.Index, error: type[DataError], what: str
) -> pd.Series:
    """Return ``series`` with a real-number dtype or raise ``error``.

    Object and string columns that hold only numbers, numbers written as text and
    missing values are converted; any other cell (a word, ``1,234``, a boolean) is
    reported by row and value.
    """
    if _is_numeric_column(series):
        return series
    if ptypes.is_bool_dtype(series.dtype):
        raise error(
            f"Column {name!r} holds booleans (dtype {series.dtype}), but {what} must be "
            f"numbers. If True/False mean 1/0, convert with data[{name!r}].astype('int64')."
        )
    if ptypes.is_object_dtype(series.dtype) or ptypes.is_string_dtype(series.dtype):
        values = series.to_numpy(dtype=object)
        bad = np.array(
            [not (_is_real_number(v) or _is_na(v) or _is_number_text(v)) for v in values],
            dtype=bool,
        )
        if not bad.any():
            stripped = [v.strip() if isinstance(v, str) else v for v in values]
            return pd.to_numeric(pd.Series(stripped, index=series.index, name=series.name,
                                           dtype=object).where(~series.isna(), np.nan))
        hint = _number_hint(values[bad])
    else:
        bad = ~series.isna().to_numpy(dtype=bool)
        if not bad.any():
            bad = np.ones(len(series), dtype=bool)
        hint = ""
    raise error(
        f"Column {name!r} holds {_plural(int(bad.sum()), 'non-numeric value')} "
        f"(dtype {series.dtype}; {_rows(index, series, bad)}) among {len(series)} rows, but "
        f"{what} must be numbers.{hint} Fix or drop these rows."
    )


# --------------------------------------------------------------------------- columns


def _roles(schema: CountSchema) -> dict[str, str]:
    """Map each schema column to its role, for error messages."""
    roles: dict[str, str] = {}
    for col in schema.main_covariates:
        roles[col] = "covariate"
    for col in schema.groups:
        roles[col] = "group"
    if schema.time is not None:
        roles[schema.time] = "time"
    if schema.exposure is not None:
        roles[schema.exposure] = "exposure"
    roles[schema.counts] = "counts"
    return roles


def _check_columns(data: pd.DataFrame, schema: CountSchema, for_prediction: bool) -> list[str]:
    """Return the schema columns to read, raising if any are missing or repeated."""
    present = set(data.columns)
    roles = _roles(schema)
    wanted = list(dict.fromkeys(schema.columns))
    if for_prediction and schema.counts not in present:
        wanted.remove(schema.counts)
    missing = [col for col in wanted if col not in present]
    if missing:
        listed = ", ".join(f"{col!r} ({roles[col]})" for col in missing)
        available = sorted(map(str, data.columns))
        message = (
            f"{_plural(len(missing), 'column')} of the schema not found in the data: "
            f"{listed}. Available columns: {available}. Check the names given to "
            "CountSchema or rename the data's columns."
        )
        if for_prediction and schema.exposure in missing:
            message += (
                f" The exposure column {schema.exposure!r} is required for new rows too: "
                "predicted counts scale with exposure, so add the exposure each new row "
                "covers."
            )
        raise ColumnNotFoundError(message)
    columns = pd.Index(data.columns)
    for col in wanted:
        n = int((columns == col).sum())
        if n > 1:
            raise DataError(
                f"Column {col!r} appears {n} times in the data; bayescount cannot tell "
                "which one to use. Rename or drop the duplicates."
            )
    return wanted


# --------------------------------------------------------------------------- counts


def _validate_counts(series: pd.Series, name: str, index: pd.Index) -> pd.Series:
    """Return the counts as int64 or raise :class:`CountValueError`."""
    series = _as_numeric(series, name, index, CountValueError, "counts")
    if ptypes.is_integer_dtype(series.dtype):
        missing = series.isna().to_numpy(dtype=bool)
        as_float = None
    else:
        as_float = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = ~np.isfinite(as_float)
    if missing.any():
        raise CountValueError(
            f"Column {name!r} has {_plural(int(missing.sum()), 'missing or non-finite count')}"
            f" ({_rows(index, series, missing)}). Counts must be finite whole numbers >= 0; "
            "fill or drop these rows."
        )
    negative = (series < 0).to_numpy(dtype=bool)
    if negative.any():
        raise CountValueError(
            f"Column {name!r} has {_plural(int(negative.sum()), 'negative count')} "
            f"({_rows(index, series, negative)}). Counts must be >= 0; fix or drop these rows."
        )
    if as_float is not None:
        fractional = as_float != np.floor(as_float)
        if fractional.any():
            raise CountValueError(
                f"Column {name!r} has {_plural(int(fractional.sum()), 'non-integer count')} "
                f"({_rows(index, series, fractional)}). Counts must be whole numbers (3.0 is "
                "fine, 2.5 is not); if the column holds rates, multiply them back by the "
                "exposure and round, or fix these rows."
            )
        too_large = as_float > MAX_COUNT
    else:
        too_large = (series > MAX_COUNT).to_numpy(dtype=bool)
    if too_large.any():
        raise CountValueError(
            f"Column {name!r} has {_plural(int(too_large.sum()), 'count')} above the largest "
            f"supported count 2**53 = {MAX_COUNT:,} ({_rows(index, series, too_large)}); "
            "counts are exact only up to it. Aggregate less (shorter windows, finer groups) "
            "or fix these rows."
        )
    if as_float is not None:
        return pd.Series(as_float.astype(np.int64), index=series.index, name=name)
    return series.astype(np.int64)


# --------------------------------------------------------------------------- exposure


def _validate_exposure(
    series: pd.Series,
    name: str,
    index: pd.Index,
    counts: pd.Series | None,
    counts_name: str,
    for_prediction: bool,
) -> tuple[pd.Series, np.ndarray]:
    """Return the exposure as float64 and the mask of rows to keep."""
    series = _as_numeric(series, name, index, ExposureError, "exposures")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ExposureError(
            f"Column {name!r} has {_plural(int(bad.sum()), 'missing or non-finite exposure')} "
            f"({_rows(index, series, bad)}). Exposure must be a finite number > 0; fill or "
            "drop these rows."
        )
    bad = values < 0
    if bad.any():
        raise ExposureError(
            f"Column {name!r} has {_plural(int(bad.sum()), 'negative exposure')} "
            f"({_rows(index, series, bad)}). Exposure must be > 0; fix or drop these rows."
        )
    zero = values == 0
    keep = np.ones(len(values), dtype=bool)
    if zero.any():
        # Zero exposure means zero expected events: new rows keep it (predicted as 0).
        if counts is None:
            return pd.Series(values, index=series.index, name=name), keep
        positive = zero & (counts.to_numpy() > 0)
        if positive.any():
            raise ExposureError(
                f"Column {name!r} has {_plural(int(positive.sum()), 'zero exposure')} on "
                f"rows with a positive count ({counts_name!r} on "
                f"{_rows(index, counts, positive)}). A count needs exposure > 0; fix the "
                "exposure or drop these rows."
            )
        keep = keep if for_prediction else ~zero
    return pd.Series(values, index=series.index, name=name), keep


# --------------------------------------------------------------------------- labels


def _label(value: Any) -> str:
    """Turn one label into a str; whole floats lose their ``.0`` (3.0 -> "3")."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _to_labels(series: pd.Series) -> pd.Series:
    """Convert a column of labels into pandas ``str`` dtype."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if ptypes.is_object_dtype(dtype) or ptypes.is_float_dtype(dtype):
        series = series.astype(object).map(_label)
    return series.astype("str")


def _validate_labels(series: pd.Series, name: str, index: pd.Index, role: str) -> pd.Series:
    """Return a label column as str, refusing missing labels."""
    missing = _missing_mask(series)
    if missing.any():
        raise MissingValueError(
            f"{role} column {name!r} has {_plural(int(missing.sum()), 'missing label')} "
            f"({_rows(index, series, missing)}). Fill them (e.g. with "
            "'unknown') or drop these rows. If these cells hold a label such as 'NA' or "
            "'null', read the file with bayescount.read_table (only empty cells are missing) "
            "rather than pd.read_csv, which turns such words into missing values."
        )
    return _to_labels(series).rename(name)


def _covariate_kind(series: pd.Series, name: str) -> str:
    """Return ``"numeric"`` or ``"categorical"`` for a covariate column."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    kind = "unsupported"
    if ptypes.is_complex_dtype(dtype):
        pass
    elif ptypes.is_numeric_dtype(dtype):
        kind = "numeric"
    elif ptypes.is_object_dtype(dtype):
        inferred = ptypes.infer_dtype(series, skipna=True)
        if inferred in _NUMERIC_OBJECT or inferred == "empty":
            kind = "numeric"
        elif inferred not in _UNSUPPORTED_OBJECT:
            kind = "categorical"
    elif ptypes.is_string_dtype(dtype):
        kind = "categorical"
    if kind == "unsupported":
        raise DataError(
            f"Covariate column {name!r} holds values of dtype {dtype} that are not numbers, "
            "booleans, strings or categories. Derive a numeric or categorical feature from "
            "it (e.g. the hour of day) first."
        )
    return kind


def _refuse_numbers_with_words(series: pd.Series, name: str, index: pd.Index) -> None:
    """Refuse a text covariate that is mostly numbers: a numeric column with bad cells.

    Read as categorical it would get one level per distinct number; instead the cells
    that are not numbers are reported by row and value.
    """
    values = series.to_numpy(dtype=object)
    present = ~_missing_mask(series)
    numeric = present & np.array(
        [_is_real_number(v) or _is_number_text(v) for v in values], dtype=bool
    )
    other = present & ~numeric
    if other.any() and numeric.sum() > other.sum():
        raise DataError(
            f"Covariate column {name!r} looks numeric ({int(numeric.sum())} of "
            f"{int(present.sum())} cells are numbers) but holds "
            f"{_plural(int(other.sum()), 'cell')} that {'is' if other.sum() == 1 else 'are'} "
            f"not ({_rows(index, series, other)}).{_number_hint(values[other])} Fix or drop "
            "these rows; if the column is categorical, give its levels names that are not "
            "numbers."
        )


def _validate_covariate(series: pd.Series, name: str, index: pd.Index) -> pd.Series:
    """Return a covariate as float64 (numeric) or str labels (categorical)."""
    if _covariate_kind(series, name) == "categorical":
        if ptypes.is_object_dtype(series.dtype) or ptypes.is_string_dtype(series.dtype):
            _refuse_numbers_with_words(series, name, index)
        return _validate_labels(series, name, index, "Covariate")
    if ptypes.is_object_dtype(series.dtype):
        series = pd.to_numeric(series.astype(object).where(series.notna(), np.nan))
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise MissingValueError(
            f"Covariate column {name!r} has "
            f"{_plural(int(bad.sum()), 'missing or non-finite value')} "
            f"({_rows(index, series, bad)}). Covariates must be finite; "
            "impute, fill or drop these rows."
        )
    return pd.Series(values, index=series.index, name=name)


# --------------------------------------------------------------------------- table checks


def _check_duplicates(frame: pd.DataFrame, keys: list[str], index: pd.Index) -> None:
    """Raise :class:`DuplicateRowError` if a (groups..., time) key appears twice."""
    dup = frame.duplicated(subset=keys, keep=False).to_numpy(dtype=bool)
    if not dup.any():
        return
    rows = frame.loc[dup, keys]
    groups = rows.groupby(keys, sort=False, dropna=False).indices
    examples = []
    for key, positions in list(groups.items())[:_LIMIT]:
        key_tuple = key if isinstance(key, tuple) else (key,)
        shown = ", ".join(f"{col}={_fmt(v)}" for col, v in zip(keys, key_tuple, strict=True))
        labels = ", ".join(_fmt(lbl) for lbl in index[np.flatnonzero(dup)[positions]][:_LIMIT])
        examples.append(f"{shown} at rows {labels}")
    more = f"; and {len(groups) - _LIMIT} more" if len(groups) > _LIMIT else ""
    raise DuplicateRowError(
        f"Columns {keys} have {_plural(len(groups), 'duplicated key')} over "
        f"{_plural(int(dup.sum()), 'row')} ({'; '.join(examples)}{more}). Each "
        f"({', '.join(keys)}) combination must appear once; aggregate the duplicates first, "
        f"e.g. data.groupby({keys}, as_index=False).sum(), or drop them."
    )


def _check_nesting(frame: pd.DataFrame, groups: Sequence[str]) -> None:
    """Raise :class:`NestingError` if an inner label has more than one parent."""
    for outer, inner in zip(groups[:-1], groups[1:], strict=True):
        pairs = frame[[outer, inner]].drop_duplicates()
        n_parents = pairs.groupby(inner, sort=False)[outer].nunique()
        bad = n_parents[n_parents > 1]
        if bad.empty:
            continue
        examples = []
        for label in list(bad.index)[:_LIMIT]:
            parents = sorted(pairs.loc[pairs[inner] == label, outer])
            listed = ", ".join(_fmt(p) for p in parents[:_LIMIT])
            if len(parents) > _LIMIT:
                listed += f" and {len(parents) - _LIMIT} more"
            examples.append(f"{_fmt(label)} under {listed}")
        more = f"; and {len(bad) - _LIMIT} more" if len(bad) > _LIMIT else ""
        raise NestingError(
            f"Group column {inner!r} has {_plural(len(bad), 'label')} under more than one "
            f"{outer!r} label ({'; '.join(examples)}{more}). With nesting='nested' each "
            f"{inner!r} label must belong to exactly one {outer!r}. Make the labels unique, "
            f"e.g. data[{inner!r}] = data[{outer!r}] + '/' + data[{inner!r}] "
            f"(\"{outer}/{inner}\"), or use nesting='crossed' if the factors are crossed."
        )


# --------------------------------------------------------------------------- public


def validate_frame(
    data: pd.DataFrame, schema: CountSchema, *, for_prediction: bool = False
) -> pd.DataFrame:
    """Check ``data`` against ``schema`` and return a clean copy.

    Parameters
    ----------
    data : pandas.DataFrame
        The count table. It is never modified.
    schema : CountSchema
        Names the counts, exposure, time, group and covariate columns.
    for_prediction : bool, default False
        Validate new rows to predict for: the counts column becomes optional (checked
        when present), exposure must be present and >= 0 (a zero-exposure row has zero
        expected events and is kept; a positive count on it is refused), and the
        duplicate and nesting checks are skipped.

    Returns
    -------
    pandas.DataFrame
        A new frame holding only ``schema.columns`` (in that order; counts left out in
        prediction mode when absent), with the input's index labels and canonical dtypes:
        counts ``int64``; exposure ``float64``; time ``datetime64[ns]`` when naive or
        ``datetime64[ns, UTC]`` when time-zone aware; group labels ``str``; numeric
        covariates ``float64`` and boolean/string/categorical covariates ``str``. When
        fitting, rows with zero exposure and a zero count are dropped (with a
        :class:`~bayescount.exceptions.DataWarning`). Timestamps with offsets or zones,
        and naive ones localised with ``schema.timezone``, become UTC; differing
        offsets in one column (a daylight-saving change) warn once with a
        :class:`~bayescount.exceptions.DataWarning`. Numbers written as text count as
        numbers; any other cell in a numeric column is reported by row and value.

    Raises
    ------
    ColumnNotFoundError
        A schema column is not in ``data`` (all missing ones are listed).
    CountValueError
        Counts are missing, non-finite, negative, fractional or not numeric.
    ExposureError
        Exposure is missing, non-finite, negative, or zero where that is not allowed.
    TimestampError
        Timestamps are missing, numeric or unparseable, mix naive and zoned values, or
        are local times that ``schema.timezone`` repeats or skips (a clock change).
    MissingValueError
        A group label or covariate value is missing (or a numeric covariate infinite).
    DuplicateRowError
        When fitting with a time column: a (groups..., time) key appears twice.
    NestingError
        When fitting nested groups: an inner label sits under two outer labels.
    DataError
        The frame has no rows (before or after dropping), or repeats a schema column.
    TypeError
        ``data`` is not a DataFrame or ``schema`` not a CountSchema.

    Examples
    --------
    >>> import pandas as pd
    >>> schema = CountSchema(counts="errors", exposure="requests", groups=("service",))
    >>> df = pd.DataFrame(
    ...     {"errors": [1.0, 0.0], "requests": [100, 50], "service": ["api", "db"]}
    ... )
    >>> validate_frame(df, schema).dtypes.astype(str).tolist()
    ['int64', 'float64', 'str']
    """
    if not isinstance(data, pd.DataFrame):
        raise WrongTypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(schema, CountSchema):
        raise WrongTypeError(f"schema must be a CountSchema, got {type(schema).__name__}.")

    columns = _check_columns(data, schema, for_prediction)
    if len(data) == 0:
        raise DataError(
            "The data have no rows. Pass a DataFrame with at least one row"
            + (" to predict for." if for_prediction else " to fit.")
        )

    index = data.index
    raw = {col: data[col].reset_index(drop=True) for col in columns}
    out: dict[str, pd.Series] = {}

    counts = None
    if schema.counts in raw:
        counts = _validate_counts(raw[schema.counts], schema.counts, index)
        out[schema.counts] = counts

    keep = np.ones(len(data), dtype=bool)
    if schema.exposure is not None:
        exposure, keep = _validate_exposure(
            raw[schema.exposure], schema.exposure, index, counts, schema.counts, for_prediction
        )
        out[schema.exposure] = exposure

    if not keep.all():
        n_drop = int((~keep).sum())
        if not keep.any():
            raise DataError(
                f"All {_plural(n_drop, 'row')} have zero exposure ({schema.exposure!r}) and "
                f"a zero count ({schema.counts!r}); no rows remain to fit. Check the "
                "exposure column."
            )
        warn(
            f"Dropped {_plural(n_drop, 'row')} with zero exposure ({schema.exposure!r} == 0) "
            f"and zero count ({schema.counts!r} == 0) ({_labels(index, ~keep)}); they carry "
            "no information. Drop them yourself to silence this warning.",
            DataWarning,
        )
        positions = np.flatnonzero(keep)
        index = index[positions]
        raw = {col: s.iloc[positions].reset_index(drop=True) for col, s in raw.items()}
        out = {col: s.iloc[positions].reset_index(drop=True) for col, s in out.items()}

    if schema.time is not None:
        out[schema.time] = parse_time_column(
            raw[schema.time], schema.time, index, schema.timezone
        )
    for col in schema.groups:
        out[col] = _validate_labels(raw[col], col, index, "Group")
    for col in schema.main_covariates:
        out[col] = _validate_covariate(raw[col], col, index)

    frame = pd.DataFrame({col: out[col] for col in columns})
    if not for_prediction:
        if schema.time is not None:
            _check_duplicates(frame, [*schema.groups, schema.time], index)
        if schema.nesting == "nested" and len(schema.groups) >= 2:
            _check_nesting(frame, schema.groups)
    frame.index = index
    return frame
