"""Colour metrics for gray -> colour translation, scored against the true colours.

CIFAR-10 keeps each image's true colours, so a colourization ``G_AB(gray)`` can be compared with
them (:func:`cyclegan_lesson.evaluation.reports.gray2color_report`, ``python -m cyclegan_lesson
evaluate --task gray2color``). Every
function takes NHWC float32 images in [-1, 1] (RGB ``(N, H, W, 3)``, gray ``(N, H, W, 1)``):

* :func:`rgb_to_ycbcr`, :func:`chroma` -- ITU-R BT.601 luma Y and chroma Cb, Cr (full range, as
  JPEG): ``Y = 0.299 R + 0.587 G + 0.114 B``, ``Cb = (B - Y) / 1.772``, ``Cr = (R - Y) / 1.402``;
  on [-1, 1] images Y is in [-1, 1] and Cb, Cr in [-1, 1], with Cb = Cr = 0 for any gray.
* :func:`luma_correlation` -- per image, the Pearson correlation between the input gray image and
  the luma of the colourization: near +1 when the brightness is kept, negative when it is
  inverted (the failure this detects).
* :func:`colourfulness` -- Hasler and Suesstrunk's (2003) colourfulness ``M`` per image, on the
  0-255 scale: ``sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2)`` with
  ``rg = R - G`` and ``yb = (R + G) / 2 - B``; 0 for a gray image, about 20-60 for photos.
* :func:`saturation` and :func:`saturation_distance` -- HSV saturation ``(max - min) / max`` of each
  pixel, and the Wasserstein-1 (earth mover's) distance between two sets' saturation histograms:
  0 when a colourizer's outputs are as saturated, pixel for pixel in distribution, as real images;
  large for a sepia or gray result.
* PSNR and SSIM against the truth are :func:`cyclegan_lesson.evaluation.metrics.psnr` / ``ssim``.
* :func:`colourize` -- a colourizer applied in batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "chroma",
    "luma",
    "luma_correlation",
    "colourfulness",
    "saturation",
    "saturation_histogram",
    "saturation_distance",
    "colourize",
    "SATURATION_BINS",
]

#: Bins of the saturation histograms (over [0, 1]).
SATURATION_BINS = 50


def _rgb(images, who: str) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"{who}: expected RGB images (N, H, W, 3) in [-1, 1], got shape "
                         f"{x.shape}; convert gray images with metrics.to_channels(x, 3).")
    return x


def _gray(images, who: str) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"{who}: expected gray images (N, H, W, 1) in [-1, 1], got shape "
                         f"{x.shape}.")
    return x


def rgb_to_ycbcr(images) -> np.ndarray:
    """``(N, H, W, 3)`` RGB in [-1, 1] -> ``(N, H, W, 3)`` Y, Cb, Cr (ITU-R 601, full range),
    each in [-1, 1]; Cb = Cr = 0 exactly when R = G = B."""
    x = _rgb(images, "rgb_to_ycbcr")
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([y, (b - y) / 1.772, (r - y) / 1.402], axis=-1).astype(np.float32)


def ycbcr_to_rgb(images) -> np.ndarray:
    """The inverse of :func:`rgb_to_ycbcr`: ``(N, H, W, 3)`` Y, Cb, Cr -> RGB (clipped to
    [-1, 1]). With Y set to 0 it draws an image's chroma alone, at mid brightness."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"ycbcr_to_rgb: expected (N, H, W, 3) Y, Cb, Cr images, got shape "
                         f"{x.shape}.")
    y, cb, cr = x[..., 0], x[..., 1], x[..., 2]
    r = y + 1.402 * cr
    b = y + 1.772 * cb
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.clip(np.stack([r, g, b], axis=-1), -1.0, 1.0).astype(np.float32)


def chroma(images) -> np.ndarray:
    """The chroma channels ``(N, H, W, 2)`` (Cb, Cr in [-1, 1]) of RGB images in [-1, 1]: what the
    chroma-only CIFAR-10 classifier reads (no brightness at all)."""
    return rgb_to_ycbcr(images)[..., 1:]


