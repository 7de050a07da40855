"""Sections about the fit itself: data, model, convergence gate, PPC, pooling.

Each builder takes a :class:`~bayescount.Fit` and returns a
:class:`~bayescount.reports.content.Section`; the checks behind them are the library's
own (:func:`~bayescount.checks.check_model`, :func:`~bayescount.plots.plot_rootogram`),
run on posterior predictive draws only.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from bayescount.checks.ppc import check_model
from bayescount.inference.draws import label_variable
from bayescount.inference.fit import Fit
from bayescount.plots.rootogram import plot_rootogram
from bayescount.reports.content import Figure, Section, Table, fmt, table_from_frame
from bayescount.reports.gate import Gate
from bayescount.reports.pooling import pooling_table, rate_scale
from bayescount.results import figure_of

__all__ = [
    "data_section",
    "default_level",
    "gate_section",
    "model_section",
    "pooling_section",
    "ppc_section",
]

#: Groups shown in the grouped rootogram (those with the smallest PPC p-values).
WORST_GROUPS = 4

_FAMILIES = {
    "poisson": "Poisson (variance = mean)",
    "negative_binomial": "negative binomial NB2 (variance = mu + mu^2 / alpha)",
    "zero_inflated_poisson": "zero-inflated Poisson (structural zeros with probability 1 - psi)",
    "zero_inflated_negative_binomial": "zero-inflated negative binomial",
}


def default_level(fit: Fit) -> str | None:
    """Return the level the report breaks results down by.

    The level above the innermost of a nested hierarchy (``service`` of region →
    service → node), the only level of a one-level model, the first of crossed
    levels, ``None`` without groups.
    """
    groups = list(fit.schema.groups)
    if not groups:
        return None
    if fit.schema.nesting == "nested" and len(groups) > 1:
        return groups[-2]
    return groups[0]


# --------------------------------------------------------------------------- data
def data_section(fit: Fit) -> Section:
    """Rows, windows, groups, exposure and zeros of the training data."""
    _, rows = fit.training_rows()
    schema = fit.schema
    counts = rows[schema.counts].to_numpy()
    exposure_col = schema.exposure or "exposure"
    unit = schema.exposure_unit or "exposure units"
    facts = [("rows (windows x series)", fmt(len(rows))),
             ("events", f"{fmt(int(counts.sum()))} {schema.counts}"),
             ("exposure", f"{fmt(float(rows[exposure_col].sum()))} {unit}"),
             ("zero counts", f"{np.mean(counts == 0):.1%} of rows")]
    if schema.time is not None and schema.time in rows:
        stamps = pd.to_datetime(rows[schema.time])
        distinct = stamps.drop_duplicates().sort_values()
        step = distinct.diff().median() if len(distinct) > 1 else pd.NaT
        facts += [("time range", f"{fmt(distinct.iloc[0])} to {fmt(distinct.iloc[-1])}"),
                  ("windows", f"{len(distinct):,}"
                   + (f" of {_duration(step)}" if step is not pd.NaT else ""))]
    overall = counts.sum() / max(float(rows[exposure_col].sum()), 1e-300)
    scale, per = rate_scale(overall)
    facts.append(("pooled rate", f"{fmt(overall * scale)} {schema.counts} {per} {unit}"))
    records = []
    for level in schema.groups:
        grouped = rows.groupby(level, sort=False)
        n_rows = grouped.size()
        zeros = grouped[schema.counts].apply(lambda s: float(np.mean(s == 0)))
        records.append({"level": level, "groups": len(n_rows), "rows min": int(n_rows.min()),
                        "rows median": float(n_rows.median()), "rows max": int(n_rows.max()),
                        "zeros min": f"{zeros.min():.0%}", "zeros max": f"{zeros.max():.0%}"})
    tables = ()
    if records:
        tables = (table_from_frame(pd.DataFrame(records),
                                   "Groups per level: rows per group and share of zero counts"),)
    return Section("data", "Data", "What the model was fitted on: one row per window and "
                   "series, with its exposure.", tuple(facts), tables=tables)


def _duration(step: pd.Timedelta) -> str:
    minutes = step / pd.Timedelta(minutes=1)
    if minutes < 60:
        return f"{minutes:g} min"
    return f"{minutes / 60:g} h" if minutes < 1440 else f"{minutes / 1440:g} d"


# -------------------------------------------------------------------------- model
def _priors(fit: Fit) -> Table:
    spec, schema = fit.spec, fit.schema
    used = ["intercept"]
    if schema.groups:
        used.append("group_sd")
    if fit.design.covariate_terms:
        used.append("coefficients")
    if spec.seasonality:
        used.append("seasonality")
    if spec.is_negative_binomial:
        used.append("inv_sqrt_alpha")
    if spec.is_zero_inflated:
        used.append("zero_inflation")
    if spec.latent is not None:
        used += ["latent_sd", "latent_rho"] + (["latent_skew"]
                                              if spec.latent == "ar1_skew_laplace" else [])
    rows = []
    for name in used:
        prior = getattr(spec.priors, name)
        params = ", ".join(f"{k}={fmt(v)}" for k, v in asdict(prior).items())
        rows.append((name, f"{type(prior).__name__}({params})"))
    return Table("Priors (intercept relative to the pooled log rate; scales on the log rate)",
                 ("parameter", "prior"), tuple(rows), (False, False))


def model_section(fit: Fit) -> Section:
    """Family, hierarchy, priors, parameterization per level and sampler settings."""
    spec, schema, design = fit.spec, fit.schema, fit.design
    joiner = " → " if schema.nesting == "nested" else " × "
    config = fit.sampler_config
    facts = [
        ("family", _FAMILIES.get(spec.family, spec.family)),
        ("hierarchy", (joiner.join(schema.groups) + f" ({schema.nesting})")
         if schema.groups else "none (one pooled rate)"),
        ("exposure", f"{schema.exposure or 'none'}"
         + (f" ({schema.exposure_unit})" if schema.exposure_unit else "")),
        ("seasonality", ", ".join(f"{c.name} (order {c.order})" for c in spec.seasonality)
         or "none"),
        ("covariates", ", ".join(design.covariate_terms) or "none"),
        ("sampler", f"{config.sampler}: {config.chains} chains x {config.draws} draws after "
         f"{config.tune} warm-up, seed {config.random_seed}"),
    ]
    if spec.dispersion_by:
        facts.append(("dispersion by", spec.dispersion_by))
    if spec.latent:
        facts.append(("latent level", f"{spec.latent} per {spec.latent_level}"))
    levels = [(lv.name, lv.parent or "-", fmt(len(lv.labels)),
               fit.parameterization.get(lv.name, "-")) for lv in design.levels]
    tables = [_priors(fit)]
    if levels:
        tables.insert(0, Table("Group levels and how each was parameterized (centered for "
                               "data-rich groups, non-centered for data-poor ones)",
                               ("level", "parent", "groups", "parameterization"),
                               tuple(levels), (False, False, True, False)))
    formula = "log E[count] = log(exposure) + intercept + Σ group effects" + (
        " + X·β" if design.covariate_terms else "") + (
        " + Fourier(time)·γ" if spec.seasonality else "") + (
        " + latent[t]" if spec.latent else "")
    return Section("model", "Model", formula, tuple(facts), tables=tuple(tables))


# --------------------------------------------------------------------------- gate
def gate_section(fit: Fit, gate: Gate) -> Section:
    """Build the convergence gate section: colour, reasons and the table of checks."""
    c = fit.convergence
    frame = c.to_frame().reset_index()
    table = table_from_frame(frame, "Convergence checks (rank-normalised R-hat and ESS, "
                             "Vehtari et al. 2021)", rename={"ok": "passed"})
    facts = (("draws", fmt(c.n_draws)), ("mean tree size", f"{c.mean_tree_size:.1f} steps"))
    return Section("gate", "Convergence gate", gate.headline, facts, tables=(table,),
                   notes=gate.reasons, status=gate.colour, status_text=gate.colour.upper())


# ---------------------------------------------------------------------------- PPC
def ppc_section(fit: Fit, *, by: str | None, max_draws: int, random_seed: int) -> Section:
    """Rootograms, zeros and dispersion against posterior predictive replicates."""
    check = check_model(fit, by=by, max_draws=max_draws, random_seed=random_seed)
    ppc = check.ppc
    rootogram = figure_of(plot_rootogram(fit, max_draws=min(max_draws, 500),
                                         random_seed=random_seed))
    figures = [Figure("rootogram", "Rootogram of all fitted rows: observed count "
                      "frequencies against the predictive ones", rootogram)]
    frame = ppc.to_frame().reset_index()
    shown = frame[frame["statistic"].isin(["share_zeros", "dispersion"])]
    table = table_from_frame(
        shown, f"Zeros and dispersion: observed against the {ppc.interval:.0%} predictive "
        f"interval ({ppc.n_draws} replicates; flagged at Benjamini-Hochberg FDR {ppc.fdr:g})",
        ["group", "statistic", "observed", "mean", "lower", "upper", "p_value", "p_adjusted",
         "flagged"], rename={"mean": "predicted", "p_value": "p"}, max_rows=60)
    if by is not None:
        groups = frame[frame["group"] != "(all)"]
        worst = (groups.groupby("group")["p_two_sided"].min().sort_values()
                 .index[:WORST_GROUPS].tolist())
        if worst:
            pc = plot_rootogram(fit, by=by, var_names=[label_variable(g) for g in worst],
                                max_draws=min(max_draws, 500), random_seed=random_seed)
            figures.append(Figure("rootogram_worst", f"Rootograms of the {len(worst)} "
                                  f"{by} groups the checks fit worst", figure_of(pc)))
    figures.append(Figure("ppc_statistics", "Every checked statistic against its "
                          "predictive interval", check.plot()))
    residuals = check.residuals
    notes = tuple(s.verdict for s in ppc.flagged) + tuple(residuals.problems)
    lo, hi = residuals.dispersion_band
    facts = (("verdict", f"{len(notes)} check(s) flagged" if notes else "no check flagged"),
             ("Pearson χ²/df", f"{residuals.dispersion_statistic:.3f} (band {lo:.2f}-{hi:.2f})"),
             ("calibration ratio (observed / expected)", f"{residuals.calibration_ratio:.3f}"),
             ("replicates", fmt(ppc.n_draws)))
    return Section(
        "ppc", "Posterior predictive checks",
        "Replicated data drawn from the fitted model set against the observed counts. "
        "In a rootogram the bars (observed frequencies, square-root scale) hang from the "
        "predicted curve: bars ending below zero or far above it show counts the model "
        "gets wrong. p-values near 0 or 1 mean the model under- or over-predicts a "
        "statistic; flags are Benjamini-Hochberg adjusted over every p-value of the check.",
        facts, tuple(figures), (table,), notes,
        status="amber" if notes else "green",
        status_text=f"{len(notes)} flagged" if notes else "no flags")


# ------------------------------------------------------------------------ pooling
def pooling_section(fit: Fit, *, level: str, random_seed: int) -> Section:
    """Raw against posterior rate of each group of ``level``, and its parent's."""
    pooling = pooling_table(fit, level, random_seed=random_seed)
    t = pooling.table
    scale, per = rate_scale(float(np.median(t["posterior_rate"])))
    unit = pooling.unit or "exposure units"
    shown = t.assign(**{c: t[c] * scale for c in ("raw_rate", "posterior_rate", "lower",
                                                   "upper", "parent_rate")})
    shown = shown.assign(shrinkage=[f"{x:.0%}" if np.isfinite(x) else "-"
                                    for x in t["shrinkage"]])
    table = table_from_frame(
        shown, f"Rates {per} {unit}: raw (events / exposure), posterior mean and "
        f"{pooling.prob:.0%} interval, the parent's posterior rate, and the shrinkage",
        ["group", "parent", "rows", "events", "raw_rate", "posterior_rate", "lower", "upper",
         "parent_rate", "shrinkage"],
        rename={"group": level, "parent": pooling.parent_level, "raw_rate": "raw",
                "posterior_rate": "posterior", "parent_rate": "parent"}, max_rows=60)
    finite = t["shrinkage"][np.isfinite(t["shrinkage"])]
    facts = [("groups", fmt(len(t)))]
    if len(finite):
        facts.append(("median shrinkage", f"{np.median(finite):.0%}"))
        top = t.loc[t["shrinkage"].idxmax()]
        facts.append(("most shrunk", f"{top['group']} ({top['shrinkage']:.0%}, "
                                     f"{fmt(top['rows'])} rows)"))
    return Section(
        "pooling", f"Pooling: how far each {level} was pulled toward its "
        f"{pooling.parent_level}",
        "Shrinkage 0 % means the model kept the group's own rate; 100 % means it used the "
        "parent's. Groups with little data are pulled furthest: that is partial pooling "
        "doing its job, not a bug. Shrinkage is left out for groups without events and "
        "where raw and parent rates agree within 5 %.",
        tuple(facts), (Figure("pooling", "Raw against posterior rate per group",
                              pooling.plot()),), (table,))
