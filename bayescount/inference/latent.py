"""Values of the AR(1) latent level at any row's time step, per posterior draw.

Inside the fitted time grid a row takes the posterior draw of its path's state.
After the grid each draw's path is continued from its last state,
``z[t+1] = rho z[t] + sd sqrt(1 - rho^2) e``; before it, from its first state the
same way (exact for normal innovations, whose stationary AR(1) is reversible in
time; an approximation for (skewed) Laplace ones). A label the model has not seen
starts from the first-state distribution ``D(0, sd)`` at its first row.
Rows of one path share one simulated path per draw, so sums over time (rollups,
burn) carry the latent autocorrelation.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescount.exceptions import DataError
from bayescount.models.latent import unit_innovations
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData

__all__ = ["latent_values"]


def latent_values(
    posterior: xr.Dataset,
    spec: ModelSpec,
    design: Design,
    data: PreparedData,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the latent level of every row, shape ``(chain, draw, n_rows)``.

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws with ``latent`` (dims ``(chain, draw, [<latent level>,] latent_time)``),
        ``latent_sd``, ``latent_rho`` (and ``latent_skew``).
    spec : ModelSpec
        The fitted model (latent kind and level).
    design : Design
        The fitted design with its time grid.
    data : PreparedData
        Encoded rows with ``time_steps``, dim ``obs``.
    rng : numpy.random.Generator
        Source of the innovations of continued paths and unseen labels.

    Returns
    -------
    numpy.ndarray
        Dims ``(chain, draw, obs)``: the latent deviation on the log-rate scale.

    Raises
    ------
    ValueError
        The design has no time grid or the rows no time steps (an internal misuse:
        rows must be encoded with the fitted design).
    """
    if design.time_grid is None or data.time_steps is None:
        raise DataError("A latent level needs time steps: encode rows with spec.fit_design.")
    level = spec.latent_level
    states = posterior["latent"].values
    if level is None:
        states = states[:, :, None, :]
    chains, draws, n_known, length = states.shape
    paths = data.group_codes[level] if level else np.zeros(data.n, dtype=np.int64)
    steps = np.asarray(data.time_steps, dtype=np.int64)
    sd = posterior["latent_sd"].values[..., None]
    rho = posterior["latent_rho"].values[..., None]
    innovation = sd * np.sqrt(1.0 - np.square(rho))
    skew = posterior["latent_skew"].values[..., None] if "latent_skew" in posterior else 0.0

    def noise(shape: tuple[int, ...]) -> np.ndarray:
        return unit_innovations(spec.latent, rng, shape, skew)

    out = np.empty((chains, draws, data.n))

    known = paths < n_known
    inside = known & (steps >= 0) & (steps < length)
    out[..., inside] = states[:, :, paths[inside], steps[inside]]

    def walk(rows: np.ndarray, start, distance: np.ndarray) -> None:
        """Walk each path of ``rows`` from ``start(paths)`` ``distance`` steps; fill ``out``."""
        if not rows.size:
            return
        used, slot = np.unique(paths[rows], return_inverse=True)
        state = start(used)
        order = np.argsort(distance, kind="stable")
        rows, slot, distance = rows[order], slot[order], distance[order]
        bounds = np.searchsorted(distance, np.arange(distance[-1] + 2))
        for h in range(distance[-1] + 1):
            if h:
                state = rho * state + innovation * noise(state.shape)
            sel = slice(bounds[h], bounds[h + 1])
            out[..., rows[sel]] = state[..., slot[sel]]

    after = np.flatnonzero(known & (steps >= length))
    walk(after, lambda used: states[..., used, -1], steps[after] - (length - 1))
    before = np.flatnonzero(known & (steps < 0))
    walk(before, lambda used: states[..., used, 0], -steps[before])
    new = np.flatnonzero(~known)
    if new.size:
        first = np.full(paths.max() + 1, np.iinfo(np.int64).max)
        np.minimum.at(first, paths[new], steps[new])  # each new path starts at its first row
        walk(
            new,
            lambda used: sd * noise((chains, draws, len(used))),
            steps[new] - first[paths[new]],
        )
    return out
