"""The convergence gate run after every fit: R-hat, ESS, divergences, tree depth, E-BFMI."""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayescount._warnings import warn
from bayescount.exceptions import ConvergenceWarning, SpecError

__all__ = [
    "AMBER_ESS_FACTOR",
    "AMBER_BFMI_FACTOR",
    "AMBER_RHAT_SHARE",
    "ConvergenceReport",
    "ConvergenceThresholds",
    "check_convergence",
    "gate_colour",
    "gate_html",
]

#: A passed gate is amber when R-hat exceeds ``1 + AMBER_RHAT_SHARE * (max_rhat - 1)`` (1.008).
AMBER_RHAT_SHARE = 0.8
#: A passed gate is amber when the smallest E-BFMI is below this multiple of its minimum.
AMBER_BFMI_FACTOR = 1.5
#: A passed gate is amber when an ESS is below this multiple of its minimum (500 for 400).
AMBER_ESS_FACTOR = 1.25
#: CSS colours of the gate badge.
_CSS = {"green": "#1a7f37", "amber": "#b76e00", "red": "#cf222e"}


@dataclass(frozen=True)
class ConvergenceThresholds:
    """Limits of the convergence gate.

    Parameters
    ----------
    max_rhat : float
        Largest acceptable rank-normalised split R-hat (Vehtari et al. 2021): 1.01.
    min_ess : float
        Smallest acceptable bulk and tail effective sample size: 400 (100 per chain
        for 4 chains, as Vehtari et al. recommend).
    max_divergences : int
        Divergent transitions tolerated: 0 (any divergence can bias the posterior).
    max_treedepth_fraction : float
        Share of draws allowed to hit the maximum tree depth: 0.01.
    min_bfmi : float
        Smallest acceptable E-BFMI per chain: 0.3.
    """

    max_rhat: float = 1.01
    min_ess: float = 400.0
    max_divergences: int = 0
    max_treedepth_fraction: float = 0.01
    min_bfmi: float = 0.3

    def __post_init__(self) -> None:
        if self.max_rhat < 1 or self.min_ess < 0 or self.max_divergences < 0:
            raise SpecError(f"Invalid convergence thresholds: {self}.")


