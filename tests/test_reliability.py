"""The reliability probe's failing cases (``shared/reviews/reliability_probe.md``), each as a
test: images read at their true values, ``translate`` never writing over its inputs or through
symbolic links, atomic writes, clear one-line errors. Row numbers refer to the probe's tables."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.files import atomic
from cyclegan_lesson.tools import cli, image_io


def _level(arr: np.ndarray) -> np.ndarray:
    """[-1, 1] -> 0..255 (float)."""
    return (arr + 1.0) * 127.5


# ------------------------------------------------------------------------- image reading (3)


@pytest.mark.parametrize("value", [0, 1000, 30000, 65535])
def test_16bit_gray_png_is_read_at_its_true_level(tmp_path, value):
    """Row 6: a uniform 16-bit image of level v is v / 65535 (was: divided by its own max)."""
    path = tmp_path / "u16.png"
    Image.fromarray(np.full((8, 8), value, np.uint16)).save(path)
    arr, size = image_io.read_image(path, None, 1)
    assert size == (8, 8) and arr.shape == (8, 8, 1)
    np.testing.assert_allclose(_level(arr), value / 257.0, atol=1e-3)
    arr3, _ = cli._read_image(path, (4, 4), 3)  # the CLI's reader is the same function
    np.testing.assert_allclose(_level(arr3), value / 257.0, atol=1e-3)


def test_16bit_gradient_keeps_its_levels_after_a_resize(tmp_path):
    path = tmp_path / "ramp.png"
    ramp = np.tile(np.linspace(0, 20000, 16), (16, 1)).astype(np.uint16)
    Image.fromarray(ramp).save(path)
    arr, _ = image_io.read_image(path, (8, 8), 1)
    assert _level(arr).max() < 20000 / 257 + 1  # not stretched to white


def test_float_tiff_is_read_as_levels_in_0_1_and_out_of_range_refused(tmp_path):
    """Row 9: a float32 TIFF with values 0..1 was read as black."""
    path = tmp_path / "f.tif"
    Image.fromarray(np.full((6, 6), 0.5, np.float32)).save(path)
    arr, _ = image_io.read_image(path, None, 3)
    assert arr.shape == (6, 6, 3)
    np.testing.assert_allclose(_level(arr), 127.5, atol=1e-3)
    bad = tmp_path / "big.tif"
    Image.fromarray(np.full((6, 6), 300.0, np.float32)).save(bad)
    with pytest.raises(image_io.ImageReadError, match=r"big.tif.*float values in \[300, 300\]"):
        image_io.read_image(bad, None, 1)


def test_exif_orientation_is_applied(tmp_path):
    """Row 33: a JPEG stored 80x40 with Orientation=6 is displayed 40x80."""
    path = tmp_path / "rot.jpg"
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, :40] = 255  # left half white as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    assert image_io.image_size(path) == (40, 80)
    arr, size = image_io.read_image(path, None, 1)
    assert size == (40, 80) and arr.shape == (80, 40, 1)
    assert _level(arr[:20]).mean() > 200 and _level(arr[-20:]).mean() < 50  # white on top


def test_decompression_bomb_is_refused_in_one_line(tmp_path, capsys):
    """Row 18: a PNG declaring 20000 x 10000 pixels gave a DecompressionBombError traceback."""
    path = tmp_path / "bomb.png"
    Image.new("L", (20000, 10000)).save(path, optimize=True)
    with pytest.raises(image_io.ImageReadError, match="bomb.png .*decompression bomb"):
        image_io.read_image(path)
    code = cli.main(["translate", "--model", str(tmp_path / "none.keras"), str(path), "--out",
                     str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_not_an_image_and_truncated_images_are_named(tmp_path):
    text = tmp_path / "text.png"
    text.write_text("hello")
    with pytest.raises(image_io.ImageReadError, match="not an image file: .*text.png"):
        image_io.read_image(text)
    trunc = tmp_path / "trunc.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(trunc)
    trunc.write_bytes(trunc.read_bytes()[:300])
    with pytest.raises(image_io.ImageReadError, match="cannot read image .*trunc.jpg"):
        image_io.read_image(trunc)


# ------------------------------------------------------------ translate and its inputs (2)


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    import keras

    from cyclegan_lesson.nn import networks

    keras.utils.set_random_seed(0)
    g = networks.resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=3,
                                  out_channels=3, upsample="resize", name="G_AB")
    path = tmp_path_factory.mktemp("model") / "G_AB.keras"
    g.save(path)
    return path


def _md5(path) -> str:
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _images(folder, names=("rgb.png", "gray.png")):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(folder / name)
    return {name: _md5(folder / name) for name in names}


def _expect_refused(capsys, argv, message):
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err, err


def test_translate_refuses_an_out_equal_to_the_input_folder(generator, tmp_path, capsys):
    """Row 30: --out = the input folder overwrote the originals."""
    before = _images(tmp_path / "inplace")
    _expect_refused(capsys, ["translate", "--model", generator, tmp_path / "inplace", "--out",
                             tmp_path / "inplace"], "inside the input folder")
    assert {n: _md5(tmp_path / "inplace" / n) for n in before} == before


def test_translate_refuses_out_inside_the_input_folder(generator, tmp_path, capsys):
    """Row 31: an --out inside the input folder was read back as input by the next run."""
    _images(tmp_path / "nest")
    _expect_refused(capsys, ["translate", "--model", generator, tmp_path / "nest", "--out",
                             tmp_path / "nest" / "out"], "inside the input folder")
    assert not (tmp_path / "nest" / "out").exists()


def test_translate_refuses_out_dot_beside_its_input_files(generator, tmp_path, capsys,
                                                          monkeypatch):
    """``T --model M photo.png --out .`` replaced photo.png by its translation."""
    before = _images(tmp_path)
    monkeypatch.chdir(tmp_path)
    _expect_refused(capsys, ["translate", "--model", generator, "rgb.png", "--out", "."],
                    "is the folder of the input")
    assert _md5(tmp_path / "rgb.png") == before["rgb.png"]


def test_translate_replaces_a_symlink_in_out_instead_of_writing_through_it(generator, tmp_path):
    """Row 32: --out holding rgb.png -> ../victim.txt overwrote victim.txt."""
    _images(tmp_path / "in")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "symout"
    out.mkdir()
    (out / "rgb.png").symlink_to(victim)
    written = cli.translate_files(generator, [tmp_path / "in" / "rgb.png"], out)
    assert victim.read_text() == "keep me"
    assert not os.path.islink(written[0]) and Image.open(written[0]).size == (32, 32)
    assert [p.name for p in out.iterdir()] == ["rgb.png"]  # no temporary file left


def test_full_size_decodes_one_image_at_a_time_at_its_target_size(generator, tmp_path,
                                                                  monkeypatch):
    """Row 17: every image was decoded at full resolution before the first translation."""
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((400, 600, 3), 40 * i, np.uint8)).save(folder / f"{i}.jpg")
    calls, alive = [], []
    real = image_io.read_image

    def spy(path, size=None, channels=3):
        result = real(path, size, channels)
        calls.append((os.path.basename(path), size))
        alive.append(result[0].nbytes)
        return result

    monkeypatch.setattr(image_io, "read_image", spy)
    written = cli.translate_files(generator, [folder], tmp_path / "o", full_size=True,
                                  short_side=32)
    assert [c[0] for c in calls] == ["0.jpg", "1.jpg", "2.jpg"]
    assert all(size == (32, 48) for _, size in calls)  # decoded at the target size
    assert max(alive) == 32 * 48 * 3 * 4
    assert [Image.open(p).size for p in written] == [(48, 32)] * 3


def test_full_size_refuses_a_tiny_image_in_one_line(generator, tmp_path, capsys):
    """Row 13: a 1x1 image with --full-size gave a MirrorPad traceback."""
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(tmp_path / "one.png")
    _expect_refused(capsys, ["translate", "--model", generator, tmp_path / "one.png", "--out",
                             tmp_path / "o", "--full-size"], "one.png (1x1) cannot be translated")


# ----------------------------------------------------------------------- atomic writes (6)


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "f.txt"
    atomic.write_text(path, "old")
    with pytest.raises(RuntimeError):
        with atomic.replacing(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["f.txt"]
    atomic.write_text(path, "new")
    assert path.read_text() == "new"


# ------------------------------------------------------------------- resume options (4)


def test_check_resume_options_refuses_or_records_each_change():
    from cyclegan_lesson.training.trainer import RESUME_KEYS, check_resume_options

    stored = {"step": 10, "options": {"batch_size": 4, "steps_per_epoch": 5, "adversarial":
                                      "lsgan", "lambda_cycle": 10.0, "epochs": 2}}
    same = dict(stored["options"], epochs=3)  # more epochs: the schedule is extended
    check_resume_options(stored, same)
    assert "changed_options" not in same
    check_resume_options(None, {"batch_size": 16})  # fresh run
    check_resume_options(stored, dict(stored["options"], steps_per_epoch=None))  # default
    for key, value in (("batch_size", 16), ("steps_per_epoch", 7), ("adversarial", "bce"),
                       ("lambda_cycle", 5.0)):
        assert key in RESUME_KEYS
        with pytest.raises(ValueError, match=f"{key.replace('_', '-')} .* \\(run\\) vs "):
            check_resume_options(stored, dict(stored["options"], **{key: value}))
    now = dict(stored["options"], batch_size=16)
    check_resume_options(stored, now, allow_changed=True)
    assert now["changed_options"] == [{"step": 10, "option": "batch_size", "from": 4, "to": 16}]
    later = {"step": 20, "options": now}
    again = dict(now, adversarial="bce")
    check_resume_options(later, again, allow_changed=True)
    assert [c["option"] for c in again["changed_options"]] == ["batch_size", "adversarial"]


@pytest.mark.slow
def test_train_resume_with_changed_options_is_refused_in_one_line(tmp_path, data_dir, capsys):
    """Rows 56-59: a resume with another batch size, steps per epoch or loss ran silently; a
    damaged train_state.json gave a JSON message without the file name."""
    import json
    import shutil

    out = tmp_path / "run"
    base = ["train", "--task", "mnist2svhn", "--out", str(out), "--data-dir", str(data_dir),
            "--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "2",
            "--batch-size", "2", "--steps-per-epoch", "2", "--epochs", "1",
            "--sample-images", "0", "--verbose", "0"]
    assert cli.main(base) == 0
    capsys.readouterr()
    state = (out / "train_state.json").read_text()
    more = [a if a != "1" or base[i - 1] != "--epochs" else "2" for i, a in enumerate(base)]
    for option, value in (("--batch-size", "3"), ("--steps-per-epoch", "3"),
                          ("--adversarial", "bce"), ("--lambda-cycle", "5")):
        argv = list(more)
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert option[2:] in err and "(run) vs" in err and len(err.strip().splitlines()) == 1
        assert (out / "train_state.json").read_text() == state  # the record is untouched
    (out / "train_state.json").write_text("{")
    assert cli.main(more) == 2
    err = capsys.readouterr().err
    assert "train_state.json is damaged" in err and len(err.strip().splitlines()) == 1
    (out / "train_state.json").write_text(state)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    argv = [a if a != str(out) else str(copy) for a in more]
    argv[argv.index("--batch-size") + 1] = "3"
    assert cli.main(argv + ["--allow-changed-options"]) == 0
    record = json.loads((copy / "train_state.json").read_text())
    assert record["step"] == 4 and record["options"]["changed_options"] == [
        {"step": 2, "option": "batch_size", "from": 2, "to": 3}]


def test_atomic_write_removes_the_temporary_file_of_a_dead_writer(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "state.json"
    proc = subprocess.run([sys.executable, "-c", "from cyclegan_lesson.files import atomic; "
                           f"atomic.write_text({str(path)!r}, 'x' * 1000)"],
                          env={**os.environ, "CYCLEGAN_LESSON_FAULT":
                               "atomic.half_written:state.json"}, capture_output=True)
    assert proc.returncode == -9 and not path.exists()
    [left] = os.listdir(tmp_path)
    assert left.startswith(".tmp-") and os.path.getsize(tmp_path / left) == 500
    atomic.write_text(path, "new")
    assert os.listdir(tmp_path) == ["state.json"] and path.read_text() == "new"


# ----------------------------------------------------------------- corrupt data files (5)


def _digit_dir(tmp_path, content: bytes | None = None, arrays: dict | None = None):
    folder = tmp_path / "dd"
    folder.mkdir()
    if arrays is not None:
        np.savez(folder / "mnist.npz", **arrays)
    else:
        (folder / "mnist.npz").write_bytes(content)
    return folder


@pytest.mark.parametrize("case", ["truncated", "text", "object"])
def test_a_damaged_npz_is_named_in_one_line(tmp_path, case):
    """Rows 43-45, 117-119: a truncated npz gave a BadZipFile traceback; a text file or object
    arrays gave a message without the file name (one advising to enable pickle)."""
    from cyclegan_lesson import data

    if case == "truncated":
        good = tmp_path / "good.npz"
        np.savez(good, x_train=np.zeros((50, 28, 28), np.uint8), y_train=np.zeros(50))
        folder = _digit_dir(tmp_path, good.read_bytes()[:3000])
    elif case == "text":
        folder = _digit_dir(tmp_path, b"just some text\n" * 10)
    else:
        folder = _digit_dir(tmp_path, arrays={"x_train": np.array([object()] * 3),
                                              "y_train": np.zeros(3)})
    with pytest.raises(data.DataFileError) as info:
        data.load_arrays("mnist", "train", folder, limit=4)
    message = str(info.value)
    assert str(folder / "mnist.npz") in message and "\n" not in message
    assert "allow_pickle" not in message


def _monet_dir(tmp_path, data_dir, manifest: bool):
    import hashlib
    import shutil

    root = tmp_path / "dm" / "monet2photo"
    rows = ["split,filename,sha256"]
    for split in ("trainA", "trainB", "testA", "testB"):
        (root / split).mkdir(parents=True)
        for src in sorted((data_dir / "monet2photo" / split).glob("*.jpg"))[:2]:
            shutil.copy(src, root / split / src.name)
            rows.append(f"{split},{src.name},{hashlib.sha256(src.read_bytes()).hexdigest()}")
    if manifest:
        (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root.parent


@pytest.mark.parametrize("manifest", [True, False])
def test_a_corrupt_jpeg_in_the_monet_folders_is_named_before_training(tmp_path, data_dir,
                                                                      manifest):
    """Rows 48, 120: a truncated JPEG gave a TensorFlow error without the file name, at
    iteration time; manifest.csv's hashes were never checked."""
    from cyclegan_lesson import data

    folder = _monet_dir(tmp_path, data_dir, manifest)
    assert data.load_arrays("monet", "train", folder, image_size=16)[0].shape == (2, 16, 16, 3)
    victim = sorted((folder / "monet2photo" / "trainA").glob("*.jpg"))[1]
    victim.write_bytes(victim.read_bytes()[:2000])
    with pytest.raises(data.DataFileError, match=victim.name) as info:
        data.load_domain("monet", "train", folder, image_size=16)
    assert ("manifest.csv lists" in str(info.value)) == manifest


