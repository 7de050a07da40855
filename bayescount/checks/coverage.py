"""Calibrated coverage of held-out counts by central predictive intervals.

Two coverages are reported at each level ``L``, because counts are discrete:

``coverage`` (randomised PIT)
    ``u = F(y - 1) + V (F(y) - F(y - 1))`` with ``V ~ U(0, 1)`` (seeded), and a row
    is covered at level ``L`` when ``(1 - L) / 2 < u < (1 + L) / 2``. When ``y``
    comes from the predictive distribution ``u`` is exactly uniform, so the nominal
    level is achievable: a calibrated model covers ``L`` of the rows up to binomial
    noise, whose 95% Wilson band is ``lower`` / ``upper``.
``coverage_inclusive`` (plain intervals)
    ``lower_L <= y <= upper_L`` with the equal-tailed integer quantiles
    ``lower_L = q_{(1-L)/2}``, ``upper_L = q_{(1+L)/2}``, ``q_tau = min{k: F(k) >= tau}``.
    What a dashboard band shows. Because the interval includes its end points it
    covers *at least* ``L`` for a calibrated model (often much more for small counts),
    and a row covered by the randomised rule is always covered by this one.

``F`` is each row's predictive CDF computed analytically as the average over
posterior draws of the family's CDF (:mod:`bayescount.inference.predictive_cdf`), rows
in chunks so memory stays O(chunk x draws). Sharpness is ``mean_width``
(``upper - lower``), ``interval_score`` is Gneiting & Raftery's (2007) score of the
plain interval, and ``crps`` is the sample estimate of the CRPS with one predictive
count per posterior draw (:func:`~bayescount.checks._array.crps_from_samples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescount._warnings import renamed_keywords
from bayescount.checks._array import crps_from_samples, interval_score, wilson_interval
from bayescount.constants import DEFAULT_LEVELS
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.inference.draws import chunked_parameters, draw_subset
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import SAMPLE_DIMS, PredictiveParameters, draw_counts
from bayescount.inference.predictive_cdf import MAX_WALK, draws_first, pit_bounds
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = [
    "DEFAULT_LEVELS",
    "CoverageReport",
    "CoverageRow",
    "RowScores",
    "coverage_from_cdf",
    "coverage_report",
    "score_parameters",
    "score_predictive",
    "summarize_coverage",
]

#: Probability of the binomial (Wilson) band around each coverage.
BAND_PROB = 0.95
#: Draws x rows held at once when ``chunk_size`` is not given.
CHUNK_ELEMENTS = 2_000_000


def _levels(levels: Sequence[float]) -> np.ndarray:
    arr = np.asarray(sorted(set(float(x) for x in levels)), dtype=float)
    if arr.size == 0 or np.any((arr <= 0) | (arr >= 1)):
        raise SpecError(f"Coverage levels must lie strictly between 0 and 1, got {list(levels)}.")
    return arr


def _taus(levels: np.ndarray) -> np.ndarray:
    return np.concatenate([(1 - levels) / 2, (1 + levels) / 2])


@dataclass(frozen=True)
class RowScores:
    """Per-row ingredients of coverage, for ``n`` rows and ``L`` levels.

    Attributes
    ----------
    levels : ndarray (L,)
    y : ndarray (n,)
        Observed counts.
    pit : ndarray (n,)
        Randomised PIT ``F(y - 1) + V (F(y) - F(y - 1))``.
    lower, upper : ndarray (n, L)
        Equal-tailed integer predictive quantiles.
    crps : ndarray (n,)
        CRPS per row (NaN when not computed).
    """

    levels: np.ndarray
    y: np.ndarray
    pit: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    crps: np.ndarray

    def covered(self) -> np.ndarray:
        """``(n, L)``: randomised-PIT coverage, ``(1-L)/2 < pit < (1+L)/2``."""
        lv = self.levels[None, :]
        u = self.pit[:, None]
        return ((1 - lv) / 2 < u) & (u < (1 + lv) / 2)

    def covered_inclusive(self) -> np.ndarray:
        """``(n, L)``: plain coverage, ``lower <= y <= upper``."""
        y = self.y[:, None]
        return (self.lower <= y) & (y <= self.upper)

    def width(self) -> np.ndarray:
        """``(n, L)``: ``upper - lower``."""
        return (self.upper - self.lower).astype(float)

    def interval_score(self) -> np.ndarray:
        """``(n, L)``: interval score of the plain interval."""
        return interval_score(self.y[:, None], self.lower, self.upper, self.levels[None, :])

    @classmethod
    def concat(cls, parts: Sequence[RowScores]) -> RowScores:
        """Stack the rows of several parts scored at the same levels."""
        return cls(
            levels=parts[0].levels,
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in ("y", "pit", "lower", "upper", "crps")
            },
        )


def coverage_from_cdf(
    y: np.ndarray,
    cdf_below: np.ndarray,
    cdf_at: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    levels: Sequence[float],
    *,
    uniforms: np.ndarray | None = None,
    random_seed: int | None = 0,
    crps: np.ndarray | None = None,
) -> RowScores:
    """Score rows from their predictive CDF at ``y - 1`` and ``y`` and their quantiles.

    Parameters
    ----------
    y : array of int (n,)
        Observed counts.
    cdf_below, cdf_at : array (n,)
        ``F(y - 1)`` and ``F(y)`` of each row's predictive distribution.
    lower, upper : array of int (n, L)
        Quantiles ``q_{(1-L)/2}`` and ``q_{(1+L)/2}`` for each level (columns in the
        order of ``sorted(levels)``).
    probs : sequence of float
        Central interval probabilities (``levels=`` is the old name, deprecated).
    uniforms : array (n,), optional
        The ``V ~ U(0, 1)`` of the randomised PIT; drawn from ``random_seed`` if absent.
    random_seed : int, optional
        Seed of ``uniforms`` when they are not given.
    crps : array (n,), optional
        Per-row CRPS, carried along (NaN if absent).

    Returns
    -------
    RowScores
        Feed it to :func:`summarize_coverage`, or use its ``covered()`` and
        ``covered_inclusive()`` arrays directly.
    """
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    n = y.size
    if uniforms is None:
        uniforms = np.random.default_rng(random_seed).random(n)
    cdf_below = np.asarray(cdf_below, dtype=float).reshape(-1)
    cdf_at = np.asarray(cdf_at, dtype=float).reshape(-1)
    pit = cdf_below + np.asarray(uniforms, dtype=float).reshape(-1) * (cdf_at - cdf_below)
    return RowScores(
        levels=_levels(levels),
        y=y,
        pit=pit,
        lower=np.asarray(lower).reshape(n, -1),
        upper=np.asarray(upper).reshape(n, -1),
        crps=np.full(n, np.nan) if crps is None else np.asarray(crps, dtype=float).reshape(-1),
    )


def score_predictive(
    y: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    uniforms: np.ndarray | None = None,
    random_seed: int | np.random.Generator | None = 0,
    crps: bool = True,
    axis: int = 0,
) -> RowScores:
    """Score observed counts against per-draw count distributions (numpy in, no chunking).

    ``mu`` (and ``alpha``, ``psi`` when the family has them, or ``None``) hold
    posterior draws on ``axis`` and one entry per row of ``y`` on the other axes.
    ``random_seed`` (or a Generator) drives ``uniforms`` when absent and the CRPS
    samples. Memory is O(draws x rows); call it per chunk of rows for large data, as
    :func:`coverage_report` does.
    """
    lv = _levels(levels)
    shape = np.shape(mu)
    mu, alpha, psi = (draws_first(a, shape, axis) for a in (mu, alpha, psi))
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    rng = np.random.default_rng(random_seed)
    if uniforms is None:
        uniforms = rng.random(y.size)
    f_below, f_at, q = pit_bounds(y, mu, alpha, psi, taus=_taus(lv), max_walk=MAX_WALK)
    score = (
        crps_from_samples(draw_counts(mu, alpha, psi, rng), y, axis=0) if crps else None
    )
    n_lv = len(lv)
    return coverage_from_cdf(
        y, f_below, f_at, q[:n_lv].T, q[n_lv:].T, lv, uniforms=uniforms, crps=score
    )


def score_parameters(
    params: PredictiveParameters,
    y: np.ndarray,
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    uniforms: np.ndarray | None = None,
    random_seed: int | np.random.Generator | None = 0,
    crps: bool = True,
) -> RowScores:
    """:func:`score_predictive` on :class:`~bayescount.inference.PredictiveParameters`.

    The sample dims ``(chain, draw)`` of ``params`` are stacked by name, whatever
    their order; ``y`` holds one observed count per ``obs``.
    """

    def values(da):
        if da is None:
            return None
        stacked = da.stack(__sample__=SAMPLE_DIMS)
        return stacked.transpose("__sample__", ...).values

    return score_predictive(
        y,
        values(params.mu),
        values(params.alpha),
        values(params.psi),
        levels=levels,
        uniforms=uniforms,
        random_seed=random_seed,
        crps=crps,
    )


@dataclass(frozen=True)
class CoverageRow:
    """Coverage of one level in one scope (overall, a group, a horizon)."""

    scope: str
    group: str | None
    level: float
    n: int
    covered: int
    coverage: float
    lower: float
    upper: float
    coverage_inclusive: float
    mean_width: float
    interval_score: float
    crps: float

    @property
    def verdict(self) -> str:
        """``"calibrated"`` when ``level`` is inside the band, else under/over-covers."""
        if self.n == 0 or not np.isfinite(self.lower):
            return "no data"
        if self.level < self.lower:
            return "over-covers"
        if self.level > self.upper:
            return "under-covers"
        return "calibrated"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the fields and the verdict."""
        return {k: json_safe(v) for k, v in asdict(self).items()} | {"verdict": self.verdict}