def luma(images) -> np.ndarray:
    """ITU-R 601 luma ``(N, H, W, 1)`` in [-1, 1] of RGB images (gray images are returned as
    they are)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x
    return rgb_to_ycbcr(x)[..., :1]


def luma_correlation(gray, colour) -> np.ndarray:
    """Per image, the Pearson correlation ``(N,)`` between a gray input ``(N, H, W, 1)`` and the
    luma of its colourization ``(N, H, W, 3)``, in [-1, 1]: +1 = brightness kept (up to a
    contrast and offset change), -1 = inverted. A constant image gives 0."""
    g = _gray(gray, "luma_correlation").reshape(len(gray), -1)
    y = luma(_rgb(colour, "luma_correlation")).reshape(len(colour), -1)
    if g.shape != y.shape:
        raise ValueError(f"luma_correlation: {g.shape[0]} gray images of {g.shape[1]} pixels vs "
                         f"{y.shape[0]} colour images of {y.shape[1]}; pass matching batches.")
    g = g - g.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    denom = np.sqrt((g * g).sum(axis=1) * (y * y).sum(axis=1))
    return np.where(denom > 1e-12, (g * y).sum(axis=1) / np.maximum(denom, 1e-12), 0.0)


def colourfulness(images) -> np.ndarray:
    """Hasler and Suesstrunk's colourfulness ``M`` ``(N,)`` of RGB images in [-1, 1], computed on
    the 0-255 scale of the original paper (0 for gray images; larger = more colourful)."""
    x = (_rgb(images, "colourfulness").astype(np.float64) + 1.0) * 127.5
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg = (r - g).reshape(len(x), -1)
    yb = (0.5 * (r + g) - b).reshape(len(x), -1)
    spread = np.sqrt(rg.std(axis=1) ** 2 + yb.std(axis=1) ** 2)
    centre = np.sqrt(rg.mean(axis=1) ** 2 + yb.mean(axis=1) ** 2)
    return spread + 0.3 * centre


def saturation(images) -> np.ndarray:
    """HSV saturation ``(N, H, W)`` in [0, 1] of RGB images in [-1, 1]: ``(max - min) / max`` of
    each pixel's R, G, B mapped to [0, 1] (0 for black and for any gray)."""
    u = (_rgb(images, "saturation") + 1.0) / 2.0
    hi, lo = u.max(axis=-1), u.min(axis=-1)
    return np.where(hi > 1e-6, (hi - lo) / np.maximum(hi, 1e-6), 0.0).astype(np.float32)


def saturation_histogram(images, bins: int = SATURATION_BINS) -> np.ndarray:
    """Normalized histogram ``(bins,)`` (sums to 1) of the saturation of every pixel of a set."""
    if bins < 1:
        raise ValueError(f"saturation_histogram: bins must be >= 1, got {bins}.")
    hist, _ = np.histogram(saturation(images), bins=bins, range=(0.0, 1.0))
    total = hist.sum()
    if total == 0:
        raise ValueError("saturation_histogram: no pixels (empty image set).")
    return hist / total


def saturation_distance(images, reference, bins: int = SATURATION_BINS) -> float:
    """Wasserstein-1 distance, in saturation units (0 to 1), between the pixel saturation
    histograms of ``images`` and ``reference`` (both RGB in [-1, 1]): the area between their
    cumulative histograms. 0 = same distribution; a gray set against real CIFAR-10 images is
    about their mean saturation."""
    p, q = saturation_histogram(images, bins), saturation_histogram(reference, bins)
    return float(np.abs(np.cumsum(p - q)).sum() / bins)


def colourize(generator: Callable, gray, batch_size: int = 256) -> np.ndarray:
    """``generator(gray)`` in inference mode, in batches: ``(N, H, W, 3)`` float32 in [-1, 1]."""
    from .metrics import predict_in_batches

    x = _gray(gray, "colourize")
    return np.asarray(predict_in_batches(lambda b: generator(b, training=False), x, batch_size),
                      np.float32)
