"""Prepare count tables: schema, validation, encoding, seasonality features.

Functions implemented in this folder depend only on NumPy and pandas; nothing here
imports PyMC.
"""

from bayescount.prep.design import CovariateEncoding, Design, GroupLevel, PreparedData
from bayescount.prep.schema import CountSchema
from bayescount.prep.seasonality import Seasonality, fourier_features, parse_seasonality

__all__ = [
    "CountSchema",
    "CovariateEncoding",
    "Design",
    "GroupLevel",
    "PreparedData",
    "Seasonality",
    "fourier_features",
    "parse_seasonality",
]