# ----------------------------------------------------------------- models of the wrong kind


def test_an_existing_invalid_keras_file_is_named_with_its_true_reason(generator, tmp_path,
                                                                      capsys):
    """Rows 21, 23, 103, 109: a text or truncated .keras file was reported "File not found"."""
    text = tmp_path / "notmodel.keras"
    text.write_text("not a model")
    trunc = tmp_path / "trunc.keras"
    trunc.write_bytes(generator.read_bytes()[:4000])
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    for bad in (text, trunc):
        _expect_refused(capsys, ["translate", "--model", bad, tmp_path / "x.png", "--out",
                                 tmp_path / "o"], "is not a valid .keras model file")
        _expect_refused(capsys, ["export-onnx", "--model", bad, "--out", tmp_path / "m.onnx",
                                 "--check-images", "0"], "is not a valid .keras model file")
    models = tmp_path / "ev"
    models.mkdir()
    (models / "G_AB.keras").write_bytes(trunc.read_bytes())
    (models / "G_BA.keras").write_bytes(generator.read_bytes())
    _expect_refused(capsys, ["evaluate", "--task", "mnist2svhn", "--models", models],
                    "G_AB.keras is not a valid .keras model file")


def test_a_discriminator_is_refused_as_a_generator(tmp_path, capsys):
    """Row 25: a discriminator (32x32 -> 2x2) was "translated" into 2x2 PNGs."""
    from cyclegan_lesson.nn import networks

    d = networks.patch_discriminator(image_size=32, in_channels=1, ndf=4, n_layers=2, name="D_A")
    d.save(tmp_path / "D_A.keras")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x.png")
    _expect_refused(capsys, ["translate", "--model", tmp_path / "D_A.keras", tmp_path / "x.png",
                             "--out", tmp_path / "o"], "is not a generator")
    assert not (tmp_path / "o" / "x.png").exists()


