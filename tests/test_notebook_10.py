"""Chapter 10 (StarGAN) runs end to end with tiny parameters, and its stored deterministic
cells (marked ``# NBVAL_CHECK_OUTPUT``: the layer tables of G and D, whether the label reaches
G with and without the label stem, the parameter counts of one StarGAN vs the 42 translators,
the mask vector's layout) are reproduced by nbval."""

from __future__ import annotations

import pytest

from conftest import check_stored_checks_up_to_the_last, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "10_stargan.ipynb"

#: The smallest run that executes every cell. ``data_dir`` and ``out_dir`` are added by the
#: caller. ``main_steps = 0``: the shipped generator is measured as in the stored run.
TINY_PARAMETERS = {
    "main_steps": 0, "train_limit": 224, "judge_limit": 224, "judge_epochs": 1, "judge_width": 4,
    "ablation_steps": 2, "chunk": 1, "batch_size": 8, "test_limit": 70,
}


@pytest.mark.notebook
def test_chapter_10_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "one-hot vectors equal: True | mask vectors equal: False" in text
    assert "of the parameters of the 42 translators" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("does changing c change G(x, c)", "domain judge accuracy",
                    "target-domain accuracy", "content kept", "PSNR vs truth",
                    "copy the input", "lambda_cls = 0", "lambda_rec = 0",
                    "mask vector [c_A, c_B, m]", "training wall time"):
        assert heading in tables, heading
    for name in ("results.json", "domains.png", "training_curves.png", "inputs_x_targets.png",
                 "ablations.png", "log_ablation_0.csv"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_10_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell and
    compares the marked cells' outputs."""
    check_stored_checks_up_to_the_last(NAME, tmp_path, data_dir, at_least=3)
