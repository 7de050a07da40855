"""Reports: HTML and Markdown renderings of a fit's typed results. No sampling here.

Functions in this folder take a :class:`~bayescount.Fit` and compute checks and
forecasts with :mod:`bayescount.checks` and :mod:`bayescount.forecast` (posterior
predictive draws only), then lay them out with Jinja2 templates
(``templates/``): one self-contained HTML file, or Markdown with PNG figures beside it.

::

    build               report -> ReportResult (the files, sections and gate colour)
    gate                convergence_gate: green / amber / red with reasons
    sections_fit        data, model, gate, posterior predictive checks, pooling
    sections_decisions  coverage, SLO burn, anomalies, incident attribution, capacity
    pooling             raw against posterior rate per group (partial pooling)
    content             Section, Table, Figure: the format-free content
    render              templates -> HTML (autoescaped) or Markdown (escaped), files
    inputs              SLO specs, incident windows, scenarios from text or objects

``bayescount.report(fit, ...)`` is the function :func:`report` (this part is named
``reports`` so that the package's ``report`` stays that function).
"""

from bayescount.reports.build import SECTIONS, ReportResult, report
from bayescount.reports.gate import Gate, convergence_gate
from bayescount.reports.pooling import Pooling, pooling_table

__all__ = [
    "Gate",
    "Pooling",
    "ReportResult",
    "SECTIONS",
    "convergence_gate",
    "pooling_table",
    "report",
]

