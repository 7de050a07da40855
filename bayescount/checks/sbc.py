"""Simulation-based calibration (SBC) of a model builder and its sampler.

Talts et al. (2018): draw parameters ``theta_i`` from the prior, simulate data
``y_i`` from them, fit the model to ``y_i`` and record the rank of ``theta_i`` among
``L`` (thinned) posterior draws. If the builder, the sampler and the predictive code
agree, each rank is uniform on ``0..L``; a skewed rank histogram means a biased
posterior, a U shape an over-confident one, a hump an under-confident one.

:func:`sbc` draws ``simulations`` parameter sets and data sets at once with
``pm.sample_prior_predictive`` on the built model (same rows, exposures, groups and
covariates as the template table; only the counts are simulated), compiles the
model once with nutpie and refits it on each simulated data set by swapping the
counts with ``CompiledModel.with_data`` (:class:`~bayescount.inference.compiled.CompiledSampler`).

Uniformity is tested per parameter on the *randomised* normalised ranks
``u = (rank + V) / (L + 1)``, ``V ~ U(0, 1)``, which are exactly uniform on (0, 1)
under calibration: with arviz-stats' ``pot_c`` test (pointwise order-statistic
tests with a Cauchy combination, the default of ``arviz_plots.plot_ecdf_pit``)
and, for reference, a chi-square test on equal-width bins of ``u``. The model is
``calibrated`` when every parameter's ``pot_c`` p-value is at least
``alpha / n_parameters`` (Bonferroni).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from arviz_stats.base import array_stats
from pytensor.compile.mode import Mode
from scipy import stats

from bayescount.checks.backtest import _spec_of
from bayescount.exceptions import SpecError
from bayescount.inference.compiled import CompiledSampler, data_updates
from bayescount.inference.sampling import SamplerConfig
from bayescount.models.builder import build_model
from bayescount.models.spec import LATENT_KEY, ModelSpec
from bayescount.prep.design import Design
from bayescount.prep.schema import MAX_COUNT
from bayescount.prep.validate import validate_frame
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    from arviz_plots import PlotCollection

    from bayescount.count_model import CountModel

__all__ = [
    "SBCReport",
    "default_parameters",
    "normalized_ranks",
    "rank_uniformity",
    "sbc",
    "sbc_latent_template",
    "sbc_template",
]

log = logging.getLogger(__name__)

#: Compile the one-off prior-predictive graph fast: it runs ``simulations`` times only.
_FAST = Mode(linker="py", optimizer=None)


# -------------------------------------------------------------------- ranks and tests
def normalized_ranks(
    draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of ``truth`` among ``draws`` and their randomised normalised form.

    Parameters
    ----------
    draws : ndarray (..., L)
        Posterior draws, last axis the (thinned) draws.
    truth : ndarray (...)
        The values the data were simulated with.
    rng : numpy.random.Generator
        Breaks ties at random and draws the ``V`` of ``u``.

    Returns
    -------
    ranks : ndarray of int (...)
        ``#{draws < truth}`` plus a random share of ties, in ``0..L``.
    u : ndarray (...)
        ``(rank + V) / (L + 1)``, uniform on (0, 1) under calibration.
    """
    draws = np.asarray(draws, dtype=float)
    truth = np.asarray(truth, dtype=float)[..., None]
    n = draws.shape[-1]
    below = np.sum(draws < truth, axis=-1)
    ties = np.sum(draws == truth, axis=-1)
    ranks = below + rng.binomial(ties, 0.5) if ties.any() else below
    u = (ranks + rng.random(ranks.shape)) / (n + 1)
    return ranks.astype(np.int64), u


