"""Chapter 7 (WGAN and WGAN-GP) runs end to end with tiny parameters, and its stored
deterministic cell (marked ``# NBVAL_CHECK_OUTPUT``: the Earth-Mover distance of the lecture's
blocks, the closed forms of the parallel-lines example) is reproduced by nbval."""

from __future__ import annotations

import nbformat
import pytest

from conftest import NOTEBOOKS, check_stored_outputs_with_nbval, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "07_wgan_gp.ipynb"

#: The smallest run that executes every cell. ``data_dir`` and ``out_dir`` are added by the
#: caller. Most of its time is TensorFlow tracing the critic steps (double backpropagation).
TINY_PARAMETERS = {
    "lines_samples": 60, "lines_fit_steps": 5, "toy_steps": 5, "toy_seeds": [0],
    "toy_hidden": 8, "clip_values": [0.01, 0.1], "clip_steps": 5, "n_critic": 2,
    "train_limit": 256, "mnist_steps": 4, "mnist_chunk": 2, "mnist_seeds": [0], "filters": 4,
    "latent_dim": 8, "fd_samples": 100, "batch_size": 16,
}


@pytest.mark.notebook
def test_chapter_7_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "lecture blocks {2, 8} -> {3, 7}: W = 1.0" in text
    assert "JSD of delta_0 and delta_theta (discrete, disjoint): 0.6931" in text
    assert "slope of the measured W" in text
    assert "WGAN-GP (5 generator steps): modes covered" in text
    assert "FD-MNIST of real training digits against the test digits" in text
    assert "WGAN-GP: Spearman(loss, FD-MNIST) over 1 seeds" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("W estimated by the trained critic", "weights within 1 % of +-c",
                    "modes covered at the 5 checkpoints", "Spearman(loss, FD-MNIST)",
                    "LayerNormalization"):
        assert heading in tables, heading
    for name in ("results.json", "parallel_lines.png", "critic_weights.png",
                 "gradient_norms.png", "ring_samples.png", "fd_vs_losses.png",
                 "mnist_samples.png", "log_wgan_gp_0.csv", "log_dcgan_0.csv"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_7_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell (all
    of them come before any training; ``out_dir`` moved into ``tmp_path``) and compares those
    cells' outputs."""
    nb = nbformat.read(str(NOTEBOOKS / NAME), as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= 1
    nb.cells = nb.cells[:checked[-1] + 1]
    for cell in nb.cells:  # write into tmp_path, not the stored out_dir
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nout_dir = {str(tmp_path / 'out')!r}"
    check_stored_outputs_with_nbval(nb, NAME, tmp_path, data_dir)