@dataclass(frozen=True)
class ConvergenceReport:
    """Outcome of the convergence gate.

    ``problems`` holds one plain sentence per failed check, naming the worst
    parameters and the likely fix; the gate passed when it is empty.
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    n_draws: int
    treedepth_fraction: float
    min_bfmi: float
    mean_tree_size: float
    worst_rhat: tuple[str, ...]
    worst_ess: tuple[str, ...]
    thresholds: ConvergenceThresholds = field(default_factory=ConvergenceThresholds)
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (``passed`` included)."""
        d = asdict(self)
        d["worst_rhat"] = list(self.worst_rhat)
        d["worst_ess"] = list(self.worst_ess)
        d["problems"] = list(self.problems)
        d["passed"] = self.passed
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row per check with value, threshold and verdict."""
        t = self.thresholds
        rows = [
            ("max R-hat", self.max_rhat, f"<= {t.max_rhat}", self.max_rhat <= t.max_rhat),
            ("min bulk ESS", self.min_ess_bulk, f">= {t.min_ess:g}",
             self.min_ess_bulk >= t.min_ess),
            ("min tail ESS", self.min_ess_tail, f">= {t.min_ess:g}",
             self.min_ess_tail >= t.min_ess),
            ("divergences", self.divergences, f"<= {t.max_divergences}",
             self.divergences <= t.max_divergences),
            ("max tree depth hit", self.treedepth_fraction, f"<= {t.max_treedepth_fraction:g}",
             self.treedepth_fraction <= t.max_treedepth_fraction),
            ("min E-BFMI", self.min_bfmi, f">= {t.min_bfmi:g}", self.min_bfmi >= t.min_bfmi),
        ]
        frame = pd.DataFrame(rows, columns=["check", "value", "threshold", "ok"])
        return frame.set_index("check")

    def __str__(self) -> str:
        head = "Convergence gate: passed" if self.passed else "Convergence gate: FAILED"
        lines = [head, f"  mean tree size {self.mean_tree_size:.1f} leapfrog steps per draw"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return gate_html(self) + self.to_frame().to_html()


def _flat(ds: xr.Dataset) -> pd.Series:
    """Flatten a per-parameter diagnostic dataset to a Series indexed by 'name[coord]'."""
    out = {}
    for name, da in ds.data_vars.items():
        if da.ndim == 0:
            out[name] = float(da)
            continue
        stacked = da.stack(__i=da.dims)
        for labels, value in zip(stacked["__i"].values, stacked.values, strict=True):
            label = ",".join(str(x) for x in np.atleast_1d(labels))
            out[f"{name}[{label}]"] = float(value)
    return pd.Series(out, dtype=float)


def _stat(stats: xr.Dataset, *names: str) -> xr.DataArray | None:
    for name in names:
        if name in stats:
            return stats[name]
    return None


def _fixes(report_kwargs: dict[str, Any], parameterization: dict[str, str]) -> dict[str, str]:
    centered = [k for k, v in parameterization.items() if v == "centered"]
    noncentered = [k for k, v in parameterization.items() if v == "non_centered"]
    flip = (
        f"; or switch the parameterization of {', '.join(centered + noncentered)} "
        "(centered for data-rich groups, non_centered for data-poor ones)"
        if parameterization
        else ""
    )
    return {
        "divergences": f"raise target_accept (e.g. 0.95){flip}",
        "rhat": "run longer warm-up and more draws; check for multimodality or an "
        "unidentified parameter",
        "ess": "run more draws (or thin less); a low ESS often shows a hard posterior geometry",
        "treedepth": "reparameterize (rescale covariates, change the group parameterization)",
        "bfmi": f"the warm-up did not adapt to the energy distribution{flip}",
    }


def check_convergence(
    tree: xr.DataTree,
    thresholds: ConvergenceThresholds | None = None,
    parameterization: dict[str, str] | None = None,
    *,
    emit_warning: bool = True,
) -> ConvergenceReport:
    """Run the convergence gate on a fit's ``posterior`` and ``sample_stats``.

    Parameters
    ----------
    tree : xarray.DataTree
        Output of the sampler.
    thresholds : ConvergenceThresholds, optional
        Limits; defaults documented on :class:`ConvergenceThresholds`.
    parameterization : dict, optional
        ``{level: "centered" | "non_centered"}`` to suggest the right fix.
    emit_warning : bool
        Raise a :class:`~bayescount.exceptions.ConvergenceWarning` when a check fails.
    """
    t = thresholds or ConvergenceThresholds()
    posterior = tree["posterior"].to_dataset()
    stats = tree["sample_stats"].to_dataset()
    # Effects pinned at 0 (the only child of a parent) have no variance: their NaN
    # diagnostics are filled with the ideal values rather than warned about.
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat = _flat(azs.rhat(posterior)).fillna(1.0)
        ess_bulk = _flat(azs.ess(posterior, method="bulk")).fillna(np.inf)
        ess_tail = _flat(azs.ess(posterior, method="tail")).fillna(np.inf)
    diverging = _stat(stats, "diverging")
    depth_hit = _stat(stats, "maxdepth_reached", "reached_max_treedepth")
    n_steps = _stat(stats, "n_steps")
    n_draws = int(posterior.sizes["chain"] * posterior.sizes["draw"])
    bfmi = azs.bfmi(stats["energy"]) if "energy" in stats else None
    kw: dict[str, Any] = {
        "max_rhat": float(rhat.max()) if len(rhat) else 1.0,
        "min_ess_bulk": float(ess_bulk.min()) if len(ess_bulk) else np.inf,
        "min_ess_tail": float(ess_tail.min()) if len(ess_tail) else np.inf,
        "divergences": int(diverging.sum()) if diverging is not None else 0,
        "n_draws": n_draws,
        "treedepth_fraction": float(depth_hit.mean()) if depth_hit is not None else 0.0,
        "min_bfmi": float(np.min(bfmi)) if bfmi is not None else np.inf,
        "mean_tree_size": float(n_steps.mean()) if n_steps is not None else np.nan,
        "worst_rhat": tuple(rhat.sort_values(ascending=False).index[:3]),
        "worst_ess": tuple(
            pd.concat([ess_bulk, ess_tail]).groupby(level=0).min().sort_values().index[:3]
        ),
    }
    fix = _fixes(kw, parameterization or {})
    problems = []
    if kw["divergences"] > t.max_divergences:
        problems.append(
            f"{kw['divergences']} divergent transitions of {n_draws} draws; {fix['divergences']}."
        )
    if kw["max_rhat"] > t.max_rhat:
        problems.append(
            f"R-hat up to {kw['max_rhat']:.3f} (> {t.max_rhat}) for "
            f"{', '.join(kw['worst_rhat'])}; {fix['rhat']}."
        )
    if min(kw["min_ess_bulk"], kw["min_ess_tail"]) < t.min_ess:
        problems.append(
            f"ESS as low as {min(kw['min_ess_bulk'], kw['min_ess_tail']):.0f} (< {t.min_ess:g}) "
            f"for {', '.join(kw['worst_ess'])}; {fix['ess']}."
        )
    if kw["treedepth_fraction"] > t.max_treedepth_fraction:
        problems.append(
            f"{kw['treedepth_fraction']:.1%} of draws hit the maximum tree depth; "
            f"{fix['treedepth']}."
        )
    if kw["min_bfmi"] < t.min_bfmi:
        problems.append(f"E-BFMI {kw['min_bfmi']:.2f} (< {t.min_bfmi}); {fix['bfmi']}.")
    report = ConvergenceReport(**kw, thresholds=t, problems=tuple(problems))
    if problems and emit_warning:
        warn(str(report), ConvergenceWarning)
    return report


def gate_colour(convergence: ConvergenceReport) -> tuple[str, tuple[str, ...]]:
    """Return the convergence gate as a traffic light, with the reasons for its colour.

    * ``"red"``: the gate failed (:attr:`ConvergenceReport.passed` is false); the
      reasons are its problems, each with the likely fix.
    * ``"amber"``: it passed with warnings: divergent transitions that the thresholds
      tolerate, draws at the maximum tree depth, R-hat above
      ``1 + AMBER_RHAT_SHARE * (max_rhat - 1)`` (1.008 by default), a bulk or tail ESS
      below ``AMBER_ESS_FACTOR * min_ess`` (500), an E-BFMI below
      ``AMBER_BFMI_FACTOR * min_bfmi`` (0.45), or thresholds looser than the defaults
      (tiny or test fits). Usable; rerun longer before a decision that matters.
    * ``"green"``: it passed with room to spare; no reasons.

    The one rule for the colour everywhere (Jupyter, the CLI, reports). Thresholds
    default to Vehtari et al. (2021): R-hat <= 1.01, bulk and tail ESS >= 400.

    Parameters
    ----------
    convergence : ConvergenceReport
        The gate of a fit (``fit.convergence``).

    Returns
    -------
    colour : {"green", "amber", "red"}
    reasons : tuple of str
        One sentence per reason (empty for green).
    """
    if not convergence.passed:
        return "red", tuple(convergence.problems)
    t = convergence.thresholds
    out = []
    if convergence.divergences > 0:
        out.append(f"{convergence.divergences} divergent transitions of "
                   f"{convergence.n_draws} draws (tolerated up to {t.max_divergences}); "
                   "raise target_accept.")
    if convergence.max_rhat > 1 + AMBER_RHAT_SHARE * (t.max_rhat - 1):
        out.append(f"R-hat up to {convergence.max_rhat:.3f}, close to the limit "
                   f"{t.max_rhat:g} ({', '.join(convergence.worst_rhat)}); run more draws.")
    ess = min(convergence.min_ess_bulk, convergence.min_ess_tail)
    if math.isfinite(ess) and ess < AMBER_ESS_FACTOR * t.min_ess:
        out.append(f"ESS as low as {ess:.0f}, close to the limit {t.min_ess:g} "
                   f"({', '.join(convergence.worst_ess)}); run more draws.")
    if convergence.treedepth_fraction > 0:
        out.append(f"{convergence.treedepth_fraction:.1%} of draws hit the maximum tree "
                   "depth.")
    bfmi = convergence.min_bfmi
    if math.isfinite(bfmi) and bfmi < AMBER_BFMI_FACTOR * t.min_bfmi:
        out.append(f"E-BFMI {bfmi:.2f}, close to the limit {t.min_bfmi:g}.")
    default = ConvergenceThresholds()
    looser = [
        name for name, loose in (
            ("R-hat", t.max_rhat > default.max_rhat),
            ("ESS", t.min_ess < default.min_ess),
            ("divergences", t.max_divergences > default.max_divergences),
            ("tree depth", t.max_treedepth_fraction > default.max_treedepth_fraction),
            ("E-BFMI", t.min_bfmi < default.min_bfmi),
        ) if loose
    ]
    if looser:
        out.append(f"The gate ran with looser thresholds than the defaults "
                   f"({', '.join(looser)}): fine for a quick look, not for a decision.")
    return ("amber" if out else "green"), tuple(out)


def gate_html(convergence: ConvergenceReport) -> str:
    """Return an HTML badge of the gate's colour with its reasons (escaped), for notebooks.

    Parameters
    ----------
    convergence : ConvergenceReport
        The gate of a fit.

    Returns
    -------
    str
        A ``<div class="bayescount-gate bayescount-gate-<colour>">`` block.
    """
    colour, reasons = gate_colour(convergence)
    word = {"green": "passed", "amber": "passed with warnings", "red": "FAILED"}[colour]
    items = "".join(f"<li>{html.escape(r)}</li>" for r in reasons)
    return (
        f'<div class="bayescount-gate bayescount-gate-{colour}">'
        f'<span style="display:inline-block;padding:0.1em 0.6em;border-radius:0.8em;'
        f'color:white;background:{_CSS[colour]}">&#9679; Convergence gate: {word}</span>'
        + (f"<ul>{items}</ul>" if items else "")
        + "</div>"
    )
