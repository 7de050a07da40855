"""Results of a rolling-origin backtest: per-refit records and the report.

:class:`BacktestReport` holds the held-out rows with their scores, the coverage
(:mod:`bayescount.checks.coverage`), the point errors against the naive baseline and
the refits' convergence and timings; :func:`bayescount.checks.backtest.backtest`
builds it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayescount.checks.coverage import CoverageReport, CoverageRow
from bayescount.inference.convergence import ConvergenceReport
from bayescount.prep.splits import HORIZON_COLUMN
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure

__all__ = ["BacktestReport", "OriginResult"]


@dataclass(frozen=True)
class OriginResult:
    """One refit of a backtest.

    Attributes
    ----------
    index : int
        0 for the earliest origin.
    origin : pandas.Timestamp
        Last training time step.
    n_train, n_holdout : int
        Rows fitted and scored.
    convergence : ConvergenceReport
        The convergence gate of this refit.
    sample_seconds, compile_seconds : float
        Sampling time, and compile time when this refit compiled the model (0 when it
        re-used a compiled model). With a ``sample_fn`` every refit builds and compiles
        its own model inside ``sample_seconds``.
    """

    index: int
    origin: pd.Timestamp
    n_train: int
    n_holdout: int
    convergence: ConvergenceReport
    sample_seconds: float
    compile_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the convergence report as a dict)."""
        return {
            "index": self.index,
            "origin": self.origin.isoformat(),
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "convergence": {k: json_safe(v) if not isinstance(v, (list, dict)) else v
                            for k, v in self.convergence.to_dict().items()},
            "sample_seconds": self.sample_seconds,
            "compile_seconds": self.compile_seconds,
        }


def _point_metrics(rows: pd.DataFrame, scope: str, labels: pd.Series | None) -> pd.DataFrame:
    err = (rows["observed"] - rows["mean"]).abs()
    base = (rows["observed"] - rows["baseline"]).abs()
    parts = pd.DataFrame({"err": err, "base": base, "y": rows["observed"].astype(float)})
    key = labels.astype(str) if labels is not None else pd.Series("(all)", index=rows.index)
    agg = parts.groupby(key.to_numpy(), sort=False).mean()
    out = pd.DataFrame(
        {
            "mae": agg["err"],
            "baseline_mae": agg["base"],
            "relative_mae": agg["err"] / agg["base"].where(agg["base"] > 0),
            "scaled_mae": agg["err"] / agg["y"].where(agg["y"] > 0),
        }
    )
    out.index = pd.MultiIndex.from_product([[scope], out.index], names=["scope", "group"])
    return out


