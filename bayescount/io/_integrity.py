"""SHA-256 digests of every part of a fit file that prediction and reports read.

A fit file stores its metadata as JSON attributes (spec, design, parameterization,
sampler settings, convergence report, versions) and its draws and data as NetCDF
groups. :func:`digests` hashes each part on its own, so a mismatch on load can name
the part that changed: the JSON *text* as stored (an edited covariate scale changes
it), and each group's variables (names, dtypes, shapes and values; coordinates
included) in a canonical byte form that survives a NetCDF round trip.

The digests detect edits and damage, not forgery: anyone can recompute them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import xarray as xr

__all__ = ["digests"]


def _canonical(values: np.ndarray) -> tuple[str, bytes]:
    """``(dtype tag, bytes)`` of an array, the same before and after a NetCDF round trip."""
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind in "OUS":  # strings (object, fixed-width or bytes): their text
        text = "\x1f".join(
            x.decode() if isinstance(x, bytes) else str(x) for x in array.ravel()
        )
        return "text", text.encode()
    if kind in "Mm":
        unit = "datetime64[ns]" if kind == "M" else "timedelta64[ns]"
        return kind, np.ascontiguousarray(array.astype(unit).view("<i8")).tobytes()
    if kind == "b":
        return "bool", np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    little = array.dtype.newbyteorder("<")
    return little.str, np.ascontiguousarray(array, dtype=little).tobytes()


def _dataset_digest(ds: xr.Dataset) -> str:
    digest = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        tag, data = _canonical(var.values)
        header = f"{name}\x1e{','.join(map(str, var.dims))}\x1e{var.shape}\x1e{tag}\x1e"
        digest.update(header.encode())
        digest.update(data)
    return digest.hexdigest()


def digests(json_attrs: Mapping[str, str], tree: xr.DataTree) -> dict[str, str]:
    """Return ``{part: sha256 hex}`` for each JSON attribute and each group of ``tree``.

    Parameters
    ----------
    json_attrs : mapping of str to str
        The JSON text of each metadata attribute, as stored (``{"design": "..."}``).
    tree : xarray.DataTree
        The fit's groups (``posterior``, ``constant_data``, ...), as stored.

    Returns
    -------
    dict of str to str
        One digest per attribute name and per group path (``"group:posterior"``).
    """
    out = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in json_attrs.items()}
    for path, node in tree.subtree_with_keys:
        if path in (".", "/"):
            continue
        out[f"group:{path}"] = _dataset_digest(node.to_dataset(inherit=False))
    return dict(sorted(out.items()))
