"""The analysts' notebooks run from a clean kernel, show at least one plot and state their conclusions.

Every ``notebooks/*.ipynb`` is executed with nbclient (kernel "python3", working directory ``notebooks/``), so a
new notebook is picked up without touching this file. A cell error fails the test. Each executed notebook must
display at least one PNG image and at least one conclusion written as Markdown from code
(``display(Markdown(...))``), so figures in the prose are computed, not typed in.

To refresh the outputs saved in the notebooks after the library changed::

    .venv/bin/python tests/test_notebooks.py            # all notebooks
    .venv/bin/python tests/test_notebooks.py notebooks/02-budget-cuts.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT = 120  # seconds per cell


def execute(path: Path):
    """Run the notebook at ``path`` in a fresh kernel from its own folder; return the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=TIMEOUT, record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def outputs(nb) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path):
    nb = execute(path)
    outs = outputs(nb)
    errors = [o for o in outs if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    images = [o for o in outs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no image/png output (plots must be shown inline)"
    conclusions = [o for o in outs if o.get("output_type") == "display_data" and "text/markdown" in o.get("data", {})]
    assert conclusions, f"{path.name}: no conclusion displayed as Markdown from code"


if __name__ == "__main__":
    # refresh the saved outputs: execute each notebook and write it back
    for target in [Path(a).resolve() for a in sys.argv[1:]] or NOTEBOOKS:
        executed = execute(target)
        nbformat.write(executed, target)
        print(f"executed and wrote {target.relative_to(ROOT)}")