def test_a_generators_json_of_another_model_does_not_override_the_models_shape(generator,
                                                                               tmp_path):
    """Row 29: a generators.json saying 64x64x3 beside a 32x32 model broke the translation."""
    import json
    import shutil

    folder = tmp_path / "copy"
    folder.mkdir()
    shutil.copy(generator, folder / "G_AB.keras")
    (folder / "generators.json").write_text(json.dumps({"generators": {"G_AB": {
        "image_size": [64, 64], "input_channels": 3, "output_channels": 3}}}))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    [out] = cli.translate_files(folder / "G_AB.keras", [tmp_path / "x.png"], tmp_path / "o")
    assert Image.open(out).size == (32, 32)


def test_evaluate_refuses_a_run_of_another_task(tmp_path, capsys):
    """Row 108: evaluate --task gray2color scored an mnist2svhn run."""
    import json

    run = tmp_path / "run"
    run.mkdir()
    (run / "generators.json").write_text(json.dumps({"domain_a": "mnist", "domain_b": "svhn"}))
    _expect_refused(capsys, ["evaluate", "--task", "gray2color", "--run", run],
                    "holds generators of mnist <-> svhn")


# ------------------------------------------------------------------------------ bounds (7)


def test_a_download_stops_at_the_manifests_size(tmp_path):
    """Row 94: a mirror sending the file and 60 MB more (no Content-Length) filled the .part
    file before the size check."""
    import hashlib
    import http.server
    import threading

    from cyclegan_lesson import pretrained

    payload = os.urandom(100_000)
    sent = []

    class Flood(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()
            try:
                self.wfile.write(payload)
                for _ in range(200):  # 200 MB more, unless the client stops reading
                    self.wfile.write(b"\0" * 2**20)
                    sent.append(1)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flood)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dest = tmp_path / "cache" / "model.keras"
        with pytest.raises(pretrained.PretrainedUnavailableError, match="longer than the expected"):
            pretrained.download_verified(f"http://127.0.0.1:{server.server_address[1]}/m",
                                         dest, hashlib.sha256(payload).hexdigest(),
                                         size=len(payload), what="model")
    finally:
        server.shutdown()
        server.server_close()
    assert not dest.exists() and not list(dest.parent.iterdir())
    assert len(sent) < 100  # the server was cut off long before its 200 MB