def rank_uniformity(u: np.ndarray, *, bins: int | None = None) -> dict[str, float]:
    """P-values of uniformity of randomised normalised ranks ``u`` (one parameter).

    Returns ``{"pot_c": p, "chi2": p, "bins": B}``: arviz-stats' ``pot_c`` test and a
    chi-square test on ``B`` equal-width bins (default ``min(20, n // 5)``, at least 2,
    so each bin expects 5 or more ranks).
    """
    u = np.asarray(u, dtype=float).reshape(-1)
    if u.size < 10:
        raise SpecError(f"Uniformity tests need at least 10 ranks, got {u.size}.")
    if np.any((u <= 0) | (u >= 1)):
        raise SpecError("Randomised normalised ranks must lie strictly between 0 and 1.")
    p_pot, _, _ = array_stats.uniformity_test(u, method="pot_c")
    n_bins = bins or max(2, min(20, u.size // 5))
    counts, _ = np.histogram(u, bins=n_bins, range=(0.0, 1.0))
    p_chi2 = stats.chisquare(counts).pvalue
    return {"pot_c": float(p_pot), "chi2": float(p_chi2), "bins": n_bins}


# ---------------------------------------------------------------------- the model
def sbc_template(
    n_regions: int = 3,
    n_services: int = 3,
    n_windows: int = 7,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Return a tiny nested table for SBC: ``region -> service``, exposure, one covariate.

    ``n_regions * n_services * n_windows`` rows (63 by default) with ``requests``
    (the exposure, 2,000-20,000), ``load`` (standard normal) and ``errors`` (about
    2-20 per row; only their total matters: it centres the intercept prior).
    """
    from bayescount.testing import simulate_telemetry

    sim = simulate_telemetry(n_regions, n_services, 1, n_windows, window="1h", seed=seed)
    return sim.frame.drop(columns="node")


def sbc_latent_template(
    n_series: int = 2, n_steps: int = 30, *, rate: float = 1e-3, seed: int = 0
) -> pd.DataFrame:
    """Return a tiny table for SBC of a latent level: ``n_series`` series on an hourly grid.

    ``n_series * n_steps`` rows (60 by default), one per ``service`` and hour of
    ``timestamp``, with ``requests`` (the exposure, 2,000-20,000) and ``errors``
    (about ``rate`` per request: 2-20 per row by default; only their total matters:
    it centres the intercept prior). Fit it with ``groups=["service"]`` and a latent
    level: one path per service, one row per state.
    """
    from bayescount.testing import simulate_telemetry

    sim = simulate_telemetry(1, n_series, 1, n_steps, rate=rate, window="1h", seed=seed)
    return sim.frame.drop(columns=["region", "node", "load"])


def default_parameters(spec: ModelSpec, design: Design) -> list[str]:
    """Scalars ranked by default: intercept, level sds, dispersion, a few effects.

    Indexed parameters are written ``name[label]`` (``name[label, step]`` for the
    latent level): the first covariate coefficient, the first label's effect of the
    two outermost levels and, with a latent level, ``latent_sd``, ``latent_rho`` and
    the first path's deviation at the middle step of the time grid.
    """
    names = ["intercept", *[f"{lvl.name}_sd" for lvl in design.levels]]
    if spec.is_negative_binomial and spec.dispersion_by is None:
        names.append("alpha")
    if spec.is_zero_inflated:
        names.append("psi")
    if design.covariate_terms:
        names.append(f"beta[{design.covariate_terms[0]}]")
    names += [f"{lvl.name}_effect[{lvl.labels[0]}]" for lvl in design.levels[:2]]
    if spec.latent is not None:
        middle = design.time_grid.length // 2
        level = spec.latent_level
        path = f"{design.level(level).labels[0]}, " if level else ""
        names += ["latent_sd", "latent_rho", f"latent[{path}{middle}]"]
    return names


def _select(ds: xr.Dataset, name: str) -> xr.DataArray:
    """``ds[name]``, or one element ``base[label]`` / ``base[label, label, ...]``.

    One label per non-draw dimension of ``base``, in order, matched to the string
    form of its coordinates (``latent[r0-s0, 15]``: path ``r0-s0``, time step 15).
    With several dimensions the labels are split at the last commas, so only the
    first may contain a comma.
    """
    base, _, inside = name.partition("[")
    if base not in ds:
        raise SpecError(f"Unknown parameter {name!r}; the model has {sorted(ds.data_vars)}.")
    da = ds[base]
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not inside:
        if dims:
            raise SpecError(f"{name!r} is not a scalar; name one element, e.g. '{base}[...]'.")
        return da
    inside = inside.removesuffix("]")
    labels = [inside] if len(dims) <= 1 else [
        part.strip() for part in inside.rsplit(",", len(dims) - 1)
    ]
    if len(labels) != len(dims):
        raise SpecError(f"{name!r}: name one label per dimension of {base!r} {dims}, "
                        f"separated by commas.")
    positions = {}
    for dim, label in zip(dims, labels, strict=True):
        values = da[dim].values
        found = np.flatnonzero(values.astype(str) == label)
        if not found.size:
            raise SpecError(f"{name!r}: no {dim} {label!r}; labels are {list(values)}.")
        positions[dim] = int(found[0])
    return da.isel(positions)


# ------------------------------------------------------------------------ report
@dataclass(frozen=True)
class SBCReport:
    """Ranks and uniformity tests of a simulation-based calibration run.

    Attributes
    ----------
    family : str
        The model's family.
    parameters : tuple of str
        The ranked scalars.
    ranks : pandas.DataFrame
        One row per simulation, one column per parameter; ranks in ``0..n_ranks``.
    u : pandas.DataFrame
        Randomised normalised ranks ``(rank + V) / (n_ranks + 1)``.
    n_ranks : int
        ``L``: posterior draws each rank is computed against.
    divergences : numpy.ndarray
        Divergent transitions of each fit.
    n_draws : int
        Post-warm-up draws (transitions) of each fit, all chains.
    skipped : int
        Simulations not fitted (counts beyond ``MAX_COUNT``).
    alpha : float
        Family-wise level of the uniformity verdict (Bonferroni over parameters).
    compile_seconds, sample_seconds, prior_seconds, wall_seconds : float
        Timings: one compile, all fits, the prior predictive draws, the whole run.
    random_seed : int
        The master seed (its generated entropy when none was given).
    """

    family: str
    parameters: tuple[str, ...]
    ranks: pd.DataFrame
    u: pd.DataFrame
    n_ranks: int
    divergences: np.ndarray
    n_draws: int
    skipped: int
    alpha: float
    compile_seconds: float
    sample_seconds: float
    prior_seconds: float
    wall_seconds: float
    random_seed: int

    @property
    def simulations(self) -> int:
        """Simulations fitted and ranked."""
        return len(self.ranks)

    @property
    def divergent_share(self) -> float:
        """Share of all post-warm-up transitions that diverged."""
        return float(self.divergences.sum()) / max(self.n_draws * self.simulations, 1)

    @property
    def seconds_per_simulation(self) -> float:
        """Mean fitting time of one simulation (compile excluded)."""
        return self.sample_seconds / max(self.simulations, 1)

    def tests(self) -> pd.DataFrame:
        """Per parameter: ``pot_c`` and chi-square p-values, mean and sd of ``u``."""
        rows = {}
        for name in self.parameters:
            u = self.u[name].to_numpy()
            rows[name] = {**rank_uniformity(u), "mean_u": float(u.mean()), "sd_u": float(u.std())}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "parameter"
        threshold = self.alpha / len(self.parameters)
        frame["uniform"] = frame["pot_c"] >= threshold
        return frame

    @property
    def calibrated(self) -> bool:
        """Whether every parameter passes the Bonferroni-corrected ``pot_c`` test."""
        return bool(self.tests()["uniform"].all())

    def to_frame(self) -> pd.DataFrame:
        """Return the uniformity tests (:meth:`tests`)."""
        return self.tests()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary: tests, verdict, timings and the ranks."""
        tests = self.tests()
        return {
            "family": self.family,
            "simulations": self.simulations,
            "n_ranks": self.n_ranks,
            "skipped": self.skipped,
            "alpha": self.alpha,
            "calibrated": bool(tests["uniform"].all()),
            "tests": {
                str(p): {k: json_safe(v) for k, v in row.items()}
                for p, row in tests.iterrows()
            },
            "divergences": int(self.divergences.sum()),
            "fits_with_divergences": int((self.divergences > 0).sum()),
            "divergent_share": self.divergent_share,
            "timing": {
                "compile_seconds": self.compile_seconds,
                "prior_seconds": self.prior_seconds,
                "sample_seconds": self.sample_seconds,
                "seconds_per_simulation": self.seconds_per_simulation,
                "wall_seconds": self.wall_seconds,
            },
            "random_seed": self.random_seed,
            "ranks": {str(k): [int(x) for x in v] for k, v in self.ranks.items()},
        }

    def __str__(self) -> str:
        tests = self.tests()
        verdict = "calibrated" if tests["uniform"].all() else "NOT calibrated"
        lines = [
            f"SBC of the {self.family} model: {self.simulations} simulations x "
            f"{self.n_ranks} ranks, {verdict} (pot_c, family-wise alpha {self.alpha})",
            f"  {self.compile_seconds:.0f}s compile + {self.seconds_per_simulation:.2f}s per "
            f"simulation; {int((self.divergences > 0).sum())} fit(s) with divergences "
            f"({self.divergent_share:.2%} of transitions); {self.skipped} skipped",
        ]
        for name, row in tests.iterrows():
            lines.append(
                f"  {name:<28} pot_c p={row['pot_c']:.3f}  chi2 p={row['chi2']:.3f}  "
                f"mean u={row['mean_u']:.2f}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, timing, *_ = str(self).splitlines()
        return html_block(head, self.tests(), [timing.strip()])

    def plot(self, **kwargs: Any) -> PlotCollection:
        """Δ-ECDF of the normalised ranks per parameter (:func:`arviz_plots.plot_ecdf_pit`)."""
        from arviz_plots import plot_ecdf_pit

        data = {
            name.replace("[", "(").replace("]", ")"): (
                ("chain", "draw"), self.u[name].to_numpy()[None]
            )
            for name in self.parameters
        }
        tree = xr.DataTree.from_dict({"prior_sbc": xr.Dataset(data)})
        return plot_ecdf_pit(tree, **kwargs)

    def __repr__(self) -> str:
        return f"<SBCReport: {str(self).splitlines()[0]}>"


# -------------------------------------------------------------------------- run
def _parameterization(spec: ModelSpec, design: Design) -> dict[str, str]:
    """Explicit choices of the spec, else non-centred (prior draws vary the data).

    A latent level left on ``"auto"`` is non-centred with normal innovations
    (``"ar1"``) and centred otherwise (``"ar1_laplace"`` has no non-centred form).
    """
    how = {
        lvl.name: spec.parameterization.get(lvl.name, "auto").replace("auto", "non_centered")
        for lvl in design.levels
    }
    if spec.latent is not None:
        asked = spec.parameterization.get(LATENT_KEY, "auto")
        if asked == "auto":
            asked = "non_centered" if spec.latent == "ar1" else "centered"
        how[LATENT_KEY] = asked
    return how


def _thin(values: np.ndarray, n: int) -> np.ndarray:
    """Keep ``n`` evenly spaced draws of the flattened ``(chain, draw)`` axis."""
    flat = values.reshape(-1)
    if n > flat.size:
        raise SpecError(f"thin_to={n} exceeds the {flat.size} posterior draws of a fit.")
    return flat[np.round(np.linspace(0, flat.size - 1, n)).astype(int)]


def sbc(
    model: CountModel | ModelSpec | Mapping[str, Any],
    data: pd.DataFrame,
    *,
    simulations: int = 100,
    draws: int = 200,
    tune: int = 200,
    chains: int = 2,
    thin_to: int = 100,
    target_accept: float = 0.9,
    parameters: Sequence[str] | None = None,
    alpha: float = 0.01,
    random_seed: int | None = None,
) -> SBCReport:
    """Run simulation-based calibration of ``model`` on the rows of ``data``.

    Parameters
    ----------
    model : CountModel, ModelSpec or dict
        The model (its specification), or :class:`~bayescount.CountModel` arguments.
        Levels left on ``"auto"`` parameterization are non-centred; so is an
        ``"ar1"`` latent level (``"ar1_laplace"`` is centred only).
    data : pandas.DataFrame
        Template rows: exposures, groups, covariates and times are kept, counts are
        simulated (the template's counts only centre the intercept prior). Keep it
        small: every simulation is a full NUTS fit (:func:`sbc_template`;
        :func:`sbc_latent_template` for a latent level).
    simulations : int
        Parameter draws from the prior, each simulated and fitted once.
    draws, tune, chains : int
        NUTS settings of each fit.
    thin_to : int
        ``L``: posterior draws (evenly thinned from ``chains * draws``) each rank is
        computed against.
    target_accept : float
        NUTS target acceptance (0.9: prior draws include hard geometries).
    parameters : sequence of str, optional
        Scalars to rank, ``name`` or ``name[label]``; default
        :func:`default_parameters`.
    alpha : float
        Family-wise level of the uniformity verdict.
    random_seed : int, optional
        Master seed of the prior draws, the fits and the rank randomisation.

    Returns
    -------
    SBCReport
    """
    start = time.perf_counter()
    if not isinstance(simulations, int) or simulations < 10:
        raise SpecError(f"simulations must be an integer >= 10, got {simulations!r}.")
    if not 0 < alpha < 1:
        raise SpecError(f"alpha must lie in (0, 1), got {alpha!r}.")
    spec = _spec_of(model)
    frame = validate_frame(data, spec.schema)
    design = spec.fit_design(frame)
    prepared = design.transform(frame)
    how = _parameterization(spec, design)
    built = build_model(spec, design, prepared, how)
    names = list(parameters) if parameters is not None else default_parameters(spec, design)
    config = SamplerConfig(draws=draws, tune=tune, chains=chains, target_accept=target_accept)
    if thin_to > draws * chains or thin_to < 10:
        raise SpecError(f"thin_to must lie in [10, draws * chains = {draws * chains}], "
                        f"got {thin_to}.")

    seed_seq = np.random.SeedSequence(random_seed)
    prior_seq, fit_seq, rank_seq = seed_seq.spawn(3)
    t0 = time.perf_counter()
    with built:
        prior_tree = pm.sample_prior_predictive(
            draws=simulations,
            random_seed=np.random.default_rng(prior_seq),
            compile_kwargs={"mode": _FAST},
        )
    prior = prior_tree["prior"].to_dataset().isel(chain=0)
    simulated = prior_tree["prior_predictive"]["y"].values[0]
    truth = np.column_stack([_select(prior, name).values for name in names])
    prior_seconds = time.perf_counter() - t0

    engine = CompiledSampler(built, config)
    rng = np.random.default_rng(rank_seq)
    base = data_updates(design, prepared)
    ranks, us, divergences, kept = [], [], [], []
    sample_seconds = 0.0
    for i, child in enumerate(fit_seq.spawn(simulations)):
        y = simulated[i]
        if y.max() > MAX_COUNT:
            continue
        t0 = time.perf_counter()
        tree = engine.sample(
            {**base, "y_obs": y}, int(child.generate_state(1, np.uint32)[0])
        )
        sample_seconds += time.perf_counter() - t0
        post = tree["posterior"].to_dataset()
        draws_l = np.stack([_thin(_select(post, name).values, thin_to) for name in names])
        r, u = normalized_ranks(draws_l, truth[i], rng)
        ranks.append(r)
        us.append(u)
        divergences.append(int(tree["sample_stats"]["diverging"].sum()))
        kept.append(i)
    report = SBCReport(
        family=spec.family,
        parameters=tuple(names),
        ranks=pd.DataFrame(ranks, columns=names, index=pd.Index(kept, name="simulation")),
        u=pd.DataFrame(us, columns=names, index=pd.Index(kept, name="simulation")),
        n_ranks=thin_to,
        divergences=np.asarray(divergences),
        n_draws=draws * chains,
        skipped=simulations - len(kept),
        alpha=alpha,
        compile_seconds=engine.compile_seconds,
        sample_seconds=sample_seconds,
        prior_seconds=prior_seconds,
        wall_seconds=time.perf_counter() - start,
        random_seed=int(seed_seq.entropy),
    )
    log.info("%s", report)
    return report
