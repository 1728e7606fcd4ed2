"""Chapter 13 (MNIST <-> SVHN) executes end to end on the real offline data (tiny parameters),
and the shipped generators load, have the documented shapes and translate a real test digit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cyclegan_lesson import pretrained

from conftest import run_notebook

MODELS = Path(pretrained.folder("mnist2svhn", recursive=True))


def test_shipped_generators(data_dir):
    import cyclegan_lesson  # noqa: F401
    from cyclegan_lesson.evaluation import classifiers
    from cyclegan_lesson.models import cyclegan

    comparison = json.loads((MODELS / "comparison.json").read_text())
    assert comparison["best"] in comparison["runs"]
    for name, entry in comparison["runs"].items():
        folder = MODELS / entry["path"]
        for key, (cin, cout) in (("G_AB", (1, 3)), ("G_BA", (3, 1))):
            path = folder / f"{key}.keras"
            assert os.path.getsize(path) < 10 * 2**20
            model, meta = cyclegan.load_generator(path)
            assert tuple(model.input_shape) == (None, 32, 32, cin)
            assert tuple(model.output_shape) == (None, 32, 32, cout)
            assert meta["training_steps"] == entry["steps"]
    x, _ = classifiers.load_digit_arrays("mnist", "test", str(data_dir), limit=2)
    g_ab, _ = cyclegan.load_generator(MODELS / "G_AB.keras")
    y = np.asarray(g_ab(x, training=False))
    assert y.shape == (2, 32, 32, 3) and np.all(np.abs(y) <= 1.0) and y.std() > 0.01


@pytest.mark.notebook
def test_13_mnist_svhn_runs(data_dir, tmp_path):
    out_dir = tmp_path / "out"
    output = run_notebook("13_mnist_svhn.ipynb", tmp_path, data_dir=str(data_dir),
                          out_dir=str(out_dir), eval_limit=60, train_steps=2, batch_size=2,
                          n_blocks=1, ngf=4, ndf=4, n_show=4)
    nb = nbformat.read(output, as_version=4)
    assert not any(o.get("output_type") == "error" for c in nb.cells
                   for o in c.get("outputs", []))
    table = json.loads((out_dir / "label_preservation.json").read_text())
    for name, report in table.items():
        assert report["test_images"] == {"mnist": 60, "svhn": 60}
        assert 0 <= report["judge"]["label_preservation"]["svhn->mnist"] <= 1
        assert report["realism"]["fd"]["mnist->svhn"] >= 0
    # the decisive configurations and their second seed are all evaluated
    assert {"plain", "semantic_b1_source", "semantic_b1", "plain_seed1",
            "semantic_b1_source_seed1", "semantic_b1_seed1"} <= set(table)
    assert (out_dir / "live_run" / "G_AB.keras").exists()
