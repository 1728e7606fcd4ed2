"""Did a style translation keep the picture, and how much did it change its colours?

A photo -> painting generator can satisfy a style classifier with texture alone while the
photo underneath dissolves. These measures compare each image with its own translation:

* :func:`luma_ssim` -- SSIM of the ITU-R 601 luma of an image and of its translation, both
  downsampled (area average) to ``size`` x ``size`` first: at 64x64 brush strokes and fine
  texture average out and what is left is the layout of light and dark (1 = the same picture).
* :func:`edge_similarity` -- the Pearson correlation of the Sobel gradient magnitudes of the two
  lumas at ``size`` x ``size``: do the edges stay where they were (1 = same edge map, 0 = none
  in common)?
* :func:`hue_shift` -- the mean absolute circular difference of hue, in degrees, over pixels
  that are coloured in both images (the paper's Figure 9: without the identity loss, daytime
  becomes sunset), and :func:`colour_histogram_distance` -- the Hellinger distance between the
  two images' joint RGB histograms (0 = the same palette, 1 = disjoint palettes).
* :func:`checkerboard_energy` -- the share of an image's luma power (DC left out) at the spatial
  frequencies that repeat every ``period`` pixels: where stride-2 transposed convolutions leave
  their checkerboard (Odena et al. 2016), a natural image has almost none.
* :func:`speckle` -- the mean absolute difference between an image and its 3x3 median filter,
  in [0, 1] units: pixel-level colour noise that a median removes and real photos and paintings
  have little of (one image at a time, not a pair).

Every function takes two NHWC float32 batches in [-1, 1] of the same shape (RGB for the colour
measures; 1 or 3 channels for the luma ones) and returns one value per image, ``(N,)``.
"""

from __future__ import annotations

import numpy as np

from . import metrics

