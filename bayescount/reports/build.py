"""``report``: compute the sections a fit and its inputs allow, render them, write the file."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bayescount.exceptions import SpecError
from bayescount.forecast.scenarios import Scenario
from bayescount.forecast.slo import ObservedSoFar, SLOSpec
from bayescount.inference.draws import draw_subset
from bayescount.inference.fit import Fit, as_fit
from bayescount.io.atomic import check_writable
from bayescount.reports import sections_decisions as decisions
from bayescount.reports import sections_fit as fitted
from bayescount.reports.content import Section
from bayescount.reports.gate import convergence_gate
from bayescount.reports.inputs import (
    parse_incident,
    parse_observed,
    parse_scenarios,
    parse_slo,
    report_format,
)
from bayescount.reports.render import write_report
from bayescount.results import DEFAULT_SEED

__all__ = ["SECTIONS", "ReportResult", "report"]

#: Every section, in the order it appears, with its title.
SECTIONS = {
    "data": "Data", "model": "Model", "gate": "Convergence gate",
    "ppc": "Posterior predictive checks", "coverage": "Coverage on held-out data",
    "pooling": "Pooling", "slo": "SLO burn", "anomalies": "Anomalies",
    "incident": "Incident attribution", "capacity": "Capacity scenario",
}


@dataclass(frozen=True)
class ReportResult:
    """What :func:`report` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The report file.
    format : {"html", "markdown"}
        From the file's extension.
    sections : tuple of str
        Keys of the sections included, in order (see :data:`SECTIONS`).
    gate : {"green", "amber", "red"}
        The convergence gate's colour (:func:`~bayescount.reports.convergence_gate`).
    figures : tuple of pathlib.Path
        PNG figures written beside a Markdown report (empty for HTML: inline SVG).
    """

    path: Path
    format: Literal["html", "markdown"]
    sections: tuple[str, ...]
    gate: Literal["green", "amber", "red"]
    figures: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written: the report, then its figures."""
        return (self.path, *self.figures)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (paths as strings)."""
        return {"path": str(self.path), "format": self.format, "sections": list(self.sections),
                "gate": self.gate, "figures": [str(p) for p in self.figures]}

    def __str__(self) -> str:
        return (f"{self.format.upper()} report written to {self.path} (gate {self.gate}; "
                f"sections: {', '.join(self.sections)})")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(str(self))}</p>"


def _frame(value: Any, name: str) -> pd.DataFrame | None:
    if value is None or isinstance(value, pd.DataFrame):
        return value
    raise SpecError(f"{name}= must be a pandas DataFrame (read files with bc.read_table), got "
                    f"{type(value).__name__}.")


def _plan(
    fit: Fit, holdout, slo, observed, future, incident, incident_data, scenario,
) -> dict[str, Any]:
    """Check and convert every input before any work; say which sections can be built."""
    holdout = _frame(holdout, "holdout")
    future = _frame(future, "future")
    incident_data = _frame(incident_data, "incident_data")
    plan: dict[str, Any] = {"holdout": holdout}
    if slo is not None:
        spec = parse_slo(slo)
        if future is None:
            raise SpecError("An SLO section needs the future windows: pass future= (a table "
                            "of future windows with the fit's exposure; CLI --future FILE).")
        plan["slo"] = (spec, parse_observed(observed, spec), future)
    elif observed is not None:
        raise SpecError("observed= is the SLO's events so far: give slo= too (e.g. "
                        "slo='0.999/30d').")
    events = incident_data if incident_data is not None else holdout
    if incident is not None:
        if events is None:
            raise SpecError("An incident section needs the observed rows of the incident: "
                            "pass incident_data= (or holdout=); CLI --incident-data FILE.")
        plan["incident"] = (*parse_incident(incident), events)
    if events is not None:
        plan["anomalies"] = events
    scenarios = parse_scenarios(scenario)
    if scenarios:
        base = future if future is not None else holdout
        if base is None:
            raise SpecError("A capacity scenario needs base windows to rewrite: pass future= "
                            "(or holdout=); CLI --future FILE.")
        plan["capacity"] = (base, scenarios)
    return plan


def report(
    fit: Fit | Any,
    *,
    holdout: pd.DataFrame | None = None,
    slo: SLOSpec | str | None = None,
    observed: ObservedSoFar | pd.DataFrame | None = None,
    future: pd.DataFrame | None = None,
    incident: str | Sequence[Any] | None = None,
    incident_data: pd.DataFrame | None = None,
    scenario: Scenario | str | Sequence[Scenario | str] | None = None,
    out: str | Path = "report.html",
    by: str | None = None,
    title: str | None = None,
    max_draws: int = 1000,
    random_seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> ReportResult:
    """Write an HTML or Markdown report of a fit: checks, coverage, decisions, figures.

    Sections whose inputs are not given are left out. Nothing is sampled: the checks
    and forecasts use the fit's posterior draws and posterior predictive draws.

    Parameters
    ----------
    fit : Fit or CountModel
        A fit (``bc.load(path)``) or a fitted :class:`~bayescount.CountModel`.
    holdout : pandas.DataFrame, optional
        Held-out rows with counts: the coverage section (and the anomalies section
        when ``incident_data`` is not given).
    slo : SLOSpec or str, optional
        The SLO: an ``SLOSpec``, ``"0.999/30d"`` or an OpenSLO ``.yaml`` file; needs
        ``observed`` and ``future``. Adds the SLO burn section.
    observed : ObservedSoFar or pandas.DataFrame, optional
        The SLO's bad and total events so far (the SOFAR table of ``bayescount slo``).
    future : pandas.DataFrame, optional
        Future windows with the fit's exposure column (requests): the SLO forecast and
        the base of the capacity scenarios.
    incident : str or (start, end), optional
        ``"2026-01-06T10:00/2026-01-06T12:00"`` or two timestamps: adds the incident
        attribution section (on ``incident_data``, else ``holdout``).
    incident_data : pandas.DataFrame, optional
        Observed rows (with counts) covering the incident; also the anomalies section.
    scenario : Scenario, str or sequence, optional
        ``"traffic=1.3"``, ``"new_region=NAME,like=REGION"``, ``"nodes=N"`` or their
        objects: adds the capacity section (base: ``future``, else ``holdout``).
    out : str or Path
        The report file; ``.html`` (one self-contained file) or ``.md`` (figures as
        PNG files in ``<stem>_files/`` beside it). Written atomically.
    by : str, optional
        Group level of the per-group breakdowns (PPC, coverage, pooling); default the
        level above the innermost (``service`` of region → service → node).
    title : str, optional
        Heading; default names the counts and the fit.
    max_draws : int
        Posterior draws behind every check and forecast (evenly thinned; default 1000):
        the PPC replicates, coverage mixtures, burn, anomaly, attribution and capacity
        draws. The convergence gate always reads the full fit.
    random_seed : int
        Seed of every predictive draw (default 0): the same inputs give the same report.
    progress : callable, optional
        Called with each section's title before it is computed (progress displays).

    Returns
    -------
    ReportResult
        The paths written, the sections included and the gate colour.

    Raises
    ------
    SpecError
        An input without the other inputs it needs, an unknown output extension, or an
        unknown ``by`` level.
    DataError
        Invalid rows in a table (the message names the column and rows).
    OutputError
        The report cannot be written (checked before any work).
    """
    fit = as_fit(fit)
    path = Path(out)
    fmt = report_format(path)
    check_writable(path)
    levels = list(fit.schema.groups)
    if by is not None and by not in levels:
        raise SpecError(f"by={by!r} is not a group level of the model; choose one of {levels}.")
    by = by if by is not None else fitted.default_level(fit)
    plan = _plan(fit, holdout, slo, observed, future, incident, incident_data, scenario)
    gate = convergence_gate(fit.convergence)
    seed = int(random_seed)
    full = fit
    # every check and forecast below averages over (at most) max_draws posterior draws
    fit = full.with_posterior(draw_subset(full.posterior, max_draws))
    steps: list[tuple[str, Callable[[], Section]]] = [
        ("data", lambda: fitted.data_section(full)),
        ("model", lambda: fitted.model_section(full)),
        ("gate", lambda: fitted.gate_section(full, gate)),
        ("ppc", lambda: fitted.ppc_section(fit, by=by, max_draws=max_draws, random_seed=seed)),
    ]
    if plan["holdout"] is not None:
        steps.append(("coverage", lambda: decisions.coverage_section(
            fit, plan["holdout"], by=by, random_seed=seed)))
    if by is not None:
        steps.append(("pooling", lambda: fitted.pooling_section(fit, level=by,
                                                               random_seed=seed)))
    if "slo" in plan:
        steps.append(("slo", lambda: decisions.slo_section(fit, *plan["slo"],
                                                           random_seed=seed)))
    if "anomalies" in plan:
        steps.append(("anomalies", lambda: decisions.anomalies_section(
            fit, plan["anomalies"], random_seed=seed)))
    if "incident" in plan:
        start, end, data = plan["incident"]
        steps.append(("incident", lambda: decisions.incident_section(
            fit, data, start, end, level=by, random_seed=seed)))
    if "capacity" in plan:
        steps.append(("capacity", lambda: decisions.capacity_section(
            fit, *plan["capacity"], random_seed=seed)))
    sections = []
    for key, build in steps:
        if progress is not None:
            progress(SECTIONS[key])
        sections.append(build())
    s = fit.schema
    title = title or f"Model report: {s.counts} per {s.exposure_unit or s.exposure or 'window'}"
    subtitle = (f"{fit.spec.family} model of {s.counts!r}"
                + (f" with exposure {s.exposure!r}" if s.exposure else "")
                + (f", groups {' → '.join(s.groups)}" if s.groups else "")
                + f"; {fit.n_rows:,} training rows")
    if progress is not None:
        progress("writing the report")
    files = write_report(path, fmt, title, subtitle, sections, gate.colour)
    return ReportResult(path, fmt, tuple(sec.key for sec in sections), gate.colour,
                        tuple(files[1:]))
