"""The report's traffic light: the convergence gate as green, amber or red, with reasons.

* **red**: the gate failed (:attr:`ConvergenceReport.passed` is false); the reasons are
  its problems, each with the likely fix.
* **amber**: the gate passed with warnings: divergences that the thresholds tolerate,
  an R-hat or ESS within a margin of its limit, draws that hit the maximum tree depth,
  an E-BFMI close to its limit, or thresholds looser than the defaults (tiny or test
  fits). The estimates are usable; rerun with more draws before a decision that
  matters.
* **green**: passed with room to spare.

The rule is :func:`bayescount.inference.convergence.gate_colour` (one rule for
Jupyter, the CLI and reports); this module adds the headline sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bayescount.inference.convergence import ConvergenceReport, gate_colour

__all__ = ["Gate", "convergence_gate"]

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
    colour, reasons = gate_colour(report)
    return Gate(colour, reasons)
