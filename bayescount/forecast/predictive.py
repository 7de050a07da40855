"""Per-draw predictive parameters of a table's rows under a fitted model.

The analytic predictive tails, means and quantiles computed from them live in
:mod:`bayescount.inference.predictive_cdf`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from bayescount.inference.fit import as_fit
from bayescount.inference.predict import PredictiveParameters

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["row_parameters"]


def row_parameters(
    fit: Fit,
    frame: pd.DataFrame,
    *,
    rng: np.random.Generator,
    unseen: Literal["population", "error"] = "population",
) -> tuple[PredictiveParameters, pd.DataFrame]:
    """Per-draw ``mu``/``alpha``/``psi`` of ``frame``'s rows under a fit.

    ``fit`` is a :class:`~bayescount.Fit` or a fitted model. Returns the parameters
    (dims ``chain, draw, obs``; ``mu`` in counts per window for each row's exposure)
    and the rows they belong to (rows the validator keeps, in order, with the
    schema's columns in canonical dtypes: parsed times, string labels).
    """
    fit = as_fit(fit)
    clean, prepared = fit.prepare(frame)
    params = fit.predictive_parameters(prepared, rng=rng, unseen=unseen)
    rows = frame.loc[clean.index].copy()
    for col in clean.columns:
        rows[col] = clean[col]
    return params, rows
