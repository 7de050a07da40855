"""A synthetic fleet with known truth: the data of the demo, the notebooks and the README.

One simulated world, hourly, region → service → node:

* **traffic** (``requests``, the exposure) per node and hour: a node's level (log-normal
  around 20,000 requests an hour) times a daily profile (peak at 15:00 UTC) times a weekly
  one (Saturdays and Sundays at ``weekend_factor``), with 10 % log-normal noise;
* **errors**: negative binomial (NB2, ``var = mu + mu^2 / alpha``) with
  ``log mu = log(requests) + log(base_rate) + region + service + node + daily`` where the
  group effects sum to zero within their parent (the model's convention, so the true
  intercept is ``log(base_rate)``) and ``daily`` is a cosine of amplitude
  ``rate_daily_amplitude`` peaking with the traffic;
* **zero-heavy nodes**: the last node of every service with five or more nodes is a standby
  node taking 5 % of a node's traffic, so most of its hours have no error (the zeros come from
  the low exposure: the negative binomial model is still right for them);
* **a deploy**: from 34 hours before the end of history the error rate of the first service
  of the third region (``r2-s0``) is multiplied by ``deploy_factor`` (and stays so through
  the held-out day); ``truth.deploy``;
* **an outage**: the nodes of the first service (``r0-s0``) report nothing for four hours,
  09:00-13:00 four days before the end of history — their rows are *missing*, as when a
  scrape target is down (not rows of zero requests, which a fit would drop with a warning);
  ``truth.outage``;
* **a young region** ``r3`` (two services of two nodes) with only the last
  ``young_days`` days of history;
* **an incident** on the held-out day: the error rate of the third service of the second
  region (``r1-s2``) times ``incident_factor`` from 10:00 to 12:00; ``truth.incident``.

The history ends at ``start + days`` (by default 2026-01-06 00:00); the held-out day follows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayescount.exceptions import SpecError

__all__ = ["ExampleFleet", "FleetTruth", "make_example_fleet"]

#: Nodes per service of the established regions r0, r1, r2 (unbalanced on purpose).
DEFAULT_LAYOUT: tuple[tuple[int, ...], ...] = ((3, 1, 5, 2), (2, 5, 3, 4), (4, 2, 3, 6))
YOUNG_REGION = "r3"
YOUNG_LAYOUT = (2, 2)
FILES = ("fleet", "holdout", "next_hour", "future", "incident", "sofar")
_LABELS = ["region", "service", "node"]


def _ts(value: pd.Timestamp) -> str:
    return value.isoformat(sep=" ")


@dataclass(frozen=True)
class FleetTruth:
    """The parameters that generated an :class:`ExampleFleet` (rates are per request).

    Every effect is on the log error rate; ``exp(intercept)`` is the base rate. Times are
    naive UTC timestamps; windows are half-open ``[start, end)``.

    Attributes
    ----------
    seed : int
        Seed of the simulation.
    start, history_end : pandas.Timestamp
        First hour of the history and the end of it (the start of the held-out day).
    window : str
        Row length (``"1h"``).
    intercept, alpha : float
        Log base rate (errors per request) and the NB2 shape.
    region_effect, service_effect, node_effect : dict of str to float
        Group effects on the log rate, summing to zero within their parent.
    node_traffic : dict of str to float
        Each node's mean requests per hour before the daily and weekly profiles.
    rate_daily_amplitude, traffic_daily_amplitude, peak_hour : float
        Amplitudes of the daily cosines of the log error rate and the log traffic, and
        the hour (UTC) both peak.
    weekend_factor : float
        Traffic multiplier on Saturdays and Sundays.
    zero_heavy_nodes : tuple of str
        The standby nodes; ``zero_heavy_share`` is their share of a node's traffic.
    deploy, incident : dict
        ``service``, ``start`` (and ``end`` for the incident), ``factor`` on the rate.
    outage : dict
        ``service``, ``nodes``, ``start``, ``end``; ``rows: "missing"``.
    young_region : dict
        ``region``, ``start`` (its first hour), ``services``.
    notes : tuple of str
        The generating equations, in words.
    """

    seed: int
    start: pd.Timestamp
    history_end: pd.Timestamp
    window: str
    intercept: float
    alpha: float
    region_effect: dict[str, float]
    service_effect: dict[str, float]
    node_effect: dict[str, float]
    node_traffic: dict[str, float]
    rate_daily_amplitude: float
    peak_hour: float
    traffic_daily_amplitude: float
    weekend_factor: float
    zero_heavy_nodes: tuple[str, ...]
    zero_heavy_share: float
    deploy: dict[str, Any]
    outage: dict[str, Any]
    incident: dict[str, Any]
    young_region: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def base_rate(self) -> float:
        """Errors per request of the population (``exp(intercept)``)."""
        return float(np.exp(self.intercept))

    def group_rates(self, level: str) -> pd.Series:
        """Return the true errors per request of each group of ``level``, at the daily mean.

        The rate of a service is ``exp(intercept + region + service)`` (its nodes' effects
        sum to zero), before any deploy or incident factor.

        Parameters
        ----------
        level : {"region", "service", "node"}
            The level.

        Returns
        -------
        pandas.Series
            Indexed by the level's labels, named ``rate``.

        Raises
        ------
        SpecError
            ``level`` is not one of the three levels.
        """
        if level not in _LABELS:
            raise SpecError(f"Unknown level {level!r}; choose one of {_LABELS}.")
        depth = _LABELS.index(level)
        effects = [self.region_effect, self.service_effect, self.node_effect][: depth + 1]
        labels = list(effects[-1])
        rates = {}
        for label in labels:
            parts = label.split("-")
            keys = ["-".join(parts[: i + 1]) for i in range(depth + 1)]
            rates[label] = float(np.exp(self.intercept + sum(
                e[k] for e, k in zip(effects, keys, strict=True))))
        return pd.Series(rates, name="rate").rename_axis(level)

    def expected_errors(
        self, frame: pd.DataFrame, *, deploy: bool = True, incident: bool = True
    ) -> np.ndarray:
        """Return the true mean number of errors of each row of ``frame`` (requests x true rate).

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with ``timestamp``, ``node`` and ``requests`` (any of the example files
            but ``sofar``).
        deploy, incident : bool
            Include the deploy's and the incident's rate factors.

        Returns
        -------
        numpy.ndarray
            One mean per row (errors per window).
        """
        times = pd.to_datetime(frame["timestamp"])
        node = frame["node"].astype(str)
        service = node.str.rsplit("-", n=1).str[0]
        region = service.str.split("-").str[0]
        hours = (times - times.dt.normalize()) / pd.Timedelta(hours=1)
        eta = (
            self.intercept
            + region.map(self.region_effect).to_numpy(float)
            + service.map(self.service_effect).to_numpy(float)
            + node.map(self.node_effect).to_numpy(float)
            + _daily(hours.to_numpy(float), self.rate_daily_amplitude, self.peak_hour)
        )
        if deploy:
            hit = (service == self.deploy["service"]) & (times >= self.deploy["start"])
            eta = eta + np.log(self.deploy["factor"]) * hit.to_numpy()
        if incident:
            hit = (service == self.incident["service"]) & times.between(
                self.incident["start"], self.incident["end"], inclusive="left")
            eta = eta + np.log(self.incident["factor"]) * hit.to_numpy()
        return frame["requests"].to_numpy(float) * np.exp(eta)

    def to_dict(self) -> dict[str, Any]:
        """Return the truth as plain JSON-ready values (timestamps as ISO strings)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, pd.Timestamp):
                out[key] = _ts(value)
            elif isinstance(value, tuple):
                out[key] = list(value)
            elif isinstance(value, dict):
                out[key] = {k: _ts(v) if isinstance(v, pd.Timestamp) else v
                            for k, v in value.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FleetTruth:
        """Rebuild the truth written by :meth:`to_dict`."""
        data = dict(data)
        for key in ("start", "history_end"):
            data[key] = pd.Timestamp(data[key])
        for key in ("deploy", "outage", "incident", "young_region"):
            data[key] = {k: pd.Timestamp(v) if k in ("start", "end") else v
                         for k, v in data[key].items()}
        for key in ("zero_heavy_nodes", "notes"):
            data[key] = tuple(data[key])
        if "nodes" in data["outage"]:
            data["outage"]["nodes"] = list(data["outage"]["nodes"])
        return cls(**data)


@dataclass(frozen=True, eq=False)  # tables compare with pandas' testing helpers, not ==
class ExampleFleet:
    """The example fleet's tables and the truth that generated them.

    Attributes
    ----------
    fleet : pandas.DataFrame
        The history to fit: ``timestamp``, ``region``, ``service``, ``node``,
        ``requests`` (exposure), ``errors`` (count), one row per node and hour.
    holdout : pandas.DataFrame
        The held-out day after the history (same columns), incident included.
    next_hour : pandas.DataFrame
        The first hour of the held-out day, without ``errors`` (to predict).
    future : pandas.DataFrame
        The next 24 hours of every node without ``errors``, with the requests of the same
        hours of the last day of history (a "same as yesterday" traffic forecast).
    incident : pandas.DataFrame
        08:00-14:00 of the held-out day (the rows of ``holdout``): the incident window
        10:00-12:00 and two hours either side.
    sofar : pandas.DataFrame
        The SLO's events so far: the whole fleet's ``total`` requests and ``bad`` (errors)
        per hour (column ``time``) over the last three days of history.
    truth : FleetTruth
        The parameters, effects and event windows of the simulation.
    """

    fleet: pd.DataFrame
    holdout: pd.DataFrame
    next_hour: pd.DataFrame
    future: pd.DataFrame
    incident: pd.DataFrame
    sofar: pd.DataFrame
    truth: FleetTruth

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(frame)} rows" for name, frame in self.frames().items())
        return f"ExampleFleet({sizes}; seed={self.truth.seed})"

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the six tables by file name (without ``.csv``)."""
        return {name: getattr(self, name) for name in FILES}

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the six CSV files and ``truth.json`` into ``folder``, each atomically.

        Parameters
        ----------
        folder : str or Path
            An existing directory.

        Returns
        -------
        dict of str to Path
            The written files by name.

        Raises
        ------
        OutputError
            ``folder`` does not exist or a file cannot be written.
        """
        from bayescount.examples._files import write_fleet

        return write_fleet(self, folder)


