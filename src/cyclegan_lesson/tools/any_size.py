"""Translate an image of any size and aspect ratio with a generator trained on square crops.

CycleGAN's generators are fully convolutional: every layer is a convolution, a normalization, a
pointwise nonlinearity or an upsampling, so the weights learned on 128x128 or 256x256 crops apply
to any height and width. The exported ``.keras`` files fix the input size only in their
``Input`` layer; :func:`fully_convolutional` rebuilds the same layers with a free size and the
same weights. :func:`translate_any_size` then translates one image at its own resolution:

* the image is reflect-padded to a multiple of the generator's total stride (4 for the ResNet
  generator: two stride-2 downsamplings), translated, and cropped back, so the output has the
  input's exact size;
* an image larger than ``tile`` on a side is cut into overlapping ``tile`` x ``tile`` tiles, each
  translated alone and blended with a raised-cosine (Hann) window, so memory stays bounded and
  no seam shows. Instance normalization computes its statistics per tile, so tiles of very
  different content can differ slightly in tone; the overlap hides the transition.

Scale matters more than size: the generator learned brush strokes of a certain size *in pixels*.
:func:`fit_scale` resizes an image so that its shorter side is ``short_side`` pixels (e.g. the
training load size), which keeps strokes in proportion to the picture; the command line's
``translate --full-size`` uses both.

Images are HWC (one image) or NHWC float32 in [-1, 1].
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = [
    "fully_convolutional",
    "total_stride",
    "translate_any_size",
    "hann_window",
    "tile_origins",
    "fit_scale",
]


def fully_convolutional(generator: keras.Model) -> keras.Model:
    """The same generator (same layers, same weights) with a free input height and width.

    Args:
        generator: a functional ``keras.Model`` with one NHWC image input, e.g. an exported
            ``G_AB.keras`` (input ``(N, S, S, C)``).

    Returns:
        ``keras.Model`` with input ``(N, None, None, C)``; its output on an ``S x S`` image equals
        ``generator``'s. Raises ``ValueError`` for a model that is not functional or whose layers
        need a fixed size (a ``Dense`` or ``Flatten`` layer).
    """
    if not isinstance(generator, keras.Model) or len(generator.inputs or []) != 1:
        raise ValueError("fully_convolutional: expected a functional keras.Model with one image "
                         f"input, got {type(generator).__name__}.")
    shape = tuple(generator.inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(f"fully_convolutional: expected an NHWC image input, got shape {shape}.")
    fixed = [layer.name for layer in generator.layers
             if isinstance(layer, (keras.layers.Dense, keras.layers.Flatten,
                                   keras.layers.Reshape))]
    if fixed:
        raise ValueError(f"fully_convolutional: layers {fixed} need a fixed image size; only a "
                         "fully convolutional generator (ResNet, U-Net at its size) can be "
                         "applied to any size.")
    config = generator.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, None, None, shape[-1]]
    free = keras.Model.from_config(config)
    free.set_weights(generator.get_weights())
    return free


def total_stride(generator: keras.Model) -> int:
    """The factor by which the generator's height and width must be divisible: 2 to the number
    of stride-2 convolutions (4 for the ResNet generator; ``2 ** num_downs`` for the U-Net)."""
    stride = 1
    for layer in generator._flatten_layers(include_self=False):  # noqa: SLF001 - nested models
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(
                layer, keras.layers.Conv2DTranspose):
            s = layer.strides
            stride *= int(s[0] if isinstance(s, (tuple, list)) else s)
    return stride


def hann_window(height: int, width: int | None = None) -> np.ndarray:
    """A ``(height, width, 1)`` raised-cosine weight, highest in the middle and small but positive
    at the edges (so that every pixel of a tiled image has a positive total weight)."""
    width = height if width is None else width
    if height < 1 or width < 1:
        raise ValueError(f"hann_window: sizes must be >= 1, got {height}x{width}.")

    def one(n: int) -> np.ndarray:
        t = (np.arange(n, dtype=np.float64) + 0.5) / n
        return np.maximum(0.5 - 0.5 * np.cos(2 * np.pi * t), 1e-3)

    return np.outer(one(height), one(width))[..., None].astype(np.float32)


def tile_origins(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``[0, length)`` with at least
    ``overlap`` pixels shared by neighbours; the last tile ends exactly at ``length``."""
    if tile <= overlap:
        raise ValueError(f"tile_origins: tile ({tile}) must be larger than overlap ({overlap}).")
    if length <= tile:
        return [0]
    step = tile - overlap
    n = int(np.ceil((length - tile) / step)) + 1
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def _translate_padded(model: keras.Model, image: np.ndarray, multiple: int) -> np.ndarray:
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    # Reflection needs the pad to be smaller than the image; edge-pad what is left beyond that.
    x = image
    if ph or pw:
        rh, rw = min(ph, h - 1), min(pw, w - 1)
        x = np.pad(x, ((0, rh), (0, rw), (0, 0)), mode="reflect")
        x = np.pad(x, ((0, ph - rh), (0, pw - rw), (0, 0)), mode="edge")
    y = np.asarray(model(x[None].astype(np.float32), training=False))[0]
    return y[:h, :w]


