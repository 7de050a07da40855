"""Designs the data cannot identify, caught when fitting; extrapolation, flagged when predicting.

:func:`check_training_design` runs inside :meth:`Design.fit
<bayescount.prep.design.Design.fit>` and refuses, with
:class:`~bayescount.exceptions.DesignError` naming the columns:

* a numeric covariate that never varies (its coefficient would be the prior alone,
  and a prediction at another value pure extrapolation from it);
* a categorical covariate with a single level;
* covariate terms that are linear combinations of one another and the intercept
  (duplicated or rescaled columns, one-hot levels that cover every row, an
  interaction that is zero on every row): found from the singular values of the
  column-normalised ``[1, X]`` matrix;
* a seasonal harmonic whose period is not longer than twice the data's time step
  (Nyquist): at one step its Fourier columns are constant, at two steps the sine and
  cosine are proportional, in between they alias a slower cycle.

It warns (:class:`~bayescount.exceptions.DataWarning`) when a group level has a single
label (that level's spread is then the prior's alone), and when a seasonal period is
longer than the training data's span (the data then see less than one cycle: the
coefficients are only partly identified and a forecast past the span rests on the
prior for the rest of the cycle).

:func:`warn_prediction` runs when new rows are encoded for prediction and warns when a
numeric covariate lies more than half its training range's width outside that range,
or when new labels of a single-label level are predicted.

Pure numpy/pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescount._warnings import warn
from bayescount.exceptions import DataWarning, DesignError

if TYPE_CHECKING:
    from bayescount.prep.design import Design

__all__ = ["EXTRAPOLATION_FACTOR", "check_training_design", "warn_prediction"]

#: Relative singular value below which ``[1, X]`` is rank deficient (columns normalised).
_RANK_TOL = 1e-9
#: Eigenvalue ratio of ``X'X`` above which ``[1, X]`` is clearly of full rank (no SVD).
_SCREEN = 1e-10
#: Weight of a column in a null vector from which it counts as part of the dependence.
_INVOLVED = 1e-6
#: Predicting beyond the training range by more than this fraction of its width warns.
EXTRAPOLATION_FACTOR = 0.5
_SHOWN = 5


def _names(items: list[str]) -> str:
    quoted = [repr(x) for x in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _format_delta(delta: pd.Timedelta) -> str:
    """``"1h"``, ``"7d"``, ``"1h30min"``; pandas' own text below a second."""
    seconds, parts = delta.total_seconds(), []
    if seconds < 1 or seconds != int(seconds):
        return str(delta)
    rest = int(seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


# ------------------------------------------------------------------------ training
def _check_covariates(design: Design, frame: pd.DataFrame) -> None:
    for enc in design.encodings:
        values = frame[enc.name]
        if enc.kind == "numeric":
            x = values.to_numpy(dtype=float)
            if len(x) and np.ptp(x) == 0:
                raise DesignError(
                    f"Covariate {enc.name!r} is constant in the training data ({x[0]:g} on "
                    f"all {len(x)} rows): its coefficient cannot be learned from these rows, "
                    "and a prediction at any other value would rest on the prior alone. Drop "
                    f"{enc.name!r} from the covariates, or fit on data where it varies."
                )
        elif len(enc.levels) < 2:
            raise DesignError(
                f"Covariate {enc.name!r} has a single level ({enc.levels[0]!r}) in the "
                "training data: the effect of another level cannot be learned. Drop "
                f"{enc.name!r} from the covariates, or fit on data with at least two levels."
            )


def _check_rank(terms: list[str], matrix: np.ndarray) -> None:
    if matrix.shape[1] == 0:
        return
    zero = [t for t, col in zip(terms, matrix.T, strict=True) if not np.any(col)]
    if zero:
        raise DesignError(
            f"Covariate {'term' if len(zero) == 1 else 'terms'} {_names(zero[:_SHOWN])} "
            f"{'is' if len(zero) == 1 else 'are'} zero on every training row (an "
            "interaction of levels that never occur together): its coefficient cannot be "
            "learned. Drop the interaction, or fit on data where the combination occurs."
        )
    if len(matrix) < matrix.shape[1] + 1:
        raise DesignError(
            f"The training data have {len(matrix)} rows for {matrix.shape[1] + 1} covariate "
            "coefficients (with the intercept): they cannot all be learned. Use fewer "
            "covariates or more rows."
        )
    full = np.column_stack([np.ones(len(matrix)), matrix])
    full = full / np.linalg.norm(full, axis=0)
    gram = np.linalg.eigvalsh(full.T @ full)  # cheap screen: singular values squared
    if gram.min() > _SCREEN * gram.max():
        return
    _, sv, vt = np.linalg.svd(full, full_matrices=False)
    null = vt[sv < _RANK_TOL * sv[0]]
    if not len(null):
        return
    names = ["(intercept)", *terms]
    involved = np.flatnonzero(np.abs(null).max(axis=0) > _INVOLVED)
    listed = [names[i] for i in involved if i > 0]
    with_intercept = " together with the intercept" if 0 in involved else ""
    raise DesignError(
        f"Covariate terms {_names(listed)} are linearly dependent in the training "
        f"data{with_intercept}: the model cannot tell their effects apart (a column "
        "repeated or rescaled, one that is a sum of others, or one-hot levels that cover "
        "every row). Drop one of them."
    )


def _check_seasonality(design: Design, frame: pd.DataFrame) -> None:
    time = design.schema.time
    if not design.seasonality or time is None:
        return
    stamps = pd.DatetimeIndex(pd.unique(frame[time])).sort_values()
    if len(stamps) < 2:
        raise DesignError(
            f"Seasonality needs at least two distinct timestamps in {time!r}; the training "
            f"data have {len(stamps)}. Drop the seasonality or add rows."
        )
    step = pd.Timedelta(int(np.diff(stamps.as_unit("ns").asi8).min()), unit="ns")
    span = stamps[-1] - stamps[0] + step
    for comp in design.seasonality:
        period = pd.Timedelta(comp.period_days * 86_400, unit="s").round("us")
        if period > span:
            warn(
                f"Seasonality {comp.name!r} has a period of {_format_delta(period)}, longer "
                f"than the training data's span of {_format_delta(span)}: the data see less "
                "than one cycle, so its coefficients are only partly identified and a "
                "forecast beyond the span rests on the prior for the rest of the cycle. Fit "
                f"on at least one full {comp.name} cycle, or drop {comp.name!r}.",
                DataWarning,
            )
        if period <= step:
            raise DesignError(
                f"Seasonality {comp.name!r} has a period of {_format_delta(period)}, no longer "
                f"than the data's time step of {_format_delta(step)}: on these rows its "
                "Fourier columns are constant (or alias a slower cycle), so its coefficients "
                f"cannot be learned. Drop {comp.name!r}, or use data with a finer step."
            )
        usable = (period.value - 1) // (2 * step.value)  # largest k: period / k > 2 step
        if comp.order > usable:
            fix = (
                f"use at most order {usable} ('{comp.name}:{usable}')"
                if usable >= 1
                else f"drop {comp.name!r}"
            )
            raise DesignError(
                f"Seasonality {comp.name!r} of order {comp.order}: harmonic {usable + 1} has a "
                f"period of {_format_delta(period / (usable + 1))}, not longer than twice the "
                f"data's time step of {_format_delta(step)} (the Nyquist limit); its Fourier "
                f"columns are degenerate or alias a slower cycle on these rows. "
                f"{fix.capitalize()}."
            )


def _warn_single_labels(design: Design) -> None:
    for lvl in design.levels:
        if len(lvl.labels) == 1:
            warn(
                f"Group level {lvl.name!r} has a single label ({lvl.labels[0]!r}) in the "
                f"training data: the spread of {lvl.name} effects ({lvl.name}_sd) cannot be "
                "learned from one group and is the prior alone, so a new "
                f"{lvl.name} label would be predicted with the prior's spread. Drop the level "
                "if it does not vary in your data.",
                DataWarning,
            )


def check_training_design(design: Design, frame: pd.DataFrame) -> None:
    """Refuse a design whose coefficients ``frame`` cannot identify (see module docstring).

    Parameters
    ----------
    design : Design
        The design just fitted on ``frame``.
    frame : pandas.DataFrame
        The validated training rows.

    Raises
    ------
    DesignError
        A constant covariate, a categorical covariate with one level, linearly
        dependent covariate terms, too few rows for the coefficients, or a seasonal
        harmonic at or beyond the Nyquist limit of the data's time step.

    Warns
    -----
    DataWarning
        A group level has a single label, or a seasonal period is longer than the
        training data's span.
    """
    _check_covariates(design, frame)
    _check_rank(design.covariate_terms, design._covariate_matrix(frame))
    _check_seasonality(design, frame)
    _warn_single_labels(design)


# ---------------------------------------------------------------------- prediction
def _warn_extrapolation(design: Design, frame: pd.DataFrame) -> None:
    for enc in design.encodings:
        if enc.kind != "numeric" or enc.name not in frame:
            continue
        if enc.low is not None and enc.high is not None:
            low, high = enc.low, enc.high
            margin = EXTRAPOLATION_FACTOR * (high - low)
            how = "more than half the range's width beyond it"
        else:  # designs saved before ranges were stored: mean +- 4 sd
            low = high = enc.mean
            margin = 4.0 * enc.scale
            how = "more than 4 training sd from the training mean"
        x = frame[enc.name].to_numpy(dtype=float)
        far = np.flatnonzero((x < low - margin) | (x > high + margin))
        if not far.size:
            continue
        shown = ", ".join(f"{frame.index[i]!r}: {x[i]:g}" for i in far[:_SHOWN])
        more = f" and {far.size - _SHOWN} more" if far.size > _SHOWN else ""
        warn(
            f"Covariate {enc.name!r} lies far outside its training range [{low:g}, {high:g}] "
            f"({how}) on {far.size} row{'s' if far.size > 1 else ''} ({shown}{more}): "
            "predictions there extrapolate the fitted log-linear effect and may be far off.",
            DataWarning,
        )


def warn_prediction(
    design: Design, frame: pd.DataFrame, new_labels: dict[str, tuple[str, ...]]
) -> None:
    """Warn about rows whose prediction extrapolates beyond what the fit learned.

    Parameters
    ----------
    design : Design
        The fitted design.
    frame : pandas.DataFrame
        The validated rows to predict for.
    new_labels : dict of str to tuple of str
        Labels of each level not seen when fitting.

    Warns
    -----
    DataWarning
        A numeric covariate lies beyond its training range ``[low, high]`` by more
        than ``EXTRAPOLATION_FACTOR`` (one half) of ``high - low``; or a new label of a
        level fitted on a single label is predicted (its spread is the prior's).
    """
    _warn_extrapolation(design, frame)
    for lvl in design.levels:
        new = new_labels.get(lvl.name, ())
        if len(lvl.labels) == 1 and new:
            warn(
                f"{len(new)} new {lvl.name} label{'s' if len(new) > 1 else ''} "
                f"({_names(list(new[:_SHOWN]))}) predicted from a level fitted on a single "
                f"label ({lvl.labels[0]!r}): the spread of {lvl.name} effects is the prior's "
                "alone, so these predictions are as uncertain as the prior makes them.",
                DataWarning,
            )
