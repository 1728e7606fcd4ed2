"""Chapter 1 executes end to end on the real offline data (tiny parameters)."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import run_notebook


@pytest.mark.notebook
def test_01_datasets_runs(data_dir, tmp_path):
    out_dir = tmp_path / "out"
    output = run_notebook("01_datasets.ipynb", tmp_path, data_dir=str(data_dir),
                          out_dir=str(out_dir), n_show=3, stats_limit=20, balance_limit=300,
                          jitter_epochs=2)
    nb = nbformat.read(output, as_version=4)
    assert not any(o.get("output_type") == "error" for c in nb.cells
                   for o in c.get("outputs", []))
    results = json.loads((out_dir / "results.json").read_text())
    assert results["counts"]["svhn"] == {"train": 8003, "test": 1997}
    assert results["counts"]["photo"] == {"train": 1350, "test": 150}
    assert results["shapes"]["cifar10_gray"] == [32, 32, 1]
    assert results["luma"]["max_abs_error"] < 1e-5
    assert len(results["jitter"]) == 2
    assert all(d["match_error"] < 1e-6 for d in results["jitter"])
    assert sorted(p.name for p in out_dir.glob("samples_*.png")) == sorted(
        f"samples_{name}.png" for name in results["counts"])