def test_sample_images_is_capped_and_infinite_weights_refused(tmp_path, capsys):
    """Rows 60, 40: --sample-images 100000 took 18 GB; --lr inf / --lambda-cycle inf trained
    and stopped with exit 3."""
    _expect_refused(capsys, ["train", "--task", "mnist2svhn", "--out", tmp_path / "r",
                             "--sample-images", "100000"], "sample_images must be at most 64")
    for option in ("--lr", "--lambda-cycle", "--lambda-identity"):
        with pytest.raises(SystemExit) as info:
            cli.main(["train", "--task", "mnist2svhn", "--out", str(tmp_path / "r"), option,
                      "inf"])
        assert info.value.code == 2
        assert "must be a finite number" in capsys.readouterr().err


def test_chapter_training_commands_report_bad_values_in_one_line(tmp_path):
    """Row 84: python -m cyclegan_lesson.models.conditional_gan --checkpoint-every 4 gave a traceback."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "cyclegan_lesson.models.conditional_gan", "--out",
                           str(tmp_path / "cg"), "--checkpoint-every", "4"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "python -m cyclegan_lesson.models.conditional_gan: error: checkpoint_every (4) must be a "
        "multiple of chunk")


def test_a_checkpoint_that_cannot_be_written_is_one_line(tmp_path, capsys, monkeypatch):
    """Row 73: checkpoints/ read-only gave a PermissionDeniedError traceback (SaveV2)."""
    import keras
    import tensorflow as tf

    from cyclegan_lesson.models.cyclegan import build_cyclegan
    from cyclegan_lesson.nn import losses
    from cyclegan_lesson.training.callbacks import TrainingCheckpoint

    keras.utils.set_random_seed(0)
    model = build_cyclegan(32, 1, 3, n_blocks=0, ngf=2, ndf=2, n_layers=1, pool_size=0,
                           weights=losses.CycleGANLossWeights(lambda_identity=0))
    model.compile()
    ckpt = TrainingCheckpoint(model, tmp_path)

    def denied(*args, **kwargs):
        raise tf.errors.PermissionDeniedError(None, None, "ckpt-4_temp; Permission denied")

    monkeypatch.setattr(ckpt.manager, "save", denied)
    with pytest.raises(PermissionError, match=r"step 0: cannot write a checkpoint to .*checkpoints"
                                              r" \(ckpt-4_temp; Permission denied\)"):
        ckpt.save()
    assert not (tmp_path / "train_state.json").exists()


def test_export_onnx_names_a_model_that_cannot_be_loaded(tmp_path, capsys):
    """Row 102: export-onnx gave a TypeError traceback for a Lambda of an unknown function."""
    import keras

    def evil(x):
        return x

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Lambda(evil)(inputs))
    model.save(tmp_path / "lambda.keras")
    _expect_refused(capsys, ["export-onnx", "--model", tmp_path / "lambda.keras", "--out",
                             tmp_path / "m.onnx", "--check-images", "0"], "cannot load")


# ------------------------------------------------------- chapter 8-10 checkpoints (1)


def test_resumable_reads_the_earlier_layout_and_keeps_two_complete_saves(tmp_path):
    """A checkpoint folder written before step folders existed (the four files directly in it)
    still resumes; later saves are step folders, the two newest kept, the old files dropped."""
    import shutil

    from cyclegan_lesson.models import conditional_gan as cg
    from cyclegan_lesson.models import resumable

    model = cg.make_conditional_gan(latent_dim=4, filters=2, upsample="resize",
                                    learning_rate=1e-3, beta_1=0.5, seed=0)
    model.g_optimizer.build(model.generator.trainable_variables)  # as after training
    model.d_optimizer.build(model.discriminator.trainable_variables)
    folder = tmp_path / "checkpoint"
    saved = resumable.save_checkpoint(model, folder, 2, {"step": [2]})
    assert saved == folder / "step-000000002" and not list(folder.glob(".tmp-*"))
    for f in saved.iterdir():  # make it the earlier layout
        shutil.move(str(f), folder / f.name)
    saved.rmdir()
    assert resumable.load_checkpoint(model, folder) == (2, {"step": [2]})
    resumable.save_checkpoint(model, folder, 4, {"step": [2, 4]})
    assert resumable.checkpoint_folders(folder) == [folder / "step-000000004", folder]
    resumable.save_checkpoint(model, folder, 6, {"step": [2, 4, 6]})
    assert sorted(p.name for p in folder.iterdir()) == ["step-000000004", "step-000000006"]
    (folder / "step-000000006" / "optimizers.npz").write_bytes(b"PK\x03\x04 cut")
    said = []
    assert resumable.load_checkpoint(model, folder, said.append)[0] == 4
    assert "step-000000006 is damaged" in said[0]
    (folder / "step-000000004" / "state.json").write_text("{")
    with pytest.raises(ValueError, match="no intact checkpoint in .*step-000000006: .*"
                                         "step-000000004: "):
        resumable.load_checkpoint(model, folder)