def _summarize(scores: RowScores, idx, scope: str, group: str | None) -> list[CoverageRow]:
    covered = scores.covered()[idx]
    inclusive = scores.covered_inclusive()[idx]
    width = scores.width()[idx]
    iscore = scores.interval_score()[idx]
    n = covered.shape[0]
    k = covered.sum(axis=0)
    lo, hi = wilson_interval(k, n, BAND_PROB)
    crps = float(np.nanmean(scores.crps[idx])) if n and np.isfinite(scores.crps[idx]).any() else (
        float("nan")
    )
    return [
        CoverageRow(
            scope=scope,
            group=group,
            level=float(level),
            n=int(n),
            covered=int(k[j]),
            coverage=float(k[j] / n) if n else float("nan"),
            lower=float(lo[j]),
            upper=float(hi[j]),
            coverage_inclusive=float(inclusive[:, j].mean()) if n else float("nan"),
            mean_width=float(width[:, j].mean()) if n else float("nan"),
            interval_score=float(iscore[:, j].mean()) if n else float("nan"),
            crps=crps,
        )
        for j, level in enumerate(scores.levels)
    ]


def _label_groups(values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    uniq = pd.unique(pd.Series(values))
    try:
        uniq = sorted(uniq)
    except TypeError:
        uniq = sorted(uniq, key=str)
    return [(str(u), np.flatnonzero(values == u)) for u in uniq]


def summarize_coverage(
    scores: RowScores,
    *,
    groups: np.ndarray | None = None,
    by: str | None = None,
    horizons: np.ndarray | None = None,
    horizon: str | None = None,
    n_draws: int = 0,
    random_seed: int | None = None,
) -> CoverageReport:
    """Aggregate :class:`RowScores` overall, per group label and per horizon.

    ``groups`` / ``horizons`` hold one label per row; ``by`` / ``horizon`` name them.
    """
    rows = _summarize(scores, slice(None), "overall", None)
    if groups is not None:
        for label, idx in _label_groups(np.asarray(groups)):
            rows += _summarize(scores, idx, "group", label)
    if horizons is not None:
        for label, idx in _label_groups(np.asarray(horizons)):
            rows += _summarize(scores, idx, "horizon", label)
    return CoverageReport(
        rows=tuple(rows),
        levels=tuple(float(x) for x in scores.levels),
        by=by if groups is not None else None,
        horizon=horizon if horizons is not None else None,
        n_draws=n_draws,
        random_seed=random_seed,
    )


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of held-out counts (see the module docstring for the definitions).

    Attributes
    ----------
    rows : tuple of CoverageRow
        ``scope`` ``"overall"``, then ``"group"`` (labels of ``by``) and ``"horizon"``.
    levels : tuple of float
    by, horizon : str or None
        The grouping and horizon columns.
    n_draws : int
        Posterior draws in each predictive mixture.
    random_seed : int or None
        Seed of the PIT randomisation and the CRPS samples.
    """

    rows: tuple[CoverageRow, ...]
    levels: tuple[float, ...]
    by: str | None = None
    horizon: str | None = None
    n_draws: int = 0
    random_seed: int | None = None

    def scope(self, scope: str) -> tuple[CoverageRow, ...]:
        """Rows of one scope: ``"overall"``, ``"group"`` or ``"horizon"``."""
        return tuple(r for r in self.rows if r.scope == scope)

    @property
    def overall(self) -> tuple[CoverageRow, ...]:
        """The overall row of each level."""
        return self.scope("overall")

    @property
    def crps(self) -> float:
        """Mean CRPS over all held-out rows."""
        return self.overall[0].crps

    @property
    def calibrated(self) -> bool:
        """Whether every overall level lies inside its binomial band."""
        return all(r.verdict == "calibrated" for r in self.overall)

    def to_frame(self) -> pd.DataFrame:
        """One row per (scope, group, level), with the verdict."""
        frame = pd.DataFrame([asdict(r) for r in self.rows])
        frame["group"] = frame["group"].fillna("(all)")
        frame["verdict"] = [r.verdict for r in self.rows]
        return frame.set_index(["scope", "group", "level"])

    def _per_label(self, scope: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.scope(scope):
            d = r.to_dict()
            for key in ("scope", "group"):
                d.pop(key)
            out.setdefault(str(r.group), []).append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of the report.

        Per level ``level``, ``coverage``, ``coverage_inclusive``, ``n``, ``lower``,
        ``upper``, ``mean_width`` (and more) under ``overall``, the same per group label
        under ``groups`` and per horizon under ``horizons``.
        """
        overall = [
            {k: v for k, v in r.to_dict().items() if k not in ("scope", "group")}
            for r in self.overall
        ]
        out: dict[str, Any] = {
            "levels": list(self.levels),
            "band_prob": BAND_PROB,
            "n_draws": self.n_draws,
            "random_seed": self.random_seed,
            "crps": json_safe(self.crps),
            "calibrated": self.calibrated,
            "overall": overall,
            "by": self.by,
            "horizon": self.horizon,
        }
        if self.by is not None:
            out["groups"] = self._per_label("group")
        if self.horizon is not None:
            out["horizons"] = self._per_label("horizon")
        return out

    def plot(self, scope: str | None = None, **kwargs: Any) -> matplotlib.figure.Figure:
        """Reliability diagram; see :func:`bayescount.plots.plot_reliability`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from bayescount.plots.reliability import plot_reliability

        return plot_reliability(self, scope=scope, **kwargs)

    def __str__(self) -> str:
        lines = [f"Coverage of {self.overall[0].n} held-out rows ({self.n_draws} draws)"]
        for r in self.overall:
            lines.append(
                f"  {r.level:>5.0%}: {r.coverage:6.1%} [{r.lower:.1%}, {r.upper:.1%}]  "
                f"inclusive {r.coverage_inclusive:6.1%}  width {r.mean_width:.1f}  "
                f"{r.verdict}"
            )
        lines.append(f"  CRPS {self.crps:.4g}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return html_block(str(self).splitlines()[0], self.to_frame())


def _column(frame: pd.DataFrame, name: str | None, role: str) -> np.ndarray | None:
    if name is None:
        return None
    if name not in frame.columns:
        raise ColumnNotFoundError(
            f"{role} column {name!r} not found in the held-out data. Available columns: "
            f"{sorted(map(str, frame.columns))}."
        )
    return frame[name].to_numpy()


@renamed_keywords(levels="probs")
def coverage_report(
    fit: Fit,
    holdout_frame: pd.DataFrame,
    probs: Sequence[float] = DEFAULT_LEVELS,
    *,
    by: str | None = None,
    horizon: str | None = None,
    random_seed: int | None = 0,
    chunk_size: int | None = None,
    max_draws: int | None = None,
) -> CoverageReport:
    """Coverage of held-out rows by the model's central predictive intervals.

    Parameters
    ----------
    fit : Fit
        A fit (or a fitted :class:`~bayescount.CountModel`).
    holdout_frame : pandas.DataFrame
        Rows not used in fitting, with the counts, exposure, group (and time and
        covariate) columns. Unseen group labels get population-level predictions.
    probs : sequence of float
        Central interval probabilities (``levels=`` is the old name, accepted for one
        release with a ``FutureWarning``).
    by : str, optional
        Column of ``holdout_frame`` to report per label of (e.g. ``"service"``).
    horizon : str, optional
        Column holding each row's forecast horizon (e.g. steps ahead).
    random_seed : int, optional
        Seed of the PIT randomisation, the CRPS samples and unseen-label effects.
        The same seed and ``chunk_size`` give identical numbers.
    chunk_size : int, optional
        Rows processed at once; peak memory is O(chunk_size x draws). Default: about
        2 million draws x rows per chunk.
    max_draws : int, optional
        Use at most this many posterior draws (evenly thinned); default all.

    Returns
    -------
    CoverageReport
    """
    lv = _levels(probs)
    groups = _column(holdout_frame, by, "by")
    horizons = _column(holdout_frame, horizon, "horizon")
    fit = as_fit(fit)
    _clean, prepared = fit.prepare(holdout_frame, require_counts=True)
    posterior = draw_subset(fit.posterior, max_draws)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ELEMENTS // n_draws)
    seeds = np.random.SeedSequence(random_seed).spawn(3)
    uniforms = np.random.default_rng(seeds[0]).random(prepared.n)
    crps_rng = np.random.default_rng(seeds[1])
    parts = []
    for rows, params in chunked_parameters(
        fit,
        prepared,
        chunk_size=chunk_size,
        max_draws=max_draws,
        rng=np.random.default_rng(seeds[2]),
    ):
        parts.append(
            score_parameters(
                params,
                prepared.counts[rows],
                levels=lv,
                uniforms=uniforms[rows],
                random_seed=crps_rng,
            )
        )
        del params
    return summarize_coverage(
        RowScores.concat(parts),
        groups=groups,
        by=by,
        horizons=horizons,
        horizon=horizon,
        n_draws=n_draws,
        random_seed=random_seed,
    )
