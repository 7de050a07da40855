"""Reliability diagram of a coverage report: nominal against empirical coverage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from bayescount.exceptions import SpecError

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

    from bayescount.checks.coverage import CoverageReport

__all__ = ["plot_reliability"]

_SCOPES = ("overall", "group", "horizon")


def plot_reliability(
    report: CoverageReport,
    *,
    scope: str | None = None,
    inclusive: bool = False,
    ax: matplotlib.axes.Axes | None = None,
    **figure_kwargs: Any,
) -> matplotlib.figure.Figure:
    """Plot empirical against nominal coverage, one line per group, with binomial bands.

    A calibrated model's points lie on the diagonal within their bands (the 95% Wilson
    band of the randomised-PIT coverage, drawn as error bars); points below it mean
    intervals that are too narrow.

    Parameters
    ----------
    report : CoverageReport
        Output of :func:`bayescount.checks.coverage_report`.
    scope : {"overall", "group", "horizon"}, optional
        Which lines to draw besides the overall one: the groups of ``by`` or the
        horizons. Default: groups when the report has them, else horizons, else
        only the overall line.
    inclusive : bool
        Also draw the plain inclusive coverage of the overall line (dashed).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure otherwise.
    **figure_kwargs
        Passed to :func:`matplotlib.pyplot.subplots`.

    Returns
    -------
    matplotlib.figure.Figure
        Its single Axes holds the diagonal, then one line per group (overall first).
    """
    if scope is None:
        scope = "group" if report.scope("group") else (
            "horizon" if report.scope("horizon") else "overall"
        )
    if scope not in _SCOPES:
        raise SpecError(f"scope must be one of {list(_SCOPES)}, got {scope!r}.")
    if ax is None:
        fig, ax = plt.subplots(**({"figsize": (5, 5)} | figure_kwargs))
    else:
        fig = ax.figure
    levels = np.asarray(report.levels)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="nominal")
    series: dict[str, list] = {"overall": list(report.overall)}
    if scope != "overall":
        for row in report.scope(scope):
            series.setdefault(str(row.group), []).append(row)
    for i, (label, rows) in enumerate(series.items()):
        rows = sorted(rows, key=lambda r: r.level)
        cov = np.array([r.coverage for r in rows])
        # the Wilson band holds the coverage; clip the rounding at k = 0 or k = n
        err = np.maximum(np.array(
            [[r.coverage - r.lower for r in rows], [r.upper - r.coverage for r in rows]]
        ), 0.0)
        overall = label == "overall"
        ax.errorbar(
            [r.level for r in rows],
            cov,
            yerr=err,
            marker="o",
            capsize=3,
            linewidth=2.0 if overall else 1.0,
            color="black" if overall else f"C{i - 1}",
            alpha=1.0 if overall else 0.8,
            label=label if overall else f"{label}",
        )
    if inclusive:
        ax.plot(levels, [r.coverage_inclusive for r in report.overall], color="black",
                linestyle="--", linewidth=1, label="overall (inclusive)")
    lo = max(0.0, float(levels.min()) - 0.1)
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("empirical coverage (randomised PIT)")
    title = {"group": f"per {report.by}", "horizon": f"per {report.horizon}",
             "overall": ""}[scope]
    ax.set_title(f"Coverage of held-out rows {title}".strip())
    ax.legend(fontsize="small", loc="upper left")
    return fig
