"""The assets of the *Try it* page (``book/try_it.md``), made when the book is built.

The page runs the shipped MNIST <-> SVHN generators and digit classifiers in the reader's
browser, offline, with onnxruntime-web. A page opened from ``file://`` may not ``fetch()`` local
files, so everything it needs arrives as classic ``<script>`` files written here into
``book/_generated/try_it_static/tryit/`` (ignored by git) and served as ``_static/tryit/``:

* ``ort.wasm.min.js``: onnxruntime-web's WebAssembly-only build, copied from ``node_modules``
  (``npm ci`` installs the version pinned by ``package.json`` / ``package-lock.json``);
* ``ort-wasm-embedded.js``: its WebAssembly binary (the single-threaded use of the SIMD build:
  threads would need cross-origin isolation, which ``file://`` pages lack), gzip + base64, and
  the small ES module that loads it, as text;
* ``models.js``: the four ONNX graphs (gzip + base64), exported from ``models/`` with
  :func:`cyclegan_lesson.tools.onnx_export.export_and_check`, which also measures the largest
  difference to Keras on real test digits (shown on the page); and a few real MNIST test digits
  to start from, read through the data layer (``../shared/data`` beside the checkout, else a
  tfds download; without either the page simply offers none);
* ``onnx/*.onnx``: the same graphs as files, for readers who want them.

The export (TensorFlow, about half a minute) is redone only when a model file, the export code,
this file or a tool version changes: ``book/_generated/try_it_stamp.json`` records what the
assets were made from.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "book" / "_generated" / "try_it_static"
OUT = STATIC / "tryit"
#: the page's own script and style (committed)
PAGE_STATIC = ROOT / "book" / "_static"
ORT_DIST = ROOT / "node_modules" / "onnxruntime-web" / "dist"
#: onnxruntime-web files used: the UMD build of the WebAssembly backend, its loader module and
#: binary (the plain SIMD build, without WebGPU/JSEP)
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")

#: page name -> (path under models/, role shown on the page)
MODELS = {
    "G_XY": ("mnist2svhn/G_AB.keras", "generator MNIST -> SVHN"),
    "G_YX": ("mnist2svhn/G_BA.keras", "generator SVHN -> MNIST"),
    "C_mnist": ("classifiers/mnist.keras", "digit classifier, MNIST"),
    "C_svhn": ("classifiers/svhn.keras", "digit classifier, SVHN"),
}
#: real test digits offered as starting points: the first test digit of each class
SAMPLE_CLASSES = tuple(range(10))
#: test images each export is checked on
CHECK_IMAGES = 64


class TryItBuildError(RuntimeError):
    """The page's assets cannot be made (npm missing, a model missing, an export failing)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _packed(data: bytes) -> str:
    """gzip (deterministic: no time stamp) then base64."""
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


def ensure_onnxruntime_web(logger=None) -> Path:
    """``node_modules/onnxruntime-web/dist``, running ``npm ci`` first when it is missing."""
    if all((ORT_DIST / f).is_file() for f in ORT_FILES):
        return ORT_DIST
    npm = shutil.which("npm")
    if npm is None:
        raise TryItBuildError(
            "the Try it page needs onnxruntime-web from npm, and npm was not found: install "
            "Node.js (it brings npm; Debian: apt-get install npm), then run `make book` again")
    if logger:
        logger.info("try_it: node_modules/onnxruntime-web missing; running npm ci")
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode != 0 or not all((ORT_DIST / f).is_file() for f in ORT_FILES):
        raise TryItBuildError(f"npm ci failed in {ROOT}:\n{proc.stdout[-2000:]}"
                              f"{proc.stderr[-2000:]}")
    return ORT_DIST


def _package():
    src = ROOT / "src"
    if (src / "cyclegan_lesson").is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import cyclegan_lesson  # noqa: F401
    from cyclegan_lesson import pretrained
    from cyclegan_lesson.tools import onnx_export

    return onnx_export, pretrained


def _stamp(model_paths: dict[str, Path], data_dir) -> dict:
    import tf2onnx

    onnx_export, _ = _package()
    ort_version = json.loads((ORT_DIST.parent / "package.json").read_text())["version"]
    return {
        "models": {k: _sha256(p) for k, p in model_paths.items()},
        "export_code": _sha256(Path(onnx_export.__file__)),
        "this_file": _sha256(Path(__file__)),
        "tf2onnx": tf2onnx.__version__,
        "onnxruntime_web": ort_version,
        "ort_files": {f: _sha256(ORT_DIST / f) for f in ORT_FILES},
        "samples_from": "offline files" if data_dir else "tfds",
    }


