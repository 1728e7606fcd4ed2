"""Chapter 6 (GAN and DCGAN) runs end to end with tiny parameters, and its stored deterministic
cells (marked ``# NBVAL_CHECK_OUTPUT``: the optimal discriminator and the value at the optimum on
hand-computed numbers, the two generator losses' gradients at a confident fake) are reproduced
by nbval."""

from __future__ import annotations

import nbformat
import pytest

from conftest import NOTEBOOKS, check_stored_outputs_with_nbval, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "06_gan_dcgan.ipynb"

#: The smallest run that executes every cell (about 30 s on 2 CPU cores). ``data_dir`` and
#: ``out_dir`` are added by the caller.
TINY_PARAMETERS = {
    "dstar_steps": 100, "toy_steps": 60, "toy_seeds": [0], "toy_hidden": 16,
    "train_limit": 512, "dcgan_steps": 20, "dcgan_chunk": 10, "filters": 4, "latent_dim": 8,
    "fd_samples": 200, "batch_size": 32,
}


@pytest.mark.notebook
def test_chapter_6_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "V(D*, G) = -0.6931  (by hand: -log 2 = -0.6931)" in text
    assert "2 JSD - log 4 = -0.6931" in text
    assert "|D - D*| averaged over the samples' density" in text
    assert "generator runs ahead: modes covered at the end" in text
    assert "FD-MNIST of the real training digits against the test digits" in text
    assert "FD-MNIST grows monotonically with the level:" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("d loss / d logit", "Spearman(D loss, FD-MNIST)", "IS analogue (max 10)",
                    "energy above 3/4 Nyquist", "disturbance test: FD-MNIST at level 0"):
        assert heading in tables, heading
    for name in ("results.json", "generator_losses.png", "optimal_discriminator.png",
                 "ring_samples.png", "dcgan_samples.png", "latent_walk.png",
                 "class_histogram.png", "fd_vs_d_loss.png", "spectra.png", "disturbance_test.png",
                 "log_dcgan_transpose.csv", "log_dcgan_resize.csv"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_6_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell (all
    of them come before any training; ``out_dir`` moved into ``tmp_path``) and compares those
    cells' outputs."""
    nb = nbformat.read(str(NOTEBOOKS / NAME), as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= 2
    nb.cells = nb.cells[:checked[-1] + 1]
    for cell in nb.cells:  # write the figures of the re-run into tmp_path, not the stored out_dir
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nout_dir = {str(tmp_path / 'out')!r}"
    check_stored_outputs_with_nbval(nb, NAME, tmp_path, data_dir)
