"""Decisions out: Prometheus rules, OpenMetrics text and Grafana dashboards.

Exporters that need a fit's predictions or forecasts (bands, ``P(exhaust)``) sit above
``checks | forecast | io`` and below ``count_model`` and the command line.

::

    rules        prometheus_rules -> SLO burn-rate and anomaly alerts (rule-file YAML)
    openmetrics  openmetrics_text -> expected counts, bands and P(exhaust) to backfill
    grafana      grafana_dashboard -> dashboard JSON (observed vs expected, burn)
"""

from bayescount.export.grafana import grafana_dashboard
from bayescount.export.openmetrics import openmetrics_text
from bayescount.export.rules import anomaly_bounds, prometheus_rules, rules_yaml

__all__ = [
    "anomaly_bounds",
    "grafana_dashboard",
    "openmetrics_text",
    "prometheus_rules",
    "rules_yaml",
]
