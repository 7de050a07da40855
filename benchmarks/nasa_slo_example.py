"""SLO burn forecast on real request counts: NASA-HTTP, 1 Aug 1995 (data/nasa_http).

The trace has no 5xx replies, so the "bad" events here are 404 replies (a stand-in:
real SLOs rarely count client errors). Counts are aggregated to 5-minute windows.

* SLO: 99 % of requests not 404, over a 12-hour window 02:00-14:00 (the trace covers
  02:00-14:52, so a short window is the honest choice).
* Now = 08:00: 6 hours observed, with a burst of 85 404s at 03:00-04:00.
* Error models (negative binomial, exposure = requests) fitted on 02:00-08:00, with
  and without the burst hour masked.
* Future traffic 08:00-14:00 three ways: the traffic that actually came (an oracle
  scenario), a request-count model (exposure = window minutes), and last-6-hours x 1.3.
* Compared with what happened by 14:00; and the SRE Workbook rules (30-day factors,
  as they are deployed) replayed on the observed 5-minute series.

Run: ``.venv/bin/python benchmarks/nasa_slo_example.py [--draws 500]``; writes the
section between the ``nasa-example`` markers of docs/decisions.md.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayescount import ConvergenceThresholds, CountModel
from bayescount.exceptions import ConvergenceWarning
from bayescount.forecast import (
    ObservedSoFar,
    SLOSpec,
    forecast_burn,
    mask_incident,
    scale_traffic,
    sre_workbook_rules,
)
from bayescount.forecast.burn_rules import check_observed

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "nasa_http" / "nasa_http_19950801_per_minute.csv"
DOC = ROOT / "docs" / "decisions.md"
START, END = "<!-- nasa-example:start -->", "<!-- nasa-example:end -->"
DAY = "1995-08-01 "
NOW, STOP = pd.Timestamp(DAY + "08:00"), pd.Timestamp(DAY + "14:00")
BURST = (pd.Timestamp(DAY + "03:00"), pd.Timestamp(DAY + "04:00"))


def windows() -> pd.DataFrame:
    raw = pd.read_csv(CSV, parse_dates=["minute_start_local_minus0400"])
    agg = raw.set_index("minute_start_local_minus0400")[["requests", "status_404"]]
    out = agg.resample("5min").sum().reset_index()
    out.columns = ["time", "requests", "bad"]
    out["minutes"] = 5.0
    return out[out["time"] < STOP].reset_index(drop=True)


def fit(model: CountModel, frame: pd.DataFrame, draws: int) -> tuple[CountModel, float, bool]:
    tic = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(frame, draws=draws, tune=draws, chains=2, random_seed=1, progressbar=False,
                  thresholds=ConvergenceThresholds(min_ess=200))
    return model, time.perf_counter() - tic, not caught


def rule_replay(frame: pd.DataFrame) -> pd.DataFrame:
    """First time each 30-day workbook rule fires on the observed 5-minute series."""
    slo30 = SLOSpec(0.99, "30d")
    rules = sre_workbook_rules(slo30)
    series = frame.rename(columns={"requests": "total"})[["time", "bad", "total"]]
    first: dict[str, pd.Timestamp | None] = {r.name: None for r in rules}
    for t in series["time"] + pd.Timedelta(minutes=5):
        for res in check_observed(series[series["time"] < t], slo30, rules, now=t):
            if res.fired and first[res.rule] is None:
                first[res.rule] = t
    return pd.DataFrame([{"rule": r.name, "factor": r.factor, "first fired": first[r.name]}
                         for r in rules])


def markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(v):
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return "" if v is None or v is pd.NaT else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    data = windows()
    past, future = data[data["time"] < NOW], data[data["time"] >= NOW]
    slo = SLOSpec(0.99, "12h", name="nasa-404")
    observed = ObservedSoFar.from_frame(
        past.rename(columns={"requests": "total"})[["time", "bad", "total"]], slo)
    errors = CountModel("bad", "requests", time="time", family="negative_binomial")
    calm = CountModel("bad", "requests", time="time", family="negative_binomial")
    traffic = CountModel("requests", "minutes", time="time", family="negative_binomial")
    full, t_full, ok_full = fit(errors, past, args.draws)
    masked, t_masked, ok_masked = fit(calm, mask_incident(past, "time", *BURST), args.draws)
    traffic, t_traffic, ok_traffic = fit(traffic, past, args.draws)
    scenario = scale_traffic(past, 1.3, shift="6h", exposure="requests", time="time")
    runs = [
        ("errors: all 6 h; traffic: actual (oracle)", full, future, None),
        ("errors: burst hour masked; traffic: actual (oracle)", masked, future, None),
        ("errors: burst hour masked; traffic: request-count model", masked,
         future[["time", "minutes"]], traffic),
        ("errors: burst hour masked; traffic: last 6 h x 1.3", masked, scenario, None),
    ]
    rows = []
    for label, model, fut, tm in runs:
        fc = forecast_burn(model, slo, observed, fut, traffic_model=tm, random_seed=2,
                           keep_rows=True)
        burns = fc.burn_rates().set_index("horizon")
        rows.append({
            "forecast": label,
            "P(exhaust by 14:00)": fc.p_exhaust,
            "MC s.e.": fc.p_exhaust_mc_se,
            "consumed at 14:00 (median)": float(np.median(fc.draws["consumed"].values)),
            "consumed 90% interval": "{:.2f}-{:.2f}".format(
                *np.quantile(fc.draws["consumed"].values, [0.05, 0.95])),
            "burn next 1h (median)": burns.loc["1h", "q0.5"],
            "burn next 6h (median)": burns.loc["6h", "q0.5"],
            "future requests (median)": float(np.median(fc.future.total.sum(-1))),
            "decision": f"{fc.decision.level} ({fc.decision.rule})",
        })
    actual_bad, actual_total = future["bad"].sum(), future["requests"].sum()
    consumed = (observed.bad + actual_bad) / (0.01 * (observed.total + actual_total))
    first_hour = future[future["time"] < NOW + pd.Timedelta("1h")]
    rows.append({
        "forecast": "what happened",
        "P(exhaust by 14:00)": float(consumed > 1),
        "consumed at 14:00 (median)": consumed,
        "burn next 1h (median)": first_hour["bad"].sum() / first_hour["requests"].sum() / 0.01,
        "burn next 6h (median)": actual_bad / actual_total / 0.01,
        "future requests (median)": float(actual_total),
    })
    table = pd.DataFrame(rows)
    replay = rule_replay(data)
    print(table.to_string(index=False))
    print(replay.to_string(index=False))
    if args.no_doc:
        return
    body = "\n".join([
        START,
        f"_Generated by `benchmarks/nasa_slo_example.py --draws {args.draws}`; fits took "
        f"{t_full:.0f} s, {t_masked:.0f} s and {t_traffic:.0f} s (convergence gate at ESS 200: "
        f"{'passed' if ok_full and ok_masked and ok_traffic else 'FAILED for some'})._",
        "",
        f"Observed 02:00-08:00: {observed.bad:.0f} bad of {observed.total:.0f} requests "
        f"(burn {observed.bad / observed.total / 0.01:.2f}x).",
        "",
        markdown(table),
        "",
        "SRE Workbook rules (30-day factors) replayed on the observed 5-minute series, "
        "02:00-14:00:",
        "",
        markdown(replay),
        END,
    ])
    text = DOC.read_text()
    if START in text and END in text:
        text = text[: text.index(START)] + body + text[text.index(END) + len(END):]
    else:
        text += "\n" + body + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
