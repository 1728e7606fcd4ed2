"""ONNX export of the shipped models (cyclegan_lesson.tools.onnx_export, `export-onnx`) and the build
step of the book's Try it page (book/_ext/try_it.py). The page itself, in a browser, is tested in
tests/test_book.py::test_try_it_page_translates_in_the_browser (it reuses the book build)."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from conftest import run_cli
from cyclegan_lesson import pretrained
from cyclegan_lesson.tools import onnx_export

ROOT = Path(__file__).resolve().parents[1]
#: |Keras - onnxruntime| allowed on real test images (float32 rounding, op order)
TOLERANCE = 1e-3


def _load_extension():
    spec = importlib.util.spec_from_file_location("try_it_ext", ROOT / "book" / "_ext" /
                                                  "try_it.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mnist_classifier():
    return keras.models.load_model(pretrained.path("classifiers/mnist.keras"), compile=False)


@pytest.fixture(scope="module")
def exported_classifier(tmp_path_factory, mnist_classifier):
    return onnx_export.export_onnx(mnist_classifier, tmp_path_factory.mktemp("onnx") / "c.onnx")


def test_classifier_export_matches_keras_on_real_digits(exported_classifier, mnist_classifier,
                                                        data_dir):
    images, what = onnx_export.check_images(mnist_classifier, data_dir, n=32)
    assert images.shape == (32, 32, 32, 1) and what == "mnist test[:32] at 32x32"
    assert images.min() >= -1.0 and images.max() <= 1.0
    diff = onnx_export.compare(mnist_classifier, exported_classifier, images)
    assert diff < 1e-4, diff
    # the batch dimension is free and the logits are the Keras model's
    for n in (1, 5):
        logits = onnx_export.run_onnx(exported_classifier, images[:n])
        assert logits.shape == (n, 10)
    assert (onnx_export.run_onnx(exported_classifier, images).argmax(1)
            == np.asarray(mnist_classifier(images)).argmax(1)).all()


def test_compare_detects_a_model_that_differs(exported_classifier, mnist_classifier, data_dir):
    """The check can fail: a copy of the classifier with one kernel perturbed no longer matches
    the ONNX file exported from the original."""
    images, _ = onnx_export.check_images(mnist_classifier, data_dir, n=8)
    other = keras.models.clone_model(mnist_classifier)
    other.set_weights(mnist_classifier.get_weights())
    kernel = next(w for w in other.weights if len(w.shape) == 4)
    kernel.assign(kernel.numpy() * 1.5)
    assert onnx_export.compare(other, exported_classifier, images) > 1e-2


@pytest.mark.slow
def test_generator_export_matches_keras(tmp_path, data_dir):
    report = onnx_export.export_and_check(pretrained.path("mnist2svhn/G_AB.keras"),
                                          tmp_path / "g.onnx", data_dir=data_dir, n=16)
    assert report["input_shape"] == [32, 32, 1] and report["output_shape"] == [32, 32, 3]
    assert report["checked_on"] == "mnist test[:16] at 32x32"
    assert 0 <= report["max_abs_diff"] < TOLERANCE, report
    assert report["onnx_bytes"] == (tmp_path / "g.onnx").stat().st_size > 1_000_000
    out = onnx_export.run_onnx(tmp_path / "g.onnx", np.full((2, 32, 32, 1), -1, np.float32))
    assert out.shape == (2, 32, 32, 3) and np.abs(out).max() <= 1.0  # tanh


def test_bad_input_is_named(tmp_path, mnist_classifier):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        onnx_export.export_onnx(tmp_path / "missing.keras", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match=r"\.onnx"):
        onnx_export.export_onnx(mnist_classifier, tmp_path / "x.bin")
    with pytest.raises(ValueError, match="no digit domain"):
        onnx_export.domain_of_input((64, 64, 3))
    with pytest.raises(ValueError, match="positive number"):
        onnx_export.check_images(mnist_classifier, None, n=0)
    with pytest.raises(FileNotFoundError, match="no such ONNX file"):
        onnx_export.run_onnx(tmp_path / "none.onnx", np.zeros((1, 32, 32, 1), np.float32))


def test_cli_export_onnx(tmp_path, data_dir):
    out = tmp_path / "svhn.onnx"
    proc = run_cli("export-onnx", "--model", pretrained.path("classifiers/svhn.keras"),
                   "--out", out, "--data-dir", data_dir, "--check-images", "8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert report["checked_on"] == "svhn test[:8] at 32x32"
    assert report["max_abs_diff"] < 1e-4 and out.is_file()
    assert report["onnx_bytes"] == out.stat().st_size


def test_cli_export_onnx_bad_input(tmp_path, capsys):
    """One-line errors and exit code 2 (in-process: the same main() as `python -m`)."""
    from cyclegan_lesson.tools import cli

    code = cli.main(["export-onnx", "--model", str(tmp_path / "none.keras"),
                     "--out", str(tmp_path / "x.onnx"), "--check-images", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "no such model file" in err and len(err.strip().splitlines()) == 1
    code = cli.main(["export-onnx", "--model", "m.keras", "--out", str(tmp_path / "x.txt")])
    assert code == 2 and "should name a .onnx file" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the build step


def test_packed_assets_unpack_to_the_same_bytes():
    ext = _load_extension()
    data = np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes()
    packed = ext._packed(data)
    assert gzip.decompress(base64.b64decode(packed)) == data
    assert ext._packed(data) == packed  # no time stamp: an unchanged model rewrites nothing


def test_missing_npm_gives_a_clear_error(tmp_path, monkeypatch):
    ext = _load_extension()
    monkeypatch.setattr(ext, "ORT_DIST", tmp_path / "node_modules" / "onnxruntime-web" / "dist")
    monkeypatch.setattr(ext.shutil, "which", lambda name: None)
    with pytest.raises(ext.TryItBuildError, match="npm was not found"):
        ext.ensure_onnxruntime_web()


def test_onnxruntime_web_is_pinned_by_the_lockfile():
    """`npm ci` installs exactly the version package.json names; the page's files exist there."""
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]["onnxruntime-web"]
    assert wanted[0].isdigit(), f"pin an exact version, not {wanted!r}"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/onnxruntime-web"]["version"] == wanted
    assert lock["packages"][""]["dependencies"]["onnxruntime-web"] == wanted
    ext = _load_extension()
    assert set(ext.ORT_FILES) >= {"ort.wasm.min.js", "ort-wasm-simd-threaded.wasm"}
