"""The fit jobs of a backtest: one design for every origin, one job per origin.

To keep one compiled graph valid across origins, the :class:`~bayescount.prep.Design`
is fitted once (:func:`shared_design`): group labels, covariate encodings and
seasonality from the *full* data (labels are not outcomes; a label with no training
rows at an early origin is a group without data, which the hierarchical prior
handles), and the count-derived constants (the pooled rate that centres the
intercept prior, the reference exposure) from the *earliest* training window, so no
held-out count leaks into any fit. A latent level's states end at each origin, so
such origins get their own design (:func:`origin_design`) and compile their own
graph.

:func:`score_origin` runs on the worker after each refit (the driver's ``then``), so
only the held-out scores travel back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bayescount.checks.coverage import RowScores, score_predictive
from bayescount.inference.convergence import ConvergenceReport
from bayescount.inference.driver import FitJob
from bayescount.inference.fit import Fit
from bayescount.inference.predict import predictive_parameters
from bayescount.inference.sampling import SamplerConfig
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.splits import TimeSplit
from bayescount.prep.timegrid import TimeGrid

__all__ = ["OriginOutcome", "origin_design", "origin_jobs", "score_origin", "shared_design"]


def shared_design(frame, splits: Sequence[TimeSplit], spec: ModelSpec) -> Design:
    """Return the design of every origin: labels of the full table, constants of the first.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole validated table.
    splits : sequence of TimeSplit
        The origins, earliest first.
    spec : ModelSpec
        The model.

    Returns
    -------
    Design
        Labels and encodings of ``frame``; pooled rate, reference exposure, Fourier
        centre and (for a latent level) time grid of the earliest training window.
    """
    full = spec.fit_design(frame)
    early = spec.fit_design(splits[0].train)
    return dataclasses.replace(
        full,
        pooled_log_rate=early.pooled_log_rate,
        reference_exposure=early.reference_exposure,
        time_grid=early.time_grid,
        fourier_center=early.fourier_center,
    )


def origin_design(design: Design, split: TimeSplit, spec: ModelSpec) -> Design | None:
    """Return an origin's own design for a latent level, else ``None`` (shared design).

    The latent states end at the origin: held-out steps continue each draw's path,
    as :meth:`Fit.predict <bayescount.Fit.predict>` does, and no fit carries states
    that only the prior informs (they mix badly). The number of states differs by
    origin, so each origin compiles its own model.
    """
    if spec.latent is None:
        return None
    return dataclasses.replace(design, time_grid=TimeGrid.fit(split.train[spec.schema.time]))


@dataclass(frozen=True)
class _Holdout:
    """What scoring an origin needs besides the fit (travels in ``FitJob.extra``)."""

    rows: PreparedData
    score_seed: np.random.SeedSequence
    levels: tuple[float, ...]


@dataclass(frozen=True)
class OriginOutcome:
    """The scores of one origin's held-out rows (what travels back from a worker).

    Attributes
    ----------
    scores : RowScores
        PIT, coverage indicators and CRPS of each held-out row.
    mean : numpy.ndarray
        Dim ``holdout row``: the predictive mean count.
    n_draws : int
        Posterior draws (chains x draws) the scores used.
    convergence : ConvergenceReport
        The refit's convergence gate.
    """

    scores: RowScores
    mean: np.ndarray
    n_draws: int
    convergence: ConvergenceReport


def origin_jobs(
    spec: ModelSpec,
    design: Design,
    splits: Sequence[TimeSplit],
    parameterization: dict[str, str],
    config: SamplerConfig,
    seed_seq: np.random.SeedSequence,
    levels: tuple[float, ...],
) -> list[FitJob]:
    """Return one fit job per origin, with seeds spawned from ``seed_seq``.

    Origin ``i`` gets child ``i`` of ``seed_seq.spawn(len(splits))``, split in two:
    the sampler seed and the scoring seed; so the numbers do not depend on where the
    job runs. Origins that share the design share the compiled model (template: the
    earliest training window).
    """
    template = design.transform(splits[0].train)
    jobs = []
    for split, child in zip(splits, seed_seq.spawn(len(splits)), strict=True):
        sampler_seq, score_seq = child.spawn(2)
        own = origin_design(design, split, spec)
        used = own or design
        jobs.append(
            FitJob(
                spec=spec,
                data=used.transform(split.train),
                config=config,
                design=used,
                seed=int(sampler_seq.generate_state(1, np.uint32)[0]),
                key=split.index,
                parameterization=parameterization,
                template=template if own is None else None,
                extra=_Holdout(used.transform(split.holdout), score_seq, levels),
            )
        )
    return jobs


def score_origin(fit: Fit, job: FitJob) -> OriginOutcome:
    """Score the job's held-out rows under ``fit`` (the driver's ``then``, on the worker).

    Randomised PIT, coverage of the central intervals and CRPS
    (:func:`~bayescount.checks.coverage.score_predictive`) of the predictive mixture
    of every posterior draw, and the predictive mean count.
    """
    holdout: _Holdout = job.extra
    posterior = fit.posterior
    rng = np.random.default_rng(holdout.score_seed)
    params = predictive_parameters(posterior, fit.spec, fit.design, holdout.rows, rng=rng)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    mu = params.mu.values.reshape(n_draws, -1)
    alpha = None if params.alpha is None else params.alpha.values.reshape(n_draws, -1)
    psi = None if params.psi is None else params.psi.values.reshape(n_draws, -1)
    scores = score_predictive(
        holdout.rows.counts, mu, alpha, psi, levels=holdout.levels, random_seed=rng
    )
    mean = (mu if psi is None else mu * psi).mean(axis=0)
    return OriginOutcome(scores, mean, n_draws, fit.convergence)
