"""Per-worker PyTensor compile directories.

PyTensor fixes ``base_compiledir`` (numba's on-disk cache, PyTensor's compile lock)
when it is imported, so a worker gets its own through ``PYTENSOR_FLAGS`` in the
environment it starts with.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["environ_set", "worker_compiledir", "worker_environ"]


def worker_compiledir(slot: int | str) -> Path:
    """Return the PyTensor ``base_compiledir`` of worker ``slot`` started by bayescount.

    ``<base>/bayescount-workers/worker-<slot>`` where ``<base>`` is this process's
    ``pytensor.config.base_compiledir`` (``~/.pytensor`` unless configured).

    Parameters
    ----------
    slot : int or str
        The worker's slot (process number, or Dask worker name).

    Returns
    -------
    Path
    """
    import pytensor

    return Path(pytensor.config.base_compiledir) / "bayescount-workers" / f"worker-{slot}"


def _flags_with_compiledir(flags: str, directory: Path) -> str:
    """``PYTENSOR_FLAGS`` with ``base_compiledir`` (and ``compiledir``) replaced."""
    kept = [
        item
        for item in flags.split(",")
        if item.strip() and item.split("=", 1)[0].strip() not in ("base_compiledir", "compiledir")
    ]
    return ",".join([*kept, f"base_compiledir={directory}"])


def worker_environ(slot: int | str) -> dict[str, str]:
    """Return the environment variables that give worker ``slot`` its own compile directory.

    Parameters
    ----------
    slot : int or str
        The worker's slot (:func:`worker_compiledir`).

    Returns
    -------
    dict of str to str
        ``PYTENSOR_FLAGS``: this process's flags with ``base_compiledir`` replaced.
    """
    flags = _flags_with_compiledir(os.environ.get("PYTENSOR_FLAGS", ""), worker_compiledir(slot))
    return {"PYTENSOR_FLAGS": flags}


@contextlib.contextmanager
def environ_set(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the ``with`` block, then restore them.

    Parameters
    ----------
    values : dict of str to str
        Variables to set; each is restored (or removed) on exit.

    Yields
    ------
    None
    """
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
