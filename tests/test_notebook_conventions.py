"""Every chapter notebook follows the course's conventions: a title, the identical Colab
bootstrap cell (installing from the repository named in _config.yml), a papermill
``parameters`` cell with ``seed`` and ``data_dir``, and the python3 kernel."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: _config.yml's repository (tools/set_repository.py moves it; test_repository_address.py)
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
BOOTSTRAP = f'''\
# Colab bootstrap: install the course package there; does nothing elsewhere.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "cyclegan-lesson @ git+{REPOSITORY}"],
                   check=True)'''


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name must be NN_topic.ipynb"
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    assert cells[0].cell_type == "markdown"
    number = int(path.name[:2])
    assert re.match(rf"# {number}\. \S", _source(cells[0])), \
        f"first cell must start with the title '# {number}. ...'"
    assert cells[1].cell_type == "code" and _source(cells[1]).strip() == BOOTSTRAP
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    params = _source(tagged[0])
    for name in ("seed", "data_dir", "out_dir"):
        assert re.search(rf"^{name}\s*=", params, re.M), f"parameters cell lacks {name}"
    assert cells.index(tagged[0]) == 2, "the parameters cell comes right after the bootstrap"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # stored outputs come from a real run: no errors stored, every code cell executed
    for cell in cells:
        if cell.cell_type == "code":
            assert all(o.get("output_type") != "error" for o in cell.get("outputs", []))
    assert "clock.report()" in _source(cells[-1]) or any(
        "clock.report()" in _source(c) for c in cells[-3:]), "end with clock.report()"


def test_bootstrap_installs_from_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    match = re.search(r"git\+(\S+?)\"", BOOTSTRAP)
    assert match and match.group(1).rstrip("/") == url
