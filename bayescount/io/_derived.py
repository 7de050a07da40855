"""Per-row constant data a fit file leaves out because loading recomputes it exactly.

A fit's ``constant_data`` holds, per training row, the exposure, its logarithm and
the label code of every group level. ``log_exposure`` is ``log(exposure)`` and the
code of a nested level's parent is ``parent_index[child code]``
(:class:`~bayescount.prep.design.GroupLevel`), so at L (806,400 rows) they are 19 MB
of a file that needs none of them. :func:`leave_out` drops exactly those variables
whose recomputation gives the stored values bit for bit, and names them in a root
attribute; :func:`restore` puts them back on loading, so the loaded tree is the one
that was saved. Files without the attribute (format 1 and 2) load unchanged.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from bayescount.exceptions import CorruptFitFileError
from bayescount.prep.design import Design

#: Root attribute naming the constant-data variables left out of the file.
DERIVED_ATTR = "bayescount_derived"
_GROUP = "constant_data"


def _derive(name: str, const: xr.Dataset, design: Design) -> xr.DataArray | None:
    """Recompute variable ``name`` from the rest of ``const``, or ``None`` if it cannot be."""
    if name == "log_exposure" and "exposure" in const:
        exposure = const["exposure"]
        with np.errstate(divide="ignore"):
            return exposure.copy(data=np.log(exposure.values))
    for child in design.levels:  # a parent's code from its child's code
        parent = child.parent
        if parent is not None and name == f"{parent}_idx" and f"{child.name}_idx" in const:
            codes = const[f"{child.name}_idx"]
            index = np.asarray(child.parent_index, dtype=codes.dtype)
            return codes.copy(data=index[codes.values])
    return None


def _order(design: Design) -> list[str]:
    """Return the derivable names in restoring order: a parent's code after its child's."""
    names = ["log_exposure"]
    names += [f"{lv.parent}_idx" for lv in reversed(design.levels) if lv.parent is not None]
    return names


def leave_out(tree: xr.DataTree, design: Design) -> xr.DataTree:
    """Return ``tree`` without the constant data that :func:`restore` recomputes exactly.

    Parameters
    ----------
    tree : xarray.DataTree
        The fit's tree as it will be stored.
    design : Design
        The fit's design (its nesting derives the parent codes).

    Returns
    -------
    xarray.DataTree
        ``tree`` itself when nothing can be left out, else a copy whose
        ``constant_data`` lacks the variables recomputed exactly from what stays (a
        parent's code from its child's, restored first), named in the root attribute
        ``bayescount_derived`` (JSON list, in the order they are restored).
    """
    if _GROUP not in tree.children:
        return tree
    full = tree[_GROUP].to_dataset(inherit=False)
    dropped = []
    for name in _order(design):
        if name not in full:
            continue
        value = _derive(name, full.drop_vars(name), design)
        stored = full[name]
        if (value is not None and value.dtype == stored.dtype and value.dims == stored.dims
                and np.array_equal(value.values, stored.values, equal_nan=True)):
            dropped.append(name)
    if not dropped:
        return tree
    out = tree.copy()
    out[_GROUP] = xr.DataTree(full.drop_vars(dropped))
    out.attrs[DERIVED_ATTR] = json.dumps(dropped)
    return out


def restore(tree: xr.DataTree, design: Design, path: object) -> None:
    """Recompute, in place, the constant data named by ``bayescount_derived``.

    Parameters
    ----------
    tree : xarray.DataTree
        A loaded fit tree (its digests already checked).
    design : Design
        The fit's design.
    path : object
        The file, for error messages.

    Raises
    ------
    CorruptFitFileError
        The attribute is unreadable or names a variable that cannot be recomputed, or
        the exposure or a level's codes are missing afterwards.
    """
    text = tree.attrs.pop(DERIVED_ATTR, None)
    if text is not None:
        _recompute(tree, design, path, text)
    const = tree[_GROUP]
    missing = [n for n in ["exposure", *(f"{lv.name}_idx" for lv in design.levels)]
               if n not in const.data_vars]
    if missing:
        raise CorruptFitFileError(
            f"{path}: the constant data lack {missing}; the file was edited or damaged. "
            "Refit rather than trust it."
        )


def _recompute(tree: xr.DataTree, design: Design, path: object, text: str) -> None:
    try:
        names = json.loads(text)
    except json.JSONDecodeError as err:
        raise CorruptFitFileError(f"{path} has an unreadable {DERIVED_ATTR}: {err}.") from err
    const = tree[_GROUP].to_dataset(inherit=False)
    for name in names:
        value = _derive(name, const, design)
        if value is None:
            raise CorruptFitFileError(
                f"{path}: constant data {name!r} is left out of the file but cannot be "
                "recomputed from it. Refit rather than trust it."
            )
        const = const.assign({name: value})
    tree[_GROUP] = xr.DataTree(const)
