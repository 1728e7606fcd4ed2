"""Chapter 9 (pix2pix) runs end to end with tiny parameters, and its stored deterministic cells
(marked ``# NBVAL_CHECK_OUTPUT``: the median / mean guesses of the L1 demo, the generator's layer
table and luma check, the PatchGAN sizes and receptive fields) are reproduced by nbval."""

from __future__ import annotations

import pytest

from conftest import check_stored_checks_up_to_the_last, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "09_pix2pix.ipynb"

#: The smallest run that executes every cell: five live runs of 4 steps on 64 training pairs,
#: six colourizers and two classifiers on 200 test images. ``data_dir`` and ``out_dir`` are
#: added by the caller.
TINY_PARAMETERS = {"ablation_steps": 4, "batch_size": 4, "train_limit": 64, "eval_limit": 200,
                   "ngf": 4, "ndf": 4, "n_show": 3}


@pytest.mark.notebook
def test_chapter_9_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "test images: 200" in text
    assert "least-squares scale of the predicted chroma" in text
    assert "of the way from gray to the truth" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("best guess for L1 (median)", "receptive field", "70×70 (whole image)",
                    "chroma-only clf", "gray→truth", "shipped: L1 + cGAN",
                    "L1 + cGAN, 1×1 D", "chroma scale s", "training wall time"):
        assert heading in tables, heading
    for name in ("results.json", "runs/run0/history.csv", "runs/run2/train.log"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_9_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell
    (before any training; ``out_dir`` moved into ``tmp_path``) and compares those cells."""
    check_stored_checks_up_to_the_last(NAME, tmp_path, data_dir, at_least=2)
