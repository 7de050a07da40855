"""Posterior predictive checks of count statistics, overall and per group.

For each statistic ``T`` of :data:`~bayescount.checks._array.COUNT_STATISTICS` (share of
zeros, dispersion index, maximum, 99th percentile, total) and each group, the observed
``T(y)`` is set against ``T(y_rep)`` over posterior predictive replicates of the fitted
rows: predictive mean, central interval and the mid-p posterior predictive p-value
``P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)``.

Multiplicity: each p-value is made two-sided (``2 min(p, 1 - p)``) and the family of
every statistic of every group is adjusted with Benjamini–Hochberg
(:mod:`bayescount.multiplicity`); a statistic is flagged when its adjusted
p-value is at most ``fdr`` (default :data:`~bayescount.multiplicity.FDR_LEVEL`).
:func:`check_model` bundles these with the residual diagnostics of
:mod:`bayescount.checks.residuals` and the fit's convergence gate, and adjusts the
p-values of both together, as one family.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescount._warnings import renamed_keywords
from bayescount.checks._array import COUNT_STATISTICS, count_statistics, mid_p_value
from bayescount.checks.residuals import ResidualDiagnostics, residual_diagnostics
from bayescount.constants import MAX_DRAWS
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.inference.convergence import ConvergenceReport
from bayescount.inference.draws import fitted_predictions
from bayescount.inference.fit import as_fit
from bayescount.multiplicity import FDR_LEVEL, adjust_p_values, two_sided_p_value
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["ModelCheck", "PPCReport", "PPCStatistic", "check_model", "ppc_statistics"]


#: Former per-test flag level (kept for reference): flags now use BH-adjusted p-values.
P_FLAG = 0.05

_NOUNS = {
    "share_zeros": "zeros",
    "dispersion": "the dispersion (variance / mean)",
    "max": "the largest count",
    "q99": "the upper tail (99th percentile)",
    "total": "the total count",
}


def _verdict(statistic: str, p: float, flagged: bool, level: str | None,
             group: str | None) -> str:
    scope = "" if group is None else f" in {level} {group!r}"
    noun = _NOUNS[statistic]
    if not np.isfinite(p):
        return f"{noun}{scope}: undefined"
    if flagged:
        how = "under-predicts" if p < 0.5 else "over-predicts"
        return f"the model {how} {noun}{scope}"
    return f"{noun}{scope} consistent with the model"


@dataclass(frozen=True)
class PPCStatistic:
    """One statistic of one group: observed value against its predictive distribution.

    ``p_value`` is the mid-p ``P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)``;
    ``p_two_sided`` is ``2 min(p, 1 - p)`` and ``p_adjusted`` its Benjamini–Hochberg
    adjustment over the check's family; flagged when ``p_adjusted <= fdr``.
    """

    statistic: str
    level: str | None
    group: str | None
    n_rows: int
    observed: float
    mean: float
    lower: float
    upper: float
    p_value: float
    verdict: str
    p_two_sided: float = float("nan")
    p_adjusted: float = float("nan")
    fdr: float = FDR_LEVEL

    @property
    def flagged(self) -> bool:
        """Whether the adjusted p-value is at most ``fdr``."""
        return bool(self.p_adjusted <= self.fdr)

    def adjusted(self, p_adjusted: float, fdr: float) -> PPCStatistic:
        """Return a copy with a new adjusted p-value and level (and the verdict to match)."""
        flagged = bool(p_adjusted <= fdr)
        return replace(self, p_adjusted=float(p_adjusted), fdr=fdr,
                       verdict=_verdict(self.statistic, self.p_value, flagged, self.level,
                                        self.group))


@dataclass(frozen=True)
class PPCReport:
    """Posterior predictive checks of count statistics.

    Attributes
    ----------
    statistics : tuple of PPCStatistic
        Overall rows (``group is None``) first, then one per group of ``by``.
    by : str or None
        The group level checked per group.
    n_draws : int
        Predictive replicates used.
    interval : float
        Probability of the central predictive interval ``[lower, upper]``.
    fdr : float
        False discovery rate of the Benjamini–Hochberg flags.
    """

    statistics: tuple[PPCStatistic, ...]
    by: str | None
    n_draws: int
    interval: float
    fdr: float = FDR_LEVEL

    @property
    def flagged(self) -> tuple[PPCStatistic, ...]:
        """The statistics with an extreme p-value."""
        return tuple(s for s in self.statistics if s.flagged)

    def to_frame(self) -> pd.DataFrame:
        """One row per (group, statistic), indexed by ``group`` ("(all)") and ``statistic``."""
        frame = pd.DataFrame([asdict(s) for s in self.statistics])
        frame["group"] = frame["group"].fillna("(all)")
        frame["flagged"] = [s.flagged for s in self.statistics]
        return frame.drop(columns="level").set_index(["group", "statistic"])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (NaN as ``None``)."""
        return {
            "by": self.by,
            "n_draws": self.n_draws,
            "interval": self.interval,
            "fdr": self.fdr,
            "correction": "Benjamini-Hochberg over every p-value of the check (two-sided)",
            "statistics": [
                {k: json_safe(v) for k, v in asdict(s).items()} | {"flagged": s.flagged}
                for s in self.statistics
            ],
        }

    def __str__(self) -> str:
        lines = [f"Posterior predictive checks ({self.n_draws} replicates; flagged at "
                 f"Benjamini-Hochberg FDR {self.fdr:g} over {len(self.statistics)} tests)"]
        lines += [f"  - {s.verdict} (p = {s.p_value:.3f}, adjusted {s.p_adjusted:.3g})"
                  for s in self.flagged]
        if not self.flagged:
            lines.append("  every statistic is consistent with the model")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return html_block(str(self).splitlines()[0], self.to_frame(),
                          [s.verdict for s in self.flagged])

    def plot(self) -> matplotlib.figure.Figure:
        """Observed statistic against its predictive interval, one panel per statistic.

        Per group (rows; ``(all)`` at the top): the central ``interval`` of ``T(y_rep)``
        as a bar, its mean as a dot and the observed ``T(y)`` as a cross, red when
        flagged. Statistics are in their own units (share, ratio, counts per window).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        names = list(dict.fromkeys(s.statistic for s in self.statistics))
        groups = list(dict.fromkeys(s.group or "(all)" for s in self.statistics))
        size = (3.0 * len(names), 1.2 + 0.4 * len(groups))
        fig, axes = plt.subplots(1, len(names), figsize=size, sharey=True, squeeze=False)
        y = {g: len(groups) - 1 - i for i, g in enumerate(groups)}
        for ax, name in zip(axes[0], names, strict=True):
            for s in (s for s in self.statistics if s.statistic == name):
                pos = y[s.group or "(all)"]
                ax.plot([s.lower, s.upper], [pos, pos], color="C0", linewidth=3, alpha=0.5,
                        label=f"{self.interval:.0%} predictive interval")
                ax.plot(s.mean, pos, "o", color="C0", label="predictive mean")
                ax.plot(s.observed, pos, "x", color="C3" if s.flagged else "k",
                        label="observed (red: flagged)")
            ax.set_title(_NOUNS[name], fontsize="small")
            ax.set_xlabel(name)
        axes[0][0].set_yticks(list(y.values()), list(y))
        axes[0][0].set_ylabel(self.by or "group")
        handles, labels = axes[0][0].get_legend_handles_labels()
        keep = dict(zip(labels, handles, strict=True))
        fig.legend(keep.values(), keep.keys(), loc="lower center", ncol=3, fontsize="small")
        fig.suptitle(f"Posterior predictive checks ({self.n_draws} replicates, "
                     f"{len(self.flagged)} flagged at FDR {self.fdr:g})")
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        return fig


def _groups(rows: pd.DataFrame, n: int, by: str | None):
    yield None, np.arange(n)
    if by is None:
        return
    labels = rows[by].astype(str).to_numpy()
    for label in sorted(set(labels)):
        yield label, np.flatnonzero(labels == label)


@renamed_keywords(interval="prob")
def ppc_statistics(
    fit: Fit,
    *,
    by: str | None = None,
    max_draws: int = MAX_DRAWS,
    prob: float = 0.9,
    random_seed: int | None = 0,
    fdr: float = FDR_LEVEL,
) -> PPCReport:
    """Posterior predictive checks of the fitted rows' count statistics.

    Parameters
    ----------
    fit : Fit
        A fit (or a fitted :class:`~bayescount.CountModel`).
    by : str, optional
        A group level (e.g. ``"service"``); adds one check per label of that level.
    max_draws : int
        Predictive replicates: at most this many posterior draws, evenly spaced in
        each chain, each giving one replicate of every fitted row (drawn with
        ``fit.predict(None, random_seed=...)`` in blocks of draws to bound memory).
        With ``n`` replicates the smallest two-sided p-value is ``1 / (n + 1)``, so
        among ``m`` tests a single statistic can be flagged only when
        ``1 / (n + 1) <= fdr / m``; the default 4,000 resolves about 200 tests.
    prob : float
        Probability of the reported central predictive interval of each statistic
        (``interval=`` is the old name, deprecated).
    random_seed : int, optional
        Seed of the replicates.
    fdr : float
        False discovery rate of the flags (Benjamini–Hochberg over every statistic of
        every group; default 0.05).

    Returns
    -------
    PPCReport
        Per statistic and group: observed value, predictive mean and interval, the
        mid-p value ``p = P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)``, its two-sided
        version ``2 min(p, 1 - p)``, the BH-adjusted p-value and a verdict. A flagged
        statistic with ``p < 0.5`` means replicates rarely reach the observed value:
        *the model under-predicts* it; with ``p > 0.5`` they nearly always exceed it:
        *the model over-predicts* it. The adjustment keeps a correct model from being
        flagged in one group or another by chance alone.

    Raises
    ------
    SpecError
        ``prob`` or ``fdr`` outside (0, 1).
    ColumnNotFoundError
        ``by`` is not a group level of the model.
    """
    fit = as_fit(fit)
    if not 0 < prob < 1:
        raise SpecError(f"prob must lie in (0, 1), got {prob!r}.")
    if not 0 < fdr < 1:
        raise SpecError(f"fdr must lie in (0, 1), got {fdr!r}.")
    levels = list(fit.schema.groups)
    if by is not None and by not in levels:
        raise ColumnNotFoundError(
            f"by={by!r} is not a group level of the model; choose one of {levels}."
        )
    y = fit.observed_counts()
    replicated: dict[str | None, list[dict[str, np.ndarray]]] = {}
    groups: list[tuple[str | None, np.ndarray]] = []
    for prediction in fitted_predictions(fit, max_draws, random_seed):
        draws = prediction.draws.values.reshape(-1, len(y))
        groups = groups or list(_groups(prediction.rows, len(y), by))
        for label, idx in groups:
            replicated.setdefault(label, []).append(count_statistics(draws[:, idx], axis=1))
    tail = (1 - prob) / 2
    out = []
    n_draws = 0
    for label, idx in groups:
        observed = count_statistics(y[idx], axis=0)
        for name in COUNT_STATISTICS:
            t_rep = np.concatenate([block[name] for block in replicated[label]])
            n_draws = len(t_rep)
            p = float(mid_p_value(t_rep, observed[name]))
            lo, hi = np.quantile(t_rep, [tail, 1 - tail])
            out.append(
                PPCStatistic(
                    statistic=name,
                    level=None if label is None else by,
                    group=label,
                    n_rows=len(idx),
                    observed=float(observed[name]),
                    mean=float(np.mean(t_rep)),
                    lower=float(lo),
                    upper=float(hi),
                    p_value=p,
                    verdict="",
                    p_two_sided=float(two_sided_p_value(p, len(t_rep))),
                )
            )
    adjusted = adjust_p_values(np.array([s.p_two_sided for s in out]))
    out = [s.adjusted(a, fdr) for s, a in zip(out, adjusted, strict=True)]
    return PPCReport(tuple(out), by, n_draws, prob, fdr)


@dataclass(frozen=True)
class ModelCheck:
    """Everything :func:`check_model` found: PPC statistics, residuals, convergence."""

    ppc: PPCReport
    residuals: ResidualDiagnostics
    convergence: ConvergenceReport

    @property
    def problems(self) -> tuple[str, ...]:
        """One plain sentence per flagged check (convergence first)."""
        return (
            tuple(self.convergence.problems)
            + tuple(s.verdict for s in self.ppc.flagged)
            + tuple(self.residuals.problems)
        )

    @property
    def passed(self) -> bool:
        """Whether nothing was flagged."""
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """Return the PPC statistics table (see :meth:`PPCReport.to_frame`)."""
        return self.ppc.to_frame()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with ``ppc``, ``residuals``, ``convergence``."""
        return {
            "passed": self.passed,
            "problems": list(self.problems),
            "ppc": self.ppc.to_dict(),
            "residuals": self.residuals.to_dict(),
            "convergence": {k: json_safe(v) if not isinstance(v, list | dict) else v
                            for k, v in self.convergence.to_dict().items()},
        }

    def __str__(self) -> str:
        n = len(self.problems)
        head = "Model check: passed" if self.passed else f"Model check: {n} issue(s)"
        return "\n\n".join([head, str(self.convergence), str(self.ppc), str(self.residuals)])

    def plot(self) -> matplotlib.figure.Figure:
        """Draw the PPC panels (:meth:`PPCReport.plot`), titled with the check's verdict.

        Returns
        -------
        matplotlib.figure.Figure
        """
        fig = self.ppc.plot()
        fig.suptitle(f"{str(self).splitlines()[0]}: posterior predictive statistics")
        return fig

    def _repr_html_(self) -> str:
        title = str(self).splitlines()[0]
        return (
            html_block(title, None, self.problems)
            + self.convergence._repr_html_()
            + self.ppc._repr_html_()
            + self.residuals._repr_html_()
        )


