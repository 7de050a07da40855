"""Ranks, uniformity tests and the report of simulation-based calibration.

Talts et al. (2018), "Validating Bayesian inference algorithms with simulation-based
calibration", arXiv:1804.06788: under calibration the rank of each simulated
parameter among ``L`` posterior draws is uniform on ``0..L``. Uniformity is tested
on the randomised normalised ranks ``u = (rank + V) / (L + 1)``, ``V ~ U(0, 1)``,
with arviz-stats' ``pot_c`` test (pointwise order-statistic tests with a Cauchy
combination) and, for reference, a chi-square test on equal-width bins.
:func:`bayescount.checks.sbc.sbc` runs the simulations and builds :class:`SBCReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats.base import array_stats
from scipy import stats

from bayescount.exceptions import SpecError
from bayescount.results import figure_of, html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure

__all__ = ["SBCReport", "normalized_ranks", "rank_uniformity"]


def normalized_ranks(
    draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of ``truth`` among ``draws`` and their randomised normalised form.

    Parameters
    ----------
    draws : ndarray (..., L)
        Posterior draws, last axis the (thinned) draws.
    truth : ndarray (...)
        The values the data were simulated with.
    rng : numpy.random.Generator
        Breaks ties at random and draws the ``V`` of ``u``.

    Returns
    -------
    ranks : ndarray of int (...)
        ``#{draws < truth}`` plus a random share of ties, in ``0..L``.
    u : ndarray (...)
        ``(rank + V) / (L + 1)``, uniform on (0, 1) under calibration.
    """
    draws = np.asarray(draws, dtype=float)
    truth = np.asarray(truth, dtype=float)[..., None]
    n = draws.shape[-1]
    below = np.sum(draws < truth, axis=-1)
    ties = np.sum(draws == truth, axis=-1)
    ranks = below + rng.binomial(ties, 0.5) if ties.any() else below
    u = (ranks + rng.random(ranks.shape)) / (n + 1)
    return ranks.astype(np.int64), u


