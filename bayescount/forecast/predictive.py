"""Per-draw predictive parameters of a table's rows under a fitted model.

The analytic predictive tails, means and quantiles computed from them live in
:mod:`bayescount.inference.predictive_cdf`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from bayescount.exceptions import NotFittedError
from bayescount.inference.predict import PredictiveParameters, predictive_parameters
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    from bayescount.count_model import CountModel

__all__ = ["row_parameters"]


def row_parameters(
    model: CountModel,
    frame: pd.DataFrame,
    *,
    rng: np.random.Generator,
    unseen: Literal["population", "error"] = "population",
) -> tuple[PredictiveParameters, pd.DataFrame]:
    """Per-draw ``mu``/``alpha``/``psi`` of ``frame``'s rows under a fitted model.

    Returns the parameters and the rows they belong to (rows the validator keeps, in
    order, with the schema's columns in canonical dtypes: parsed times, string labels).
    """
    if not getattr(model, "is_fitted", False):
        raise NotFittedError("The model hasn't been fit yet; call .fit(data) first.")
    clean = validate_frame(frame, model.schema, for_prediction=True)
    prepared = model.design_.transform(clean, for_prediction=True)
    params = predictive_parameters(
        model.idata_["posterior"].to_dataset(),
        model.spec,
        model.design_,
        prepared,
        unseen=unseen,
        rng=rng,
    )
    rows = frame.loc[clean.index].copy()
    for col in clean.columns:
        rows[col] = clean[col]
    return params, rows