def _daily(hours: np.ndarray, amplitude: float, peak: float) -> np.ndarray:
    return amplitude * np.cos(2 * np.pi * (hours - peak) / 24.0)


def _zero_sum(values: np.ndarray, parent: np.ndarray) -> np.ndarray:
    means = np.bincount(parent, weights=values) / np.bincount(parent)
    return values - means[parent]


def _check(seed: int, days: int, young_days: int, layout) -> None:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise SpecError(f"seed must be an integer, got {seed!r}.")
    if not isinstance(days, int) or days < 5:
        raise SpecError(f"days must be an integer >= 5 (the deploy and outage fall in the "
                        f"last five days of history), got {days!r}.")
    if not isinstance(young_days, int) or not 1 <= young_days < days:
        raise SpecError(f"young_days must be an integer in [1, days), got {young_days!r}.")
    if len(layout) < 3 or any(len(r) < 4 or min(r) < 1 for r in layout):
        raise SpecError("layout needs at least 3 regions of at least 4 services with >= 1 node "
                        f"each (the deploy, outage and incident services), got {layout!r}.")


def make_example_fleet(
    seed: int = 2026,
    *,
    start: str | pd.Timestamp = "2025-12-30",
    days: int = 7,
    layout: tuple[tuple[int, ...], ...] = DEFAULT_LAYOUT,
    base_rate: float = 5e-4,
    alpha: float = 6.0,
    young_days: int = 2,
    deploy_factor: float = 2.0,
    incident_factor: float = 4.0,
) -> ExampleFleet:
    """Simulate the example fleet: hourly errors and requests with known truth.

    The same arguments give the same tables, bit for bit (one
    :func:`numpy.random.default_rng` stream). The defaults make the committed sample in
    ``data/example_fleet/``: 7 days of history, 2025-12-30 to 2026-01-05, for 40 nodes in
    regions ``r0``-``r2`` and 4 in the young region ``r3`` (2 days), about 6,900 rows;
    the deploy of ``r2-s0`` (x2 from 2026-01-04 14:00); the outage of ``r0-s0``
    (2026-01-02 09:00-13:00, rows missing); the incident of ``r1-s2`` (x4 on 2026-01-06
    10:00-12:00, in the held-out day). See the module docstring for the model.

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    start : str or pandas.Timestamp
        First hour of the history (naive, UTC).
    days : int
        Days of history (at least 5).
    layout : tuple of tuple of int
        Nodes per service of each established region (at least 3 regions of 4 services).
    base_rate : float
        Errors per request of the population (the true intercept is its log).
    alpha : float
        Negative binomial shape (NB2: ``var = mu + mu^2 / alpha``).
    young_days : int
        Days of history of the young region (``1 <= young_days < days``).
    deploy_factor, incident_factor : float
        Error-rate multipliers of the deploy (from 34 hours before the end of history on)
        and of the incident (10:00-12:00 of the held-out day).

    Returns
    -------
    ExampleFleet
        The six tables and the :class:`FleetTruth`.

    Raises
    ------
    SpecError
        An argument out of range.

    Examples
    --------
    >>> fleet = make_example_fleet()
    >>> fleet.fleet["region"].unique().tolist()
    ['r0', 'r1', 'r2', 'r3']
    >>> fleet.truth.deploy["service"], fleet.truth.deploy["factor"]
    ('r2-s0', 2.0)
    """
    _check(seed, days, young_days, layout)
    if not (base_rate > 0 and alpha > 0 and deploy_factor > 0 and incident_factor > 0):
        raise SpecError("base_rate, alpha, deploy_factor and incident_factor must be > 0, got "
                        f"{base_rate}, {alpha}, {deploy_factor}, {incident_factor}.")
    rng = np.random.default_rng(int(seed))
    start = pd.Timestamp(start).floor("h")
    end = start + pd.Timedelta(days=days)
    hour = pd.Timedelta(hours=1)
    young = f"r{len(layout)}"
    regions = [f"r{i}" for i in range(len(layout))] + [young]
    services, s_parent, nodes, n_parent = [], [], [], []
    for r, counts in enumerate([*layout, YOUNG_LAYOUT]):
        for s, k in enumerate(counts):
            services.append(f"{regions[r]}-s{s}")
            s_parent.append(r)
            nodes.extend(f"{services[-1]}-n{n}" for n in range(k))
            n_parent.extend([len(services) - 1] * k)
    s_parent, n_parent = np.array(s_parent), np.array(n_parent)
    eff_r = rng.normal(0.0, 0.3, len(regions))
    eff_r -= eff_r.mean()
    eff_s = _zero_sum(rng.normal(0.0, 0.4, len(services)), s_parent)
    eff_n = _zero_sum(rng.normal(0.0, 0.25, len(nodes)), n_parent)
    level = np.exp(rng.normal(np.log(20_000.0), 0.4, len(nodes)))
    sizes = np.bincount(n_parent)
    heavy = [n for i, n in enumerate(nodes)
             if sizes[n_parent[i]] >= 5 and n.endswith(f"-n{sizes[n_parent[i]] - 1}")]
    zero_share = 0.05
    level[[nodes.index(n) for n in heavy]] *= zero_share

    times = pd.date_range(start, end + pd.Timedelta(days=1), freq="h", inclusive="left")
    node_i = np.repeat(np.arange(len(nodes)), len(times))
    t = pd.DatetimeIndex(np.tile(times.to_numpy(), len(nodes)))
    hours = t.hour.to_numpy(float)
    weekend = np.where(t.day_of_week.to_numpy() >= 5, 0.7, 1.0)
    traffic = level[node_i] * np.exp(_daily(hours, 0.5, 15.0)) * weekend
    requests = np.maximum(1, np.round(traffic * np.exp(rng.normal(0.0, 0.1, len(t)))))
    service_i = n_parent[node_i]
    svc = np.array(services)[service_i]
    deploy = {"service": f"{regions[2]}-s0", "start": end - pd.Timedelta(hours=34),
              "factor": float(deploy_factor)}
    incident = {"service": f"{regions[1]}-s2", "start": end + 10 * hour,
                "end": end + 12 * hour, "factor": float(incident_factor)}
    eta = (np.log(base_rate) + eff_r[s_parent[service_i]] + eff_s[service_i] + eff_n[node_i]
           + _daily(hours, 0.3, 15.0)
           + np.log(deploy_factor) * ((svc == deploy["service"]) & (t >= deploy["start"]))
           + np.log(incident_factor) * ((svc == incident["service"]) & (t >= incident["start"])
                                        & (t < incident["end"])))
    mu = requests * np.exp(eta)
    errors = rng.poisson(rng.gamma(alpha, mu / alpha))

    region_of = np.array(regions)[s_parent[service_i]]
    table = pd.DataFrame({
        "timestamp": t, "region": region_of, "service": svc,
        "node": np.array(nodes)[node_i], "requests": requests.astype(np.int64),
        "errors": errors.astype(np.int64),
    })
    outage_svc = f"{regions[0]}-s0"
    outage = {"service": outage_svc,
              "nodes": [n for n in nodes if n.startswith(outage_svc + "-")],
              "start": end - pd.Timedelta(days=4) + 9 * hour,
              "end": end - pd.Timedelta(days=4) + 13 * hour, "rows": "missing"}
    young_start = end - pd.Timedelta(days=young_days)
    dropped = (((table["service"] == outage_svc) & (table["timestamp"] >= outage["start"])
                & (table["timestamp"] < outage["end"]))
               | ((table["region"] == young) & (table["timestamp"] < young_start)))
    table = table[~dropped.to_numpy()].reset_index(drop=True)
    fleet = table[table["timestamp"] < end].reset_index(drop=True)
    holdout = table[table["timestamp"] >= end].reset_index(drop=True)
    next_hour = holdout[holdout["timestamp"] == end].drop(columns="errors")
    last_day = fleet[fleet["timestamp"] >= end - pd.Timedelta(days=1)]
    future = last_day.drop(columns="errors").assign(
        timestamp=last_day["timestamp"] + pd.Timedelta(days=1))
    incident_rows = holdout[(holdout["timestamp"] >= end + 8 * hour)
                            & (holdout["timestamp"] < end + 14 * hour)]
    recent = fleet[fleet["timestamp"] >= end - pd.Timedelta(days=min(3, days))]
    sofar = (recent.groupby("timestamp", as_index=False)[["requests", "errors"]].sum()
             .rename(columns={"timestamp": "time", "requests": "total", "errors": "bad"}))

    truth = FleetTruth(
        seed=int(seed), start=start, history_end=end, window="1h",
        intercept=float(np.log(base_rate)), alpha=float(alpha),
        region_effect=dict(zip(regions, eff_r.tolist(), strict=True)),
        service_effect=dict(zip(services, eff_s.tolist(), strict=True)),
        node_effect=dict(zip(nodes, eff_n.tolist(), strict=True)),
        node_traffic=dict(zip(nodes, level.tolist(), strict=True)),
        rate_daily_amplitude=0.3, peak_hour=15.0, traffic_daily_amplitude=0.5,
        weekend_factor=0.7, zero_heavy_nodes=tuple(heavy), zero_heavy_share=zero_share,
        deploy=deploy, outage=outage, incident=incident,
        young_region={"region": young, "start": young_start,
                      "services": [s for s in services if s.startswith(young + "-")]},
        notes=(
            "log E[errors] = log(requests) + intercept + region + service + node "
            "+ rate_daily_amplitude * cos(2 pi (hour - peak_hour) / 24) "
            "[+ log(deploy factor)] [+ log(incident factor)]; effects sum to zero "
            "within their parent",
            "requests = node_traffic * exp(traffic_daily_amplitude * cos(2 pi (hour - "
            "peak_hour) / 24)) * (weekend_factor on Sat/Sun) * lognormal(0, 0.1), rounded",
            "errors ~ NegativeBinomial(mu, alpha) drawn as Poisson(Gamma(alpha, mu / alpha))",
        ),
    )
    frames = {"fleet": fleet, "holdout": holdout, "next_hour": next_hour, "future": future,
              "incident": incident_rows, "sofar": sofar}
    return ExampleFleet(**{k: v.reset_index(drop=True) for k, v in frames.items()}, truth=truth)
