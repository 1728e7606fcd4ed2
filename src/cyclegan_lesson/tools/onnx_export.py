"""Shipped Keras models as ONNX files, checked against Keras on real test images.

The book's *Try it* page runs the MNIST <-> SVHN generators and the digit classifiers in the
reader's browser with onnxruntime-web, so they are needed as ONNX graphs. Keras 3 writes them
itself (``model.export(path, format="onnx")``, through ``tf2onnx`` on the TensorFlow backend);
this module adds what an export needs to be trusted::

    from cyclegan_lesson.tools import onnx_export
    report = onnx_export.export_and_check("models/mnist2svhn/G_AB.keras", "G_AB.onnx",
                                          data_dir="../shared/data")
    report["max_abs_diff"]   # largest |Keras - onnxruntime| over 64 real MNIST test digits

:func:`export_onnx` writes the file (batch dimension left free; input and output NHWC float32,
the same [-1, 1] range as the ``.keras`` model), :func:`run_onnx` applies it with onnxruntime, and
:func:`compare` measures the largest absolute difference between the two on the same images.
:func:`check_images` picks those images: real test images of the domain the model reads
(32x32x1 -> MNIST padded to 32x32, 32x32x3 -> SVHN, 28x28x1 -> MNIST).

Needs the ``onnx``, ``tf2onnx`` and ``onnxruntime`` packages (pinned in ``requirements.txt``); a
missing one raises ``ImportError`` naming the ``pip install`` that fixes it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..files import keras_compat

__all__ = [
    "check_images",
    "compare",
    "domain_of_input",
    "export_and_check",
    "export_onnx",
    "run_onnx",
]

#: Input shape (H, W, C) of a model -> the domain whose test images check it.
_DOMAINS_BY_SHAPE = {(32, 32, 1): ("mnist", 32), (28, 28, 1): ("mnist", 28),
                     (32, 32, 3): ("svhn", 32)}


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the {module!r} package: pip install onnx tf2onnx onnxruntime "
            f"(versions pinned in requirements.txt) ({exc})") from exc


def _load(model):
    """A Keras model, or a ``.keras`` path loaded with the package's custom layers."""
    import keras

    from ..nn import layers  # noqa: F401 - registers the custom layers for deserialization

    if isinstance(model, keras.Model):
        return model
    path = Path(os.fspath(model))
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    if path.suffix != ".keras":
        raise ValueError(f"expected a Keras 3 .keras file, got {path.name}; save the model with "
                         f"model.save('name.keras') first")
    from ..pretrained import load_keras_file

    return load_keras_file(path, "a Keras model")


def _input_shape(model) -> tuple[int, int, int]:
    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or None in shape:
        raise ValueError(f"expected a model of one NHWC image input with a fixed size, got input "
                         f"shape {model.input_shape}")
    return shape  # type: ignore[return-value]


def export_onnx(model, out_path: str | os.PathLike, *, opset: int | None = None) -> Path:
    """Write ``model`` (a ``keras.Model`` or a ``.keras`` path) as an ONNX file.

    Args:
        model: a Keras model with one NHWC image input of fixed height, width and channels.
        out_path: the ``.onnx`` file to write (its folder is created).
        opset: ONNX opset version (default: tf2onnx's default).

    Returns:
        The written path. The graph's input is named ``image``, shape ``(N, H, W, C)`` float32
        with ``N`` free; the output is the model's own (images in [-1, 1] for a generator,
        logits ``(N, 10)`` for the digit classifiers).
    """
    _require("onnx")
    _require("tf2onnx")
    model = _load(model)
    shape = _input_shape(model)
    out = Path(os.fspath(out_path))
    if out.suffix != ".onnx":
        raise ValueError(f"the output file should end in .onnx, got {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    import keras

    model(np.zeros((1, *shape), np.float32), training=False)  # Keras exports called models only
    spec = [keras.InputSpec(shape=(None, *shape), dtype="float32", name="image")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx's numpy-2 shim
        model.export(str(out), format="onnx", input_signature=spec, opset_version=opset,
                     verbose=False)
    if not out.is_file():
        raise RuntimeError(f"the ONNX export wrote no file at {out}")
    return out


def run_onnx(onnx_path: str | os.PathLike, images: np.ndarray) -> np.ndarray:
    """Apply an ONNX model to ``images`` (``(N, H, W, C)`` float32) with onnxruntime on the CPU;
    returns its first output as a NumPy array."""
    ort = _require("onnxruntime")
    path = Path(os.fspath(onnx_path))
    if not path.is_file():
        raise FileNotFoundError(f"no such ONNX file: {path}")
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"expected an NHWC batch of images, got shape {images.shape}")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: images})[0]


def compare(model, onnx_path: str | os.PathLike, images: np.ndarray) -> float:
    """Largest absolute difference between ``model(images)`` in Keras and the ONNX file's
    output under onnxruntime, over every element of the batch ``images`` (NHWC float32)."""
    model = _load(model)
    images = np.asarray(images, np.float32)
    expected = np.asarray(model(images, training=False))
    got = run_onnx(onnx_path, images)
    if got.shape != expected.shape:
        raise ValueError(f"ONNX output shape {got.shape} differs from Keras' {expected.shape}")
    return float(np.max(np.abs(got - expected)))


def domain_of_input(shape) -> tuple[str, int]:
    """``(domain, image_size)`` whose test images fit a model input of ``shape`` (H, W, C)."""
    key = tuple(int(s) for s in shape)
    if key not in _DOMAINS_BY_SHAPE:
        raise ValueError(f"no digit domain has images of shape {key}; expected one of "
                         f"{sorted(_DOMAINS_BY_SHAPE)} (pass images to compare() yourself)")
    return _DOMAINS_BY_SHAPE[key]


def check_images(model, data_dir=None, n: int = 64) -> tuple[np.ndarray, str]:
    """The first ``n`` test images of the domain ``model`` reads, as the model sees them
    (float32 NHWC in [-1, 1]), and a description such as ``"mnist test[:64] at 32x32"``.
    ``data_dir`` as in :func:`cyclegan_lesson.data.load_arrays` (``None``: tfds download)."""
    from .. import data

    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive number of images, got {n!r}")
    model = _load(model)
    domain, size = domain_of_input(_input_shape(model))
    images, _ = data.load_arrays(domain, "test", data_dir, limit=int(n), image_size=size)
    return images, f"{domain} test[:{len(images)}] at {size}x{size}"


def export_and_check(model_path: str | os.PathLike, out_path: str | os.PathLike, *,
                     data_dir=None, n: int = 64, opset: int | None = None) -> dict:
    """Export ``model_path`` to ``out_path`` (:func:`export_onnx`) and compare the two on ``n``
    real test images (:func:`check_images`, :func:`compare`).

    Returns:
        ``{"model", "onnx", "onnx_bytes", "input_shape", "output_shape", "checked_on",
        "max_abs_diff"}``.
    """
    model = _load(model_path)
    out = export_onnx(model, out_path, opset=opset)
    images, what = check_images(model, data_dir, n)
    return {
        "model": str(model_path),
        "onnx": str(out),
        "onnx_bytes": out.stat().st_size,
        "input_shape": list(_input_shape(model)),
        "output_shape": [int(s) for s in model.output_shape[1:]],
        "checked_on": what,
        "max_abs_diff": compare(model, out, images),
    }
