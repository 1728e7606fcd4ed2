"""The course on the Keras a reader has, not only on the pinned ``requirements.txt``:

* ``colab-2025``: what Google Colab had preinstalled (Python 3.12, TensorFlow 2.19, Keras 3.10,
  NumPy 2.0), the wheel installed on top with its dependencies as the bootstrap cell does;
* ``floor``: every dependency at the lower bound ``pyproject.toml`` declares, on its lowest
  Python.

On each, chapters that load shipped models run alone from their files with tiny parameters
(:data:`CHAPTER_RUNS`); at the floor, every shipped ``.keras`` file loads and computes what it
computes on the pinned Keras. The environments are built once per machine (``reader_envs``); a fresh machine takes a
few minutes per environment to download them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import reader_envs
from conftest import ROOT, markdown_outputs
from test_notebook_09 import TINY_PARAMETERS as TINY_09

ENVIRONMENTS = ["colab-2025", "floor"]
#: (environment, chapter) pairs run by make test: chapter 9 (it loads the shipped colourizer and
#: the CIFAR-10 classifiers) on each environment; every shipped model, chapter 13's generators
#: and judges included, loads at the floor (the oldest Keras) in
#: test_every_shipped_model_loads_and_computes_the_same. Chapter 13 (about twice chapter 9's time)
#: and every other chapter on Colab's versions: CYCLEGAN_READER_ENV (reader_envs' docstring).
CHAPTER_RUNS = [("colab-2025", "09_pix2pix.ipynb"), ("floor", "09_pix2pix.ipynb")]

#: chapter -> tiny parameters (those of tests/test_notebook_NN.py) and a heading its tables show
CHAPTERS = {
    "09_pix2pix.ipynb": (TINY_09, "chroma-only clf"),
    "13_mnist_svhn.ipynb": (dict(eval_limit=60, train_steps=2, batch_size=2, n_blocks=1, ngf=4,
                                 ndf=4, n_show=4), None),
}


def _lower_bound(requirement: str) -> tuple[str, str | None]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][0-9a-zA-Z.]*))?\s*(?:,.*)?",
                         requirement)
    assert match, f"cannot read the requirement {requirement!r}"
    return reader_envs.normalize(match.group(1)), match.group(2)


def test_floor_file_is_pyprojects_lower_bounds():
    """environments/floor.txt pins exactly the lower bound of every dependency pyproject.toml
    declares (so the floor test tests what pyproject admits), on its lowest Python."""
    import tomllib

    bounds = dict(_lower_bound(r) for r in reader_envs.pyproject_dependencies())
    missing = sorted(p for p, v in bounds.items() if v is None)
    assert not missing, f"pyproject.toml: give {missing} a lower bound (>=)"
    floor = reader_envs.pins("floor")
    expected = "\n".join(f"{p}=={v}" for p, v in sorted(bounds.items()))
    assert floor == bounds, ("tests/environments/floor.txt must pin pyproject's lower bounds, "
                             f"i.e. these lines:\n{expected}")
    with open(ROOT / "pyproject.toml", "rb") as f:
        python = tomllib.load(f)["project"]["requires-python"]
    assert python == f">={reader_envs.SPECS['floor'][0]}"


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def reader(request):
    return reader_envs.cached_machine(request.param), request.param


def test_the_bootstrap_install_changes_no_preinstalled_package(reader):
    """Installing the wheel with its dependencies only adds packages: on Colab no installed
    package is upgraded (so no runtime restart is asked for), at the floor no bound is raised."""
    machine, name = reader
    record = reader_envs.bootstrap_record(machine.folder)
    changed = {p: v for p, v in record["changed_by_the_wheel"].items() if v[0] is not None}
    assert not changed, f"the bootstrap install changed preinstalled packages on {name}: {changed}"
    for package, version in record["pins"].items():
        assert record["installed"].get(package) == version, (package, version)


def _shipped_outputs(python: str, env: dict, out: Path) -> dict:
    """Load every shipped ``.keras`` file with ``keras_compat.load_model`` under ``python`` and
    apply it to fixed inputs; returns ``{file: keras version}`` and writes outputs to ``out``."""
    code = f"""
import json, sys, warnings
import numpy as np, keras
import cyclegan_lesson
from cyclegan_lesson import pretrained
from cyclegan_lesson.files import keras_compat
warnings.filterwarnings("ignore")
models = {str(ROOT / "models")!r}
arrays, report = {{}}, {{"keras": keras.__version__, "files": []}}
for name in [n for n in pretrained.names() if n.endswith(".keras")]:
    model = keras_compat.load_model(models + "/" + name)
    rng = np.random.default_rng(0)
    inputs = []
    for tensor in model.inputs:
        shape = [2] + [d if d is not None else 32 for d in tensor.shape[1:]]
        dtype = str(tensor.dtype)
        inputs.append(np.zeros(shape, dtype) if "int" in dtype
                      else rng.uniform(-1, 1, shape).astype(dtype))
    result = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    for i, value in enumerate(keras.tree.flatten(result)):
        arrays[f"{{name}}:{{i}}"] = np.asarray(value)
    report["files"].append(name)
np.savez({str(out)!r}, **arrays)
print(json.dumps(report))
"""
    proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True,
                          timeout=1200, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pinned_outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("pinned") / "outputs.npz"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return _shipped_outputs(sys.executable, env, out), np.load(out)


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["floor"], indirect=True)
def test_every_shipped_model_loads_and_computes_the_same(reader, pinned_outputs, tmp_path):
    """Every shipped ``.keras`` file loads on the reader's Keras (through keras_compat) and gives
    the outputs it gives on the pinned Keras, to float32 round-off (so no dropped key changed
    what a layer does)."""
    machine, name = reader
    out = tmp_path / "outputs.npz"
    report = _shipped_outputs(str(machine.python), machine.env, out)
    pinned_report, pinned = pinned_outputs
    assert report["keras"] == reader_envs.pins(name)["keras"]
    assert report["files"] == pinned_report["files"] and len(report["files"]) >= 40
    got = np.load(out)
    assert sorted(got.files) == sorted(pinned.files)
    worst = {}
    for key in pinned.files:
        a, b = got[key].astype(np.float64), pinned[key].astype(np.float64)
        assert a.shape == b.shape, key
        worst[key] = float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))
    bad = {k: v for k, v in worst.items() if v > 1e-3}
    assert not bad, f"outputs differ from the pinned Keras on {name}: {bad}"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("reader, chapter", CHAPTER_RUNS, indirect=["reader"])
def test_chapter_runs_alone_on_the_readers_environment(reader, chapter, tmp_path, data_dir):
    machine, name = reader
    parameters, heading = CHAPTERS[chapter]
    output = machine.execute(ROOT / "notebooks" / chapter, tmp_path / "reader",
                             {**parameters, "data_dir": str(data_dir),
                              "out_dir": str(tmp_path / "out")})
    nb = nbformat.read(str(output), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "installed package" in printed
    assert re.search(rf"keras\s*: {re.escape(reader_envs.pins(name)['keras'])}\b", printed)
    assert "Wall time of this notebook" in printed
    assert not any(o.get("output_type") == "error" for c in nb.cells
                   for o in c.get("outputs", []))
    if heading:
        assert heading in markdown_outputs(output)