def translate_any_size(generator: keras.Model, image, *, tile: int | None = 512,
                       overlap: int = 64) -> np.ndarray:
    """Translate one image ``(H, W, C)`` in [-1, 1] of any size at its own resolution.

    Args:
        generator: a generator (fixed-size or already :func:`fully_convolutional`).
        image: ``(H, W, C)`` float32 in [-1, 1], ``C`` = the generator's input channels.
        tile: the largest side translated in one pass (bounds memory); larger images go in
            overlapping tiles of this size, blended with :func:`hann_window`. ``None``: one pass.
        overlap: pixels shared by neighbouring tiles.

    Returns:
        ``(H, W, C_out)`` float32 in [-1, 1], the same height and width as ``image``.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"translate_any_size: expected one HWC image, got shape {x.shape}; "
                         "translate a batch image by image.")
    if x.min() < -1.0 - 1e-3 or x.max() > 1.0 + 1e-3:
        raise ValueError("translate_any_size: pixel values must be in [-1, 1] (got "
                         f"[{x.min():.3g}, {x.max():.3g}]); map uint8 images with x / 127.5 - 1.")
    channels = generator.inputs[0].shape[-1]
    if x.shape[-1] != channels:
        raise ValueError(f"translate_any_size: the generator takes {channels} channel(s), the "
                         f"image has {x.shape[-1]}.")
    model = generator
    if tuple(generator.inputs[0].shape[1:3]) != (None, None):
        model = fully_convolutional(generator)
    multiple = total_stride(model)
    h, w = x.shape[:2]
    if tile is None or (h <= tile and w <= tile):
        return _translate_padded(model, x, multiple)
    if tile % multiple:
        raise ValueError(f"translate_any_size: tile ({tile}) must be a multiple of the "
                         f"generator's stride ({multiple}).")
    th, tw = min(tile, h), min(tile, w)
    out, weight = None, np.zeros((h, w, 1), np.float32)
    for top in tile_origins(h, th, overlap):
        for left in tile_origins(w, tw, overlap):
            y = _translate_padded(model, x[top:top + th, left:left + tw], multiple)
            win = hann_window(th, tw)
            if out is None:
                out = np.zeros((h, w, y.shape[-1]), np.float32)
            out[top:top + th, left:left + tw] += y * win
            weight[top:top + th, left:left + tw] += win
    return out / weight


def fit_scale(height: int, width: int, short_side: int, multiple: int = 4) -> tuple[int, int]:
    """``(new_height, new_width)`` keeping the aspect ratio, with the shorter side
    ``short_side`` and both rounded to a multiple of ``multiple``."""
    if min(height, width) < 1 or short_side < 1:
        raise ValueError(f"fit_scale: sizes must be positive, got {height}x{width} -> "
                         f"{short_side}.")
    scale = short_side / min(height, width)
    return tuple(max(multiple, int(round(s * scale / multiple)) * multiple)
                 for s in (height, width))
