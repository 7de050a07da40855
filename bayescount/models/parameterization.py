"""Choose centered or non-centered group effects per level from the data."""

from __future__ import annotations

import numpy as np

from bayescount.models.spec import LATENT_KEY, ModelSpec
from bayescount.prep.design import Design, PreparedData

__all__ = ["choose_parameterization", "information_per_group", "signal_to_noise"]


def _moment_dispersion(counts: np.ndarray, mu: np.ndarray) -> float:
    """Method-of-moments NB2 ``alpha`` around ``mu`` (``inf`` when not overdispersed)."""
    excess = float(np.sum((counts - mu) ** 2 - mu))
    return float(np.sum(mu**2)) / excess if excess > 0 else np.inf


def information_per_group(
    spec: ModelSpec, design: Design, data: PreparedData, level: str
) -> np.ndarray:
    """Fisher information about each group's log rate, at the pooled rate.

    For the Poisson it is the expected count of the group; for the negative binomial
    each row contributes ``1 / (1/mu + 1/alpha)`` with a moment estimate of
    ``alpha`` (conservative: between-group variation counts as overdispersion). These
    are the NB2 expected information about ``log mu``, ``mu alpha / (mu + alpha)``
    (Cameron & Trivedi 2013, §3.3), summed over the group's rows.

    Parameters
    ----------
    spec : ModelSpec
        The model (family, thresholds, requested parameterisations).
    design : Design
        The fitted encoding (levels, pooled log rate).
    data : PreparedData
        Encoded training rows, dim ``obs`` (with counts).
    level : str
        The group level.

    Returns
    -------
    numpy.ndarray
        Dim ``<level>``: information per label (units of 1 / log-rate variance;
        expected counts for the Poisson).

    Raises
    ------
    KeyError
        ``level`` is not a group level.
    """
    n_labels = len(design.level(level).labels)
    mu = np.exp(design.pooled_log_rate) * data.exposure
    alpha = _moment_dispersion(data.counts, mu) if spec.is_negative_binomial else np.inf
    per_row = 1.0 / (1.0 / mu + 1.0 / alpha)
    return np.bincount(data.group_codes[level], weights=per_row, minlength=n_labels)


def _raw_log_rates(design: Design, data: PreparedData, level: str) -> np.ndarray:
    """Each group's log(observed / expected at the pooled rate), with half-count smoothing."""
    n = len(design.level(level).labels)
    codes = data.group_codes[level]
    observed = np.bincount(codes, weights=data.counts, minlength=n)
    expected = np.bincount(codes, weights=data.exposure, minlength=n) * np.exp(
        design.pooled_log_rate
    )
    return np.log((observed + 0.5) / (expected + 0.5))


def signal_to_noise(spec: ModelSpec, design: Design, data: PreparedData) -> dict[str, float]:
    """Per level, the median over groups of ``information x tau^2``.

    ``tau^2`` is a method-of-moments estimate of the level's between-group variance:
    the mean squared deviation of each group's raw log rate from its parent's, less
    the mean sampling variance ``1 / information``. The ratio compares the prior
    variance of a group effect with the variance of its estimate from the group's own
    data: above 1 the data dominate. (A moment estimate of the between-group variance
    in the manner of DerSimonian & Laird 1986; the centered/non-centered trade-off is
    that of Papaspiliopoulos, Roberts & Sköld 2007.)

    Parameters
    ----------
    spec : ModelSpec
        The model (family, thresholds, requested parameterisations).
    design : Design
        The fitted encoding (levels, pooled log rate).
    data : PreparedData
        Encoded training rows, dim ``obs`` (with counts).

    Returns
    -------
    dict of str to float
        Per group level, the median signal-to-noise ratio (dimensionless).
    """
    out = {}
    parent_rates = None
    for lvl in design.levels:
        info = information_per_group(spec, design, data, lvl.name)
        rates = _raw_log_rates(design, data, lvl.name)
        base = (
            parent_rates[np.asarray(lvl.parent_index)] if parent_rates is not None else 0.0
        )
        if lvl.parent is None:
            base = np.average(rates, weights=info) if info.sum() > 0 else 0.0
        seen = info > 0
        tau2 = max(
            float(np.mean((rates - base)[seen] ** 2) - np.mean(1.0 / info[seen])), 1e-6
        ) if seen.any() else 1e-6
        out[lvl.name] = float(np.median(info * tau2))
        parent_rates = rates
    return out


def _latent_choice(spec: ModelSpec, design: Design, data: PreparedData) -> str:
    """Centered latent paths when a typical state is pinned by its own counts.

    The information about one state (rows of one path at one time step) at the
    pooled rate, times the prior's typical latent variance (``0.25``), must reach
    ``spec.centered_threshold``: a median of about four counts per state for the
    Poisson. Laplace paths are always centered (no non-centered form).
    """
    if spec.latent != "ar1":
        return "centered"
    mu = np.exp(design.pooled_log_rate) * data.exposure
    level = spec.latent_level
    paths = data.group_codes[level] if level else np.zeros(data.n, dtype=np.int64)
    state = paths * design.time_grid.length + data.time_steps
    _, per_state = np.unique(state, return_inverse=True)
    info = np.bincount(per_state, weights=mu)
    return "centered" if np.median(info) * 0.25 >= spec.centered_threshold else "non_centered"


def choose_parameterization(
    spec: ModelSpec, design: Design, data: PreparedData
) -> dict[str, str]:
    """Return ``{level: "centered" | "non_centered"}``.

    A level left on ``"auto"`` is centered when its :func:`signal_to_noise` ratio
    reaches ``spec.centered_threshold`` (default 1): the groups' own data then pin
    their effects more tightly than the population distribution does, and the
    centered form avoids the funnel-shaped posterior of the non-centered one. Levels
    whose groups are data-poor, or barely differ from each other, are non-centered.
    A latent level (key :data:`~bayescount.models.spec.LATENT_KEY`) is centered when a
    typical state's own counts pin it (about four expected counts per state for the
    Poisson); Laplace paths are always centered.

    Parameters
    ----------
    spec : ModelSpec
        The model (family, thresholds, requested parameterisations).
    design : Design
        The fitted encoding (levels, pooled log rate).
    data : PreparedData
        Encoded training rows, dim ``obs`` (with counts).

    Returns
    -------
    dict of str to str
        ``"centered"`` or ``"non_centered"`` per group level (and ``"latent"``).
    """
    ratios = signal_to_noise(spec, design, data)
    choice = {}
    for lvl in design.levels:
        asked = spec.parameterization.get(lvl.name, "auto")
        if asked != "auto":
            choice[lvl.name] = asked
        else:
            centered = ratios[lvl.name] >= spec.centered_threshold
            choice[lvl.name] = "centered" if centered else "non_centered"
    if spec.latent is not None:
        asked = spec.parameterization.get(LATENT_KEY, "auto")
        choice[LATENT_KEY] = asked if asked != "auto" else _latent_choice(spec, design, data)
    return choice
