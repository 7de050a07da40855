"""``bayescount demo``: the example fleet, end to end, into one HTML report.

Loads the bundled example fleet, fits the hierarchical negative binomial model
(region → service → node, daily seasonality), checks it, scores coverage on the
held-out day, forecasts SLO burn, flags anomalies, attributes the incident, runs a
capacity scenario (traffic × 1.3), and writes ``report.html`` and the fit file
``fleet_fit.nc`` into one folder. Progress is shown on a terminal (``rich``), never
under ``CI`` or when stdout is not a terminal.

Size: ``DEMO_SIZES["full"]`` (default) samples 4 chains × 1,000 draws after 500
warm-up steps with nutpie's low-rank mass matrix, which mixes the effects of data-poor
groups (the young region ``r3``, the standby nodes) better than the diagonal one.
``"small"`` (2 × 100 after 100; ``BAYESCOUNT_DEMO_SIZE=small`` or
``bayescount demo --small``) is for tests and a quick look, and its gate is red.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayescount.count_model import CountModel
from bayescount.examples import load_example_fleet
from bayescount.exceptions import SpecError
from bayescount.io import save_fit
from bayescount.io.atomic import check_writable
from bayescount.progress import progress_steps
from bayescount.reports.build import SECTIONS as _SECTIONS
from bayescount.reports.build import ReportResult, report

__all__ = ["DEMO_SIZES", "DemoResult", "INCIDENT", "SCENARIO", "SLO", "run_demo"]

#: Sampler settings per size: chains, draws, tune.
DEMO_SIZES: dict[str, dict[str, int]] = {
    "full": {"chains": 4, "draws": 1000, "tune": 500},
    "small": {"chains": 2, "draws": 100, "tune": 100},
}

#: The demo's SLO, incident window and capacity scenario (see data/example_fleet/README.md).
SLO = "0.999/30d"
INCIDENT = "2026-01-06T10:00/2026-01-06T12:00"
SCENARIO = "traffic=1.3"

_LABELS = ("region", "service", "node")


def _example_data() -> dict[str, pd.DataFrame]:
    """Return the example fleet's tables: fleet, holdout, sofar, future, incident, next_hour.

    The committed sample of ``data/example_fleet/`` in a source checkout, else the same
    data made by :func:`bayescount.examples.make_example_fleet` (an installed package).
    """
    return load_example_fleet().frames()


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` wrote and how long it took.

    Attributes
    ----------
    report : ReportResult
        The HTML report (path, sections, gate colour).
    fit_path : pathlib.Path
        The fit file (``bayescount.load`` reads it back).
    seconds : float
        Wall-clock time of the whole demo.
    size : dict
        ``chains``, ``draws`` and ``tune`` of the fit.
    """

    report: ReportResult
    fit_path: Path
    seconds: float
    size: dict[str, int]

    def __str__(self) -> str:
        s = self.size
        return (f"Report: {self.report.path}\nFit:    {self.fit_path}\n"
                f"(gate {self.report.gate}; {s['chains']} chains x {s['draws']} draws after "
                f"{s['tune']} warm-up; {self.seconds:.0f} s)")


def run_demo(
    out: str | Path = "out",
    *,
    size: str | None = None,
    progress: bool | None = None,
    random_seed: int = 1,
) -> DemoResult:
    """Fit the example fleet, check it, forecast with it and write the report and fit.

    Parameters
    ----------
    out : str or Path
        Folder for ``report.html`` and ``fleet_fit.nc`` (created).
    size : {"full", "small"}, optional
        Sampler settings of :data:`DEMO_SIZES`; default ``BAYESCOUNT_DEMO_SIZE`` or
        ``"full"``.
    progress : bool, optional
        Show progress; default on a terminal, off under ``CI``
        (:func:`~bayescount.progress.progress_enabled`).
    random_seed : int
        Seed of the fit (the report's draws use seed 0).

    Returns
    -------
    DemoResult

    Raises
    ------
    SpecError
        An unknown size.
    OutputError
        ``out`` cannot be written (checked before the fit).
    """
    started = time.perf_counter()
    size = size or os.environ.get("BAYESCOUNT_DEMO_SIZE", "full")
    if size not in DEMO_SIZES:
        raise SpecError(f"Unknown demo size {size!r}; choose from {sorted(DEMO_SIZES)}.")
    settings = DEMO_SIZES[size]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    fit_path, report_path = folder / "fleet_fit.nc", folder / "report.html"
    check_writable(fit_path)
    check_writable(report_path)
    with progress_steps(3 + len(_SECTIONS) + 1, progress) as step:
        step("loading the example fleet")
        data = _example_data()
        step(f"fitting: {settings['chains']} chains x {settings['draws']} draws after "
             f"{settings['tune']} warm-up")
        model = CountModel(
            "errors", "requests", exposure_unit="requests", time="timestamp",
            groups=list(_LABELS), family="negative_binomial", seasonality="daily",
        )
        model.fit(data["fleet"], random_seed=random_seed, progressbar=False,
                  mass_matrix="low_rank", **settings)
        step("saving the fit")
        save_fit(model.fit_, fit_path)
        result = report(
            model.fit_, holdout=data["holdout"], slo=SLO, observed=data["sofar"],
            future=data["future"], incident=INCIDENT, incident_data=data["incident"],
            scenario=SCENARIO, out=report_path, title="bayescount demo: the example fleet",
            progress=lambda name: step(f"report: {name}"),
        )
    return DemoResult(result, fit_path, time.perf_counter() - started, dict(settings))
