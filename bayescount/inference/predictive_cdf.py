"""Predictive CDFs, tails and quantiles of count mixtures, without sampling.

The posterior predictive distribution of one row is the equal-weight mixture, over
posterior draws ``s``, of the family's count distribution with that draw's
parameters::

    F(k) = mean_s F_s(k),   F_s(k) = (1 - psi_s) + psi_s G_s(k)   (k >= 0)

where ``G_s`` is the Poisson(``mu_s``) CDF or the NB2 CDF with shape ``alpha_s``
(``n = alpha``, ``p = alpha / (alpha + mu)``) and ``psi_s`` the probability of the
count part (1 without zero inflation).

Two ways in, one set of per-draw kernels:

* **arrays** (:func:`count_cdf`, :func:`family_moments`, :func:`mixture_moments`,
  :func:`mixture_cdf`, :func:`mixture_quantiles`, :func:`pit_bounds`) take the draws on
  ``axis`` (default 0) and any shape of rows, and return arrays over the rows; the
  caller bounds memory by passing rows in chunks (coverage, residuals);
* :class:`~bayescount.inference.PredictiveParameters` (:func:`mixture_sf_pmf`,
  :func:`mixture_mean`, :func:`mixture_quantile`, :func:`thin`) handle dims
  ``(chain, draw, obs)`` and bound memory themselves: tails are averaged in chunks of
  draws, quantiles searched in chunks of rows (anomaly flags, capacity). The upper tail
  ``P(Y > y)`` is computed from the survival functions directly, so small tail
  probabilities keep their relative precision.

Quantiles ``q_tau = min{k >= 0 : F(k) >= tau}`` (the convention of
``scipy.stats.rv_discrete.ppf``) are searched on the integer support. Cantelli's
inequality on the mixture's mean and variance gives a bracket that is guaranteed to
hold the quantile, without any evaluation. Rows whose bracket is narrow (up to
``max_walk`` integers: small and moderate counts, the usual case in telemetry) are
walked up from its lower end with the pmf recurrence ``p(k+1) = p(k) mu / (k+1)``
(Poisson) or ``p(k) (k + alpha) / (k+1) mu / (alpha + mu)`` (NB), which costs a few
multiplications per draw and step and no special function at all when the bracket
starts at 0. Wider rows use vectorised bisection on the bracket with the CDF from
``scipy.special`` (``gammaincc`` / ``betainc``, the functions behind
``scipy.stats.poisson.cdf`` and ``nbinom.cdf``).

Only NumPy and SciPy are needed at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from bayescount.exceptions import SpecError
from bayescount.inference.count_distribution import (
    _count_part_cdf,
    _count_part_pmf,
    _count_part_sf,
    count_cdf,
    family_moments,
)

if TYPE_CHECKING:
    from bayescount.inference.predict import PredictiveParameters

__all__ = [
    "MAX_WALK",
    "count_cdf",
    "draws_first",
    "family_moments",
    "flat",
    "mixture_cdf",
    "mixture_mean",
    "mixture_moments",
    "mixture_quantile",
    "mixture_quantiles",
    "mixture_sf_pmf",
    "pit_bounds",
    "thin",
]

#: Widest bracket (in integers) walked with the pmf recurrence before bisecting.
MAX_WALK = 1024
_COMPACT_EVERY = 32
#: Elements (draws x rows) of the temporaries that the ``PredictiveParameters``
#: functions hold at once.
_CHUNK_CELLS = 2_000_000


# ------------------------------------------------------------------ draws and rows
def draws_first(a: np.ndarray | None, shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """Broadcast ``a`` to ``shape`` and return it as ``(draws, rows)`` (draws on ``axis``).

    ``None`` stays ``None`` (a family without that parameter).

    Parameters
    ----------
    a : ndarray or None
        Values broadcastable to ``shape`` (the full shape, draws on ``axis``).
    shape : tuple of int
    axis : int
    """
    if a is None:
        return None
    a = np.broadcast_to(np.asarray(a, dtype=float), shape)
    return np.moveaxis(a, axis, 0).reshape(shape[axis], -1)


def flat(values: np.ndarray | None) -> np.ndarray | None:
    """Reshape ``(chain, draw, obs)`` to ``(sample, obs)``.

    Parameters
    ----------
    values : ndarray or None
        Dims ``(chain, draw, obs)``; ``None`` stays ``None``.
    """
    if values is None:
        return None
    values = np.asarray(values)
    return values.reshape(-1, values.shape[-1])


def thin(params: PredictiveParameters, max_draws: int | None) -> PredictiveParameters:
    """Keep at most about ``max_draws`` posterior draws, evenly spaced within each chain.

    Parameters
    ----------
    params : PredictiveParameters
        Dims ``(chain, draw, obs)``.
    max_draws : int or None
        Target number of draws over all chains; ``None`` keeps all.
    """
    if max_draws is None:
        return params
    chains, draws = params.mu.shape[:2]
    stride = int(np.ceil(chains * draws / max_draws))
    if stride <= 1:
        return params
    pick = slice(None, None, stride)

    def cut(da):
        return None if da is None else da.isel(draw=pick)

    return dataclasses.replace(
        params, mu=cut(params.mu), alpha=cut(params.alpha), psi=cut(params.psi)
    )


def _chunks(n: int, size: int) -> Iterator[slice]:
    size = max(1, size)
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


# ------------------------------------------------------------------------ mixtures
class _Mixture:
    """Draws-first ``(S, n)`` parameter arrays of a batch of rows of shape ``row_shape``."""

    def __init__(self, mu, alpha, psi, row_shape: tuple[int, ...]) -> None:
        self.mu, self.alpha, self.psi = mu, alpha, psi
        self.row_shape = row_shape

    @classmethod
    def of_arrays(cls, mu, alpha, psi, axis: int) -> _Mixture:
        """Parameters with the draws on ``axis`` and rows of any shape."""
        mu = np.asarray(mu, dtype=float)
        row_shape = tuple(np.delete(mu.shape, axis))
        return cls(*(draws_first(a, mu.shape, axis) for a in (mu, alpha, psi)), row_shape)

    @classmethod
    def of_parameters(cls, params: PredictiveParameters) -> _Mixture:
        """Parameters of :class:`~bayescount.inference.PredictiveParameters`."""
        mu = flat(params.mu.values)
        alpha = None if params.alpha is None else flat(params.alpha.values)
        psi = None if params.psi is None else flat(params.psi.values)
        return cls(mu, alpha, psi, (mu.shape[1],))

    @property
    def n(self) -> int:
        return self.mu.shape[1]

    def cols(self, rows):
        """Parameters of a subset of rows (``None`` stays ``None``)."""
        return tuple(None if a is None else a[:, rows] for a in (self.mu, self.alpha, self.psi))

    def rows(self, rows: slice) -> _Mixture:
        """Return the mixture of a slice of rows (views, no copies)."""
        return _Mixture(*self.cols(rows), (rows.stop - rows.start,))

    def cdf(self, k: np.ndarray, rows=slice(None)) -> np.ndarray:
        mu, alpha, psi = self.cols(rows)
        return count_cdf(k[None, :], mu, alpha, psi).mean(axis=0)

    def cdf_below_at(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``F(y - 1)`` and ``F(y)`` per row from one CDF and one pmf per draw.

        ``F_s(y - 1) = F_s(y) - P_s(Y = y)``: the pmf (a log-gamma per draw at most) costs
        a fraction of a second incomplete gamma or beta function. The difference loses
        only absolute precision (about 1e-16), which is all a PIT uses.
        """
        y = np.asarray(y)
        mu, alpha, psi = self.mu, self.alpha, self.psi
        f_at = count_cdf(y[None, :], mu, alpha, psi)
        pmf = _count_part_pmf(np.maximum(y, 0)[None, :], mu, alpha)
        if psi is not None:
            pmf = psi * pmf + (1.0 - psi) * (y == 0)[None, :]
        f_below = np.where((y <= 0)[None, :], 0.0, np.clip(f_at - pmf, 0.0, None))
        return f_below.mean(axis=0), f_at.mean(axis=0)

    def sf_pmf(self, y: np.ndarray, with_pmf: bool) -> tuple[np.ndarray, np.ndarray]:
        """``P(Y > y)`` and (with ``with_pmf``) ``P(Y = y)`` per row, in chunks of draws."""
        y = np.asarray(y, dtype=float)
        n_draws = self.mu.shape[0]
        sf = np.zeros(self.n)
        pmf = np.zeros(self.n)
        for sl in _chunks(n_draws, _CHUNK_CELLS // max(self.n, 1)):
            mu = self.mu[sl]
            alpha = None if self.alpha is None else self.alpha[sl]
            psi = None if self.psi is None else self.psi[sl]
            s = _count_part_sf(y, mu, alpha)
            if psi is not None:
                s = psi * s
            sf += s.sum(axis=0)
            if with_pmf:
                p = _count_part_pmf(y, mu, alpha)
                if psi is not None:
                    p = psi * p + (1.0 - psi) * (y == 0)
                pmf += p.sum(axis=0)
        return sf / n_draws, pmf / n_draws

    def mean(self) -> np.ndarray:
        return (self.mu if self.psi is None else self.psi * self.mu).mean(axis=0)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        mean_s, var_s = family_moments(self.mu, self.alpha, self.psi)
        return mean_s.mean(axis=0), var_s.mean(axis=0) + mean_s.var(axis=0)

    def unflat(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[:-1] + self.row_shape)


def mixture_moments(
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
    *,
    axis: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the predictive mixture over draws on ``axis``.

    The variance is the law of total variance: mean of the per-draw variances plus the
    variance of the per-draw means. Both are shaped like the rows (``mu`` without ``axis``).

    Parameters
    ----------
    mu, alpha, psi : ndarray
        Per-draw mean count per window, NB2 shape, count-part probability (or ``None``).
    axis : int
        Axis of the posterior draws.
    """
    mix = _Mixture.of_arrays(mu, alpha, psi, axis)
    mean, var = mix.moments()
    return mix.unflat(mean), mix.unflat(var)


def mixture_cdf(
    k: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
    *,
    axis: int = 0,
) -> np.ndarray:
    """Predictive CDF ``F(k) = mean_s F_s(k)`` of each row at its own integer ``k``.

    Parameters
    ----------
    k : array of int
        One point per row (the rows' shape: ``mu``'s shape without ``axis``).
    mu, alpha, psi : ndarray
        Per-draw parameters; ``alpha`` and ``psi`` may be ``None`` or broadcastable.
    axis : int
        Axis of the posterior draws.
    """
    mix = _Mixture.of_arrays(mu, alpha, psi, axis)
    k = np.broadcast_to(np.asarray(k), mix.row_shape).reshape(-1)
    return mix.unflat(mix.cdf(k))


def _brackets(taus: np.ndarray, mean: np.ndarray, var: np.ndarray):
    """Integer ``(lo, hi)`` per tau and row with ``F(lo) < tau <= F(hi)`` guaranteed.

    Cantelli: ``P(X <= m - t sd) <= 1 / (1 + t^2)``, so ``t = sqrt(1 / tau)`` puts
    ``F(lo) <= tau / (1 + tau) < tau``; symmetrically ``t = sqrt(1 / (1 - tau))`` gives
    ``F(hi) > tau``. A point mass (``var = 0``, e.g. a row with zero exposure) has
    ``F(mean) = 1``, so ``lo`` is kept strictly below the mean.
    """
    sd = np.sqrt(var)
    t_lo = np.sqrt(1.0 / taus)[:, None]
    t_hi = np.sqrt(1.0 / (1.0 - taus))[:, None]
    lo = np.maximum(np.minimum(np.floor(mean - t_lo * sd), np.ceil(mean) - 1.0), -1.0)
    hi = np.maximum(np.ceil(mean + t_hi * sd), 0.0)
    return lo.astype(np.int64), hi.astype(np.int64)


def _bisect(mix: _Mixture, tau: float, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Smallest ``k`` in ``(lo, hi]`` with ``F(k) >= tau`` for each row of ``rows``."""
    lo, hi = lo.copy(), hi.copy()
    active = np.flatnonzero(hi - lo > 1)
    while active.size:
        mid = (lo[active] + hi[active]) // 2
        above = mix.cdf(mid, rows[active]) >= tau
        hi[active[above]] = mid[above]
        lo[active[~above]] = mid[~above]
        active = active[hi[active] - lo[active] > 1]
    return hi


def _walk(mix, taus, rows, start, y, max_walk, q, f_below, f_at) -> np.ndarray:
    """Walk the pmf recurrence from ``start`` for ``rows``; fill ``q``, ``f_below``, ``f_at``.

    Returns the rows whose walk did not end (only possible through underflow of a
    starting pmf); the caller bisects those.
    """
    mu, alpha, psi = mix.cols(rows)
    k = start[rows].astype(float)
    at_zero = k == 0
    # F(start - 1): closed form 0 at start 0, else from the special functions.
    base = np.zeros(len(rows))
    if (~at_zero).any():
        cols = ~at_zero
        f = _count_part_cdf(k[cols] - 1.0, mu[:, cols], None if alpha is None else alpha[:, cols])
        if psi is not None:
            f = (1.0 - psi[:, cols]) + psi[:, cols] * f
        base[cols] = f.mean(axis=0)
    w = _count_part_pmf(k[None, :], mu, alpha)  # weighted pmf psi_s p_s(k)
    zero_mass = np.zeros(len(rows))
    if psi is not None:
        w *= psi
        zero_mass = np.where(at_zero, (1.0 - psi).mean(axis=0), 0.0)
    q_over = None if alpha is None else mu / (alpha + mu)
    y_r = y[rows] if y is not None else None
    target = np.where((y_r >= k) & (y_r - k <= max_walk), y_r, -1) if y is not None else None
    if y is not None:
        hit = y_r == k  # y - 1 == start - 1
        f_below[rows[hit]] = base[hit]
    idx = np.arange(len(rows))
    fbar = base + zero_mass
    for step in range(max_walk + 2):
        fbar = fbar + w.mean(axis=0)
        ridx = rows[idx]
        for j, tau in enumerate(taus):
            new = (q[j, ridx] < 0) & (fbar >= tau)
            q[j, ridx[new]] = k[new]
        if y is not None:
            yy = y[ridx]
            f_at[ridx[yy == k]] = fbar[yy == k]
            f_below[ridx[yy == k + 1]] = fbar[yy == k + 1]
            done = (q[-1, ridx] >= 0) & (k >= target[idx])
        else:
            done = q[-1, ridx] >= 0
        if done.all():
            return np.empty(0, dtype=np.int64)
        if step % _COMPACT_EVERY == _COMPACT_EVERY - 1:
            keep = ~done
            idx, k, fbar, w, mu = idx[keep], k[keep], fbar[keep], w[:, keep], mu[:, keep]
            if alpha is not None:
                alpha, q_over = alpha[:, keep], q_over[:, keep]
        # p(k + 1) from p(k)
        if alpha is None:
            w *= mu
        else:
            w *= alpha + k
            w *= q_over
        w /= k + 1.0
        k = k + 1.0
    return rows[idx[~done]]  # pragma: no cover - needs an underflowing start


def _search(mix: _Mixture, taus, y, max_walk: int):
    taus = np.asarray(taus, dtype=float)
    if taus.ndim != 1 or np.any((taus <= 0) | (taus >= 1)):
        raise SpecError(f"Quantile probabilities must lie in (0, 1), got {taus.tolist()}.")
    order = np.argsort(taus)
    sorted_taus = taus[order]
    n = mix.n
    mean, var = mix.moments()
    lo, hi = _brackets(sorted_taus, mean, var)
    q = np.full((len(taus), n), -1, dtype=np.int64)
    f_below = np.full(n, np.nan) if y is not None else None
    f_at = np.full(n, np.nan) if y is not None else None
    walkable = (hi[-1] - lo[0]) <= max_walk
    rows = np.flatnonzero(walkable)
    unfinished = np.empty(0, dtype=np.int64)
    if rows.size:
        unfinished = _walk(mix, sorted_taus, rows, lo[0] + 1, y, max_walk, q, f_below, f_at)
    rows = np.union1d(np.flatnonzero(~walkable), unfinished)
    for j, tau in enumerate(sorted_taus):
        if rows.size:
            q[j, rows] = _bisect(mix, tau, rows, lo[j, rows], hi[j, rows])
    if y is not None:
        for out, point in ((f_below, y - 1), (f_at, y)):
            missing = np.flatnonzero(np.isnan(out))
            if missing.size:
                out[missing] = mix.cdf(point[missing], missing)
    unsorted = np.empty_like(q)
    unsorted[order] = q
    return unsorted, f_below, f_at


def mixture_quantiles(
    taus: Sequence[float],
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
    *,
    axis: int = 0,
    max_walk: int = MAX_WALK,
) -> np.ndarray:
    """Integer quantiles ``min{k : F(k) >= tau}`` of each row's predictive mixture.

    Returns an int64 array of counts of shape ``(len(taus), *rows)``. See the module
    docstring for the search; ``max_walk`` trades the recurrence walk for bisection.

    Parameters
    ----------
    taus : sequence of float
        Probabilities in (0, 1).
    mu, alpha, psi : ndarray
        Per-draw mean count per window, NB2 shape, count-part probability (or ``None``).
    axis, max_walk : int
        Axis of the posterior draws; widest bracket walked before bisecting.

    Raises
    ------
    SpecError
        A probability outside (0, 1).
    """
    mix = _Mixture.of_arrays(mu, alpha, psi, axis)
    q, _, _ = _search(mix, taus, None, max_walk)
    return mix.unflat(q)


def pit_bounds(
    y: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
    *,
    taus: Sequence[float] = (),
    axis: int = 0,
    max_walk: int = MAX_WALK,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``F(y - 1)``, ``F(y)`` and the ``taus`` quantiles of each row, in one pass.

    The randomised PIT of a count is ``F(y - 1) + V (F(y) - F(y - 1))`` with
    ``V ~ U(0, 1)``; it is exactly uniform when ``y`` comes from ``F`` (Czado,
    Gneiting & Held 2009).

    Parameters
    ----------
    y : ndarray of int
        Observed counts, one per row.
    mu, alpha, psi : ndarray
        Per-draw mean count per window, NB2 shape, count-part probability (or ``None``).
    taus : sequence of float
        Quantile probabilities in (0, 1).
    axis, max_walk : int
        Axis of the posterior draws; widest bracket walked before bisecting.

    Returns
    -------
    f_below, f_at : ndarray
        ``F(y - 1)`` and ``F(y)``, shaped like the rows.
    quantiles : ndarray of int64
        ``(len(taus), *rows)``; empty along the first axis when ``taus`` is empty.

    Raises
    ------
    SpecError
        A probability outside (0, 1).
    """
    mix = _Mixture.of_arrays(mu, alpha, psi, axis)
    y = np.broadcast_to(np.asarray(y, dtype=np.int64), mix.row_shape).reshape(-1)
    if len(taus) == 0:
        f_below, f_at = mix.cdf_below_at(y)
        return (
            mix.unflat(f_below),
            mix.unflat(f_at),
            np.empty((0, *mix.row_shape), dtype=np.int64),
        )
    q, f_below, f_at = _search(mix, taus, y, max_walk)
    return mix.unflat(f_below), mix.unflat(f_at), mix.unflat(q)


# ------------------------------------------------------- on PredictiveParameters
def mixture_sf_pmf(params: PredictiveParameters, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictive ``P(Y > y)`` and ``P(Y = y)`` per row (dim ``obs``), averaged over draws.

    Parameters
    ----------
    params : PredictiveParameters
        Dims ``(chain, draw, obs)``.
    y : ndarray
        Dim ``obs``: one count (``>= 0``) per row.
    """
    return _Mixture.of_parameters(params).sf_pmf(y, with_pmf=True)


def mixture_mean(params: PredictiveParameters) -> np.ndarray:
    """Predictive mean per row (dim ``obs``, counts per window): the mean of ``psi * mu``.

    Parameters
    ----------
    params : PredictiveParameters
        Dims ``(chain, draw, obs)``.
    """
    return _Mixture.of_parameters(params).mean()


def mixture_quantile(params: PredictiveParameters, q: float) -> np.ndarray:
    """Smallest integer ``y`` per row with predictive ``P(Y <= y) >= q`` (as floats).

    The search of :func:`mixture_quantiles`, on chunks of rows (bounded memory).

    Parameters
    ----------
    params : PredictiveParameters
        Dims ``(chain, draw, obs)``.
    q : float
        Probability in (0, 1).

    Raises
    ------
    SpecError
        ``q`` outside (0, 1).
    """
    if not 0 < q < 1:
        raise SpecError(f"q must lie in (0, 1), got {q}.")
    mix = _Mixture.of_parameters(params)
    out = np.empty(mix.n)
    for rows in _chunks(mix.n, _CHUNK_CELLS // max(mix.mu.shape[0], 1)):
        found, _, _ = _search(mix.rows(rows), [q], None, MAX_WALK)
        out[rows] = found[0]
    return out
