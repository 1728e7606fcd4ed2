"""The command line: train a few steps on the real data, translate real images, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.tools import cli

from conftest import TINY_MODEL_OPTIONS as TINY
from conftest import run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = run_cli("train", "--task", "gray2color", "--out", out, "--data-dir", data_dir,
                   "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "2",
                   "--sample-images", "2", "--verbose", "1", *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_train_writes_everything(trained):
    out, proc = trained
    assert "trained 3 steps" in proc.stdout
    assert "3/3" in proc.stdout  # the progress bar
    for name in ("G_AB.keras", "G_BA.keras", "generators.json", "history.csv",
                 "train_state.json", "samples/epoch_001.png"):
        assert (out / name).is_file(), name
    assert list((out / "checkpoints").glob("ckpt-3.index"))
    meta = json.loads((out / "generators.json").read_text())
    assert meta["domain_a"] == "cifar10_gray" and meta["domain_b"] == "cifar10_color"
    assert meta["training_steps"] == 3 and meta["parameters"]["ngf"] == 4
    rows = (out / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 2 and "cycle_aba" in rows[0]
    assert "Traceback" not in proc.stderr


def test_translate_jpeg_and_grayscale_png(trained, tmp_path, data_dir):
    out, _ = trained
    jpeg = sorted((data_dir / "monet2photo" / "testA").glob("*.jpg"))[0]
    gray = tmp_path / "gray.png"
    Image.fromarray(np.linspace(0, 255, 50 * 40).reshape(40, 50).astype(np.uint8), "L").save(gray)
    rgba = tmp_path / "inputs" / "rgba.png"
    rgba.parent.mkdir()
    Image.fromarray(np.full((20, 30, 4), 200, np.uint8), "RGBA").save(rgba)
    (tmp_path / "inputs" / "notes.txt").write_text("ignored inside a folder")

    # G_AB: gray -> colour (the JPEG is converted to luma, both resized to 32x32).
    proc = run_cli("translate", "--model", out / "G_AB.keras", jpeg, gray,
                   "--out", tmp_path / "ab")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "translated 2 image(s)" in proc.stdout
    result = Image.open(tmp_path / "ab" / f"{jpeg.stem}.png")
    assert result.mode == "RGB" and result.size == (32, 32)
    assert Image.open(tmp_path / "ab" / "gray.png").mode == "RGB"

    # G_BA: colour -> gray, in process; a folder input, RGBA and grayscale inputs, --keep-size.
    written = cli.translate_files(out / "G_BA.keras", [gray, tmp_path / "inputs"],
                                  tmp_path / "ba", keep_size=True)
    assert [os.path.basename(p) for p in written] == ["gray.png", "rgba.png"]
    back = Image.open(written[0])
    assert back.mode == "L" and back.size == (50, 40)
    assert Image.open(written[1]).size == (30, 20)


def test_translate_input_conversion_uses_luma(tmp_path):
    rgb = tmp_path / "rgb.png"
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[..., 0] = 255  # pure red: luma 0.299 * 255 = 76
    Image.fromarray(pixels).save(rgb)
    arr, size = cli._read_image(rgb, (8, 8), 1)
    assert size == (8, 8) and arr.shape == (8, 8, 1)
    assert (arr[0, 0, 0] + 1) * 127.5 == pytest.approx(76, abs=1)
    arr, _ = cli._read_image(rgb, (4, 6), 3)
    assert arr.shape == (4, 6, 3) and arr.min() >= -1 and arr.max() <= 1


def expect_error(capsys, argv, message):
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith("python -m cyclegan_lesson")


def expect_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err, err


def test_bad_task_and_option_values(capsys, tmp_path):
    expect_usage_error(capsys, ["train", "--task", "horse2zebra", "--out", tmp_path],
                       "invalid choice: 'horse2zebra'")
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--batch-size", "0"], "must be >= 1")
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--lr", "fast"], "expected a number")
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--generator", "vit"], "invalid choice: 'vit'")
    expect_usage_error(capsys, ["bench", "--steps", "-3"], "must be >= 1")
    expect_usage_error(capsys, ["evaluate"], "required: --task")  # evaluate: tests/test_evaluate.py


def test_train_bad_inputs(capsys, tmp_path, data_dir):
    expect_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path / "o",
                          "--data-dir", tmp_path / "nowhere"], "does not exist")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    expect_error(capsys, ["train", "--task", "gray2color", "--out", a_file,
                          "--data-dir", data_dir], "is not a folder")
    expect_error(capsys, ["train", "--task", "gray2color", "--out", a_file / "sub",
                          "--data-dir", data_dir], "cannot write to output folder")
    empty = tmp_path / "empty_data"
    empty.mkdir()
    expect_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path / "o2",
                          "--data-dir", empty], "cifar10.npz")
    expect_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path / "o3",
                          "--data-dir", data_dir, "--generator", "unet", "--image-size", "48"],
                 "power of two")
    expect_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path / "o4",
                          "--data-dir", data_dir, "--augment-b"], "mnist2svhn task only")


def test_resume_with_other_options_is_refused(capsys, trained, data_dir):
    out, _ = trained
    expect_error(capsys, ["train", "--task", "gray2color", "--out", out, "--data-dir", data_dir,
                          "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "2",
                          "--n-blocks", "1", "--ngf", "8", "--ndf", "4", "--n-layers", "2"],
                 "different configuration: ngf 4 (checkpoint) vs 8 (now)")


def test_translate_bad_inputs(capsys, tmp_path, trained):
    out, _ = trained
    image = tmp_path / "ok.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    expect_error(capsys, ["translate", "--model", tmp_path / "missing.keras", image,
                          "--out", tmp_path / "o"], "no such model file")
    expect_error(capsys, ["translate", "--model", out / "G_AB.keras", tmp_path / "missing.png",
                          "--out", tmp_path / "o"], "no such file or folder")
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    expect_error(capsys, ["translate", "--model", out / "G_AB.keras", text,
                          "--out", tmp_path / "o"], f"not an image file: {text}")
    fake_model = tmp_path / "fake.keras"
    fake_model.write_text("not a model")
    expect_error(capsys, ["translate", "--model", fake_model, image, "--out", tmp_path / "o"],
                 "is not a valid .keras model file")
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    expect_error(capsys, ["translate", "--model", out / "G_AB.keras", empty,
                          "--out", tmp_path / "o"], "contains no image files")
    expect_error(capsys, ["translate", "--model", out / "G_AB.keras", image, "--out", text],
                 "is not a folder")


def test_error_exit_code_through_python_m(tmp_path):
    image = tmp_path / "ok.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    proc = run_cli("translate", "--model", tmp_path / "missing.keras", image,
                   "--out", tmp_path / "o", timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"python -m cyclegan_lesson translate: error: no such model file: "
        f"{tmp_path / 'missing.keras'}")
    assert "Traceback" not in proc.stderr


def test_bench_prints_one_json_line(capsys):
    code = cli.main(["bench", "--size", "32", "--batch-size", "2", "--n-blocks", "0", "--ngf",
                     "4", "--ndf", "4", "--steps", "3", "--warmup", "1"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1
    result = json.loads(out[0])
    assert result["images_per_s"] > 0 and result["step_ms"] > 0
    assert result["step_ms_min"] <= result["step_ms"] <= result["step_ms_max"]
    assert result["images_per_s"] == pytest.approx(2 / (result["step_ms"] / 1000), rel=0.01)
    assert result["configuration"] == {
        "size": 32, "batch_size": 2, "generator": "resnet", "n_blocks": 0, "ngf": 4, "ndf": 4,
        "n_layers": 3, "channels": 3, "steps": 3, "warmup": 1, "jit": False,
        "precision": "float32", "upsample": "transpose", "pool_size": 50, "adversarial": "lsgan"}
    assert result["device"] and result["versions"]["tensorflow"]


def test_translate_full_size_keeps_a_non_square_photo_whole(tmp_path):
    import keras
    from cyclegan_lesson.models import cyclegan
    from cyclegan_lesson.nn import networks

    keras.utils.set_random_seed(0)
    g = networks.resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=3,
                                  out_channels=3, upsample="resize", name="G_AB")
    model = tmp_path / "G_AB.keras"
    g.save(model)
    photo = tmp_path / "wide.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 90, 3), dtype=np.uint8)).save(photo)
    proc = run_cli("translate", "--model", model, photo, "--out", tmp_path / "o", "--full-size",
                   "--tile", "48")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Image.open(tmp_path / "o" / "wide.png").size == (90, 50)
    written = cli.translate_files(model, [photo], tmp_path / "o2", full_size=True, short_side=32)
    assert Image.open(written[0]).size == (56, 32)  # 90 * 32 / 50 = 57.6 -> multiple of 4
    proc = run_cli("translate", "--model", model, photo, "--out", tmp_path / "o3", "--tile", "48")
    assert proc.returncode != 0 and "only with --full-size" in proc.stderr
    assert cyclegan.load_generator(model)[1]["image_size"] == [32, 32]


def test_train_keep_luma_and_batch_norm(tmp_path, data_dir):
    """``train --keep-luma --norm batch``: G_AB predicts only the chroma, so its exported file
    keeps the luma of real gray test images exactly (up to clipping); the options are recorded;
    resuming with the plain generator is refused."""
    import keras

    from cyclegan_lesson import data
    from cyclegan_lesson.evaluation import colour_metrics

    out = tmp_path / "kl"
    proc = run_cli("train", "--task", "gray2color", "--out", out, "--data-dir", data_dir,
                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2",
                   "--sample-images", "0", "--luma-every", "0", "--verbose", "0",
                   "--generator", "unet", "--ngf", "4", "--ndf", "4", "--n-layers", "2",
                   "--keep-luma", "--norm", "batch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "generators.json").read_text())
    assert meta["parameters"]["keep_luma"] is True and meta["parameters"]["norm"] == "batch"
    gray, _ = data.load_arrays("cifar10_gray", "test", data_dir, limit=8)
    g_ab = keras.models.load_model(out / "G_AB.keras")
    rgb = g_ab.predict(gray, verbose=0)
    unclipped = np.all(np.abs(rgb) < 0.999, axis=-1)
    assert unclipped.mean() > 0.5
    diff = np.abs(colour_metrics.luma(rgb) - gray)[..., 0]
    assert diff[unclipped].max() < 1e-4
    again = run_cli("train", "--task", "gray2color", "--out", out, "--data-dir", data_dir,
                    "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2",
                    "--generator", "unet", "--ngf", "4", "--ndf", "4", "--n-layers", "2")
    assert again.returncode != 0
    assert "keep_luma True (checkpoint) vs False (now)" in again.stderr


def test_keep_luma_is_for_gray2color_only(capsys, tmp_path, data_dir):
    expect_error(capsys, ["train", "--task", "mnist2svhn", "--out", tmp_path / "o",
                          "--data-dir", data_dir, "--keep-luma"], "gray2color task only")
    expect_error(capsys, ["train", "--task", "mnist2svhn", "--out", tmp_path / "o",
                          "--data-dir", data_dir, "--luma-g-ba"], "gray2color task only")
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--norm", "layer"], "invalid choice: 'layer'")


def test_train_plain_recipe_options_pixel_g_ba_and_identity_ba(capsys, tmp_path, data_dir):
    """``train --g-ba pixel --lambda-identity-x 0.5 --identity-x ba``: G_BA is the learnt
    per-pixel network (a few hundred weights), only G_BA's identity term is on (identity_ab is
    0 at every epoch, identity_ba is not), the options are recorded, and resuming with the
    U-Net G_BA is refused; bad choices are usage errors."""
    out = tmp_path / "plain"
    common = ["--task", "gray2color", "--out", out, "--data-dir", data_dir, "--epochs", "1",
              "--steps-per-epoch", "2", "--batch-size", "2", "--generator", "unet",
              "--ngf", "4", "--ndf", "4", "--n-layers", "2"]
    proc = run_cli("train", *common, "--sample-images", "0", "--luma-every", "0",
                   "--verbose", "0", "--g-ba", "pixel", "--lambda-identity-x", "0.5",
                   "--identity-x", "ba")
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "generators.json").read_text())
    assert meta["parameters"]["g_ba"] == "pixel"
    assert meta["parameters"]["identity_x_sides"] == "ba"
    assert meta["generators"]["G_BA"]["parameter_count"] < 1000
    rows = [line.split(",") for line in (out / "history.csv").read_text().splitlines()]
    last = dict(zip(rows[0], rows[-1]))
    assert float(last["identity_ab"]) == 0.0 and float(last["identity_ba"]) > 0
    again = run_cli("train", *common)
    assert again.returncode != 0
    assert "g_ba 'pixel' (checkpoint) vs 'same' (now)" in again.stderr
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--g-ba", "luma"], "invalid choice: 'luma'")
    expect_usage_error(capsys, ["train", "--task", "gray2color", "--out", tmp_path,
                                "--identity-x", "none"], "invalid choice: 'none'")


def test_train_n_downsampling_zero(tmp_path, capsys, data_dir):
    """``train --n-downsampling 0``: generators without a stride-2 layer, the option recorded in
    generators.json; resuming with the paper's 2 is refused; the U-Net has no such option."""
    import keras

    out = tmp_path / "nd0"
    proc = run_cli("train", "--task", "mnist2svhn", "--out", out, "--data-dir", data_dir,
                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2",
                   "--sample-images", "0", "--verbose", "0", "--n-blocks", "1", "--ngf", "4",
                   "--ndf", "4", "--n-layers", "2", "--n-downsampling", "0",
                   "--lambda-identity-x", "0.5", "--lambda-cycle-b", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "generators.json").read_text())
    assert meta["parameters"]["n_downsampling"] == 0
    g_ab = keras.models.load_model(out / "G_AB.keras")
    strides = [layer.strides for layer in g_ab.layers if hasattr(layer, "strides")]
    assert strides and all(tuple(s) == (1, 1) for s in strides)
    assert g_ab.output_shape == (None, 32, 32, 3)
    again = run_cli("train", "--task", "mnist2svhn", "--out", out, "--data-dir", data_dir,
                    "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2",
                    "--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "2")
    assert again.returncode != 0
    assert "n_downsampling 0 (checkpoint) vs 2 (now)" in again.stderr
    expect_error(capsys, ["train", "--task", "mnist2svhn", "--out", tmp_path / "u",
                          "--data-dir", data_dir, "--generator", "unet",
                          "--n-downsampling", "1"], "option of the resnet generator")
