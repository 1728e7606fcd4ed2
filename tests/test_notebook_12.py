"""Chapter 12 (CIFAR-10 gray <-> colour) runs end to end with tiny parameters, and its stored
deterministic cell (marked ``# NBVAL_CHECK_OUTPUT``: Y Cb Cr, colourfulness, saturation distance
and luma correlation of hand-made images) is reproduced by nbval."""

from __future__ import annotations

import pytest

from conftest import check_stored_checks_up_to_the_last, markdown_outputs, run_notebook
from test_notebook_02_03 import _stdout

NAME = "12_cifar10_gray_color.ipynb"

#: The smallest run that executes every cell (the live run of the shipped keep-luma recipe, 10
#: shipped generators and two classifiers on 300 test images, the recipe-search table). ``data_dir`` and ``out_dir`` are added by the caller.
TINY_PARAMETERS = {"train_steps": 8, "batch_size": 4, "eval_limit": 300, "n_show": 4}


@pytest.mark.notebook
def test_chapter_12_runs(tmp_path, data_dir):
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), **TINY_PARAMETERS)
    text = _stdout(out)
    assert "images in both: 0" in text
    assert "colourfulness of pure red: 85.53" in text
    assert "luma correlation of x with itself: +1.00, with its negative: -1.00" in text
    assert "most frequent confusions of the chroma-only classifier" in text
    assert "untrained G_XY: luma of the output = input within 1e-5 where nothing clips: True" in text
    assert "a third of the way from gray to the true colours" in text
    assert "a quarter of the way" in text and "the plain CycleGAN:" in text
    assert "the learnt 1×1 G_YX of the plain CycleGAN" in text
    assert "Wall time of this notebook" in text
    tables = markdown_outputs(out)
    for heading in ("chroma-only clf", "gray→truth", "accuracy: true colours",
                    "CycleGAN + luma consistency", "paired L1 regression", "plain CycleGAN",
                    "options added to", "--keep-luma --luma-g-ba"):
        assert heading in tables, heading
    for name in ("results.json", "live_run/luma.csv", "live_run/G_AB.keras"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.notebook
def test_chapter_12_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell (it
    comes before any training; ``out_dir`` moved into ``tmp_path``) and compares its output.
    The checked cells use at most 64 test images, so the classifiers' reference rows in between
    read 100 instead of all 5,000."""
    check_stored_checks_up_to_the_last(NAME, tmp_path, data_dir, at_least=1,
                                       cheap={"eval_limit": 100})


def test_shipped_plain_cyclegan_is_plain_and_keeps_the_brightness(data_dir):
    """``models/gray2color/plain``: the paper's losses only (no luma term, no keep-luma wrapper,
    a learnt G_YX of 1x1 convolutions), the recorded steps, and on the first 500 test images a
    median luma correlation of at least 0.95 with no inverted image."""
    import json

    import keras
    import numpy as np

    from cyclegan_lesson import data, pretrained
    from cyclegan_lesson.evaluation import colour_metrics
    from cyclegan_lesson.models import cyclegan

    folder = pretrained.folder("gray2color", recursive=True)
    with open(f"{folder}/runs.json") as f:
        info = json.load(f)["runs"]["plain"]
    g_ab, meta = cyclegan.load_generator(f"{folder}/{info['folder']}/G_AB.keras")
    g_ba, _ = cyclegan.load_generator(f"{folder}/{info['folder']}/G_BA.keras")
    assert meta["training_steps"] == info["steps"] == 13000
    assert tuple(g_ab.input_shape) == (None, 32, 32, 1) and g_ab.output_shape[-1] == 3
    opts = info["options"]
    assert opts["lambda_luma"] == 0 and not opts["keep_luma"] and not opts["luma_g_ba"]
    assert opts["lambda_semantic"] == 0 and opts["adversarial"] == "lsgan"
    convs = [layer for layer in g_ba._flatten_layers() if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(tuple(c.kernel_size) == (1, 1) for c in convs)
    gray, _ = data.load_arrays("cifar10_gray", "test", str(data_dir), limit=500)
    corr = colour_metrics.luma_correlation(gray, colour_metrics.colourize(g_ab, gray))
    assert np.median(corr) >= 0.95 and (corr < 0).sum() == 0