@dataclass(frozen=True)
class BacktestReport:
    """Calibration and accuracy of a model refitted at rolling origins.

    Attributes
    ----------
    coverage : CoverageReport
        Coverage of all held-out rows, per ``by`` label and per horizon.
    origin_coverage : tuple of CoverageRow
        Coverage per origin (``scope == "origin"``, ``group`` = origin index).
    rows : pandas.DataFrame
        One row per held-out row and origin: ``origin`` (index), ``origin_time``,
        the time, group and ``horizon`` columns, ``observed``, ``mean`` (predictive
        mean), ``baseline``, ``pit`` and ``crps``.
    origins : tuple of OriginResult
        Per-refit convergence and timings.
    horizon : int
        Forecast windows after each origin.
    by : str or None
        Column of the per-group breakdown.
    baseline : str
        ``"seasonal_naive"`` or ``"mean"`` (with the period in ``baseline_period``).
    baseline_period : int or None
        Seasonal period of the baseline, in grid steps.
    random_seed : int
        The master seed (the generated entropy when none was given).
    workers : int
        Worker processes the refits ran on (1: serial, in this process).
    reused_compiled : bool
        Whether refits re-used a compiled model (nutpie ``with_data``).
    wall_seconds : float
        Elapsed time of the whole backtest.
    executor : str
        Where the refits ran: ``"serial"``, ``"processes"``, ``"dask"`` or ``"futures"``.
    """

    coverage: CoverageReport
    origin_coverage: tuple[CoverageRow, ...]
    rows: pd.DataFrame
    origins: tuple[OriginResult, ...]
    horizon: int
    by: str | None
    baseline: str
    baseline_period: int | None
    random_seed: int
    workers: int
    reused_compiled: bool
    wall_seconds: float
    executor: str = "serial"

    # -------------------------------------------------------------- numbers
    @property
    def compile_seconds(self) -> float:
        """Total time spent compiling (every worker's compile counted)."""
        return float(sum(o.compile_seconds for o in self.origins))

    @property
    def sample_seconds(self) -> float:
        """Total sampling time over the refits."""
        return float(sum(o.sample_seconds for o in self.origins))

    @property
    def converged(self) -> bool:
        """Whether every refit passed the convergence gate."""
        return all(o.convergence.passed for o in self.origins)

    def point_metrics(self) -> pd.DataFrame:
        """MAE, baseline MAE, ``relative_mae`` and ``scaled_mae`` per (scope, group)."""
        r = self.rows
        parts = [_point_metrics(r, "overall", None)]
        if self.by is not None:
            parts.append(_point_metrics(r, "group", r[self.by]))
        parts.append(_point_metrics(r, "horizon", r[HORIZON_COLUMN]))
        parts.append(_point_metrics(r, "origin", r["origin"]))
        return pd.concat(parts)

    def to_frame(self) -> pd.DataFrame:
        """Coverage and point errors per (scope, group, level).

        Scopes: ``overall``, ``group`` (labels of ``by``), ``horizon`` and ``origin``.
        Point errors do not depend on the level and repeat across levels.
        """
        cov = self.coverage.to_frame()
        extra = pd.DataFrame([dataclasses.asdict(r) for r in self.origin_coverage])
        extra["verdict"] = [r.verdict for r in self.origin_coverage]
        cov = pd.concat([cov, extra.set_index(["scope", "group", "level"])])
        points = self.point_metrics()
        joined = cov.reset_index().merge(
            points.reset_index(),
            on=["scope", "group"],
            how="left",
        )
        return joined.set_index(["scope", "group", "level"])

    def origins_frame(self) -> pd.DataFrame:
        """Per refit: origin time, rows, timings and the convergence gate's numbers."""
        return pd.DataFrame(
            [
                {
                    "origin": o.origin,
                    "n_train": o.n_train,
                    "n_holdout": o.n_holdout,
                    "sample_seconds": o.sample_seconds,
                    "compile_seconds": o.compile_seconds,
                    "divergences": o.convergence.divergences,
                    "max_rhat": o.convergence.max_rhat,
                    "min_ess_bulk": o.convergence.min_ess_bulk,
                    "converged": o.convergence.passed,
                }
                for o in self.origins
            ],
            index=pd.RangeIndex(len(self.origins), name="index"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: coverage, point errors, origins and timings."""
        points = self.point_metrics()

        def metrics(scope: str) -> dict[str, dict[str, Any]]:
            sub = points.loc[scope]
            return {
                str(g): {k: json_safe(float(v)) for k, v in row.items()}
                for g, row in sub.iterrows()
            }

        per_origin: dict[str, list[dict[str, Any]]] = {}
        for r in self.origin_coverage:
            d = r.to_dict()
            d.pop("scope")
            per_origin.setdefault(str(d.pop("group")), []).append(d)
        return {
            "coverage": self.coverage.to_dict(),
            "origin_coverage": per_origin,
            "point_metrics": {
                "overall": metrics("overall")["(all)"],
                "groups": metrics("group") if self.by is not None else {},
                "horizons": metrics("horizon"),
                "origins": metrics("origin"),
            },
            "origins": [o.to_dict() for o in self.origins],
            "horizon": self.horizon,
            "by": self.by,
            "baseline": self.baseline,
            "baseline_period": self.baseline_period,
            "random_seed": self.random_seed,
            "workers": self.workers,
            "executor": self.executor,
            "reused_compiled": self.reused_compiled,
            "converged": self.converged,
            "timing": {
                "wall_seconds": self.wall_seconds,
                "compile_seconds": self.compile_seconds,
                "sample_seconds": self.sample_seconds,
            },
        }

    # --------------------------------------------------------------- display
    def __str__(self) -> str:
        m = self.point_metrics().loc[("overall", "(all)")]
        lines = [
            f"Backtest: {len(self.origins)} origin(s) x {self.horizon} step(s), "
            f"{len(self.rows)} held-out rows, {self.workers} {self.executor} worker(s), "
            f"{self.wall_seconds:.0f}s (compile {self.compile_seconds:.0f}s, "
            f"sampling {self.sample_seconds:.0f}s)",
        ]
        lines += str(self.coverage).splitlines()[1:]
        lines.append(
            f"  MAE {m['mae']:.4g}; relative to {self.baseline} baseline "
            f"{m['relative_mae']:.3f}; MAE / mean(observed) {m['scaled_mae']:.3f}"
        )
        failed = [o.index for o in self.origins if not o.convergence.passed]
        if failed:
            lines.append(f"  convergence gate failed at origin(s) {failed}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, *notes = str(self).splitlines()
        return html_block(head, self.to_frame(), [n.strip() for n in notes])

    def plot(self, ax=None) -> matplotlib.figure.Figure:
        """Coverage by horizon: one line per level, its 95% binomial band, the nominal.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        import matplotlib.pyplot as plt

        frame = self.coverage.to_frame().loc["horizon"].reset_index()
        frame["h"] = frame["group"].astype(int)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        for i, (level, sub) in enumerate(frame.groupby("level")):
            sub = sub.sort_values("h")
            color = f"C{i}"
            ax.plot(sub["h"], sub["coverage"], marker="o", color=color, label=f"{level:.0%}")
            ax.fill_between(sub["h"], sub["lower"], sub["upper"], color=color, alpha=0.15)
            ax.axhline(level, color=color, linestyle="--", linewidth=0.8)
        ax.set_xlabel("horizon (time steps after the origin)")
        ax.set_ylabel("coverage (randomised PIT)")
        ax.set_ylim(0, 1.02)
        ax.set_title("Backtest coverage by horizon (dashed: nominal)")
        ax.legend(title="level", fontsize="small")
        return fig
