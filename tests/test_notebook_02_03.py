"""Chapters 2 and 3 run end to end with tiny parameters, and chapter 3's stored verdicts
(cells marked ``# NBVAL_CHECK_OUTPUT``) are reproduced by re-executing the stored notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOKS, check_stored_outputs_with_nbval, run_notebook


def _stdout(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "\n".join(
        out.get("text", "")
        for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "stream"
    )


@pytest.mark.notebook
def test_chapter_2_runs(tmp_path, data_dir):
    out = run_notebook(
        "02_residual_connections.ipynb", tmp_path, data_dir=str(data_dir),
        depth=8, width=4, train_limit=256, val_limit=64, test_limit=128, epochs=1,
        evals_per_epoch=2, grad_batch=16, sweep_depths=[8, 14],
    )
    text = _stdout(out)
    assert "equal, so add() works: True" in text
    assert "same parameter budget: True" in text
    assert "ValueError: lecture_example: cannot add the branches" in text
    assert (tmp_path / "out" / "results.json").exists()
    assert (tmp_path / "out" / "training_curves.png").exists()


@pytest.mark.notebook
def test_chapter_3_runs(tmp_path, data_dir):
    out = run_notebook(
        "03_normalization.ipynb", tmp_path, data_dir=str(data_dir),
        n_images=2, image_size=32, feature_channels=8, groups=2,
    )
    text = _stdout(out)
    assert text.count("< 1e-5: True") == 6  # 4 Keras checks + 2 InstanceNormalization checks
    assert "< 1e-5: False" not in text
    assert text.count("equal (< 1e-5): True") == 5
    assert "instance norm removes it (gap < 1e-3): True" in text
    assert "instance norm: the output does not depend on the batch-mates (< 1e-6): True" in text
    assert (tmp_path / "out" / "normalization_cubes.png").exists()


@pytest.mark.notebook
@pytest.mark.slow
def test_chapter_3_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook (its injected parameters included) and compares the
    outputs of the ``# NBVAL_CHECK_OUTPUT`` cells. The notebook runs from a copy whose
    ``../../shared/data`` points at the real data, so nothing is written into the repository."""
    nb = nbformat.read(str(NOTEBOOKS / "03_normalization.ipynb"), as_version=4)
    assert sum("# NBVAL_CHECK_OUTPUT" in c.source for c in nb.cells) >= 5
    check_stored_outputs_with_nbval(nb, "03_normalization.ipynb", tmp_path, data_dir)
