"""Chapter 5 (the VAE) runs end to end with tiny parameters, and its stored deterministic cells
(marked ``# NBVAL_CHECK_OUTPUT``: the closed-form KL on fixed numbers, the reparameterization
gradient, the layer tables and parameter counts) are reproduced by nbval."""

from __future__ import annotations

import nbformat
import pytest

from conftest import NOTEBOOKS, check_stored_outputs_with_nbval, run_notebook
from test_notebook_02_03 import _stdout

NAME = "05_vae.ipynb"

#: The smallest run that executes every cell (about 45 s on 2 CPU cores); reusable by a
#: reader's-machine test. ``data_dir`` and ``out_dir`` are added by the caller.
TINY_PARAMETERS = {
    "train_limit": 512, "test_limit": 500, "filters": [4, 8], "hidden": 16, "epochs": 1,
    "iwae_k": 10, "iwae_limit": 100, "betas": [1, 4], "beta_epochs": 1, "probe_limit": 256,
    "kl_check_samples": 1000,
}


@pytest.mark.notebook
def test_chapter_5_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "Monte Carlo within 4 standard errors of the closed form: True" in text
    assert "dz/dlog_var == sigma * eps / 2: True" in text
    assert "both gradients non-zero: True" in text
    assert "importance-weighted bound above the ELBO on average: True" in text
    assert "Wall time of this notebook" in text
    for name in ("results.json", "training_curves.png", "latent_space.png", "manifold.png",
                 "reconstructions.png", "samples.png", "beta_sweep.png", "collapse.png",
                 "vae_diagram.png", "log_latent2_beta1.0_sum.csv"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_5_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook's cells up to its last ``# NBVAL_CHECK_OUTPUT``
    cell (all of them come before any data is loaded or model trained; the stored injected
    parameters included, ``out_dir`` moved into ``tmp_path``) and compares those cells'
    outputs. It runs from a copy whose
    ``../../shared/data`` points at the real data, so nothing is written into the repository."""
    nb = nbformat.read(str(NOTEBOOKS / NAME), as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= 3
    nb.cells = nb.cells[:checked[-1] + 1]
    for cell in nb.cells:  # write the figures of the re-run into tmp_path, not the stored out_dir
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nout_dir = {str(tmp_path / 'out')!r}"
    check_stored_outputs_with_nbval(nb, NAME, tmp_path, data_dir)
