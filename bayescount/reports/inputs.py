"""Read the report's optional inputs: SLO specs, incident windows, scenarios, output paths.

Each accepts the library's own objects or the command line's text forms, so
``bc.report(fit, slo="0.999/30d", incident="2026-01-06T10:00/2026-01-06T12:00",
scenario="traffic=1.3")`` and the ``bayescount report`` flags mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bayescount.exceptions import SpecError
from bayescount.forecast.openslo import load_openslo
from bayescount.forecast.scenarios import NewRegion, NodeCount, Scenario, Traffic, parse_scenario
from bayescount.forecast.slo import ObservedSoFar, SLOSpec

__all__ = ["parse_incident", "parse_observed", "parse_scenarios", "parse_slo", "report_format"]

#: Output formats by file extension.
FORMATS: dict[str, Literal["html", "markdown"]] = {
    ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown",
}


def report_format(path: str | Path) -> Literal["html", "markdown"]:
    """Return ``"html"`` or ``"markdown"`` from the extension of ``path``.

    Raises
    ------
    SpecError
        Any other extension (the message lists the accepted ones).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(f"Cannot tell the report format of {str(path)!r}: end the file name "
                        f"with one of {sorted(FORMATS)} (e.g. report.html or report.md).")
    return FORMATS[suffix]


def parse_slo(slo: SLOSpec | str | Path) -> SLOSpec:
    """Return an :class:`~bayescount.forecast.SLOSpec` from an object, a file or text.

    Parameters
    ----------
    slo : SLOSpec, str or Path
        An ``SLOSpec``; an OpenSLO v1 YAML file (``.yaml`` / ``.yml``); or
        ``"OBJECTIVE[/WINDOW]"`` such as ``"0.999/30d"`` or ``"0.995/calendar_month"``
        (window ``30d`` when left out).

    Returns
    -------
    SLOSpec

    Raises
    ------
    SpecError
        Text that is neither (the message shows the accepted forms).
    """
    if isinstance(slo, SLOSpec):
        return slo
    text = str(slo).strip()
    if Path(text).suffix.lower() in (".yaml", ".yml"):
        return load_openslo(text)
    objective, _, window = text.partition("/")
    try:
        value = float(objective)
    except ValueError:
        raise SpecError(f"Cannot read the SLO {text!r}: write OBJECTIVE/WINDOW such as "
                        "'0.999/30d', or give an OpenSLO .yaml file.") from None
    return SLOSpec(value, window.strip() or "30d")


def parse_observed(observed: ObservedSoFar | pd.DataFrame | None, slo: SLOSpec) -> ObservedSoFar:
    """Return the events so far: an ``ObservedSoFar`` or a SOFAR table read for ``slo``.

    Raises
    ------
    SpecError
        ``observed`` is missing.
    """
    if observed is None:
        raise SpecError("An SLO section needs the events so far: pass observed= (an "
                        "ObservedSoFar or the SOFAR table; CLI --observed FILE).")
    if isinstance(observed, ObservedSoFar):
        return observed
    return ObservedSoFar.from_frame(observed, slo)


def parse_incident(incident: str | Sequence[Any]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return ``(start, end)`` from ``"START/END"`` or a pair of timestamps.

    Raises
    ------
    SpecError
        Not two timestamps, or the start not before the end.
    """
    how = "write START/END timestamps, e.g. '2026-01-06T10:00/2026-01-06T12:00'"
    parts = incident.split("/") if isinstance(incident, str) else list(incident)
    if len(parts) != 2:
        raise SpecError(f"Cannot read the incident window {incident!r}: {how}.")
    try:
        start, end = pd.Timestamp(parts[0]), pd.Timestamp(parts[1])
    except (ValueError, TypeError):
        raise SpecError(f"Cannot read the incident window {incident!r}: {how}.") from None
    if start is pd.NaT or end is pd.NaT or not start < end:
        raise SpecError(f"The incident window {incident!r} must start before it ends.")
    return start, end


def parse_scenarios(scenario: Scenario | str | Sequence[Scenario | str] | None) -> list[Scenario]:
    """Return a list of scenarios from one or several objects or ``"traffic=1.3"`` texts."""
    if scenario is None:
        return []
    items = [scenario] if isinstance(scenario, str | Traffic | NewRegion | NodeCount) \
        else list(scenario)
    return [parse_scenario(s) if isinstance(s, str) else s for s in items]
