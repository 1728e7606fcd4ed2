"""Numbers that say whether a translation is good: label preservation, cycle error, PSNR/SSIM.

Images are NHWC float32 in [-1, 1] throughout (the package's convention); labels are int
arrays of class indices 0..9.

* :func:`label_preservation` - translate source-domain digits, classify the translations with a
  *target*-domain classifier, and count how often the predicted label is the source label.
* :func:`classifier_accuracy` - a classifier's plain accuracy (on untranslated images it shows
  the domain gap: e.g. the SVHN classifier on MNIST digits).
* :func:`confusion_matrix` - which labels turn into which (rows = true, columns = predicted).
* :func:`cycle_reconstruction_error` - mean absolute error between ``x`` and ``G_BA(G_AB(x))``.
* :func:`border_ink` - how bright the outer frame of an image is; MNIST keeps it black, so ink
  there in a translation to MNIST is something no MNIST digit has (e.g. hidden cycle information).
* :func:`psnr` / :func:`ssim` - per-image PSNR (dB) and SSIM computed on images mapped to [0, 1].
* :func:`binomial_interval` - the Wilson 95 % interval of an accuracy measured on n test images,
  and :func:`difference_interval` for the difference of two such accuracies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "predict_in_batches",
    "label_preservation",
    "classifier_accuracy",
    "confusion_matrix",
    "cycle_reconstruction_error",
    "border_ink",
    "psnr",
    "ssim",
    "to_channels",
    "binomial_interval",
    "difference_interval",
    "paired_difference_interval",
]


def binomial_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` of a proportion ``accuracy`` in [0, 1] measured on
    ``n`` independent test images (``z = 1.96``: 95 %). Unlike ``p +- z sqrt(p(1-p)/n)`` it
    stays inside [0, 1] and is right near 0 and 1."""
    if not 0.0 <= float(accuracy) <= 1.0:
        raise ValueError(f"binomial_interval: accuracy must be in [0, 1], got {accuracy}.")
    if int(n) != n or n < 1:
        raise ValueError(f"binomial_interval: n must be a positive count of images, got {n}.")
    p, n = float(accuracy), int(n)
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def difference_interval(p1: float, n1: int, p2: float, n2: int,
                        z: float = 1.96) -> tuple[float, float]:
    """Normal-approximation 95 % interval of ``p1 - p2`` for two accuracies on independent test
    sets of ``n1`` and ``n2`` images. (On the *same* test images the paired difference is
    tighter; this is the conservative choice.) An interval that contains 0 means the two
    accuracies differ by less than the test-set noise can tell."""
    for p, n in ((p1, n1), (p2, n2)):
        binomial_interval(p, n)  # validates
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = float(p1) - float(p2)
    return float(d - z * se), float(d + z * se)


