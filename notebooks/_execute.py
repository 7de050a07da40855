"""Execute the notebooks in place with their outputs (``make notebooks``).

Run from the repository root: ``python notebooks/_execute.py [NAME ...]``. The size knob
``BAYESCOUNT_NOTEBOOK_SIZE`` (default ``full``) is passed to the kernels as it is set here.
Each notebook runs in its own folder, so its relative paths (``../data``) resolve.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent


def execute(path: Path, timeout: int = 1800) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    tic = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return time.perf_counter() - tic


if __name__ == "__main__":
    wanted = sys.argv[1:]
    for path in sorted(HERE.glob("[0-9]*.ipynb")):
        if wanted and path.stem not in wanted:
            continue
        seconds = execute(path)
        print(f"{path.name}: {seconds:.0f} s, {path.stat().st_size / 1e6:.2f} MB")
