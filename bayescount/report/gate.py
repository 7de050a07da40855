"""The report's traffic light: the convergence gate as green, amber or red, with reasons.

* **red**: the gate failed (:attr:`ConvergenceReport.passed` is false); the reasons are
  its problems, each with the likely fix.
* **amber**: the gate passed with warnings: divergences that the thresholds tolerate,
  an R-hat or ESS within a margin of its limit, draws that hit the maximum tree depth,
  an E-BFMI close to its limit, or thresholds looser than the defaults (tiny or test
  fits). The estimates are usable; rerun with more draws before a decision that
  matters.
* **green**: passed with room to spare.

The margins (:data:`AMBER_RHAT_SHARE`, :data:`AMBER_ESS_FACTOR`,
:data:`AMBER_BFMI_FACTOR`) are fractions of the thresholds of
:class:`~bayescount.inference.ConvergenceThresholds` (defaults from Vehtari et al.
2021: R-hat <= 1.01, bulk and tail ESS >= 400).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from bayescount.inference.convergence import ConvergenceReport, ConvergenceThresholds

__all__ = ["AMBER_BFMI_FACTOR", "AMBER_ESS_FACTOR", "AMBER_RHAT_SHARE", "Gate",
           "convergence_gate"]

#: Amber when R-hat exceeds ``1 + AMBER_RHAT_SHARE * (max_rhat - 1)`` (1.008 by default).
AMBER_RHAT_SHARE = 0.8

#: Amber when the smallest bulk or tail ESS is below ``AMBER_ESS_FACTOR * min_ess`` (500).
AMBER_ESS_FACTOR = 1.25

#: Amber when the smallest E-BFMI is below ``AMBER_BFMI_FACTOR * min_bfmi`` (0.45).
AMBER_BFMI_FACTOR = 1.5

Colour = Literal["green", "amber", "red"]


@dataclass(frozen=True)
class Gate:
    """The convergence gate as a colour and the sentences that explain it.

    Attributes
    ----------
    colour : {"green", "amber", "red"}
        See the module docstring.
    reasons : tuple of str
        Why it is not green (empty when green).
    """

    colour: Colour
    reasons: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        """One line: ``"green: the sampler converged"`` and so on."""
        return {
            "green": "green: the sampler converged; the estimates can be trusted",
            "amber": "amber: the gate passed with warnings; usable, rerun longer before a "
                     "decision that matters",
            "red": "red: the gate failed; do not use these estimates",
        }[self.colour]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"colour": ..., "headline": ..., "reasons": [...]}``."""
        return {"colour": self.colour, "headline": self.headline, "reasons": list(self.reasons)}


def _warnings(report: ConvergenceReport) -> list[str]:
    t = report.thresholds
    out = []
    if report.divergences > 0:
        out.append(f"{report.divergences} divergent transitions of {report.n_draws} draws "
                   f"(tolerated up to {t.max_divergences}); raise target_accept.")
    near_rhat = 1 + AMBER_RHAT_SHARE * (t.max_rhat - 1)
    if report.max_rhat > near_rhat:
        out.append(f"R-hat up to {report.max_rhat:.3f}, close to the limit {t.max_rhat:g} "
                   f"({', '.join(report.worst_rhat)}); run more draws.")
    ess = min(report.min_ess_bulk, report.min_ess_tail)
    if math.isfinite(ess) and ess < AMBER_ESS_FACTOR * t.min_ess:
        out.append(f"ESS as low as {ess:.0f}, close to the limit {t.min_ess:g} "
                   f"({', '.join(report.worst_ess)}); run more draws.")
    if report.treedepth_fraction > 0:
        out.append(f"{report.treedepth_fraction:.1%} of draws hit the maximum tree depth.")
    if math.isfinite(report.min_bfmi) and report.min_bfmi < AMBER_BFMI_FACTOR * t.min_bfmi:
        out.append(f"E-BFMI {report.min_bfmi:.2f}, close to the limit {t.min_bfmi:g}.")
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
    return out


def convergence_gate(report: ConvergenceReport) -> Gate:
    """Classify a convergence report as green, amber or red.

    Parameters
    ----------
    report : ConvergenceReport
        The fit's gate (``fit.convergence``).

    Returns
    -------
    Gate
        ``red`` with the gate's problems when it failed; ``amber`` with the warnings
        listed in the module docstring when it passed with any; else ``green``.
    """
    if not report.passed:
        return Gate("red", tuple(report.problems))
    warnings = _warnings(report)
    return Gate("amber", tuple(warnings)) if warnings else Gate("green")
