"""Compare fitted count models by PSIS-LOO and pick an observation family.

The ELPD estimates, their differences and standard errors come from
:func:`arviz_stats.loo` and :func:`arviz_stats.compare`; this module checks the
inputs, counts the high Pareto-k observations and states a selection rule in words.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayescount._warnings import warn
from bayescount.checks._options import from_fit_kwargs
from bayescount.exceptions import ConvergenceWarning, SpecError
from bayescount.inference.convergence import ConvergenceThresholds
from bayescount.inference.driver import FitJob, run_fits
from bayescount.inference.executors import JobExecutor, open_executor
from bayescount.inference.fit import Fit, as_fit
from bayescount.inference.loglik import pointwise_log_likelihood
from bayescount.inference.sampling import SampleFn, SamplerConfig, run_sampler
from bayescount.models.spec import FAMILIES, as_spec
from bayescount.results import html_block, json_safe, new_axes

if TYPE_CHECKING:
    import distributed
    import matplotlib.figure

__all__ = [
    "FAMILY_ORDER",
    "Comparison",
    "ComparisonRow",
    "FamilySelection",
    "compare_families",
    "compare_models",
    "select_family",
]

#: Families from simplest to most complex; ties go to the simpler one.
FAMILY_ORDER = FAMILIES
#: Pareto k above which a LOO importance-sampling estimate is unreliable.
PARETO_K_THRESHOLD = 0.7
#: A simpler model is preferred when its ELPD is within this many SE of the best.
SE_MULTIPLE = 2.0


@dataclass(frozen=True)
class ComparisonRow:
    """LOO results of one model, relative to the best."""

    name: str
    rank: int
    elpd: float
    se: float
    elpd_diff: float
    dse: float
    p_loo: float
    weight: float
    n_high_k: int
    n: int

    @property
    def warning(self) -> str:
        """A sentence about high Pareto k values, or ``""``."""
        if not self.n_high_k:
            return ""
        return (
            f"{self.n_high_k} of {self.n} observations have Pareto k > {PARETO_K_THRESHOLD}: "
            f"the LOO estimate of {self.name!r} may be unreliable (influential rows)"
        )


@dataclass(frozen=True)
class Comparison:
    """A LOO comparison, best model first.

    ``models`` holds the fitted models by name (not part of ``to_dict``).
    """

    rows: tuple[ComparisonRow, ...]
    models: Mapping[str, Fit] = field(default_factory=dict, repr=False, compare=False)

    @property
    def best(self) -> str:
        """Name of the model with the highest ELPD."""
        return self.rows[0].name

    def to_frame(self) -> pd.DataFrame:
        """One row per model (index: name), best first, with the Pareto-k warning."""
        frame = pd.DataFrame([dataclasses.asdict(r) for r in self.rows]).set_index("name")
        frame["warning"] = [r.warning for r in self.rows]
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``best`` and one dict per model."""
        return {
            "best": self.best,
            "pareto_k_threshold": PARETO_K_THRESHOLD,
            "models": [
                {k: json_safe(v) for k, v in dataclasses.asdict(r).items()}
                | {"warning": r.warning}
                for r in self.rows
            ],
        }

    def plot(self, ax: Any = None) -> matplotlib.figure.Figure:
        """ELPD of each model with its SE, and its difference from the best with ``dse``.

        The layout of :func:`arviz_plots.plot_compare`: one row per model, best at the
        top; filled circles the ELPD ± SE, open diamonds the ELPD of the best minus the
        difference ± its SE; the dashed line marks the best ELPD.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        fig, ax = new_axes(ax, (6.0, 1.0 + 0.6 * len(self.rows)))
        y = np.arange(len(self.rows))[::-1]
        elpd = np.array([r.elpd for r in self.rows])
        ax.errorbar(elpd, y, xerr=[r.se for r in self.rows], fmt="o", color="C0",
                    label="ELPD ± SE")
        best = elpd[0]
        # arviz_stats.compare: elpd_diff >= 0 is how far below the best a model lies.
        ax.errorbar(best - np.array([r.elpd_diff for r in self.rows[1:]]), y[1:] - 0.15,
                    xerr=[r.dse for r in self.rows[1:]], fmt="D", mfc="none", color="C1",
                    label="best - difference ± dSE")
        ax.axvline(best, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(y, [r.name for r in self.rows])
        ax.set_xlabel("ELPD (PSIS-LOO, log score; higher is better)")
        ax.set_ylabel("model")
        ax.set_title(f"LOO comparison: best {self.best}")
        ax.legend(fontsize="small")
        return fig

    def __str__(self) -> str:
        lines = ["LOO comparison (best first)"]
        for r in self.rows:
            lines.append(
                f"  {r.name:<34} elpd {r.elpd:10.1f} ± {r.se:6.1f}   diff {r.elpd_diff:8.1f} "
                f"± {r.dse:5.1f}   high k {r.n_high_k}"
            )
        lines += [f"  - {r.warning}" for r in self.rows if r.warning]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return html_block("LOO comparison (best first)", self.to_frame(),
                          [r.warning for r in self.rows if r.warning])


def _loo(name: str, fit: Fit):
    tree = fit.tree
    if "log_likelihood" not in tree.children:
        # Computed from the draws and the stored rows, exactly as a fit asked for it
        # would have stored it: no refit needed.
        prepared, _ = fit.training_rows()
        tree = tree.copy()
        tree["log_likelihood"] = xr.DataTree(
            pointwise_log_likelihood(fit.posterior, fit.spec, fit.design, prepared)
        )
    with warnings.catch_warnings():
        # High Pareto k values are counted and reported per model (ComparisonRow.warning).
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return azs.loo(tree, pointwise=True)


def compare_models(models: Mapping[str, Fit]) -> Comparison:
    """Compare fitted models by PSIS-LOO (:func:`arviz_stats.compare`).

    Parameters
    ----------
    models : mapping of str to Fit
        At least two fits (or fitted models) of the same rows. Their stored pointwise
        log-likelihood is used; a fit made without it (``log_likelihood=False``, the
        default) gets it computed from its draws and stored rows
        (:func:`~bayescount.inference.loglik.pointwise_log_likelihood`), so saved fits
        compare without a refit.

    Returns
    -------
    Comparison
        ELPD, its SE, the difference to the best and its SE (``dse``), effective
        parameters ``p_loo``, stacking weight and the count of observations with
        Pareto ``k > 0.7`` per model.
    """
    if len(models) < 2:
        raise SpecError(f"Compare at least two models, got {len(models)}: {list(models)}.")
    models = {name: as_fit(m) for name, m in models.items()}
    elpds = {name: _loo(name, m) for name, m in models.items()}
    sizes = {name: e.n_data_points for name, e in elpds.items()}
    if len(set(sizes.values())) > 1:
        raise SpecError(
            f"The models were fitted on different numbers of rows {sizes}; LOO compares "
            "models of the same data only."
        )
    table = azs.compare(elpds, round_to="none")
    rows = []
    for name, rec in table.iterrows():
        k = np.asarray(elpds[name].pareto_k)
        rows.append(
            ComparisonRow(
                name=str(name),
                rank=int(rec["rank"]),
                elpd=float(rec["elpd"]),
                se=float(rec["se"]),
                elpd_diff=float(rec["elpd_diff"]),
                dse=float(rec["dse"]),
                p_loo=float(rec["p"]),
                weight=float(rec["weight"]),
                n_high_k=int(np.sum(k > PARETO_K_THRESHOLD)),
                n=int(sizes[name]),
            )
        )
    return Comparison(tuple(rows), dict(models))


def _families(families: Sequence[str]) -> list[str]:
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise SpecError(f"Unknown families {unknown}; choose from {list(FAMILIES)}.")
    if len(set(families)) < 2:
        raise SpecError(f"Compare at least two distinct families, got {list(families)}.")
    return list(dict.fromkeys(families))


def compare_families(
    data: pd.DataFrame,
    model_kwargs: Any,
    families: Sequence[str] = FAMILY_ORDER,
    fit_kwargs: Mapping[str, Any] | None = None,
    *,
    config: SamplerConfig | None = None,
    thresholds: ConvergenceThresholds | None = None,
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    scheduler: str | None = None,
    max_workers: int | None = None,
    sample_fn: SampleFn | None = None,
) -> Comparison:
    """Fit one model per family on ``data`` and compare them by LOO.

    The fits go through the fitting driver (:func:`bayescount.inference.run_fits`),
    each with ``config.random_seed``, so every executor gives identical numbers.

    Parameters
    ----------
    data : pandas.DataFrame
        The training table.
    model_kwargs : mapping, CountModel, Fit or ModelSpec
        Keyword arguments of :class:`~bayescount.CountModel` (``family`` is replaced),
        or a model or spec whose spec is reused with each family. Negative binomial
        options are dropped for the other families.
    families : sequence of str
        Candidate families.
    fit_kwargs : mapping, optional
        Deprecated (``FutureWarning``): keyword arguments of :meth:`CountModel.fit`;
        use ``config``, ``thresholds`` and ``sample_fn``.
    config : SamplerConfig, optional
        How to run NUTS (default ``SamplerConfig()``); ``log_likelihood`` is always
        switched on.
    thresholds : ConvergenceThresholds, optional
        Limits of each fit's convergence gate.
    executor : {"serial", "processes", "dask"}, distributed.Client or executor, optional
        Where the fits run (default ``"serial"``; see
        :mod:`bayescount.inference.executors`).
    scheduler : str, optional
        Address of a Dask scheduler (implies ``executor="dask"``).
    max_workers : int, optional
        Most local worker processes.
    sample_fn : callable, optional
        The sampler seam ``(pm.Model, SamplerConfig) -> DataTree`` (default
        :func:`~bayescount.inference.run_sampler`).

    Returns
    -------
    Comparison
        Its ``models`` hold the :class:`~bayescount.Fit` of each family.

    Raises
    ------
    SpecError
        An unknown family or fewer than two.

    Warns
    -----
    ConvergenceWarning
        For each family whose fit fails the convergence gate.
    """
    config, thresholds, extras = from_fit_kwargs(fit_kwargs, config, thresholds)
    sample_fn = sample_fn or extras.get("sample_fn") or run_sampler
    config = dataclasses.replace(config or SamplerConfig(), log_likelihood=True)
    # the negative binomial admits every option; with_family drops its own for the others
    spec = as_spec(dict(model_kwargs, family="negative_binomial")
                   if isinstance(model_kwargs, Mapping)
                   else model_kwargs)
    jobs = [
        FitJob(spec.with_family(family), data, config, key=family)
        for family in _families(families)
    ]
    with open_executor(executor, scheduler=scheduler, max_workers=max_workers) as ex:
        results = run_fits(jobs, executor=ex, sample_fn=sample_fn, thresholds=thresholds,
                           description="family fits")
    fitted: dict[str, Fit] = {res.key: res.value for res in results}
    for family, fit in fitted.items():
        if not fit.convergence.passed:
            warn(f"{family}: {fit.convergence}", ConvergenceWarning)
    return compare_models(fitted)


@dataclass(frozen=True)
class FamilySelection:
    """The chosen family, why, the comparison behind it and its :class:`~bayescount.Fit`."""

    family: str
    reason: str
    comparison: Comparison
    model: Fit | None = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the comparison table (:meth:`Comparison.to_frame`) with a ``chosen`` column."""
        frame = self.comparison.to_frame()
        frame["chosen"] = frame.index == self.family
        return frame

    def plot(self, ax: Any = None) -> matplotlib.figure.Figure:
        """Draw the comparison's plot (:meth:`Comparison.plot`), titled with the chosen family.

        Returns
        -------
        matplotlib.figure.Figure
        """
        fig = self.comparison.plot(ax=ax)
        fig.axes[0].set_title(f"LOO comparison: chose {self.family} (simplest within 2 SE)")
        return fig

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``family``, ``reason`` and the comparison."""
        return {"family": self.family, "reason": self.reason,
                "comparison": self.comparison.to_dict()}

    def __str__(self) -> str:
        return f"Selected family: {self.family}\n  {self.reason}\n\n{self.comparison}"

    def _repr_html_(self) -> str:
        return html_block(f"Selected family: {self.family}", None, [self.reason]) + (
            self.comparison._repr_html_()
        )


def choose_family(comparison: Comparison) -> tuple[str, str]:
    """Apply the selection rule to a comparison of families; return ``(family, reason)``.

    Rule: among the models whose ELPD is within ``2 x dse`` of the best (``dse``: the
    SE of the difference), take the simplest in :data:`FAMILY_ORDER`.
    """
    unknown = [r.name for r in comparison.rows if r.name not in FAMILY_ORDER]
    if unknown:
        raise SpecError(f"choose_family compares families; {unknown} are not in {FAMILY_ORDER}.")
    rows = {r.name: r for r in comparison.rows if np.isfinite(r.elpd) and np.isfinite(r.dse)}
    if not rows:
        raise SpecError(
            "LOO failed for every model (non-finite ELPD); check the fits' log-likelihood "
            "and convergence before choosing a family."
        )
    best = max(rows.values(), key=lambda r: r.elpd)
    close = [
        name
        for name in FAMILY_ORDER
        if name in rows and abs(rows[name].elpd_diff) <= SE_MULTIPLE * rows[name].dse
    ]
    chosen = close[0] if close else best.name
    r = rows[chosen]
    simpler = [
        rows[f] for f in FAMILY_ORDER[: FAMILY_ORDER.index(chosen)] if f in rows
    ]
    if chosen == best.name:
        reason = f"{chosen} has the highest LOO ELPD ({r.elpd:.1f} ± {r.se:.1f})"
        if simpler:
            worse = ", ".join(
                f"{s.name} {s.elpd_diff:.1f} ± {s.dse:.1f}" for s in simpler
            )
            reason += f"; every simpler family is worse by more than 2 SE ({worse})"
    else:
        reason = (
            f"{chosen} is within 2 SE of the best, {best.name} (ELPD difference "
            f"{r.elpd_diff:.1f} ± {r.dse:.1f}), and is simpler"
        )
    if r.warning:
        reason += f"; caution: {r.warning}"
    return chosen, reason


def select_family(
    data: pd.DataFrame,
    model_kwargs: Any,
    families: Sequence[str] = FAMILY_ORDER,
    fit_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> FamilySelection:
    """Fit each family, compare by LOO and pick one (``family="auto"``).

    The simplest family (order: poisson < negative_binomial < zero_inflated_poisson <
    zero_inflated_negative_binomial) whose ELPD is within 2 SE of the best wins; the
    returned ``reason`` says so in words. Arguments (``config``, ``thresholds``,
    ``executor``, ...) as :func:`compare_families`.

    Returns
    -------
    FamilySelection
        The family, the reason, the comparison and the chosen family's fit.
    """
    comparison = compare_families(data, model_kwargs, families, fit_kwargs, **options)
    family, reason = choose_family(comparison)
    return FamilySelection(family, reason, comparison, comparison.models.get(family))