def rank_uniformity(u: np.ndarray, *, bins: int | None = None) -> dict[str, float]:
    """P-values of uniformity of randomised normalised ranks ``u`` (one parameter).

    Returns ``{"pot_c": p, "chi2": p, "bins": B}``: arviz-stats' ``pot_c`` test and a
    chi-square test on ``B`` equal-width bins (default ``min(20, n // 5)``, at least 2,
    so each bin expects 5 or more ranks).
    """
    u = np.asarray(u, dtype=float).reshape(-1)
    if u.size < 10:
        raise SpecError(f"Uniformity tests need at least 10 ranks, got {u.size}.")
    if np.any((u <= 0) | (u >= 1)):
        raise SpecError("Randomised normalised ranks must lie strictly between 0 and 1.")
    p_pot, _, _ = array_stats.uniformity_test(u, method="pot_c")
    n_bins = bins or max(2, min(20, u.size // 5))
    counts, _ = np.histogram(u, bins=n_bins, range=(0.0, 1.0))
    p_chi2 = stats.chisquare(counts).pvalue
    return {"pot_c": float(p_pot), "chi2": float(p_chi2), "bins": n_bins}



@dataclass(frozen=True)
class SBCReport:
    """Ranks and uniformity tests of a simulation-based calibration run.

    Attributes
    ----------
    family : str
        The model's family.
    parameters : tuple of str
        The ranked scalars.
    ranks : pandas.DataFrame
        One row per simulation, one column per parameter; ranks in ``0..n_ranks``.
    u : pandas.DataFrame
        Randomised normalised ranks ``(rank + V) / (n_ranks + 1)``.
    n_ranks : int
        ``L``: posterior draws each rank is computed against.
    divergences : numpy.ndarray
        Divergent transitions of each fit.
    n_draws : int
        Post-warm-up draws (transitions) of each fit, all chains.
    skipped : int
        Simulations not fitted (counts beyond the model's int32 data).
    alpha : float
        Family-wise level of the uniformity verdict (Bonferroni over parameters).
    compile_seconds, sample_seconds, prior_seconds, wall_seconds : float
        Timings: one compile, all fits, the prior predictive draws, the whole run.
    random_seed : int
        The master seed (its generated entropy when none was given).
    """

    family: str
    parameters: tuple[str, ...]
    ranks: pd.DataFrame
    u: pd.DataFrame
    n_ranks: int
    divergences: np.ndarray
    n_draws: int
    skipped: int
    alpha: float
    compile_seconds: float
    sample_seconds: float
    prior_seconds: float
    wall_seconds: float
    random_seed: int

    @property
    def simulations(self) -> int:
        """Simulations fitted and ranked."""
        return len(self.ranks)

    @property
    def divergent_share(self) -> float:
        """Share of all post-warm-up transitions that diverged."""
        return float(self.divergences.sum()) / max(self.n_draws * self.simulations, 1)

    @property
    def seconds_per_simulation(self) -> float:
        """Mean fitting time of one simulation (compile excluded)."""
        return self.sample_seconds / max(self.simulations, 1)

    def tests(self) -> pd.DataFrame:
        """Per parameter: ``pot_c`` and chi-square p-values, mean and sd of ``u``."""
        rows = {}
        for name in self.parameters:
            u = self.u[name].to_numpy()
            rows[name] = {**rank_uniformity(u), "mean_u": float(u.mean()), "sd_u": float(u.std())}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "parameter"
        threshold = self.alpha / len(self.parameters)
        frame["uniform"] = frame["pot_c"] >= threshold
        return frame

    @property
    def calibrated(self) -> bool:
        """Whether every parameter passes the Bonferroni-corrected ``pot_c`` test."""
        return bool(self.tests()["uniform"].all())

    def to_frame(self) -> pd.DataFrame:
        """Return the uniformity tests (:meth:`tests`)."""
        return self.tests()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary: tests, verdict, timings and the ranks."""
        tests = self.tests()
        return {
            "family": self.family,
            "simulations": self.simulations,
            "n_ranks": self.n_ranks,
            "skipped": self.skipped,
            "alpha": self.alpha,
            "calibrated": bool(tests["uniform"].all()),
            "tests": {
                str(p): {k: json_safe(v) for k, v in row.items()}
                for p, row in tests.iterrows()
            },
            "divergences": int(self.divergences.sum()),
            "fits_with_divergences": int((self.divergences > 0).sum()),
            "divergent_share": self.divergent_share,
            "timing": {
                "compile_seconds": self.compile_seconds,
                "prior_seconds": self.prior_seconds,
                "sample_seconds": self.sample_seconds,
                "seconds_per_simulation": self.seconds_per_simulation,
                "wall_seconds": self.wall_seconds,
            },
            "random_seed": self.random_seed,
            "ranks": {str(k): [int(x) for x in v] for k, v in self.ranks.items()},
        }

    def __str__(self) -> str:
        tests = self.tests()
        verdict = "calibrated" if tests["uniform"].all() else "NOT calibrated"
        lines = [
            f"SBC of the {self.family} model: {self.simulations} simulations x "
            f"{self.n_ranks} ranks, {verdict} (pot_c, family-wise alpha {self.alpha})",
            f"  {self.compile_seconds:.0f}s compile + {self.seconds_per_simulation:.2f}s per "
            f"simulation; {int((self.divergences > 0).sum())} fit(s) with divergences "
            f"({self.divergent_share:.2%} of transitions); {self.skipped} skipped",
        ]
        for name, row in tests.iterrows():
            lines.append(
                f"  {name:<28} pot_c p={row['pot_c']:.3f}  chi2 p={row['chi2']:.3f}  "
                f"mean u={row['mean_u']:.2f}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, timing, *_ = str(self).splitlines()
        return html_block(head, self.tests(), [timing.strip()])

    def plot(self, **kwargs: Any) -> matplotlib.figure.Figure:
        """Δ-ECDF of the normalised ranks per parameter (:func:`arviz_plots.plot_ecdf_pit`).

        Parameters
        ----------
        **kwargs
            Passed to :func:`arviz_plots.plot_ecdf_pit`.

        Returns
        -------
        matplotlib.figure.Figure
            The figure of the arviz-plots ``PlotCollection`` (``pc.viz["figure"]``).
        """
        from arviz_base import rcParams
        from arviz_plots import plot_ecdf_pit

        from bayescount.plots.pit import add_uniformity_band

        data = {
            name.replace("[", "(").replace("]", ")"): (
                ("chain", "draw"), self.u[name].to_numpy()[None]
            )
            for name in self.parameters
        }
        tree = xr.DataTree.from_dict({"prior_sbc": xr.Dataset(data)})
        kwargs = {"backend": "matplotlib"} | kwargs
        prob = kwargs.get("envelope_prob") or rcParams["stats.envelope_prob"]
        kwargs.setdefault("visuals", {}).setdefault("xlabel", {"text": "normalised rank"})
        pc = plot_ecdf_pit(tree, **kwargs)
        add_uniformity_band(
            pc, dict.fromkeys(data, self.simulations), prob,
            f"SBC of the {self.family} model: ECDF of normalised ranks minus the uniform "
            f"({self.simulations} simulations)", what="normalised ranks",
        )
        return figure_of(pc)

    def __repr__(self) -> str:
        return f"<SBCReport: {str(self).splitlines()[0]}>"
