"""Encoded rows: the arrays a model builder, a sampler or a prediction consumes.

:class:`PreparedData` is what :meth:`bayescount.prep.design.Design.transform` returns
(and :mod:`bayescount.prep.design` re-exports it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PreparedData"]


@dataclass(frozen=True)
class PreparedData:
    """Arrays for a model builder or for prediction.

    ``group_codes[level]`` indexes ``Design.levels[level].labels``; codes at or above
    the number of known labels point into ``new_labels[level]`` (labels not seen
    when fitting; only in prediction). ``time_steps`` are the rows' steps on the
    design's :class:`~bayescount.prep.timegrid.TimeGrid` (``None`` without one); in
    prediction they may lie outside ``[0, length)``.

    Attributes
    ----------
    index : pandas.Index
        The rows' index in the validated frame (length ``n``, dim ``obs``).
    counts : numpy.ndarray or None
        Dim ``obs``: counts per window (int64); ``None`` in prediction without counts.
    exposure : numpy.ndarray
        Dim ``obs``: exposure, in exposure units (1 without an exposure column).
    covariates : numpy.ndarray
        Shape ``(obs, covariate)``: the encoded covariate terms.
    fourier : numpy.ndarray
        Shape ``(obs, fourier_term)``: the Fourier features.
    group_codes : dict of str to numpy.ndarray
        Per level, dim ``obs``: label codes (int64).
    new_labels : dict of str to tuple of str
        Per level, the labels not seen when fitting, in code order.
    time_steps : numpy.ndarray or None
        Dim ``obs``: integer steps on the time grid.
    """

    index: pd.Index
    counts: np.ndarray | None
    exposure: np.ndarray
    covariates: np.ndarray
    fourier: np.ndarray
    group_codes: dict[str, np.ndarray]
    new_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    time_steps: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.index)

    @property
    def log_exposure(self) -> np.ndarray:
        """``log(exposure)``, the model's offset."""
        return np.log(self.exposure)

    def take(self, rows: slice | np.ndarray) -> PreparedData:
        """Return the rows ``rows`` (a slice or positions) of every array.

        Parameters
        ----------
        rows : slice or numpy.ndarray
            Row positions along ``obs``.

        Returns
        -------
        PreparedData
            The selected rows (``new_labels`` kept whole).
        """
        return PreparedData(
            index=self.index[rows],
            counts=None if self.counts is None else self.counts[rows],
            exposure=self.exposure[rows],
            covariates=self.covariates[rows],
            fourier=self.fourier[rows],
            group_codes={k: v[rows] for k, v in self.group_codes.items()},
            new_labels=self.new_labels,
            time_steps=None if self.time_steps is None else self.time_steps[rows],
        )
