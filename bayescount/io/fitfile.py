"""Save and load fits: one NetCDF file per fit, written atomically, validated on load.

The file is the fit's ``xarray.DataTree`` (posterior, sample stats, observed and
constant data, log-likelihood when stored) with root attributes holding the spec,
design, parameterization, sampler settings, convergence report and package versions
as JSON, and the SHA-256 of the spec. No pickle: loading runs no stored code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bayescount.exceptions import (
    CorruptFitFileError,
    ForeignFileError,
    SpecError,
    SpecHashMismatchError,
)
from bayescount.io.atomic import atomic_write
from bayescount.prep.design import Design

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load_fit", "save_fit"]

FORMAT_NAME = "bayescount-fit"
FORMAT_VERSION = 1
_ENGINE = "h5netcdf"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_JSON_ATTRS = ("spec", "design", "parameterization", "sampler_config", "convergence", "versions")


def _storable(tree: xr.DataTree) -> xr.DataTree:
    """Drop variables NetCDF cannot hold (object-typed sampler messages)."""
    groups = {}
    for path, node in tree.subtree_with_keys:
        ds = node.to_dataset(inherit=False)
        keep = [v for v in ds.data_vars if ds[v].dtype != object]
        groups[path if path != "." else "/"] = ds[keep]
    out = xr.DataTree.from_dict(groups)
    out.attrs = {k: v for k, v in tree.attrs.items() if isinstance(v, str | int | float)}
    return out


def save_fit(fit: Fit, path: str | Path) -> Path:
    """Write ``fit`` to ``path`` atomically (temporary file, then rename).

    ``fit`` is a :class:`~bayescount.Fit` or a fitted :class:`~bayescount.CountModel`.
    Returns the path written. An existing file at ``path`` is replaced only once
    the new one is complete (:func:`~bayescount.io.atomic.atomic_write`), so an
    interrupted or failed save never corrupts it; a new file follows the umask and an
    overwritten one keeps its mode.

    Raises
    ------
    OutputError
        The file cannot be written (full disk, permissions); nothing changed.
    """
    from bayescount.inference.fit import as_fit

    fit = as_fit(fit)
    path = Path(path)
    tree = _storable(fit.tree)
    state = {
        "spec": fit.spec.to_dict(),
        "design": fit.design.to_dict(),
        "parameterization": dict(fit.parameterization),
        "sampler_config": fit.sampler_config.to_dict(),
        "convergence": fit.convergence.to_dict(),
        "versions": dict(fit.versions),
    }
    tree.attrs.update({f"bayescount_{k}": json.dumps(v, default=float) for k, v in state.items()})
    tree.attrs["bayescount_format"] = FORMAT_NAME
    tree.attrs["bayescount_format_version"] = FORMAT_VERSION
    tree.attrs["bayescount_spec_hash"] = fit.spec.hash()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Serialised in memory first: HDF5 never touches the disk, so a full disk is one
    # clean OSError from a plain write (h5py used to print dozens of tracebacks and
    # crash), and the file appears whole or not at all.
    content = bytes(tree.to_netcdf(None, engine=_ENGINE))
    return atomic_write(path, content)


def _open(path: Path) -> xr.DataTree:
    if not path.is_file():
        raise FileNotFoundError(f"No fit file at {path}.")
    with open(path, "rb") as fh:
        if fh.read(8) != _HDF5_SIGNATURE:
            raise ForeignFileError(
                f"{path} is not a bayescount fit (not a NetCDF-4 file); "
                "save fits with CountModel.save()."
            )
    try:
        with xr.open_datatree(path, engine=_ENGINE) as tree:
            return tree.load()
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise CorruptFitFileError(
            f"{path} is truncated or corrupted and cannot be read ({err}). Refit or restore "
            "it from a backup."
        ) from err


def _state(tree: xr.DataTree, path: Path) -> dict[str, Any]:
    attrs = tree.attrs
    if attrs.get("bayescount_format") != FORMAT_NAME:
        raise ForeignFileError(f"{path} is a NetCDF file but not a bayescount fit.")
    version = int(attrs.get("bayescount_format_version", -1))
    if version != FORMAT_VERSION:
        raise CorruptFitFileError(
            f"{path} has fit-file format {version}; this bayescount reads format "
            f"{FORMAT_VERSION}. Refit with this version."
        )
    try:
        return {k: json.loads(attrs[f"bayescount_{k}"]) for k in _JSON_ATTRS}
    except (KeyError, json.JSONDecodeError) as err:
        raise CorruptFitFileError(f"{path} has missing or unreadable metadata: {err}.") from err


def _check_consistency(tree: xr.DataTree, design: Design, path: Path) -> None:
    for group in ("posterior", "sample_stats", "observed_data", "constant_data"):
        if group not in tree.children:
            raise CorruptFitFileError(f"{path} lacks the {group!r} group.")
    posterior = tree["posterior"]
    needed = ["intercept"] + [f"{lv.name}_effect" for lv in design.levels]
    missing = [v for v in needed if v not in posterior.data_vars]
    if missing:
        raise CorruptFitFileError(f"{path}: posterior lacks {missing}.")
    for lv in design.levels:
        stored = [str(x) for x in posterior[lv.name].values]
        if stored != list(lv.labels):
            raise CorruptFitFileError(
                f"{path}: the {lv.name!r} labels in the posterior differ from the stored design."
            )
    values = [posterior[v].values for v in posterior.data_vars]
    if not all(np.isfinite(v).all() for v in values):
        raise CorruptFitFileError(f"{path}: the posterior holds non-finite draws.")


def load_fit(path: str | Path) -> Fit:
    """Load a fit written by :func:`save_fit`, validating it first.

    Returns
    -------
    Fit
        The fit as saved (``CountModel.load`` wraps it in a model).

    Raises
    ------
    ForeignFileError
        The file is not a bayescount fit.
    CorruptFitFileError
        The file is truncated, unreadable or internally inconsistent.
    SpecHashMismatchError
        The stored spec does not match its stored hash (edited or damaged).
    """
    from bayescount.inference.convergence import ConvergenceReport, ConvergenceThresholds
    from bayescount.inference.fit import Fit
    from bayescount.inference.sampling import SamplerConfig
    from bayescount.models.spec import ModelSpec

    path = Path(path)
    tree = _open(path)
    state = _state(tree, path)
    try:
        spec = ModelSpec.from_dict(state["spec"])
        design = Design.from_dict(state["design"])
        conv = dict(state["convergence"])
        conv.pop("passed", None)
        conv["thresholds"] = ConvergenceThresholds(**conv["thresholds"])
        for key in ("worst_rhat", "worst_ess", "problems"):
            conv[key] = tuple(conv[key])
        convergence = ConvergenceReport(**conv)
        config = SamplerConfig(**state["sampler_config"])
    except (KeyError, TypeError, SpecError) as err:
        raise CorruptFitFileError(f"{path} holds an invalid model description: {err}.") from err
    if ModelSpec.hash_of(state["spec"]) != tree.attrs.get("bayescount_spec_hash"):
        raise SpecHashMismatchError(
            f"{path}: the stored spec does not match its hash; the file was edited or "
            "damaged. Refit rather than trust it."
        )
    _check_consistency(tree, design, path)
    return Fit(
        spec=spec,
        design=design,
        parameterization=state["parameterization"],
        tree=tree,
        sampler_config=config,
        convergence=convergence,
        versions=state["versions"],
    )
