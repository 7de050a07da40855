"""Decisions from the posterior: SLO burn, alerting rules, anomalies, attribution, capacity.

Everything here consumes a fitted :class:`~bayescount.CountModel` (or hand-built
:class:`~bayescount.inference.PredictiveParameters`) and returns small typed results
with ``to_frame()``, ``to_dict()`` (JSON-safe), ``plot()`` and ``_repr_html_()``.
Nothing here samples a posterior; predictive draws and analytic predictive CDFs only.

::

    slo, openslo       SLOSpec (objective, window), ObservedSoFar, OpenSLO v1 reader
    future             future_draws (scenario or traffic forecast), scale_traffic,
                       future_time_sums (per-window sums, memory in the horizon)
    history            future_from_history (the last weeks' traffic, repeated)
    burn, burn_draws   forecast_burn -> BurnForecast; the array work behind it
    burn_rules         SRE Workbook multiwindow rules, observed and forecast; decide
    rollup             node -> service -> region -> global sums, draw by draw
    anomalies          detect_anomalies -> AnomalyReport
    attribution        mask_incident, attribute_incident -> Attribution
    scenarios          Traffic, NewRegion, NodeCount, parse_scenario
    capacity           forecast_capacity -> CapacityForecast
"""

from bayescount.forecast.anomalies import AnomalyReport, detect_anomalies
from bayescount.forecast.attribution import (
    Attribution,
    attribute_incident,
    indicator_effect,
    mask_incident,
)
from bayescount.forecast.burn import BurnForecast, forecast_burn
from bayescount.forecast.burn_rules import (
    BurnRule,
    Decision,
    RuleResult,
    RuleWarning,
    default_rules,
    seed_rules,
    sre_workbook_rules,
)
from bayescount.forecast.capacity import CapacityForecast, forecast_capacity
from bayescount.forecast.future import FutureDraws, future_draws, scale_traffic
from bayescount.forecast.history import future_from_history
from bayescount.forecast.openslo import load_openslo, parse_openslo
from bayescount.forecast.rollup import rollup_draws, summarise_draws
from bayescount.forecast.scenarios import NewRegion, NodeCount, Traffic, parse_scenario
from bayescount.forecast.slo import ObservedSoFar, SLOSpec, parse_duration

__all__ = [
    "AnomalyReport",
    "Attribution",
    "BurnForecast",
    "BurnRule",
    "CapacityForecast",
    "Decision",
    "FutureDraws",
    "NewRegion",
    "NodeCount",
    "ObservedSoFar",
    "RuleResult",
    "RuleWarning",
    "SLOSpec",
    "Traffic",
    "attribute_incident",
    "default_rules",
    "detect_anomalies",
    "forecast_burn",
    "forecast_capacity",
    "future_draws",
    "future_from_history",
    "indicator_effect",
    "load_openslo",
    "mask_incident",
    "parse_duration",
    "parse_openslo",
    "parse_scenario",
    "rollup_draws",
    "scale_traffic",
    "seed_rules",
    "sre_workbook_rules",
    "summarise_draws",
]
