"""The regular time grid of a table: ``origin + i * step`` for integer ``i``.

A latent time-varying level (``ModelSpec(latent="ar1")``) has one state per grid
step; :class:`TimeGrid` maps timestamps to step numbers and back. Pure pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayescount.exceptions import TimestampError
from bayescount.prep.splits import infer_step

__all__ = ["TimeGrid"]


@dataclass(frozen=True)
class TimeGrid:
    """A regular grid of ``length`` steps of ``step`` from ``origin``.

    Parameters
    ----------
    origin : pandas.Timestamp
        The first time step (naive, or UTC).
    step : pandas.Timedelta
        The grid step.
    length : int
        Number of steps from the first to the last fitted time, inclusive.
    """

    origin: pd.Timestamp
    step: pd.Timedelta
    length: int

    @classmethod
    def fit(cls, times: pd.Series) -> TimeGrid:
        """Fit the grid spanning ``times`` (step inferred; gaps allowed, off-grid stamps not).

        Parameters
        ----------
        times : pandas.Series
            Parsed timestamps of the training rows (any order, repeats allowed).

        Returns
        -------
        TimeGrid
            Origin at the first time, the inferred step, length to the last time.

        Raises
        ------
        TimestampError
            Fewer than two distinct times, or no regular step.
        """
        if len(pd.unique(times)) < 2:
            raise TimestampError(
                "A latent level needs at least two distinct time steps in the training data."
            )
        step = infer_step(times)
        origin = pd.Timestamp(times.min())
        length = int((pd.Timestamp(times.max()) - origin) // step) + 1
        return cls(origin, step, length)

    def steps(self, times: pd.Series) -> np.ndarray:
        """Return each timestamp's step number (negative before ``origin``).

        Parameters
        ----------
        times : pandas.Series
            Timestamps, in the grid's convention (naive UTC or aware).

        Returns
        -------
        numpy.ndarray
            Dim ``obs``: integer steps (int64); ``>= length`` past the fitted grid.

        Raises
        ------
        TimestampError
            A timestamp lies between grid steps, or its time zone differs from the
            grid's (naive vs UTC).
        """
        try:
            offset = pd.Series(times).reset_index(drop=True) - self.origin
        except TypeError:
            raise TimestampError(
                f"Timestamps cannot be placed on the fitted time grid (origin {self.origin}): "
                "one is time-zone aware and the other naive. Use the same convention as when "
                "fitting."
            ) from None
        unit = self.step // pd.Timedelta(1, unit="ns")
        ns = offset.to_numpy(dtype="timedelta64[ns]").astype(np.int64)
        off = np.flatnonzero(ns % unit != 0)
        if off.size:
            shown = ", ".join(str(pd.Series(times).iloc[i]) for i in off[:5])
            raise TimestampError(
                f"{off.size} timestamp(s) fall between steps of the fitted time grid "
                f"(origin {self.origin}, step {self.step}): {shown}. A latent level forecasts "
                "whole grid steps; floor the timestamps to the step."
            )
        return ns // unit

    def times(self) -> pd.Series:
        """Return the ``length`` timestamps of the grid."""
        return pd.Series(self.origin + self.step * np.arange(self.length))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"origin": self.origin.isoformat(), "step": str(self.step), "length": self.length}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimeGrid:
        """Rebuild a grid from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            ``{"origin": ISO timestamp, "step": Timedelta text, "length": int}``.

        Returns
        -------
        TimeGrid
        """
        return cls(pd.Timestamp(d["origin"]), pd.Timedelta(d["step"]), int(d["length"]))