def check_model(
    fit: Fit,
    *,
    data: pd.DataFrame | None = None,
    by: str | None = None,
    max_draws: int = MAX_DRAWS,
    random_seed: int | None = 0,
    fdr: float = FDR_LEVEL,
) -> ModelCheck:
    """Run the posterior predictive and residual checks of a fitted model.

    Parameters
    ----------
    fit : Fit
        A fit (or a fitted :class:`~bayescount.CountModel`).
    data : pandas.DataFrame, optional
        The training frame, used only to order each series by the time column for the
        residual autocorrelation (a fit does not store timestamps). Without it the
        rows keep the order they were fitted in.
    by : str, optional
        Group level for per-group PPC statistics and calibration ratios.
    max_draws : int
        Predictive replicates for the PPC statistics (see :func:`ppc_statistics`).
    random_seed : int, optional
        Seed of the replicates.
    fdr : float
        False discovery rate of the flags. Every p-value of the check (the two-sided
        PPC p-value of each statistic and group, the calibration z of each group, the
        residual autocorrelation of each series) is one Benjamini–Hochberg family, so a
        correct model passes (``passed``) with probability about ``1 - fdr`` or more.

    Returns
    -------
    ModelCheck
        The PPC statistics, residual diagnostics and convergence report.
    """
    fit = as_fit(fit)
    ppc = ppc_statistics(fit, by=by, max_draws=max_draws, random_seed=random_seed, fdr=fdr)
    residuals = residual_diagnostics(fit, data=data, by=by, fdr=fdr)
    raw = np.concatenate([[s.p_two_sided for s in ppc.statistics], residuals.p_values()])
    adjusted = adjust_p_values(raw)
    k = len(ppc.statistics)
    ppc = replace(ppc, statistics=tuple(
        s.adjusted(a, fdr) for s, a in zip(ppc.statistics, adjusted[:k], strict=True)))
    return ModelCheck(ppc=ppc, residuals=residuals.adjusted(adjusted[k:], fdr),
                      convergence=fit.convergence)