__all__ = [
    "downsample",
    "luma_ssim",
    "sobel_magnitude",
    "edge_similarity",
    "hue",
    "hue_shift",
    "colour_histogram_distance",
    "checkerboard_energy",
    "speckle",
]

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _pair(a, b, who: str, rgb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    if a.ndim != 4 or b.ndim != 4:
        raise ValueError(f"{who}: expected two NHWC batches, got shapes {a.shape} and {b.shape}.")
    if a.shape[:3] != b.shape[:3]:
        raise ValueError(f"{who}: the batches differ in number or size of images, {a.shape} vs "
                         f"{b.shape}; compare each image with its own translation.")
    if rgb and (a.shape[-1] != 3 or b.shape[-1] != 3):
        raise ValueError(f"{who}: expected RGB images (N, H, W, 3), got {a.shape} and {b.shape}.")
    return a, b


def _luma(x: np.ndarray) -> np.ndarray:
    return x if x.shape[-1] == 1 else (x @ _LUMA)[..., None]


def downsample(images, size: int) -> np.ndarray:
    """Area-average NHWC images to ``size`` x ``size`` (TensorFlow's ``area`` resize: each output
    pixel is the mean of the input pixels it covers)."""
    import tensorflow as tf

    x = np.asarray(images, np.float32)
    if x.ndim != 4:
        raise ValueError(f"downsample: expected NHWC images, got shape {x.shape}.")
    if x.shape[1:3] == (size, size):
        return x
    return tf.image.resize(x, (size, size), method="area").numpy()


def luma_ssim(images, translations, size: int = 64) -> np.ndarray:
    """Per-image SSIM ``(N,)`` of the luma of ``images`` and of ``translations``, both
    area-downsampled to ``size`` x ``size`` (at least 11, SSIM's window)."""
    a, b = _pair(images, translations, "luma_ssim")
    if size < 11:
        raise ValueError(f"luma_ssim: size must be at least 11 (SSIM's window), got {size}.")
    return metrics.ssim(downsample(_luma(a), size), downsample(_luma(b), size))


def sobel_magnitude(gray) -> np.ndarray:
    """Sobel gradient magnitude ``(N, H, W)`` of gray images ``(N, H, W, 1)`` (edge-padded)."""
    x = np.asarray(gray, np.float32)[..., 0]
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
    gx = (p[:, :-2, 2:] + 2 * p[:, 1:-1, 2:] + p[:, 2:, 2:]
          - p[:, :-2, :-2] - 2 * p[:, 1:-1, :-2] - p[:, 2:, :-2])
    gy = (p[:, 2:, :-2] + 2 * p[:, 2:, 1:-1] + p[:, 2:, 2:]
          - p[:, :-2, :-2] - 2 * p[:, :-2, 1:-1] - p[:, :-2, 2:])
    return np.sqrt(gx**2 + gy**2)


def edge_similarity(images, translations, size: int = 64) -> np.ndarray:
    """Per-image Pearson correlation ``(N,)`` in [-1, 1] between the Sobel edge maps of the two
    lumas at ``size`` x ``size`` (0 where an image has no edges at all)."""
    a, b = _pair(images, translations, "edge_similarity")
    ea = sobel_magnitude(downsample(_luma(a), size)).reshape(len(a), -1)
    eb = sobel_magnitude(downsample(_luma(b), size)).reshape(len(b), -1)
    ea = ea - ea.mean(axis=1, keepdims=True)
    eb = eb - eb.mean(axis=1, keepdims=True)
    den = np.sqrt((ea**2).sum(axis=1) * (eb**2).sum(axis=1))
    return np.where(den > 1e-12, (ea * eb).sum(axis=1) / np.maximum(den, 1e-12), 0.0)


def hue(images) -> tuple[np.ndarray, np.ndarray]:
    """HSV hue in degrees [0, 360) and saturation in [0, 1], each ``(N, H, W)``, of RGB images
    in [-1, 1]."""
    import tensorflow as tf

    x = np.asarray(images, np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"hue: expected RGB images (N, H, W, 3), got shape {x.shape}.")
    hsv = tf.image.rgb_to_hsv(np.clip((x + 1) / 2, 0, 1)).numpy()
    return hsv[..., 0] * 360.0, hsv[..., 1]


def hue_shift(images, translations, min_saturation: float = 0.15) -> np.ndarray:
    """Mean absolute circular hue difference ``(N,)`` in degrees [0, 180] between each image and
    its translation, over the pixels whose saturation is at least ``min_saturation`` in both
    (hue is undefined for gray pixels); NaN for an image with no such pixel."""
    a, b = _pair(images, translations, "hue_shift", rgb=True)
    ha, sa = hue(a)
    hb, sb = hue(b)
    d = np.abs(ha - hb)
    d = np.minimum(d, 360.0 - d)
    mask = (sa >= min_saturation) & (sb >= min_saturation)
    count = mask.reshape(len(a), -1).sum(axis=1)
    total = np.where(mask, d, 0.0).reshape(len(a), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def colour_histogram_distance(images, translations, bins: int = 8) -> np.ndarray:
    """Hellinger distance ``(N,)`` in [0, 1] between the joint RGB histograms (``bins`` per
    channel) of each image and its translation: 0 = the same palette, 1 = no colour in common."""
    a, b = _pair(images, translations, "colour_histogram_distance", rgb=True)
    if bins < 1:
        raise ValueError(f"colour_histogram_distance: bins must be >= 1, got {bins}.")

    def hist(x: np.ndarray) -> np.ndarray:
        q = np.clip(((x + 1) / 2 * bins).astype(np.int64), 0, bins - 1)
        idx = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
        h = np.stack([np.bincount(i.ravel(), minlength=bins**3) for i in idx]).astype(np.float64)
        return h / h.sum(axis=1, keepdims=True)

    bc = np.sqrt(hist(a) * hist(b)).sum(axis=1)
    return np.sqrt(np.clip(1.0 - bc, 0.0, 1.0))


def checkerboard_energy(images, period: int = 4) -> np.ndarray:
    """Share ``(N,)`` in [0, 1] of each image's luma power, the DC term left out, at the spatial
    frequencies ``(k H / period, l W / period)`` (``k, l`` not both 0): a pattern that repeats
    every ``period`` pixels (2 for one stride-2 transposed convolution, 4 for two in a row)
    concentrates its power there. ``images``: ``(N, H, W, C)`` in [-1, 1], ``H`` and ``W``
    multiples of ``period``."""
    x = np.asarray(images, np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"checkerboard_energy: expected (N, H, W, 1 or 3) images, got {x.shape}.")
    if period < 2 or x.shape[1] % period or x.shape[2] % period:
        raise ValueError(f"checkerboard_energy: the image size {x.shape[1:3]} must be a multiple "
                         f"of period ({period}) and period >= 2.")
    lum = _luma(x)[..., 0]
    power = np.abs(np.fft.fft2(lum - lum.mean(axis=(1, 2), keepdims=True))) ** 2
    h, w = lum.shape[1:]
    periodic = power[:, ::h // period, ::w // period].reshape(len(x), -1).sum(axis=1)
    total = power.reshape(len(x), -1).sum(axis=1)
    return np.where(total > 0, periodic / np.maximum(total, 1e-12), 0.0)


def speckle(images) -> np.ndarray:
    """Pixel-level noise ``(N,)`` of each image: the mean over pixels and channels of
    ``|x - median_3x3(x)|`` in [0, 1] units (``x`` mapped from [-1, 1]), each channel filtered
    on its own, the one-pixel border left out. A median keeps edges and flat regions and removes
    isolated outliers, so this is near 0 for a smooth image, grows with salt-and-pepper colour
    speckle, and is larger for fine real texture (grass, brush strokes) than for flat areas: set
    it beside real images of the target domain at the same size.

    ``images``: ``(N, H, W, C)`` in [-1, 1], ``H, W >= 3``; compare images of one size only (the
    value depends on the resolution)."""
    from scipy import ndimage

    x = np.asarray(images, np.float32)
    if x.ndim != 4 or min(x.shape[1:3]) < 3:
        raise ValueError(f"speckle: expected (N, H, W, C) images at least 3x3, got {x.shape}.")
    x = (x + 1.0) / 2.0
    median = ndimage.median_filter(x, size=(1, 3, 3, 1), mode="nearest")
    residual = np.abs(x - median)[:, 1:-1, 1:-1]
    return residual.reshape(len(x), -1).mean(axis=1).astype(np.float64)
