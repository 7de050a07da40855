"""Frequentist residual diagnostics on the posterior mean of a fitted count model.

With ``E`` and ``Var`` the family's mean and variance evaluated at the posterior mean
of each row's ``mu`` (and of ``alpha``, ``psi``):

* calibration ratio ``sum y / sum E`` (1 is ideal), overall and per group; flagged
  when outside ``[0.95, 1.05]`` *and* further from 1 than sampling noise explains,
  ``|z| > 2`` with ``z = (sum y - sum E) / sqrt(sum Var)`` (so a small group's
  chance wobble is not flagged, nor a huge fleet's negligible bias);
* Pearson residuals ``(y - E) / sqrt(Var)`` and the dispersion statistic
  ``chi2 / df = sum r^2 / (n - k)`` (about 1 when the family's variance is right;
  above: more variable than the model allows);
* lag-1 autocorrelation of the Pearson residuals of each series (the innermost
  group, ordered by time when known), with the large-sample two-sided p-value of
  ``acf sqrt(n) ~ N(0, 1)`` (``|acf| > 2 / sqrt(n)`` at 5 % for one series); flags
  bursts the model ignores.

Multiplicity: the calibration z of every group and the autocorrelation of every
series are one Benjamini–Hochberg family (:mod:`bayescount.multiplicity`;
:func:`~bayescount.checks.check_model` adds the PPC statistics to it); a calibration
ratio is flagged when it is outside the band *and* its adjusted p-value is at most
``fdr``, an autocorrelation when its adjusted p-value is. The dispersion statistic is
a single test with its own 3-sigma band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescount.checks._array import lag1_autocorrelation
from bayescount.exceptions import ColumnNotFoundError, DataError
from bayescount.inference.draws import CHUNK_ELEMENTS, chunked_parameters
from bayescount.inference.fit import as_fit
from bayescount.inference.predictive_cdf import family_moments
from bayescount.multiplicity import FDR_LEVEL, adjust_p_values, normal_p_value
from bayescount.prep.validate import validate_frame
from bayescount.results import html_block, json_safe, new_axes

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = [
    "CALIBRATION_BAND",
    "GroupCalibration",
    "ResidualDiagnostics",
    "SeriesAutocorrelation",
    "calibration_ratio",
    "pearson_dispersion",
    "pearson_residuals",
    "residual_diagnostics",
]

#: Calibration ratios outside this band are flagged.
CALIBRATION_BAND = (0.95, 1.05)


def calibration_ratio(y: np.ndarray, expected: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``sum y / sum expected`` along ``axis`` (all elements by default)."""
    return np.sum(y, axis=axis) / np.sum(expected, axis=axis)