def paired_difference_interval(a, b, *, n_boot: int = 2000, seed: int = 0,
                               level: float = 0.95) -> dict:
    """Mean of the per-image differences ``a - b`` of one measure on the *same* images (e.g.
    the hue shift of two translators of the same paintings), with a percentile bootstrap
    interval over the images: ``{"mean_a", "mean_b", "difference", "low", "high", "n"}``.
    ``a``, ``b``: ``(N,)`` values; pairs where either is NaN are dropped. An interval that
    contains 0 means the test images cannot tell the two apart."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_difference_interval: a and b must be (N,) values of the same "
                         f"images, got shapes {a.shape} and {b.shape}.")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    if len(d) < 2:
        raise ValueError("paired_difference_interval: need at least two finite pairs.")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (int(n_boot), len(d)))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    return {"mean_a": float(a[ok].mean()), "mean_b": float(b[ok].mean()),
            "difference": float(d.mean()), "low": float(np.percentile(means, tail)),
            "high": float(np.percentile(means, 100 - tail)), "n": int(len(d))}


def _as_images(images, who: str) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"{who}: expected NHWC images with 1 or 3 channels, got shape {arr.shape}.")
    return arr


def _as_labels(labels, n: int, who: str) -> np.ndarray:
    arr = np.asarray(labels).astype(np.int64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{who}: {n} images but {arr.shape[0]} labels.")
    return arr


def _to_numpy(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


def predict_in_batches(fn: Callable, images, batch_size: int = 256) -> np.ndarray:
    """Apply ``fn`` (a Keras model or any callable on an NHWC batch) to ``images`` in batches and
    concatenate the NumPy results along axis 0. Keras models are called with
    ``training=False``."""
    import keras

    images = np.asarray(images, dtype=np.float32)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    outs = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        out = fn(batch, training=False) if isinstance(fn, keras.Model) else fn(batch)
        outs.append(_to_numpy(out))
    if not outs:
        raise ValueError("predict_in_batches: no images given.")
    return np.concatenate(outs, axis=0)


def classifier_accuracy(classifier, images, labels, batch_size: int = 256) -> float:
    """Fraction of ``images`` (NHWC, [-1, 1]) that ``classifier`` (logits ``(N, K)``) labels as
    ``labels`` (``(N,)`` ints)."""
    images = _as_images(images, "classifier_accuracy")
    labels = _as_labels(labels, len(images), "classifier_accuracy")
    pred = np.argmax(predict_in_batches(classifier, images, batch_size), axis=-1)
    return float(np.mean(pred == labels))


def label_preservation(
    translate_fn: Callable,
    images,
    labels,
    classifier,
    batch_size: int = 256,
) -> tuple[float, np.ndarray]:
    """How often a translation keeps the digit.

    Args:
        translate_fn: a generator (``keras.Model``) or callable mapping a source batch
            ``(n, H, W, C_src)`` in [-1, 1] to a target batch ``(n, H', W', C_tgt)`` in [-1, 1].
        images: source images ``(N, H, W, C_src)`` float in [-1, 1].
        labels: their true labels ``(N,)`` ints in 0..K-1.
        classifier: target-domain classifier mapping ``(n, H', W', C_tgt)`` to logits ``(n, K)``.
        batch_size: images translated and classified at once.

    Returns:
        ``(fraction, predicted)``: the fraction in [0, 1] of translated images the classifier
        labels as the source label, and the predicted labels ``(N,)`` int64.
    """
    images = _as_images(images, "label_preservation")
    labels = _as_labels(labels, len(images), "label_preservation")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    import keras

    preds = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        translated = (translate_fn(batch, training=False) if isinstance(translate_fn, keras.Model)
                      else translate_fn(batch))
        translated = _to_numpy(translated).astype(np.float32)
        if translated.ndim != 4 or len(translated) != len(batch):
            raise ValueError("label_preservation: translate_fn must return an NHWC batch of the "
                             f"same length, got shape {translated.shape}.")
        logits = (classifier(translated, training=False) if isinstance(classifier, keras.Model)
                  else classifier(translated))
        preds.append(np.argmax(_to_numpy(logits), axis=-1))
    predicted = np.concatenate(preds).astype(np.int64)
    return float(np.mean(predicted == labels)), predicted


def confusion_matrix(true, pred, n: int = 10) -> np.ndarray:
    """``(n, n)`` int64 counts: entry ``[i, j]`` = number of items with true label ``i``
    predicted as ``j``. Rows sum to the class counts, the whole matrix to ``len(true)``."""
    true = np.asarray(true).astype(np.int64).reshape(-1)
    pred = np.asarray(pred).astype(np.int64).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"confusion_matrix: {true.shape[0]} true labels but {pred.shape[0]} "
                         "predictions.")
    for name, arr in (("true", true), ("pred", pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"confusion_matrix: {name} labels must lie in 0..{n - 1}.")
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def cycle_reconstruction_error(
    g_ab: Callable, g_ba: Callable, images, batch_size: int = 256
) -> float:
    """Mean absolute error ``mean |x - G_BA(G_AB(x))|`` in [-1, 1] units (0 = perfect; 2 = the
    largest possible), over all pixels and channels of ``images`` ``(N, H, W, C)``."""
    images = _as_images(images, "cycle_reconstruction_error")
    total, count = 0.0, 0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        fake = predict_in_batches(g_ab, batch, batch_size)
        rec = predict_in_batches(g_ba, fake, batch_size)
        if rec.shape != batch.shape:
            raise ValueError("cycle_reconstruction_error: reconstruction has shape "
                             f"{rec.shape}, input {batch.shape}.")
        total += float(np.abs(rec - batch).sum())
        count += batch.size
    return total / count


def _unit_pair(a, b, who: str):
    import tensorflow as tf

    a = _as_images(a, who)
    b = _as_images(b, who)
    if a.shape != b.shape:
        raise ValueError(f"{who}: shapes differ, {a.shape} vs {b.shape}.")
    to01 = lambda x: tf.clip_by_value((tf.convert_to_tensor(x) + 1.0) / 2.0, 0.0, 1.0)  # noqa: E731
    return to01(a), to01(b)


def border_ink(images, width: int = 4) -> np.ndarray:
    """Mean brightness, in [0, 1], of the outer ``width``-pixel frame of each image.

    Args:
        images: NHWC float images in [-1, 1] (-1 = black), 1 or 3 channels, at least
            ``2 * width + 1`` pixels high and wide.
        width: frame width in pixels. MNIST digits padded to 32x32 (2 px of padding around the
            28x28 image, whose digit sits in a centred 20x20 box) have an all-black 4-pixel frame
            in nearly every test image.

    Returns:
        ``(N,)`` float64 array: 0 = the frame is black, 1 = the frame is white.
    """
    x = _as_images(images, "border_ink")
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"border_ink: width must be a positive integer, got {width!r}.")
    h, w = x.shape[1:3]
    if min(h, w) < 2 * width + 1:
        raise ValueError(f"border_ink: images of {h}x{w} have no interior inside a {width}-pixel "
                         "frame.")
    mask = np.ones((h, w), dtype=bool)
    mask[width:h - width, width:w - width] = False
    x01 = (np.clip(x, -1.0, 1.0) + 1.0) / 2.0
    return x01[:, mask, :].mean(axis=(1, 2)).astype(np.float64)


def psnr(a, b) -> np.ndarray:
    """Per-image PSNR in dB ``(N,)`` between two NHWC batches in [-1, 1] (mapped to [0, 1],
    ``max_val=1``; identical images give ``inf``)."""
    import tensorflow as tf

    x, y = _unit_pair(a, b, "psnr")
    return tf.image.psnr(x, y, max_val=1.0).numpy()


def ssim(a, b) -> np.ndarray:
    """Per-image SSIM ``(N,)`` in [-1, 1] (1 = identical) between two NHWC batches in [-1, 1]
    (mapped to [0, 1]; Gaussian window 11 with sigma 1.5, the usual constants). Images must be at
    least 11x11.

    The formula and constants of ``tf.image.ssim`` (local means, variances and covariance under
    the Gaussian window, 'valid' positions only, averaged over pixels, then channels), with the
    window applied as two 1-D filters in SciPy: the same numbers to ~1e-6 (``tests/test_metrics``
    compares them), about ten times faster on a CPU than TensorFlow's depthwise convolution."""
    from scipy import ndimage

    x, y = (np.asarray(t, np.float32) for t in _unit_pair(a, b, "ssim"))
    size, sigma, k1, k2 = 11, 1.5, 0.01, 0.03
    if min(x.shape[1:3]) < size:
        raise ValueError(f"ssim: images must be at least {size}x{size}, got {x.shape[1:3]}.")
    coords = np.arange(size, dtype=np.float32) - (size - 1) / 2
    window = np.exp(-coords ** 2 / (2 * sigma ** 2))
    window = (window / window.sum()).astype(np.float32)
    h = size // 2

    def local_mean(z):  # (N, H, W, C) -> (N, H - 10, W - 10, C), the window's valid positions
        z = ndimage.correlate1d(z, window, axis=1, mode="constant")[:, h:z.shape[1] - h]
        return ndimage.correlate1d(z, window, axis=2, mode="constant")[:, :, h:z.shape[2] - h]

    c1, c2 = k1 ** 2, k2 ** 2  # max_val = 1
    mx, my = local_mean(x), local_mean(y)
    num0, den0 = 2 * mx * my, mx ** 2 + my ** 2
    luminance = (num0 + c1) / (den0 + c1)
    structure = (2 * local_mean(x * y) - num0 + c2) / (local_mean(x ** 2 + y ** 2) - den0 + c2)
    return (luminance * structure).mean(axis=(1, 2)).mean(axis=-1)


# --------------------------------------------------------------------------------------------
# The mnist2svhn label-preservation table (``python -m cyclegan_lesson evaluate``)


def to_channels(images, channels: int):
    """Convert NHWC images between 1 and 3 channels and return them (unchanged when they already
    have ``channels``).

    RGB -> gray is the ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B``
    (:data:`cyclegan_lesson.data.LUMA_WEIGHTS`, the conversion the data layer and ``translate``
    use; the weights sum to 1, so it maps [-1, 1] to [-1, 1]); gray -> RGB repeats the value in
    R, G and B. Works on NumPy arrays and backend tensors (``keras.ops``).
    """
    from keras import ops

    from ..data import LUMA_WEIGHTS

    have = images.shape[-1]
    if have == channels:
        return images
    if have == 3 and channels == 1:
        weights = ops.convert_to_tensor(LUMA_WEIGHTS, dtype="float32")
        return ops.sum(ops.cast(images, "float32") * weights, axis=-1, keepdims=True)
    if have == 1 and channels == 3:
        return ops.concatenate([images, images, images], axis=-1)
    raise ValueError(f"cannot convert images with {have} channels to {channels}.")
