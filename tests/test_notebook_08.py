"""Chapter 8 (conditional GAN) runs end to end with tiny parameters, and its stored
deterministic cell (marked ``# NBVAL_CHECK_OUTPUT``: the layer tables of the conditional
generator and discriminator and the tiled label planes) is reproduced by nbval."""

from __future__ import annotations

import pytest

from conftest import check_stored_checks_up_to_the_last, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "08_conditional_gan.ipynb"

#: The smallest run that executes every cell. ``data_dir`` and ``out_dir`` are added by the
#: caller. The shipped generator is measured as in the stored run, on fewer samples.
TINY_PARAMETERS = {
    "train_limit": 512, "train_steps": 20, "chunk": 10, "filters": 4, "latent_dim": 8,
    "batch_size": 32, "monitor_per_class": 5, "eval_per_class": 100, "test_limit": 1000,
    "cas_per_class": 20, "cas_epochs": 1, "cas_width": 4,
}


@pytest.mark.notebook
def test_chapter_8_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "discriminator input after tiling: (32, 32, 11)" in text
    assert "conditioning accuracy at the checkpoints (step 0 first)" in text
    assert "CAS minus the real-data baseline" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("mean D(x|y)", "mean Spearman correlation of ink", "worst class",
                    "collapsed: diversity", "training wall time"):
        assert heading in tables, heading
    for name in ("results.json", "training_curves.png", "class_grid.png", "style_grid.png",
                 "confusion.png", "per_class.png", "log_cgan.csv"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_8_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell
    (before any training) and compares that cell's output."""
    check_stored_checks_up_to_the_last(NAME, tmp_path, data_dir, at_least=1)
