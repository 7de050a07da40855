"""How per-gradient time grows with rows and with the number of series: one PNG.

Reads ``gradient.json`` (``gradient.py``: logp + gradient compiled as nutpie does, timed
alone) and ``bench_fit.json`` (``bench_fit.py``: sampling seconds x chains in parallel /
leapfrog steps, i.e. inside a real run) and draws, per family, per-gradient milliseconds
against rows on log-log axes, one colour per contender:

* solid lines and filled circles: ``gradient.py`` at the 400-series sizes (S -> M -> L);
* dashed lines and open squares: the same measured inside sampling (``bench_fit.py``);
* triangles, labelled with their series count: the other fleet shapes (``S4k``: 4,000
  series at S's 50 windows, 10x the groups of S; ``XS``: the smoke test), so growth with
  the number of groups reads against growth with rows at a fixed 400 series.

Several files of each kind may be given (e.g. a separate L run); missing ones are
skipped. Run: ``python benchmarks/growth_plot.py [--gradient
benchmarks/results/gradient.json ...] [--fit benchmarks/results/bench_fit.json ...]
[--out docs/img/scaling.png]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
FAMILIES = ("poisson", "negative_binomial")
REFERENCE_SERIES = 400  # 4 regions x 25 services x 4 nodes (S, M, L)
COLOURS = {"bayescount": "C0", "bayescount_rows": "C9", "handwritten": "C1",
           "handwritten_cells": "C2", "bambi": "C3", "bambi_literal": "C4"}


def _series(row: dict) -> int | None:
    """Series of a row: recorded by ``gradient.py``, else from its size's shape."""
    if row.get("series"):
        return int(row["series"])
    from gradient import SHAPES, n_series  # older gradient.json rows (imports PyMC)

    return n_series(row["size"]) if row.get("size") in SHAPES else None


def points(path: Path, source: str) -> list[dict]:
    """``(contender, family, rows, series, ms)`` of every measured row of ``path``."""
    if not path.exists():
        print(f"growth_plot.py: {path} not found; drawing without it", file=sys.stderr)
        return []
    out = []
    for r in json.loads(path.read_text())["rows"]:
        ms = r.get("ms_per_gradient")
        if ms is None or not r.get("rows"):
            continue
        out.append({"source": source, "contender": r["contender"], "family": r["family"],
                    "rows": int(r["rows"]), "series": _series(r), "ms": float(ms)})
    return out


def draw(data: list[dict], out: Path) -> Path:
    """Draw the per-gradient growth plot of ``data`` to ``out`` (PNG)."""
    fig, axes = plt.subplots(1, len(FAMILIES), figsize=(12, 4.8), sharey=True,
                             layout="constrained")
    for ax, family in zip(axes, FAMILIES, strict=True):
        fam = [d for d in data if d["family"] == family]
        for source, style in (("gradient", {"ls": "-", "marker": "o", "mfc": None}),
                              ("sampling", {"ls": "--", "marker": "s", "mfc": "none"})):
            for contender in sorted({d["contender"] for d in fam if d["source"] == source}):
                colour = COLOURS.get(contender, "k")
                pts = sorted((d for d in fam if d["source"] == source
                              and d["contender"] == contender), key=lambda d: d["rows"])
                ref = [d for d in pts if d["series"] == REFERENCE_SERIES]
                label = contender if source == "gradient" else f"{contender} (in sampling)"
                if ref:
                    ax.plot([d["rows"] for d in ref], [d["ms"] for d in ref], color=colour,
                            ls=style["ls"], marker=style["marker"],
                            mfc=style["mfc"] or colour, label=label)
                for d in pts:
                    if d["series"] == REFERENCE_SERIES:
                        continue
                    ax.plot(d["rows"], d["ms"], color=colour, marker="^", ls="none",
                            mfc=colour if source == "gradient" else "none",
                            label=None if ref else label)
                    ax.annotate(f"{d['series']:,} series", (d["rows"], d["ms"]),
                                textcoords="offset points", xytext=(4, 4), fontsize=7,
                                color=colour)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: no overlapping labels
        ax.set_yscale("log")
        ax.set_title(family.replace("_", " "))
        ax.set_xlabel("rows (5-minute windows x series)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("ms per gradient (logp + gradient)")
    fig.suptitle("Per-gradient time vs rows: lines at 400 series (S, M, L); "
                 "triangles: other series counts", fontsize=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gradient", nargs="+", default=[str(HERE / "results" / "gradient.json")],
                        help="gradient.py JSON file(s), e.g. one per run")
    parser.add_argument("--fit", nargs="+", default=[str(HERE / "results" / "bench_fit.json")],
                        help="bench_fit.py JSON file(s)")
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "img" / "scaling.png"))
    a = parser.parse_args()
    data = [d for path in a.gradient for d in points(Path(path), "gradient")]
    data += [d for path in a.fit for d in points(Path(path), "sampling")]
    if not data:
        parser.error(f"no per-gradient rows in {a.gradient} or {a.fit}; run gradient.py "
                     "and bench_fit.py first")
    print(f"wrote {draw(data, Path(a.out))} ({len(data)} points)")


if __name__ == "__main__":
    main()
