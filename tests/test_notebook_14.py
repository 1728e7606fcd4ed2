"""Chapter 14 (Monet <-> photo) runs end to end with tiny parameters; its deterministic cells
(the contributions of a transposed convolution, the checkerboard energy of hand-made images)
are reproduced by nbval; the shipped generators and judges load and have the documented
shapes, sizes and training records; the shipped photo -> Monet generator translates a
non-square photo from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from cyclegan_lesson import pretrained

from conftest import check_stored_checks_up_to_the_last, run_cli, run_notebook
from test_notebook_02_03 import _stdout

NAME = "14_monet_photo.ipynb"
MODELS = Path(pretrained.folder("monet2photo", recursive=True))

#: The smallest run that executes every cell (two 2-step live runs of a tiny generator, one
#: tiny step-time configuration, 12 test images per collection). ``data_dir``, ``out_dir``
#: are added by the caller.
TINY_PARAMETERS = {"eval_limit": 12, "live_steps": 2, "live_size": 32, "live_blocks": 1,
                   "live_ngf": 4, "live_ndf": 4, "bench_steps": 1,
                   "bench_configurations": [[32, 1, 4, 4, "resize"]], "fid": False, "n_show": 3}


def test_shipped_generators_and_judges():
    import cyclegan_lesson  # noqa: F401
    from cyclegan_lesson.models import cyclegan

    for sub in ("", "no_identity"):
        recipe = json.loads((MODELS / sub / "recipe.json").read_text())
        expected_identity = 0.5 if sub == "" else 0.0
        assert recipe["options"]["lambda_identity"] == expected_identity
        assert recipe["options"]["upsample"] == "resize"
        for g, (a, b) in (("G_AB", ("monet", "photo")), ("G_BA", ("photo", "monet"))):
            path = MODELS / sub / f"{g}.keras"
            assert os.path.getsize(path) < 50 * 2**20
            model, meta = cyclegan.load_generator(path)
            size = recipe["options"]["image_size"]
            assert tuple(model.input_shape) == (None, size, size, 3)
            assert meta["training_steps"] == recipe["steps"]
    for name, size in (("painting_classifier_128", 128), ("painting_classifier_64", 64)):
        record = json.loads((MODELS / f"{name}.json").read_text())
        assert record["recipe"]["image_size"] == size and record["n_test"] == [30, 150]
        assert record["balanced_accuracy"] > 0.6
        # trained on 90 % of the train split, checked on the rest (never on the test images)
        assert record["recipe"]["batch_norm"] and record["validation"]["n"] == [27, 135]


def test_translate_a_non_square_photo_from_the_command_line(tmp_path):
    """The chapter's promise: any photo, any aspect ratio, through the shipped photo -> Monet
    generator at its own aspect ratio."""
    from PIL import Image

    rng = np.random.default_rng(0)
    photo = tmp_path / "wide.jpg"
    Image.fromarray(rng.integers(0, 256, (90, 200, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out"
    result = run_cli("translate", "--model", MODELS / "G_BA.keras", photo, "--out", out,
                     "--full-size")
    assert result.returncode == 0, result.stderr
    translated = Image.open(out / "wide.png")
    assert translated.size == (200, 90) and translated.mode == "RGB"
    pixels = np.asarray(translated, np.float32)
    assert pixels.std() > 1.0  # not a blank image


@pytest.mark.notebook
def test_chapter_14_runs(tmp_path, data_dir):
    out_dir = tmp_path / "out"
    out = run_notebook(NAME, tmp_path, data_dir=str(data_dir), out_dir=str(out_dir),
                       **TINY_PARAMETERS)
    text = _stdout(out)
    assert "checkerboard energy of a pure period-2 checkerboard: 1.000" in text
    assert "portrait: input 512x600" in text
    assert "Wall time of this notebook" in text
    measures = json.loads((out_dir / "measures.json").read_text())
    rows = measures["report"]["rows"]
    assert {"identity 0.5", "identity 0", "untranslated"} <= set(rows)
    assert measures["report"]["n"] == {"photos": 12, "paintings": 12}
    untranslated = rows["untranslated"]["photo->monet"]["content"]["luma_ssim"]["median"]
    assert untranslated == pytest.approx(1.0, abs=1e-5)
    assert (out_dir / "translated_full" / "portrait.png").exists()
    assert (out_dir / "live_resize" / "G_BA.keras").exists()


@pytest.mark.notebook
def test_chapter_14_stored_outputs_reproduce_with_nbval(tmp_path, data_dir):
    """nbval re-executes the stored notebook up to its last ``# NBVAL_CHECK_OUTPUT`` cell (it
    comes before any training; ``out_dir`` moved into ``tmp_path``) and compares the outputs."""
    check_stored_checks_up_to_the_last(NAME, tmp_path, data_dir, at_least=2)
