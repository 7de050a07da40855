"""Sampler options of the checks that refit models: one ``SamplerConfig`` shape.

Backtests, SBC and family comparison take ``config=SamplerConfig(...)`` and
``thresholds=ConvergenceThresholds(...)``; the older ``fit_kwargs=`` dict still works
for one release, with a :class:`FutureWarning`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bayescount._warnings import warn_deprecated
from bayescount.exceptions import SpecError
from bayescount.inference.convergence import ConvergenceThresholds
from bayescount.inference.sampling import SamplerConfig

__all__ = ["FIT_KEYS", "from_fit_kwargs"]

#: Keys of the deprecated ``fit_kwargs`` (those of :meth:`CountModel.fit` that apply).
FIT_KEYS = ("draws", "tune", "chains", "cores", "sampler", "target_accept", "thresholds",
            "random_seed", "progressbar", "log_likelihood", "mass_matrix", "sample_fn")


def from_fit_kwargs(
    fit_kwargs: Mapping[str, Any] | None,
    config: SamplerConfig | None,
    thresholds: ConvergenceThresholds | None,
    *,
    allowed: Sequence[str] = FIT_KEYS,
) -> tuple[SamplerConfig | None, ConvergenceThresholds | None, dict[str, Any]]:
    """Turn a deprecated ``fit_kwargs`` dict into ``(config, thresholds, extras)``.

    Parameters
    ----------
    fit_kwargs : mapping or None
        Keyword arguments of :meth:`CountModel.fit`; ``None`` returns the other
        arguments unchanged (and no warning).
    config : SamplerConfig or None
        The new-style argument; it may not be combined with ``fit_kwargs``.
    thresholds : ConvergenceThresholds or None
        The new-style argument; ``fit_kwargs["thresholds"]`` replaces it.
    allowed : sequence of str
        Keys the caller accepts.

    Returns
    -------
    config : SamplerConfig or None
    thresholds : ConvergenceThresholds or None
    extras : dict
        ``sample_fn`` when given.

    Raises
    ------
    SpecError
        Both ``config`` and ``fit_kwargs``, or an unknown key.
    """
    if fit_kwargs is None:
        return config, thresholds, {}
    warn_deprecated(
        "fit_kwargs= is deprecated and will be removed in the next release; pass "
        "config=SamplerConfig(...) (with random_seed) and thresholds=ConvergenceThresholds(...)."
    )
    if config is not None:
        raise SpecError("Pass config= or the deprecated fit_kwargs=, not both.")
    kwargs = dict(fit_kwargs)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise SpecError(f"Unknown fit_kwargs {unknown}; valid keys are {list(allowed)}.")
    thresholds = kwargs.pop("thresholds", None) or thresholds
    extras = {k: kwargs.pop(k) for k in ("sample_fn",) if k in kwargs}
    return SamplerConfig(**kwargs), thresholds, extras
