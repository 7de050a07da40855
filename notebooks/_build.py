"""Write the notebooks' sources (no outputs); ``make notebooks`` then executes them in place.

Run from the repository root: ``python notebooks/_build.py``. Every notebook starts from
the same setup cell: ``BAYESCOUNT_NOTEBOOK_SIZE=small`` (CI and tests) samples 2 chains of
150 draws with a lenient convergence gate; ``full`` (the default) 4 chains of 1,000.
Each ends in a decision computed from its results and shown as Markdown.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

KNOB = '''
%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72})
SIZE = os.environ.get("BAYESCOUNT_NOTEBOOK_SIZE", "full")  # "small" in CI: 2 short chains
SAMPLER = {"small": {"draws": 150, "tune": 150, "chains": 2},
           "full": {"draws": 1000, "tune": 1000, "chains": 4}}[SIZE]
GATE = (bc.ConvergenceThresholds() if SIZE == "full"
        else bc.ConvergenceThresholds(max_rhat=1.1, min_ess=50))  # short chains: looser gate'''


def setup(*, path: bool = False, numpy: bool = False, pandas: bool = True,
          extra: str = "") -> str:
    """Return the first code cell: the imports the notebook uses and the size knob."""
    lines = ["import os"]
    if path:
        lines.append("from pathlib import Path")
    lines += ["", "import matplotlib.pyplot as plt"]
    if numpy:
        lines.append("import numpy as np")
    if pandas:
        lines.append("import pandas as pd")
    lines += ["from IPython.display import Markdown, display", "", "import bayescount as bc"]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n" + KNOB


FLEET_MODEL = '''\
model = bc.CountModel(
    "errors", "requests", exposure_unit="requests", time="timestamp",
    groups=["region", "service", "node"], family="negative_binomial", seasonality="daily",
)
model.fit(fleet.fleet, random_seed=1, thresholds=GATE, progressbar=False, **SAMPLER)
fit = model.fit_
fit.convergence'''


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


def quickstart() -> list:
    return [
        md('''
# 01 · Quickstart: errors per hour across a fleet

Fit a hierarchical negative-binomial model of errors per hour (exposure = requests), pooled
region → service → node, with daily seasonality; check convergence; forecast the next hour; save
the fit. The data are the bundled example fleet (`data/example_fleet/`, synthetic with known truth:
see its README); `bc.load_example_fleet()` gives the same tables without the files.

`SIZE` is a size knob: CI runs the notebooks with `BAYESCOUNT_NOTEBOOK_SIZE=small`.
'''),
        code(setup(path=True) + '''

DATA = Path("..") / "data" / "example_fleet"
frame = pd.read_csv(DATA / "fleet.csv", parse_dates=["timestamp"])
frame.head()'''),
        md('''
## Specify and fit
Nested groups, outer → inner. The young region `r3` has two days of history where the others have
seven; it borrows strength from them.
'''),
        code('''
model = bc.CountModel(
    "errors", "requests", exposure_unit="requests", time="timestamp",
    groups=["region", "service", "node"], family="negative_binomial", seasonality="daily",
)
model.fit(frame, random_seed=1, thresholds=GATE, progressbar=False, **SAMPLER)
print(model.parameterization_)
print(model.convergence_)
model.summary()'''),
        md('''
## Check the fit
Posterior predictive checks per region: share of zeros, dispersion, extremes and totals against
replicated data (Benjamini–Hochberg over all the p-values).
'''),
        code('''
check = bc.check_model(model.fit_, by="region", max_draws=1000)
print(check)
check.plot();'''),
        md('''
## Forecast the next hour
Predictive counts per node, with 90% intervals.
'''),
        code('''
future = pd.read_csv(DATA / "next_hour.csv", parse_dates=["timestamp"])
forecast = model.predict(future, random_seed=0).to_frame(quantiles=[0.05, 0.5, 0.95])
forecast.groupby("region")[["mean", "q0.05", "q0.95"]].sum()'''),
        md('''
Note: summing quantiles across nodes (above) is *not* a valid interval for the region total; roll
up by summing draws instead:
'''),
        code('''
pred = model.predict(future, random_seed=0)
by_region = pred.draws.assign_coords(region=("obs", pred.rows["region"].to_numpy()))
region_totals = by_region.groupby("region").sum("obs")
region_totals.quantile([0.05, 0.5, 0.95], dim=("chain", "draw")).to_pandas().T'''),
        md('## Save and load'),
        code('''
import tempfile

path = Path(tempfile.mkdtemp()) / "fleet_fit.nc"
model.save(path)
same = bc.load(path)
assert same.predict(future, random_seed=0).to_frame().equals(
    model.predict(future, random_seed=0).to_frame())
path'''),
        md('## What to do next'),
        code('''
gate = "passed" if model.convergence_.passed else "FAILED"
text = (f"The convergence gate **{gate}** ({SAMPLER['chains']} chains of "
        f"{SAMPLER['draws']} draws).")
if not model.convergence_.passed:
    text += " **Do not act on this fit**: run longer chains (`SIZE = \\"full\\"`) first."
elif check.problems:
    text += (f" **Use it, but not blindly**: the model check raised {len(check.problems)} "
             f"issue(s), the first: *{check.problems[0]}* The model misses something there; "
             "find out what before relying on those groups (notebooks 02 and 03 show how).")
else:
    text += " The model check raised no issue: **use the fit** for the decisions of 02-04."
display(Markdown(text))'''),
    ]


def slo_burn() -> list:
    return [
        md('''
# 02 · SLO burn forecast: page, freeze deploys, or carry on?

**You are the on-call SRE of service `r2-s0`.** It is Tuesday 2026-01-06 00:00 UTC. The deploy log
says `r2-s0` was deployed on Sunday at 14:00, and since then its error ratio looks higher. The
service's SLO: 99.95 % of requests succeed over a rolling 28-day window. Three questions:

1. Did the deploy raise the error rate, and by how much?
2. If nothing changes, will the 28-day error budget run out — and when?
3. So: page now, open a ticket and freeze deploys, or carry on?

Data: the bundled example fleet (a week of hourly errors and requests for 44 nodes; synthetic, so
we can check the answers against the truth at the end).
'''),
        code(setup() + '''

fleet = bc.load_example_fleet()
deploy = fleet.truth.deploy              # what the deploy log says: which service, when
SERVICE, DEPLOYED_AT = deploy["service"], deploy["start"]
history = fleet.fleet.assign(deployed=(
    (fleet.fleet["service"] == SERVICE) & (fleet.fleet["timestamp"] >= DEPLOYED_AT)
).astype(float))
SLO = bc.SLOSpec(0.9995, "28d", name=f"{SERVICE} availability")
rows = history[history["service"] == SERVICE]
sofar = (rows.groupby("timestamp", as_index=False)[["requests", "errors"]].sum()
         .rename(columns={"timestamp": "time", "requests": "total", "errors": "bad"}))
observed = bc.ObservedSoFar.from_frame(sofar, SLO)
print(f"{SERVICE}: {observed.bad:.0f} errors in {observed.total:.0f} requests over the "
      f"first {observed.elapsed / pd.Timedelta('1D'):g} days of the window; "
      f"now = {observed.now}")'''),
        md('''
## What the dashboards show
The observed burn rate per hour: the error ratio over the budget's (1 − 0.9995). A burn rate of 1
spends the budget exactly over the window.
'''),
        code('''
burn_per_hour = (sofar["bad"] / sofar["total"] / SLO.error_budget).set_axis(sofar["time"])
fig, ax = plt.subplots(figsize=(9, 3))
ax.plot(burn_per_hour.index, burn_per_hour, lw=0.8, label="observed burn rate (hourly)")
ax.plot(burn_per_hour.rolling(24).mean(), lw=2, label="24-hour mean")
ax.axhline(1, color="k", ls="--", lw=1, label="burn rate 1 (budget spent exactly)")
ax.axvline(DEPLOYED_AT, color="C3", lw=1, label=f"deploy {DEPLOYED_AT:%a %H:%M}")
ax.set(title=f"{SERVICE}: observed error-budget burn rate per hour", xlabel="time (UTC)",
       ylabel="burn rate (x budget)")
ax.legend(loc="upper left", fontsize=8);'''),
        md('''
## Fit the fleet with a deploy indicator
One hierarchical negative-binomial model of the whole fleet (the other services inform the
seasonality, the dispersion and the pooling), with a 0/1 covariate `deployed` that is 1 for
`r2-s0` after the deploy. Its coefficient is the deploy's rate ratio.
'''),
        code('''
model = bc.CountModel(
    "errors", "requests", exposure_unit="requests", time="timestamp",
    groups=["region", "service", "node"], covariates=["deployed"],
    family="negative_binomial", seasonality="daily",
)
model.fit(history, random_seed=1, thresholds=GATE, progressbar=False, **SAMPLER)
fit = model.fit_
fit.convergence'''),
        code('''
from bayescount.forecast import indicator_effect

effect = indicator_effect(fit, "deployed", ci=0.9)
print(f"The deploy multiplied {SERVICE}'s error rate by {effect['median']:.2f} "
      f"(90% interval {effect['lower']:.2f}-{effect['upper']:.2f}); "
      f"P(rate went up) = {effect['p_increase']:.3f}")'''),
        md('''
## Forecast the budget to the end of the window
Future traffic: the last two weeks' pattern at the same hour of the week
(`bc.future_from_history`), to the end of the 28-day window. Two scenarios: keep the deploy
(`deployed = 1`) or roll it back (`deployed = 0`).
'''),
        code('''
end = SLO.window_end(observed.now, observed.elapsed)
future = bc.future_from_history(rows, observed.now, end, time="timestamp",
                                exposure="requests", groups=["region", "service", "node"])
keep = bc.forecast_burn(fit, SLO, observed, future.assign(deployed=1.0))
rollback = bc.forecast_burn(fit, SLO, observed, future.assign(deployed=0.0))
print("\\n".join(keep.describe()))
keep.plot();'''),
        code('''
summary = pd.DataFrame({
    name: {"P(budget exhausted by window end)": fc.p_exhaust,
           "MC s.e.": fc.p_exhaust_mc_se,
           "budget left at window end (median)": fc.budget_remaining()["q0.5"],
           "decision": fc.decision.level, "rule": fc.decision.rule}
    for name, fc in {"keep the deploy": keep, "roll back now": rollback}.items()
}).T
summary'''),
        code('''
rules = pd.concat([r.to_frame() for r in keep.rules]).reset_index()
rules[["rule", "kind", "severity", "fired", "factor", "long_burn", "probability", "reason"]]'''),
        md('## The decision'),
        code('''
p_keep, p_back = keep.p_exhaust, rollback.p_exhaust
if keep.decision.level == "page":
    action = f"**Page**: {keep.decision.reason}."
elif p_keep >= 0.5 > p_back:
    action = (f"**Roll back `{SERVICE}` and freeze its deploys.** Keeping the deploy exhausts "
              f"the 28-day budget with probability {p_keep:.2f}; rolling back now, {p_back:.2f}.")
elif p_keep >= 0.5:
    action = (f"**Freeze deploys and open a ticket**: the budget is likely exhausted "
              f"(P = {p_keep:.2f}) even after a roll-back (P = {p_back:.2f}).")
elif keep.decision.level == "ticket":
    action = f"**Open a ticket** ({keep.decision.rule}): {keep.decision.reason}."
else:
    action = (f"**Carry on**: P(budget exhausted) is {p_keep:.2f} with the deploy; no rule fired.")
display(Markdown(
    f"{action}\\n\\nThe deploy multiplied the error rate by {effect['median']:.2f} "
    f"(90% interval {effect['lower']:.2f}-{effect['upper']:.2f}). "
    f"The simulation's truth: x{deploy['factor']:g} from {DEPLOYED_AT}."))'''),
    ]


def postmortem() -> list:
    return [
        md('''
# 03 · Postmortem: which service caused the incident, and how many errors?

**You are writing the postmortem of Tuesday's incident**: fleet-wide errors rose on 2026-01-06
between 10:00 and 12:00 UTC. The postmortem needs (1) the windows and series that were abnormal,
(2) the group the excess errors came from, with an interval, and (3) how many errors the incident
cost.

The baseline is a model fitted on the week *before* the incident day, so the incident does not
contaminate it (with the incident inside the training data, drop it first with
`bc.mask_incident`).
'''),
        code(setup() + '''

fleet = bc.load_example_fleet()
START, END = pd.Timestamp("2026-01-06 10:00"), pd.Timestamp("2026-01-06 12:00")  # the ticket
data = fleet.incident          # 08:00-14:00 of the incident day, every node
print(len(fleet.fleet), "training rows;", len(data), "rows around the incident")'''),
        code(FLEET_MODEL),
        md('''
## Which windows were abnormal?
A window is flagged once a node has been outside its 99 % predictive interval, on the same side,
for two windows in a row.
'''),
        code('''
anomalies = bc.detect_anomalies(fit, data, prob=0.99, consecutive=2)
alerts = anomalies.alerts()
alerts'''),
        code('''
anomalies.plot();'''),
        md('''
## Where did the excess errors come from?
Predictive draws of every incident row, summed per group draw by draw: observed minus expected,
with a 90 % interval; significance controls the false discovery rate over all groups.
'''),
        code('''
attribution = bc.attribute_incident(fit, data, START, END, prob=0.9)
attribution.top("service", 5)[["group", "observed", "expected", "excess", "excess_lower",
                                "excess_upper", "p_adjusted", "significant"]]'''),
        code('''
attribution.plot(level="service");'''),
        code('''
attribution.top("node", 6)[["group", "observed", "expected", "excess", "excess_lower",
                             "excess_upper", "significant"]]'''),
        md('''
## Check against the truth
The example fleet is simulated, so the excess the incident really caused is known: the true mean
with the incident minus without it.
'''),
        code('''
window = data[data["timestamp"].between(START, END, inclusive="left")]
true_excess = pd.Series(
    fleet.truth.expected_errors(window) - fleet.truth.expected_errors(window, incident=False),
    index=window.index).groupby(window["service"]).sum()
true_excess[true_excess > 0].rename("true excess (mean)")'''),
        md('''
## Incident, or something that was already there?
A service with excess errors *before* the incident window too has a level shift that started
earlier (a deploy, a config change): part of the background, not of this incident. The same
attribution over 08:00-10:00:
'''),
        code('''
before = bc.attribute_incident(fit, data, data["timestamp"].min(), START, prob=0.9)
earlier = before.table[before.table["level"] == "service"].set_index("group")
ratio_before = (earlier["observed"] / earlier["expected"]).rename("observed / expected")
already = set(earlier.index[earlier["significant"]])
columns = ["observed", "expected", "excess", "excess_lower", "excess_upper", "significant"]
earlier.assign(ratio=ratio_before).sort_values("excess", ascending=False).head(5)[
    [*columns, "ratio"]]'''),
        md('## The postmortem finding'),
        code('''
services = attribution.table[attribution.table["level"] == "service"]
hits = services[services["significant"]].sort_values("excess", ascending=False)
if hits.empty:
    finding = ("**No service shows a credible excess** in the incident window: look outside "
               "this model (dependencies, clients) before blaming a service.")
else:
    top = hits.iloc[0]
    share = top["excess"] / services.loc[services["excess"] > 0, "excess"].sum()
    others = ", ".join(
        f"`{g}` (already x{ratio_before[g]:.1f} before 10:00: a level shift, not this "
        "incident)" if g in already
        else f"`{g}`" for g in hits["group"].iloc[1:]) or "none"
    finding = (
        f"**Attribute the incident to `{top['group']}`**: {top['observed']:.0f} errors against "
        f"{top['expected']:.0f} expected, an excess of {top['excess']:.0f} "
        f"(90% interval {top['excess_lower']:.0f}-{top['excess_upper']:.0f}), "
        f"{share:.0%} of the positive excess of all services. Other significant services: "
        f"{others}. Anomaly alerts (2 windows in a row beyond the 99% interval): "
        f"{len(alerts)}, on {', '.join(f'`{s}`' for s in alerts['series'].unique()) or 'none'}.")
display(Markdown(finding + f"\\n\\nTruth: `{fleet.truth.incident['service']}` x"
                 f"{fleet.truth.incident['factor']:g}, true excess "
                 f"{true_excess.get(fleet.truth.incident['service'], 0):.0f}."))'''),
    ]


def capacity() -> list:
    return [
        md('''
# 04 · Capacity planning: can each region take 30 % more traffic?

**You plan capacity for next quarter.** Marketing expects traffic × 1.3. Each region's on-call
pager fires when a region logs more than **`LIMIT`** errors in one hour, and you accept at most a
5 % chance of that on a normal day. For each region: the peak hourly errors of a day now and at
× 1.3 (quantiles, not a point guess), the chance of crossing the limit, and the largest traffic
multiplier that keeps that chance under 5 %. And: what would a new region "like `r1`" add?

Base day: tomorrow's traffic (`future.csv`: every node's requests of the same hours yesterday).
'''),
        code(setup(pandas=False, extra="from bayescount.forecast import NewRegion, Traffic") + '''

fleet = bc.load_example_fleet()
LIMIT = 500          # errors per region-hour that page the region's on-call
RISK = 0.05
base = fleet.future  # one day of hourly windows, every node, requests only
base.groupby("region")["requests"].sum().rename("requests tomorrow")'''),
        code(FLEET_MODEL),
        code('''
capacity = bc.forecast_capacity(
    fit, base, [Traffic(1.3), NewRegion("r4", like="r1")], threshold=LIMIT, risk=RISK,
    levels=["region"],
)
table = capacity.to_frame()
table[table["level"] == "region"].round(3)'''),
        code('''
capacity.plot(level="region");'''),
        md('## The capacity decision'),
        code('''
regions = table[table["level"] == "region"].set_index(["scenario", "group"])
today, grown = regions.xs("current"), regions.xs(Traffic(1.3).label)
lines = []
for region, row in grown.iterrows():
    verdict = ("**needs work before the growth**" if row["p_exceed"] > RISK
               else "takes the growth")
    lines.append(f"- `{region}` {verdict}: peak-hour errors at x1.3 median {row['q0.5']:.0f} "
                 f"(90% {row['q0.05']:.0f}-{row['q0.95']:.0f}), P(> {LIMIT}) = "
                 f"{row['p_exceed']:.3f} (today {today.loc[region, 'p_exceed']:.3f}); safe up "
                 f"to x{today.loc[region, 'max_multiplier']:.2f} today's traffic.")
new = regions.xs(NewRegion("r4", like="r1").label).loc["r4"]
lines.append(f"- a new region like `r1` would peak at median {new['q0.5']:.0f} errors an hour "
             f"(90% {new['q0.05']:.0f}-{new['q0.95']:.0f}, P(> {LIMIT}) = "
             f"{new['p_exceed']:.2f}): wide, because a new region's effect is drawn from the "
             "spread of the regions we have.")
at_risk = grown.index[grown["p_exceed"] > RISK].tolist()
head = (f"**Act on {', '.join(f'`{r}`' for r in at_risk)}** before traffic grows 30 %: lower "
        f"their error rate, add capacity or move the paging limit."
        if at_risk else "**No region needs work for 30 % more traffic.**")
display(Markdown(head + "\\n\\n" + "\\n".join(lines)))'''),
    ]


def real_data() -> list:
    return [
        md('''
# 05 · Real data: NASA web server 404s, with honest coverage

Real telemetry is messier than the example fleet. Here: the NASA Kennedy Space Center web server on
1 August 1995 (`data/nasa_http/`, per-minute requests and status codes; see its README), in
5-minute windows. The trace has no 5xx replies, so **404 replies stand in for bad events**.

**The situation.** It is 08:00. An SLO says 99 % of requests are not 404 over 02:00-14:00. There
was a burst of 404s at 03:00-04:00. Before trusting the model to page anyone, ask: are its
intervals honest on hours it has not seen? Then: will the budget last until 14:00?
'''),
        code(setup(path=True, numpy=True) + '''

DATA = Path("..") / "data" / "nasa_http" / "nasa_http_19950801_per_minute.csv"
raw = pd.read_csv(DATA, parse_dates=["minute_start_local_minus0400"])
windows = (raw.set_index("minute_start_local_minus0400")[["requests", "status_404"]]
           .resample("5min").sum().reset_index())
windows.columns = ["time", "requests", "bad"]
NOW, STOP = pd.Timestamp("1995-08-01 08:00"), pd.Timestamp("1995-08-01 14:00")
BURST = (pd.Timestamp("1995-08-01 03:00"), pd.Timestamp("1995-08-01 04:00"))
windows = windows[windows["time"] < STOP]
past, later = windows[windows["time"] < NOW], windows[windows["time"] >= NOW]
fig, ax = plt.subplots(figsize=(9, 3))
ax.bar(windows["time"], windows["bad"], width=0.003, label="404s per 5 min")
ax.axvspan(*BURST, color="C1", alpha=0.2, label="burst (masked for the baseline)")
ax.axvline(NOW, color="k", ls="--", label="now (08:00)")
ax.set(title="NASA-HTTP, 1 Aug 1995: 404 replies per 5-minute window", xlabel="local time",
       ylabel="404s per window")
ax.legend(fontsize=8);'''),
        md('''
### Your own server instead
Set `BAYESCOUNT_PROMETHEUS_URL` (and, if your counters are named differently,
`BAYESCOUNT_PROMETHEUS_TOTAL` / `BAYESCOUNT_PROMETHEUS_BAD`) before starting Jupyter, and this cell
pulls the last 12 hours of exact 5-minute counts from it (`bc.read_prometheus`, see
the Prometheus how-to in `docs/howto/prometheus.md`); the rest of the notebook then runs on them,
with "now" six hours ago and no burst masked. Without a server it keeps the bundled trace.
'''),
        code('''
import os

URL = os.environ.get("BAYESCOUNT_PROMETHEUS_URL")
if URL:
    end = pd.Timestamp.now(tz="UTC").floor("5min")
    pulled = bc.read_prometheus(
        URL,
        counts={"bad": os.environ.get("BAYESCOUNT_PROMETHEUS_BAD",
                                      'http_requests_total{code="404"}')},
        exposure={"requests": os.environ.get("BAYESCOUNT_PROMETHEUS_TOTAL",
                                             "http_requests_total")},
        start=(end - pd.Timedelta("12h")).isoformat(), end=end.isoformat(), step="5m",
    )
    windows = pulled.rename(columns={"timestamp": "time"})[["time", "requests", "bad"]]
    windows["time"] = windows["time"].dt.tz_localize(None)
    STOP = windows["time"].max() + pd.Timedelta("5min")
    NOW = end.tz_localize(None) - pd.Timedelta("6h")
    BURST = (windows["time"].min(), windows["time"].min())
    past, later = windows[windows["time"] < NOW], windows[windows["time"] >= NOW]
print(f"{len(windows)} windows from {URL or 'the bundled NASA-HTTP trace'}")'''),
        md('''
## A baseline without the burst
Negative binomial, exposure = requests, fitted on 02:00-08:00 with the burst hour dropped.
'''),
        code('''
baseline = bc.mask_incident(past, "time", *BURST)
model = bc.CountModel("bad", "requests", exposure_unit="requests", time="time",
                      family="negative_binomial")
model.fit(baseline, random_seed=1, thresholds=GATE, progressbar=False, **SAMPLER)
fit = model.fit_
fit.convergence'''),
        md('''
## Honest coverage on the next six hours
Each held-out window's count against the model's central predictive intervals (randomised PIT for
the discreteness of counts); the band is the binomial range a calibrated model stays inside.
'''),
        code('''
coverage = bc.coverage_report(fit, later, probs=[0.5, 0.8, 0.9, 0.95])
coverage.plot();'''),
        code('''
cov = coverage.to_frame().loc["overall"]
cov'''),
        md('''
## Will the error budget last until 14:00?
Future traffic: the last six hours repeated (no oracle), `bc.scale_traffic`.
'''),
        code('''
SLO = bc.SLOSpec(0.99, "12h", name="nasa-404")
observed = bc.ObservedSoFar.from_frame(
    past.rename(columns={"requests": "total"})[["time", "bad", "total"]], SLO)
scenario = bc.scale_traffic(past[["time", "requests"]], 1.0, shift="6h", exposure="requests",
                            time="time")
burn = bc.forecast_burn(fit, SLO, observed, scenario)
print("\\n".join(burn.describe()))
burn.plot();'''),
        code('''
actual = (observed.bad + later["bad"].sum()) / (SLO.error_budget
                                                 * (observed.total + later["requests"].sum()))
print(f"What happened: {actual:.2f} of the budget consumed by 14:00 "
      f"(forecast median {np.median(burn.draws['consumed'].values):.2f}).")'''),
        md('## The decision'),
        code('''
row = cov.xs(0.9, level="level").iloc[0]
honest = row["verdict"] == "calibrated"
trust = (f"The 90% intervals covered {row['coverage']:.0%} of the {int(row['n'])} held-out "
         "windows "
         f"(binomial band {row['lower']:.0%}-{row['upper']:.0%}; verdict: {row['verdict']}): "
         + ("**calibrated enough to page on.**" if honest else
            "**not calibrated: widen the model (a latent level, `latent=\\"ar1\\"`) before "
            "paging on it.**"))
act = (f"Burn forecast: P(budget exhausted by {burn.horizon_end:%H:%M}) = {burn.p_exhaust:.2f} "
       f"(MC s.e. {burn.p_exhaust_mc_se:.2f}); decision **{burn.decision.level}**"
       + (f" ({burn.decision.rule}: {burn.decision.reason})" if burn.decision.rule else "")
       + f". What happened: {actual:.2f} of the budget consumed by 14:00.")
display(Markdown(trust + "\\n\\n" + act))'''),
    ]


NOTEBOOKS = {
    "01_quickstart": quickstart,
    "02_slo_burn_forecast": slo_burn,
    "03_postmortem_investigation": postmortem,
    "04_capacity_planning": capacity,
    "05_real_data": real_data,
}


def build(names: list[str] | None = None) -> list[Path]:
    """Write the notebooks' sources; return their paths."""
    out = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook(cells=cells(), metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        })
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        out.append(path)
    return out


if __name__ == "__main__":
    import sys

    for p in build(sys.argv[1:]):
        print(p)
