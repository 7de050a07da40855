"""Save and load fits: one NetCDF file per fit, written atomically, validated on load.

The file is the fit's ``xarray.DataTree`` (posterior, sample stats, observed and
constant data, log-likelihood when stored) with root attributes holding the spec,
design, parameterization, sampler settings, convergence report and package versions
as JSON, the SHA-256 of the spec and (format 2) the SHA-256 of every other part:
each JSON attribute as stored and each group's variables (see
:mod:`bayescount.io._integrity`). Loading recomputes them all, so an edited covariate
scale, level list, time grid, parameterization or draw is refused, naming the part.
Format 3 leaves out the per-row constant data that loading recomputes exactly (the
log exposure, the codes of a nested level's parents; :mod:`bayescount.io._derived`).
Format-1 files (spec hash only) still load, with a
:class:`~bayescount.exceptions.FitFileWarning` that the rest cannot be verified.
No pickle: loading runs no stored code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bayescount._warnings import warn
from bayescount.exceptions import (
    ContentHashMismatchError,
    CorruptFitFileError,
    FitFileNotFoundError,
    FitFileWarning,
    ForeignFileError,
    SpecError,
    SpecHashMismatchError,
)
from bayescount.io._derived import leave_out, restore
from bayescount.io._integrity import digests
from bayescount.io.atomic import atomic_write
from bayescount.prep.design import Design

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load_fit", "save_fit"]

FORMAT_NAME = "bayescount-fit"
FORMAT_VERSION = 3
#: Older formats this version still reads (format 1: the spec hash only; format 2:
#: every per-row array stored, including those format 3 recomputes on loading).
_READABLE = (1, 2, FORMAT_VERSION)
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

    An existing file at ``path`` is replaced only once the new one is complete
    (:func:`~bayescount.io.atomic.atomic_write`), so an interrupted or failed save
    never corrupts it; a new file follows the umask and an overwritten one keeps its
    mode. The file is netCDF4/HDF5: the DataTree's groups plus the spec, design,
    parameterization, sampler settings, convergence report and versions as JSON
    attributes, each with a SHA-256 digest checked by :func:`load_fit`. Per-row data
    that loading recomputes exactly (``log_exposure``, a nested level's parent codes)
    are left out of the file.

    Parameters
    ----------
    fit : Fit or CountModel
        A :class:`~bayescount.Fit` or a fitted :class:`~bayescount.CountModel`.
    path : str or Path
        The file to write; missing parent directories are created.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    NotFittedError
        ``fit`` is a model that has not been fitted.
    OutputError
        The file cannot be written (full disk, permissions); nothing changed.
    """
    from bayescount.inference.fit import as_fit

    fit = as_fit(fit)
    path = Path(path)
    tree = leave_out(_storable(fit.tree), fit.design)
    state = {
        "spec": fit.spec.to_dict(),
        "design": fit.design.to_dict(),
        "parameterization": dict(fit.parameterization),
        "sampler_config": fit.sampler_config.to_dict(),
        "convergence": fit.convergence.to_dict(),
        "versions": dict(fit.versions),
    }
    texts = {k: json.dumps(v, default=float) for k, v in state.items()}
    hashes = json.dumps(digests(texts, tree))
    tree.attrs.update({f"bayescount_{k}": text for k, text in texts.items()})
    tree.attrs["bayescount_hashes"] = hashes
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
        raise FitFileNotFoundError(f"No fit file at {path}.")
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
    if version not in _READABLE:
        raise CorruptFitFileError(
            f"{path} has fit-file format {version}; this bayescount reads formats "
            f"{', '.join(map(str, _READABLE))}. Refit with this version."
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


def _check_digests(tree: xr.DataTree, path: Path) -> None:
    """Recompute every part's digest and compare with the stored ones (format 2)."""
    attrs = tree.attrs
    if int(attrs["bayescount_format_version"]) < 2:
        warn(
            f"{path} is a format-1 fit file: only its spec is hashed, so its design "
            "(covariate scaling, levels, time grid), parameterization and draws cannot be "
            "verified. Save it again with this version to protect it: "
            "bayescount.save(bayescount.load(path), path).",
            FitFileWarning,
        )
        return
    try:
        stored = json.loads(attrs["bayescount_hashes"])
    except (KeyError, json.JSONDecodeError) as err:
        raise CorruptFitFileError(f"{path} has missing or unreadable hashes: {err}.") from err
    texts = {k: attrs[f"bayescount_{k}"] for k in _JSON_ATTRS}
    current = digests(texts, tree)
    changed = sorted(k for k in stored.keys() | current.keys() if stored.get(k) != current.get(k))
    if changed:
        parts = ", ".join(
            f"the {k.removeprefix('group:')} group" if k.startswith("group:") else f"the {k}"
            for k in changed
        )
        raise ContentHashMismatchError(
            f"{path}: {parts} {'does' if len(changed) == 1 else 'do'} not match the stored "
            "hash; the file was edited or damaged, and predictions from it could silently "
            "differ from the fit. Refit rather than trust it."
        )


def load_fit(path: str | Path) -> Fit:
    """Load a fit written by :func:`save_fit`, validating it first.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_fit` (or ``bayescount fit --out``).

    Returns
    -------
    Fit
        The fit as saved (``CountModel.load`` wraps it in a model).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ForeignFileError
        The file is not a bayescount fit.
    CorruptFitFileError
        The file is truncated, unreadable or internally inconsistent.
    SpecHashMismatchError
        The stored spec does not match its stored hash (edited or damaged).
    ContentHashMismatchError
        Another part (design, parameterization, sampler settings, convergence report,
        versions, or a group of draws or data) does not match its stored hash.

    Warns
    -----
    FitFileWarning
        A format-1 file: only its spec can be verified.
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
    _check_digests(tree, path)
    restore(tree, design, path)
    return Fit(
        spec=spec,
        design=design,
        parameterization=state["parameterization"],
        tree=tree,
        sampler_config=config,
        convergence=convergence,
        versions=state["versions"],
    )
