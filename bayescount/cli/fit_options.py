"""The table, column, model and sampler options of every command that fits a model.

``fit``, ``backtest`` and ``compare`` add them with :func:`add_fit_options` and read
them back with :func:`model_from_args` and :func:`config_from_args` (or
:func:`fit_kwargs_from_args`), so every command spells the model the same way.
Commands that run many fits add :func:`add_executor_options` (``--executor``,
``--scheduler``, ``--workers``) and read them with :func:`executor_from_args`.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

from bayescount.cli._shared import int_at_least, number_in, positive_int, seed
from bayescount.cli._types import (
    column,
    covariate_term,
    path,
    scheduler_address,
    seasonality_spec,
    time_zone,
)
from bayescount.constants import (
    EXECUTORS,
    FAMILIES,
    LATENT_KINDS,
    PARAMETERIZATIONS,
    SAMPLERS,
    SCHEDULER_ENV,
)
from bayescount.exceptions import SpecError
from bayescount.progress import progress_enabled

if TYPE_CHECKING:  # the library is imported when a command runs, not to build the parser
    from bayescount.count_model import CountModel
    from bayescount.inference.fit import Fit
    from bayescount.inference.sampling import SamplerConfig

__all__ = [
    "add_executor_options",
    "add_fit_options",
    "add_timezone_option",
    "config_from_args",
    "executor_from_args",
    "fit_kwargs_from_args",
    "model_from_args",
    "with_timezone",
]


def _level_choice(text: str) -> tuple[str, str]:
    level, sep, choice = text.partition("=")
    if not sep or not level or choice not in PARAMETERIZATIONS:
        raise argparse.ArgumentTypeError(
            f"expected LEVEL=CHOICE with CHOICE one of {list(PARAMETERIZATIONS)}, got {text!r}"
        )
    return level, choice


def add_fit_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``DATA`` table and the column, model and sampler options of a fit to ``parser``.

    Adds everything ``fit`` takes except ``--out``, so commands that refit models
    (``backtest``, ``compare``) accept the same arguments. Turn the parsed arguments
    into a model with :func:`model_from_args` and into :meth:`CountModel.fit` keywords
    with :func:`fit_kwargs_from_args`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser; changed in place.
    """
    parser.add_argument("data", type=path, metavar="DATA", help="CSV or Parquet table of counts")
    cols = parser.add_argument_group("columns")
    cols.add_argument("--counts", required=True, type=column, metavar="COL",
                      help="column of counts")
    exposure = cols.add_mutually_exclusive_group(required=True)
    exposure.add_argument(
        "--exposure", type=column, metavar="COL",
        help="column of exposure (requests, node-seconds...)"
    )
    exposure.add_argument(
        "--no-exposure", action="store_true", help="model counts without an exposure"
    )
    cols.add_argument("--exposure-unit", default="", metavar="TEXT",
                      help="unit of the exposure, used to label rates")
    cols.add_argument("--time", type=column, metavar="COL",
                      help="timestamp column (needed for seasonality)")
    add_timezone_option(cols)
    cols.add_argument(
        "--group", dest="groups", action="extend", nargs="+", default=[], type=column,
        metavar="COL",
        help="grouping column; repeat for several levels, outer to inner",
    )
    cols.add_argument("--crossed", action="store_true",
                      help="the groups are crossed factors, not nested levels")
    cols.add_argument(
        "--covariate", dest="covariates", action="extend", nargs="+", default=[],
        type=covariate_term, metavar="COL",
        help="covariate column ('a:b' for an interaction); repeatable",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--family", choices=FAMILIES, default="poisson")
    model.add_argument("--seasonality", type=seasonality_spec, default="", metavar="SPEC",
                       help="Fourier components, e.g. 'daily,weekly' or 'daily:4'")
    model.add_argument("--dispersion-by", type=column, metavar="LEVEL",
                       help="negative binomial: one dispersion per label of this group level")
    model.add_argument(
        "--latent", choices=LATENT_KINDS, default=None,
        help="time-varying level: AR(1) on the log rate per series (ar1_laplace: bursty series)",
    )
    model.add_argument("--latent-by", type=column, metavar="LEVEL",
                       help="the group level with one latent path per label (default: finest)")
    model.add_argument(
        "--parameterization", action="extend", nargs="+", type=_level_choice, default=[],
        metavar="LEVEL=CHOICE",
        help=f"per-level group-effect parameterization ('latent' for the latent level), "
        f"CHOICE in {list(PARAMETERIZATIONS)}",
    )
    sampling = parser.add_argument_group("sampling")
    sampling.add_argument("--draws", type=positive_int, default=1000, metavar="N",
                          help="kept draws per chain (default 1000)")
    sampling.add_argument("--tune", type=int_at_least(0), default=1000, metavar="N",
                          help="warm-up iterations per chain (default 1000)")
    sampling.add_argument("--chains", type=positive_int, default=4, metavar="N",
                          help="independent chains, at least 2 for R-hat (default 4)")
    sampling.add_argument("--seed", type=seed, default=None, metavar="N",
                          help="random seed in [0, 2**32 - 1]; the same seed gives the same "
                          "draws")
    sampling.add_argument("--sampler", choices=SAMPLERS, default="nutpie")
    sampling.add_argument("--target-accept", type=number_in(0.5, 1, closed_low=True), default=0.8,
                          metavar="X",
                          help="NUTS target acceptance rate in [0.5, 1)")


def add_timezone_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--timezone ZONE``: the IANA zone of naive local timestamps in the tables.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where to add the option; changed in place.
    """
    parser.add_argument(
        "--timezone", type=time_zone, default=None, metavar="ZONE",
        help="IANA zone (e.g. Europe/Paris) of naive local timestamps: localised to it and "
        "converted to UTC; a local time repeated or skipped by a clock change is refused. "
        "Timestamps with an offset (+01:00) or Z are instants already.",
    )


def with_timezone(fit: Fit, zone: str | None) -> Fit:
    """Return ``fit`` reading naive timestamps of new tables in ``zone`` (``None``: as fitted).

    The fit's own zone (``--timezone`` when it was fitted) applies otherwise. The fit
    is frozen: a changed zone gives a new :class:`~bayescount.Fit`.

    Parameters
    ----------
    fit : Fit
        A loaded fit.
    zone : str or None
        An IANA time zone (already checked by the argument type).

    Returns
    -------
    Fit
        ``fit`` itself when the zone is unchanged, else a copy with the new zone.
    """
    if zone is None or zone == fit.schema.timezone:
        return fit
    schema = dataclasses.replace(fit.schema, timezone=zone)
    return dataclasses.replace(fit, spec=dataclasses.replace(fit.spec, schema=schema))


def model_from_args(args: argparse.Namespace) -> CountModel:
    """Build the unfitted :class:`CountModel` described by :func:`add_fit_options` args.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser set up by :func:`add_fit_options`.

    Returns
    -------
    CountModel

    Raises
    ------
    SpecError
        ``--parameterization`` names a level twice, or the options are invalid.
    """
    from bayescount.count_model import CountModel

    levels = [level for level, _ in args.parameterization]
    repeated = sorted({level for level in levels if levels.count(level) > 1})
    if repeated:
        raise SpecError(f"--parameterization names {repeated} more than once.")
    return CountModel(
        args.counts,
        None if args.no_exposure else args.exposure,
        time=args.time,
        groups=args.groups,
        nesting="crossed" if args.crossed else "nested",
        covariates=args.covariates,
        family=args.family,
        seasonality=args.seasonality,
        exposure_unit=args.exposure_unit,
        dispersion_by=args.dispersion_by,
        parameterization=dict(args.parameterization),
        latent=args.latent,
        latent_by=args.latent_by,
        timezone=args.timezone,
    )


def fit_kwargs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :meth:`CountModel.fit` from :func:`add_fit_options` args.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser set up by :func:`add_fit_options`.

    Returns
    -------
    dict
        ``draws``, ``tune``, ``chains``, ``random_seed``, ``sampler``,
        ``target_accept`` and ``progressbar``
        (:func:`bayescount.progress.progress_enabled`: on a terminal, never under
        ``CI``, so redirected output holds the results alone).
    """
    return {
        "progressbar": progress_enabled(),
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "random_seed": args.seed,
        "sampler": args.sampler,
        "target_accept": args.target_accept,
    }


def config_from_args(args: argparse.Namespace) -> SamplerConfig:
    """Return the :class:`~bayescount.inference.SamplerConfig` of :func:`add_fit_options` args.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser set up by :func:`add_fit_options`.

    Returns
    -------
    SamplerConfig

    Raises
    ------
    SpecError
        Invalid sampler settings.
    """
    from bayescount.inference.sampling import SamplerConfig

    return SamplerConfig(
        sampler=args.sampler,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        target_accept=args.target_accept,
    )


def add_executor_options(
    parser: argparse.ArgumentParser, *, default: str, serial_alias: bool = False
) -> None:
    """Add ``--executor``, ``--scheduler`` and ``--workers`` (and ``--serial``) to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    default : {"serial", "processes", "dask"}
        The executor without ``--executor`` (and without ``--scheduler``).
    serial_alias : bool
        Also add ``--serial``, a silent alias of ``--executor serial`` kept for
        scripts written before ``--executor`` existed.
    """
    group = parser.add_argument_group("execution")
    group.add_argument(
        "--executor", choices=EXECUTORS, default=None,
        help=f"where the fits run: in this process, on local worker processes, or on a "
        f"Dask cluster (default {default})",
    )
    group.add_argument(
        "--scheduler", type=scheduler_address, metavar="ADDR", default=None,
        help=f"address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies "
        f"--executor dask; default ${SCHEDULER_ENV}, else a local cluster started and "
        "stopped by this command)",
    )
    group.add_argument("--workers", type=positive_int, default=None, metavar="N",
                       help="most local worker processes (default: CPU count, at most one "
                       "per fit)")
    if serial_alias:
        group.add_argument("--serial", action="store_true",
                           help="alias of --executor serial")
    parser.set_defaults(executor_default=default)


def executor_from_args(args: argparse.Namespace) -> str:
    """Return the executor name chosen by :func:`add_executor_options` args.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser set up by :func:`add_executor_options`.

    Returns
    -------
    str
        ``"serial"``, ``"processes"`` or ``"dask"``.

    Raises
    ------
    SpecError
        ``--serial`` together with another ``--executor``, or ``--scheduler`` with an
        executor other than Dask.
    """
    chosen = args.executor
    if getattr(args, "serial", False):
        if chosen not in (None, "serial"):
            raise SpecError(f"--serial (an alias of --executor serial) conflicts with "
                            f"--executor {chosen}.")
        chosen = "serial"
    if chosen is None:
        chosen = "dask" if args.scheduler else args.executor_default
    if args.scheduler and chosen != "dask":
        raise SpecError(f"--scheduler needs --executor dask, not {chosen}.")
    return chosen
