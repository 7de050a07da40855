"""The shipped notebooks: all five run at the small size, and are committed with outputs."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
NAMES = ["01_quickstart", "02_slo_burn_forecast", "03_postmortem_investigation",
         "04_capacity_planning", "05_real_data"]


def test_the_five_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == NAMES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_figures_and_a_decision(path):
    """A reader on the web sees the figures: committed executed, with PNGs, not too big."""
    assert path.stat().st_size < 1_500_000, f"{path.name} is {path.stat().st_size} bytes"
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name} is not executed"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no figure"
    last = code[-1].get("outputs", [])
    assert any("text/markdown" in o.get("data", {}) for o in last), (
        f"{path.name} does not end in a decision shown as Markdown")


@pytest.mark.slow
@pytest.mark.fit
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_the_small_size(path, monkeypatch):
    monkeypatch.setenv("BAYESCOUNT_NOTEBOOK_SIZE", "small")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's package
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources=resources).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    decision = [o["data"]["text/markdown"] for o in code[-1].outputs
                if "text/markdown" in o.get("data", {})]
    assert decision and "**" in decision[0], "the last cell states a decision in Markdown"