def _samples(data_dir, logger=None) -> list[dict]:
    """The first MNIST test digit of each class in :data:`SAMPLE_CLASSES`, as 28x28 uint8
    (base64) with its label and test index."""
    import numpy as np

    from cyclegan_lesson import data

    try:
        images, labels = data.load_arrays("mnist", "test", data_dir, limit=200)
    except Exception as exc:  # noqa: BLE001 - no data here: the page offers no samples
        if logger:
            logger.info(f"try_it: no MNIST test digits for the samples ({exc})")
        return []
    samples = []
    for digit in SAMPLE_CLASSES:
        index = int(np.flatnonzero(labels == digit)[0])
        u8 = np.round((images[index, :, :, 0] + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
        samples.append({"label": digit, "test_index": index,
                        "pixels": base64.b64encode(u8.tobytes()).decode("ascii")})
    return samples


def _export_checked_on_noise(onnx_export, model_path: Path, onnx_path: Path) -> dict:
    """The export of :func:`build_assets` where no real test images can be read: compared
    with Keras on uniform noise in [-1, 1] instead (and said so on the page)."""
    import keras
    import numpy as np

    model = keras.models.load_model(model_path, compile=False)
    onnx_export.export_onnx(model, onnx_path)
    shape = tuple(model.input_shape[1:])
    noise = np.random.default_rng(0).uniform(-1, 1, (CHECK_IMAGES, *shape)).astype(np.float32)
    return {"input_shape": list(shape), "output_shape": [int(s) for s in model.output_shape[1:]],
            "checked_on": f"{CHECK_IMAGES} uniform-noise images (no test data found)",
            "max_abs_diff": onnx_export.compare(model, onnx_path, noise)}


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def build_assets(logger=None) -> Path:
    """Make every file of ``_static/tryit/`` in :data:`OUT` (see the module docstring)."""
    dist = ensure_onnxruntime_web(logger)
    onnx_export, pretrained = _package()
    from cyclegan_lesson import runinfo

    model_paths = {k: Path(pretrained.path(rel, progress=False)) for k, (rel, _) in MODELS.items()}
    data_dir = runinfo.default_data_dir()
    stamp = _stamp(model_paths, data_dir)
    stamp_file = STATIC.parent / "try_it_stamp.json"
    if stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp and all(
            (OUT / f).is_file() for f in ("ort.wasm.min.js", "ort-wasm-embedded.js",
                                          "models.js")):
        if logger:
            logger.info("try_it: assets up to date")
        return OUT
    (OUT / "onnx").mkdir(parents=True, exist_ok=True)

    # onnxruntime-web: the UMD script as is; loader module and binary embedded in a script
    _write_if_changed(OUT / "ort.wasm.min.js", (dist / "ort.wasm.min.js").read_bytes())
    glue = (dist / "ort-wasm-simd-threaded.mjs").read_text()
    wasm = (dist / "ort-wasm-simd-threaded.wasm").read_bytes()
    embedded = ("// onnxruntime-web's WebAssembly loader (ES module text) and binary (gzip, "
                "base64), embedded so that a page opened from file:// needs no fetch()\n"
                "window.TryItAssets = window.TryItAssets || {};\n"
                f"TryItAssets.ortGlue = {json.dumps(glue)};\n"
                f"TryItAssets.ortWasm = {{bytes: {len(wasm)}, gzipBase64: \"{_packed(wasm)}\"}};\n")
    _write_if_changed(OUT / "ort-wasm-embedded.js", embedded.encode())

    models, checks = {}, {}
    for key, (rel, role) in MODELS.items():
        onnx_path = OUT / "onnx" / f"{key}.onnx"
        try:
            report = onnx_export.export_and_check(model_paths[key], onnx_path,
                                                  data_dir=data_dir, n=CHECK_IMAGES)
        except (OSError, RuntimeError) as exc:  # no test data here (offline, no ../shared/data)
            report = _export_checked_on_noise(onnx_export, model_paths[key], onnx_path)
            if logger:
                logger.info(f"try_it: no test images for the check of {key} ({exc}); "
                            f"checked on {report['checked_on']}")
        raw = onnx_path.read_bytes()
        models[key] = {"source": f"models/{rel}", "role": role, "bytes": len(raw),
                       "input_shape": report["input_shape"],
                       "output_shape": report["output_shape"],
                       "gzipBase64": _packed(raw)}
        checks[key] = {"checked_on": report["checked_on"],
                       "max_abs_diff": report["max_abs_diff"]}
        if logger:
            logger.info(f"try_it: {key} <- models/{rel}: {len(raw):,} bytes, max |Keras - "
                        f"onnxruntime| = {report['max_abs_diff']:.2e} on {report['checked_on']}")
    meta = {"onnxruntime_web": stamp["onnxruntime_web"], "tf2onnx": stamp["tf2onnx"],
            "checks": checks}
    script = ("// The shipped generators and digit classifiers as ONNX (gzip, base64), real MNIST\n"
              "// test digits to start from, and the export's check against Keras.\n"
              "window.TryItAssets = window.TryItAssets || {};\n"
              f"TryItAssets.models = {json.dumps(models)};\n"
              f"TryItAssets.samples = {json.dumps(_samples(data_dir, logger))};\n"
              f"TryItAssets.build = {json.dumps(meta)};\n")
    _write_if_changed(OUT / "models.js", script.encode())
    stamp_file.write_text(json.dumps(stamp, indent=1))
    return OUT


def _on_config_inited(app, config):
    OUT.mkdir(parents=True, exist_ok=True)
    for folder in (PAGE_STATIC, STATIC):
        if str(folder) not in config.html_static_path:
            config.html_static_path.append(str(folder))


def _on_builder_inited(app):
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    if app.builder.format != "html":
        return
    logger = logging.getLogger(__name__)
    try:
        build_assets(logger)
    except TryItBuildError as exc:
        raise ExtensionError(str(exc)) from None


def setup(app):
    app.connect("config-inited", _on_config_inited)
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
