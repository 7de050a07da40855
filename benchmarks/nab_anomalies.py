"""Anomaly flags on NAB Twitter-volume series vs a static mean + 3 sd threshold.

For each labelled anomaly window of the chosen series (data/nab, 5-minute mention
counts aggregated to ``--freq``, default 30-minute counts):

* training data: the 14 days before ``window start - 1 day`` (bins inside any
  labelled window of the file are dropped);
* models (``--models``): negative binomial (``nb``), or Poisson with a latent AR(1)
  level with asymmetric Laplace innovations (``latent``), no exposure (window length 1), daily +
  weekly Fourier seasonality, fitted with NUTS;
* evaluation span: ``[window start - 1 day, window end + 1 day)``; flags from
  :func:`bayescount.forecast.detect_anomalies` with k = 1 or 2 windows in a row, either
  at the default 99 % central interval (both directions), or at the level matching the
  baseline's 3 sigma (central 99.74 %, upper tail 0.13 %) counting spikes only, as the
  baseline does;
* baseline: a bin above the training mean + 3 sd (k = 1 or 2 bins in a row).

An alert is a run of flagged bins; it is a true positive when it is raised (its k-th
window) inside a labelled window. Precision = true alerts / alerts; recall = labelled
windows with at least one true alert / windows; delay = first true alert - window
start, and relative to the NAB label point (the anomaly itself; windows are wide and
centered on it; the first label point of the window is used).

Run: ``.venv/bin/python benchmarks/nab_anomalies.py [--draws 500] [--series GOOG IBM KO]``.
Writes the table between the ``nab-table`` markers of docs/decisions.md.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayescount import ConvergenceThresholds, CountModel
from bayescount.exceptions import ConvergenceWarning
from bayescount.forecast import detect_anomalies

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "nab"
DOC = ROOT / "docs" / "decisions.md"
START, END = "<!-- nab-table:start -->", "<!-- nab-table:end -->"


def aggregate(name: str, freq: str) -> pd.DataFrame:
    raw = pd.read_csv(DATA / f"Twitter_volume_{name}.csv", parse_dates=["timestamp"])
    series = raw.set_index("timestamp")["value"]
    out = series.resample(freq).sum().reset_index()
    # Drop partial first/last bins so every count covers the same number of 5-min steps.
    n = series.resample(freq).count().to_numpy()
    return out[n == n.max()].reset_index(drop=True)


def in_any(times: pd.Series, windows: list[tuple[pd.Timestamp, pd.Timestamp]],
           freq: str) -> np.ndarray:
    mask = np.zeros(len(times), dtype=bool)
    for a, b in windows:
        mask |= ((times >= a.floor(freq)) & (times <= b)).to_numpy()
    return mask


def runs(flag: np.ndarray, times: pd.Series, k: int) -> list[pd.Timestamp]:
    """Alert times (k-th window of each run of flags)."""
    out, length = [], 0
    for i, f in enumerate(flag):
        length = length + 1 if f else 0
        if length == k:
            out.append(times.iloc[i])
    return out


def score(alerts, windows, point, ws, we, freq) -> dict:
    true = [a for a in alerts if any(a >= x.floor(freq) and a <= y for x, y in windows)]
    hit = [a for a in true if ws.floor(freq) <= a <= we]
    first = min(hit) if hit else None
    hour = pd.Timedelta(hours=1)
    return {
        "alerts": len(alerts), "true_alerts": len(true), "detected": first is not None,
        "delay_h": (first - ws.floor(freq)) / hour if first else np.nan,
        "delay_vs_label_h": (first - point.floor(freq)) / hour if first else np.nan,
    }


#: Model options and the label of their rows.
MODELS = {
    "nb": ("NB", {"family": "negative_binomial"}),
    "latent": ("AR1-skew-Laplace", {"family": "poisson", "latent": "ar1_skew_laplace"}),
}


def evaluate(name: str, draws: int, seed: int, freq: str,
             models: tuple[str, ...] = ("nb",)) -> list[dict]:
    counts = aggregate(name, freq)
    labels = json.loads((DATA / "anomaly_windows.json").read_text())[
        f"realTweets/Twitter_volume_{name}.csv"]
    points = json.loads((DATA / "anomaly_label_points.json").read_text())[
        f"realTweets/Twitter_volume_{name}.csv"]
    windows = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in labels]
    rows = []
    for ws, we in windows:
        # NAB windows are built around label points; some windows hold two.
        point = min(pd.Timestamp(p) for p in points if ws <= pd.Timestamp(p) <= we)
        span_start, span_end = ws - pd.Timedelta("1D"), we + pd.Timedelta("1D")
        t = counts["timestamp"]
        train = counts[(t >= span_start - pd.Timedelta("14D")) & (t < span_start)]
        train = train[~in_any(train["timestamp"], windows, freq)]
        if len(train) * pd.Timedelta(freq) < pd.Timedelta("5D"):
            print(f"{name} {ws}: only {len(train)} training windows; skipped")
            continue
        test = counts[(t >= span_start) & (t < span_end)].reset_index(drop=True)
        methods, fit_s, converged, coverage, label_of = {}, {}, {}, {}, {}
        normal = ~in_any(test["timestamp"], windows, freq)
        for key in models:
            label, options = MODELS[key]
            model = CountModel("value", None, time="timestamp",
                               seasonality="daily:3,weekly:2", **options)
            tic = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model.fit(train, draws=draws, tune=draws, chains=2, random_seed=seed,
                          progressbar=False, thresholds=ConvergenceThresholds(min_ess=200))
            for level, name_l, high_only in ((0.99, "99% both sides", False),
                                             (0.9974, "3-sigma level, spikes only", True)):
                for k in (1, 2):
                    method = f"bayescount {label} {name_l} (k={k})"
                    report = detect_anomalies(model, test, prob=level, consecutive=k)
                    if level == 0.99 and k == 1:
                        by_time = report.table.set_index("timestamp")["direction"]
                        beyond = (by_time.loc[test["timestamp"][normal]] != 0).to_numpy()
                        coverage[label] = 1.0 - beyond.mean()
                    alerts = report.alerts()
                    if high_only:
                        alerts = alerts[alerts["direction"] == "high"]
                    methods[method] = list(alerts["alert_at"])
                    fit_s[method] = time.perf_counter() - tic
                    converged[method] = not any(
                        issubclass(w.category, ConvergenceWarning) for w in caught)
                    label_of[method] = label
        mean, sd = train["value"].mean(), train["value"].std()
        over = test["value"].to_numpy() > mean + 3 * sd
        for k in (1, 2):
            methods[f"mean+3sd (k={k})"] = runs(over, test["timestamp"], k)
        for method, alerts in methods.items():
            label = label_of.get(method)
            rows.append({"series": name, "window": str(ws), "method": method,
                         **score(alerts, windows, point, ws, we, freq),
                         "fit_s": fit_s.get(method, np.nan),
                         "converged": converged.get(method, ""),
                         "coverage_99_outside_labels": coverage[label] if label else np.nan})
        print(f"{name} {ws}: alerts "
              + ", ".join(f"{m}: {len(a)}" for m, a in methods.items()))
    return rows


def summary(results: pd.DataFrame) -> pd.DataFrame:
    out = []
    for method, part in results.groupby("method", sort=False):
        alerts = part["alerts"].sum()
        out.append({
            "method": method,
            "windows": len(part),
            "alerts": int(alerts),
            "precision": part["true_alerts"].sum() / alerts if alerts else np.nan,
            "recall": part["detected"].mean(),
            "median delay from window start (h)": part["delay_h"].median(),
            "median delay from label point (h)": part["delay_vs_label_h"].median(),
            "99% interval coverage outside labels": part["coverage_99_outside_labels"].mean()
            if "99% both sides" in method else np.nan,
        })
    return pd.DataFrame(out)


def markdown(frame: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub markdown table (no tabulate dependency)."""
    def cell(v):
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_doc(table: pd.DataFrame, detail: pd.DataFrame, args) -> None:
    body = "\n".join([
        START,
        f"_Generated by `benchmarks/nab_anomalies.py --draws {args.draws} --freq {args.freq} "
        f"--models {' '.join(args.models)} "
        f"--series {' '.join(args.series)}` ({detail['window'].nunique()} labelled windows)._",
        "",
        markdown(table),
        "",
        "<details><summary>Per window</summary>",
        "",
        markdown(detail.drop(columns=["fit_s", "coverage_99_outside_labels"]), 1),
        "",
        "</details>",
        END,
    ])
    text = DOC.read_text()
    if START in text and END in text:
        text = text[: text.index(START)] + body + text[text.index(END) + len(END):]
    else:
        text += "\n" + body + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=["GOOG", "IBM", "KO"])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["nb", "latent"])
    parser.add_argument("--freq", default="30min", help="aggregation of the 5-min counts")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--save-csv", metavar="PATH", help="also write the per-window rows")
    parser.add_argument("--from-csv", metavar="PATH",
                        help="summarise rows saved by --save-csv instead of fitting")
    args = parser.parse_args()
    if args.from_csv:
        detail = pd.read_csv(args.from_csv)
    else:
        detail = pd.DataFrame([r for name in args.series
                               for r in evaluate(name, args.draws, args.seed, args.freq,
                                                 tuple(args.models))])
    if args.save_csv:
        detail.to_csv(args.save_csv, index=False)
    table = summary(detail)
    print(table.to_string(index=False))
    if not args.no_doc:
        write_doc(table, detail, args)


if __name__ == "__main__":
    main()
