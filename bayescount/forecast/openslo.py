"""Read an :class:`~bayescount.forecast.slo.SLOSpec` from an OpenSLO v1 ``kind: SLO`` document.

Supported (everything else is refused with a :class:`~bayescount.exceptions.SpecError`
that names the field and what is supported)::

    apiVersion: openslo/v1
    kind: SLO
    metadata: {name: ...}
    spec:
      budgetingMethod: Occurrences
      timeWindow:
        - duration: 28d            # rolling: s/m/h/d/w
          isRolling: true
        # or: duration: 1M, isRolling: false, calendar: {...}   (calendar month)
      indicator:                   # inline; indicatorRef is not supported
        metadata: {name: ...}
        spec:
          ratioMetric:
            counter: true
            bad: {...}             # or good: {...}
            total: {...}
      objectives:
        - target: 0.999            # or targetPercent: 99.9
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bayescount.exceptions import SpecError
from bayescount.forecast.slo import CALENDAR_MONTH, SLOSpec, parse_duration

__all__ = ["load_openslo", "parse_openslo"]

_BUDGETING = {"Occurrences": "occurrences"}


def load_openslo(path: str | Path, *, name: str | None = None) -> SLOSpec:
    """Read the OpenSLO YAML file at ``path``; see :func:`parse_openslo`."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"No such OpenSLO file: {path}.")
    return parse_openslo(path.read_text(), name=name, source=str(path))


def parse_openslo(text: str, *, name: str | None = None, source: str = "<text>") -> SLOSpec:
    """Parse OpenSLO v1 YAML text (one or more documents) into an :class:`SLOSpec`.

    Parameters
    ----------
    text : str
        YAML text; documents other than ``kind: SLO`` are skipped.
    name : str, optional
        ``metadata.name`` of the SLO to use when the text holds several.
    source : str
        Shown in error messages.
    """
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        raise SpecError(f"{source}: not valid YAML: {err}") from err
    slos = [d for d in docs if isinstance(d, dict) and d.get("kind") == "SLO"]
    if name is not None:
        slos = [d for d in slos if (d.get("metadata") or {}).get("name") == name]
    if len(slos) != 1:
        kinds = [d.get("kind") if isinstance(d, dict) else type(d).__name__ for d in docs]
        what = f"named {name!r} " if name else ""
        raise SpecError(
            f"{source}: expected exactly one 'kind: SLO' document {what}but found {len(slos)} "
            f"(document kinds: {kinds}). Pass name= to choose one."
        )
    return _slo(slos[0], source)


def _field(doc: dict[str, Any], path: str, source: str) -> Any:
    node: Any = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise SpecError(f"{source}: missing field {path!r} (required for an OpenSLO v1 SLO).")
        node = node[key]
    return node


def _slo(doc: dict[str, Any], source: str) -> SLOSpec:
    version = doc.get("apiVersion")
    if version != "openslo/v1":
        raise SpecError(f"{source}: apiVersion {version!r} is not supported; use 'openslo/v1'.")
    spec = _field(doc, "spec", source)
    method = _field(doc, "spec.budgetingMethod", source)
    if method not in _BUDGETING:
        raise SpecError(
            f"{source}: spec.budgetingMethod {method!r} is not supported; only "
            f"{sorted(_BUDGETING)} (bad events / total events) is. Timeslices and "
            "RatioTimeslices budget time slices, not events."
        )
    window = _window(_field(doc, "spec.timeWindow", source), source)
    ratio = _indicator(spec, source)
    objective = _objective(_field(doc, "spec.objectives", source), source)
    name = str((doc.get("metadata") or {}).get("name", ""))
    return SLOSpec(objective=objective, window=window, budgeting="occurrences", name=name,
                   ratio=ratio)


def _window(windows: Any, source: str) -> str:
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(windows[0], dict):
        raise SpecError(f"{source}: spec.timeWindow must be a list with one window.")
    tw = windows[0]
    duration = str(tw.get("duration", ""))
    rolling = tw.get("isRolling", False)
    if rolling:
        try:
            parse_duration(duration)
        except SpecError as err:
            raise SpecError(f"{source}: spec.timeWindow[0].duration: {err}") from None
        return duration
    if duration == "1M":
        return CALENDAR_MONTH
    raise SpecError(
        f"{source}: spec.timeWindow[0] = {tw!r} is not supported; use a rolling window "
        "(isRolling: true, duration like 28d) or a calendar month (isRolling: false, "
        "duration: 1M)."
    )


def _indicator(spec: dict[str, Any], source: str) -> str:
    if "indicatorRef" in spec and "indicator" not in spec:
        raise SpecError(
            f"{source}: spec.indicatorRef is not supported; inline the SLI under spec.indicator."
        )
    ind_spec = _field(spec, "indicator.spec", source)
    if "thresholdMetric" in ind_spec:
        raise SpecError(
            f"{source}: spec.indicator.spec.thresholdMetric is not supported; bayescount "
            "forecasts event counts, so the SLI must be a ratioMetric with good or bad "
            "and total."
        )
    ratio = ind_spec.get("ratioMetric")
    if not isinstance(ratio, dict):
        raise SpecError(
            f"{source}: spec.indicator.spec.ratioMetric is missing; only ratio metrics "
            "(good/total or bad/total) are supported."
        )
    if "rawType" in ratio or "raw" in ratio:
        raise SpecError(
            f"{source}: spec.indicator.spec.ratioMetric.raw is not supported; give good or "
            "bad and total counters."
        )
    if "total" not in ratio or not ({"good", "bad"} & ratio.keys()):
        raise SpecError(
            f"{source}: spec.indicator.spec.ratioMetric needs 'total' and one of 'good' or "
            f"'bad'; it has {sorted(ratio)}."
        )
    if {"good", "bad"} <= ratio.keys():
        raise SpecError(
            f"{source}: spec.indicator.spec.ratioMetric has both 'good' and 'bad'; keep one."
        )
    return "bad" if "bad" in ratio else "good"


def _objective(objectives: Any, source: str) -> float:
    if not isinstance(objectives, list) or len(objectives) != 1:
        n = len(objectives) if isinstance(objectives, list) else "no"
        raise SpecError(
            f"{source}: spec.objectives has {n} entries; exactly one objective is supported."
        )
    obj = objectives[0]
    for key in ("op", "value", "timeSliceTarget", "timeSliceWindow", "indicator",
                "indicatorRef", "compositeWeight"):
        if key in obj:
            raise SpecError(
                f"{source}: spec.objectives[0].{key} is not supported; an occurrences "
                "objective has only a target (or targetPercent)."
            )
    if "target" in obj:
        target = obj["target"]
    elif "targetPercent" in obj:
        target = obj["targetPercent"] / 100.0 if _is_number(obj["targetPercent"]) else None
    else:
        raise SpecError(f"{source}: spec.objectives[0] needs 'target' (e.g. 0.999).")
    if not _is_number(target) or not 0 < float(target) < 1:
        raise SpecError(
            f"{source}: spec.objectives[0].target must be a number in (0, 1), got {target!r}."
        )
    return float(target)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