def pearson_residuals(y: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``(y - mean) / sqrt(var)``, elementwise."""
    return (np.asarray(y, dtype=float) - mean) / np.sqrt(var)


def pearson_dispersion(
    y: np.ndarray, mean: np.ndarray, var: np.ndarray, n_params: int = 0
) -> tuple[float, int, float]:
    """Pearson ``chi2 = sum r^2``, ``df = n - n_params`` and ``chi2 / df``."""
    r = pearson_residuals(y, mean, var)
    chi2 = float(np.sum(r**2))
    df = max(r.size - n_params, 1)
    return chi2, df, chi2 / df


def dispersion_band(df: int) -> tuple[float, float]:
    """``1 -/+ max(0.1, 3 sqrt(2 / df))``: where ``chi2 / df`` is not flagged."""
    half = max(0.1, 3.0 * np.sqrt(2.0 / df))
    return max(0.0, 1.0 - half), 1.0 + half


@dataclass(frozen=True)
class SeriesAutocorrelation:
    """Lag-1 autocorrelation of one series' Pearson residuals.

    ``threshold`` is ``2 / sqrt(n)`` (the unadjusted 5 % bound, for reference);
    ``p_value`` the two-sided p-value of ``acf sqrt(n)`` against N(0, 1) and
    ``p_adjusted`` its Benjamini–Hochberg adjustment over the check's family.
    """

    series: str
    n: int
    acf: float
    threshold: float
    p_value: float = float("nan")
    p_adjusted: float = float("nan")
    fdr: float = FDR_LEVEL

    @property
    def flagged(self) -> bool:
        """Whether the adjusted p-value is at most ``fdr``."""
        return bool(np.isfinite(self.acf) and self.p_adjusted <= self.fdr)


@dataclass(frozen=True)
class GroupCalibration:
    """Observed against expected totals, and Pearson ``chi2 / n``, of one group.

    ``p_value`` is the two-sided normal p-value of ``z`` and ``p_adjusted`` its
    Benjamini–Hochberg adjustment over the check's family.
    """

    level: str | None
    group: str | None
    n: int
    observed: float
    expected: float
    ratio: float
    z: float
    pearson_per_row: float
    p_value: float = float("nan")
    p_adjusted: float = float("nan")
    fdr: float = FDR_LEVEL

    @property
    def flagged(self) -> bool:
        """Whether ``ratio`` is outside :data:`CALIBRATION_BAND` and ``p_adjusted <= fdr``."""
        lo, hi = CALIBRATION_BAND
        return bool(not lo <= self.ratio <= hi and self.p_adjusted <= self.fdr)


@dataclass(frozen=True)
class ResidualDiagnostics:
    """Calibration, Pearson dispersion and residual autocorrelation (module docstring)."""

    calibration: tuple[GroupCalibration, ...]
    pearson_chi2: float
    df: int
    dispersion_statistic: float
    dispersion_band: tuple[float, float]
    autocorrelation: tuple[SeriesAutocorrelation, ...]
    series_level: str | None
    time_ordered: bool
    family: str = field(default="poisson")
    fdr: float = FDR_LEVEL

    def p_values(self) -> np.ndarray:
        """Raw p-values of the family: calibration per group, then autocorrelation."""
        return np.array([g.p_value for g in self.calibration]
                        + [a.p_value for a in self.autocorrelation])

    def adjusted(self, p_adjusted: np.ndarray, fdr: float) -> ResidualDiagnostics:
        """Return a copy with adjusted p-values (ordered as :meth:`p_values`) and level."""
        k = len(self.calibration)
        calibration = tuple(replace(g, p_adjusted=float(a), fdr=fdr)
                            for g, a in zip(self.calibration, p_adjusted[:k], strict=True))
        acf = tuple(replace(a, p_adjusted=float(v), fdr=fdr)
                    for a, v in zip(self.autocorrelation, p_adjusted[k:], strict=True))
        return replace(self, calibration=calibration, autocorrelation=acf, fdr=fdr)

    @property
    def calibration_ratio(self) -> float:
        """Overall ``sum observed / sum expected``."""
        return self.calibration[0].ratio

    @property
    def problems(self) -> tuple[str, ...]:
        """One plain sentence per flag."""
        out = []
        for g in self.calibration:
            if g.flagged:
                scope = "overall" if g.group is None else f"in {g.level} {g.group!r}"
                word = "more" if g.ratio > 1 else "fewer"
                out.append(
                    f"calibration ratio {g.ratio:.3f} {scope}: {word} events observed than "
                    f"the model expects (band {CALIBRATION_BAND[0]}-{CALIBRATION_BAND[1]}, "
                    f"z = {g.z:+.1f}, adjusted p = {g.p_adjusted:.2g})"
                )
        lo, hi = self.dispersion_band
        if not lo <= self.dispersion_statistic <= hi:
            what = (
                "overdispersed: counts vary more than the "
                if self.dispersion_statistic > hi
                else "underdispersed: counts vary less than the "
            )
            out.append(
                f"Pearson chi2/df {self.dispersion_statistic:.2f} (outside {lo:.2f}-{hi:.2f}); "
                f"{what}{self.family} variance allows"
            )
        flagged = [a for a in self.autocorrelation if a.flagged]
        if flagged:
            worst = sorted(flagged, key=lambda a: -abs(a.acf))[:3]
            shown = ", ".join(f"{a.series!r} ({a.acf:+.2f})" for a in worst)
            order = "time" if self.time_ordered else "row order (no timestamps given)"
            out.append(
                f"{len(flagged)} of {len(self.autocorrelation)} series have lag-1 residual "
                f"autocorrelation in {order} (Benjamini-Hochberg FDR {self.fdr:g}), e.g. "
                f"{shown}: bursts the model ignores"
            )
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """Return the calibration table, one row per group (``(all)`` first)."""
        frame = pd.DataFrame([asdict(g) for g in self.calibration])
        frame["group"] = frame["group"].fillna("(all)")
        frame["flagged"] = [g.flagged for g in self.calibration]
        return frame.drop(columns="level").set_index("group")

    def autocorrelation_frame(self) -> pd.DataFrame:
        """One row per series: ``n``, ``acf``, ``threshold``, ``flagged``."""
        frame = pd.DataFrame([asdict(a) for a in self.autocorrelation])
        frame["flagged"] = [a.flagged for a in self.autocorrelation]
        return frame.set_index("series")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (NaN as ``None``)."""
        return {
            "calibration_ratio": json_safe(self.calibration_ratio),
            "calibration_band": list(CALIBRATION_BAND),
            "calibration": [
                {k: json_safe(v) for k, v in asdict(g).items()} | {"flagged": g.flagged}
                for g in self.calibration
            ],
            "pearson_chi2": json_safe(self.pearson_chi2),
            "df": self.df,
            "dispersion_statistic": json_safe(self.dispersion_statistic),
            "dispersion_band": list(self.dispersion_band),
            "fdr": self.fdr,
            "series_level": self.series_level,
            "time_ordered": self.time_ordered,
            "autocorrelation": [
                {k: json_safe(v) for k, v in asdict(a).items()} | {"flagged": a.flagged}
                for a in self.autocorrelation
            ],
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        lo, hi = self.dispersion_band
        n_flag = sum(a.flagged for a in self.autocorrelation)
        lines = [
            "Residual diagnostics (posterior mean)",
            f"  calibration ratio {self.calibration_ratio:.3f} (band {CALIBRATION_BAND[0]}-"
            f"{CALIBRATION_BAND[1]})",
            f"  Pearson chi2/df {self.dispersion_statistic:.3f} (df {self.df}; band "
            f"{lo:.2f}-{hi:.2f})",
            f"  lag-1 residual ACF flagged in {n_flag} of {len(self.autocorrelation)} series "
            f"(Benjamini-Hochberg FDR {self.fdr:g})",
        ]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return html_block(str(self).splitlines()[0], self.to_frame(), self.problems)

    def plot(self, ax: Any = None) -> matplotlib.figure.Figure:
        """Calibration ratio (observed / expected events) per group, with its band.

        One dot per group (``(all)`` at the top; red when flagged), the shaded
        :data:`CALIBRATION_BAND` and the ideal ratio 1.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        frame = self.to_frame()
        fig, ax = new_axes(ax, (6.0, 1.5 + 0.35 * len(frame)))
        y = np.arange(len(frame))[::-1]
        lo, hi = CALIBRATION_BAND
        ax.axvspan(lo, hi, color="C2", alpha=0.15, label=f"band {lo}-{hi}")
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8, label="ideal (1)")
        colors = np.where(frame["flagged"].to_numpy(), "C3", "C0")
        ax.scatter(frame["ratio"], y, c=list(colors), zorder=3, label="observed / expected")
        ax.set_yticks(y, [str(g) for g in frame.index])
        ax.set_xlabel("calibration ratio (observed / expected events)")
        ax.set_ylabel(self.calibration[-1].level or "group")
        ax.set_title(f"Residual calibration (Pearson chi2/df {self.dispersion_statistic:.2f})")
        ax.legend(fontsize="small")
        return fig


def _posterior_mean_moments(fit: Fit, chunk_size: int | None):
    """Family mean and variance per fitted row at the posterior-mean parameters."""
    prepared, rows = fit.training_rows()
    if chunk_size is None:
        n_draws = fit.posterior.sizes["chain"] * fit.posterior.sizes["draw"]
        chunk_size = max(1, CHUNK_ELEMENTS // n_draws)
    mean = np.empty(prepared.n)
    var = np.empty(prepared.n)
    rng = np.random.default_rng(0)  # no unseen labels in the fitted rows: unused
    for sl, params in chunked_parameters(
        fit, prepared, chunk_size=chunk_size, max_draws=None, rng=rng
    ):
        dims = ("chain", "draw")
        mu = params.mu.mean(dims).values
        alpha = None if params.alpha is None else params.alpha.mean(dims).values
        psi = None if params.psi is None else params.psi.mean(dims).values
        mean[sl], var[sl] = family_moments(mu, alpha, psi)
    return mean, var, rows


def _series_order(fit: Fit, data: pd.DataFrame | None, n: int, y: np.ndarray):
    """Time stamps of the fitted rows (from ``data``), or ``None``."""
    time = fit.schema.time
    if data is None or time is None:
        return None
    clean = validate_frame(data, fit.schema)
    if len(clean) != n or not np.array_equal(clean[fit.schema.counts].to_numpy(), y):
        raise DataError(
            f"data has {len(clean)} usable rows whose counts differ from the {n} rows the "
            "model was fitted on; pass the same frame that was given to fit()."
        )
    return clean[time].to_numpy()


def residual_diagnostics(
    fit: Fit,
    *,
    data: pd.DataFrame | None = None,
    by: str | None = None,
    chunk_size: int | None = None,
    fdr: float = FDR_LEVEL,
) -> ResidualDiagnostics:
    """Calibration ratio, Pearson dispersion and residual ACF of a fitted model.

    Parameters
    ----------
    fit : Fit
        A fit (or a fitted :class:`~bayescount.CountModel`).
    data : pandas.DataFrame, optional
        The training frame, only to order each series by time (see
        :func:`~bayescount.checks.check_model`).
    by : str, optional
        Group level for per-group calibration ratios.
    chunk_size : int, optional
        Rows whose per-draw parameters are held at once; peak memory is
        O(``chunk_size`` x draws). Default: about
        :data:`~bayescount.inference.draws.CHUNK_ELEMENTS` draws x rows per chunk.
    fdr : float
        False discovery rate of the flags (Benjamini–Hochberg over the calibration
        tests of every group and the autocorrelation tests of every series).

    Returns
    -------
    ResidualDiagnostics
        Calibration per group, Pearson dispersion and residual ACF per series, with
        raw and adjusted p-values.

    Raises
    ------
    ColumnNotFoundError
        ``by`` is not a group level of the model.
    DataError
        ``data`` is not the frame the model was fitted on.

    Notes
    -----
    ``df = n - k`` where ``k`` counts the intercept, covariate and Fourier
    coefficients, the dispersion(s) and the zero-inflation probability; partially
    pooled group effects are not counted, so ``chi2 / df`` leans slightly low.
    """
    fit = as_fit(fit)
    y = fit.observed_counts()
    mean, var, rows = _posterior_mean_moments(fit, chunk_size)
    levels = list(fit.schema.groups)
    design = fit.design
    n_params = 1 + len(design.covariate_terms) + len(design.fourier_terms)
    if fit.spec.is_negative_binomial:
        by_d = fit.spec.dispersion_by
        n_params += len(design.level(by_d).labels) if by_d else 1
    n_params += int(fit.spec.is_zero_inflated)
    chi2, df, ratio = pearson_dispersion(y, mean, var, n_params)
    resid = pearson_residuals(y, mean, var)

    calibration = [_calibration(None, None, y, mean, var, resid)]
    if by is not None:
        if by not in levels:
            raise ColumnNotFoundError(
                f"by={by!r} is not a group level of the model; choose one of {levels}."
            )
        labels = rows[by].astype(str).to_numpy()
        for label in sorted(set(labels)):
            idx = labels == label
            calibration.append(_calibration(by, label, y[idx], mean[idx], var[idx], resid[idx]))

    stamps = _series_order(fit, data, len(y), y)
    series_level = levels[-1] if levels else None
    series = (
        rows[series_level].astype(str).to_numpy()
        if series_level
        else np.full(len(y), "(all)", dtype=object)
    )
    acfs = []
    for label in sorted(set(series)):
        idx = np.flatnonzero(series == label)
        if stamps is not None:
            idx = idx[np.argsort(stamps[idx], kind="stable")]
        n = len(idx)
        acf = float(lag1_autocorrelation(resid[idx]))
        acfs.append(
            SeriesAutocorrelation(
                series=str(label),
                n=n,
                acf=acf,
                threshold=float(2.0 / np.sqrt(n)),
                p_value=float(normal_p_value(acf * np.sqrt(n))),
            )
        )
    result = ResidualDiagnostics(
        calibration=tuple(calibration),
        pearson_chi2=chi2,
        df=df,
        dispersion_statistic=ratio,
        dispersion_band=dispersion_band(df),
        autocorrelation=tuple(acfs),
        series_level=series_level,
        time_ordered=stamps is not None,
        family=fit.spec.family,
    )
    return result.adjusted(adjust_p_values(result.p_values()), fdr)


def _calibration(level, label, y, mean, var, resid) -> GroupCalibration:
    observed, expected = float(np.sum(y)), float(np.sum(mean))
    z = (observed - expected) / float(np.sqrt(np.sum(var)))
    return GroupCalibration(
        level=level,
        group=label,
        n=len(y),
        observed=observed,
        expected=expected,
        ratio=float(calibration_ratio(y, mean)),
        z=z,
        pearson_per_row=float(np.mean(resid**2)),
        p_value=float(normal_p_value(z)),
    )
