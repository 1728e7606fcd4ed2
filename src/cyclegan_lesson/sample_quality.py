"""How realistic are generated images? Distances between feature distributions, and a domain
classifier's verdict.

* :func:`frechet_distance` - the Frechet distance of two Gaussians ``N(mu1, S1)``, ``N(mu2, S2)``:
  ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`` (Heusel et al. 2017). FID is this distance on
  Inception-v3 ImageNet features; on this course's offline machines those weights cannot be had,
  so the chapters compute it on the penultimate features of a classifier trained in the course
  and name it after that classifier (**FD-MNIST**, **FD-SVHN**, ...). Such numbers are comparable
  with each other, within one feature extractor, and **not** with published FIDs.
* :func:`kernel_distance` - the unbiased squared MMD with the cubic polynomial kernel
  ``k(x, y) = (x.y / d + 1)^3`` on the same features (KID, Binkowski et al. 2018): unbiased at
  any sample size, so small test sets do not inflate it.
* :func:`classifier_features` - the features a classifier computes just before its last layer.
* :func:`domain_verdict` - the share of images a two-domain classifier reads as a given domain
  (the realism test of a translation: does ``G_XY(x)`` pass for a real ``y``?).

Features are float arrays ``(N, d)``; images NHWC float32 in [-1, 1].
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "classifier_features",
    "domain_verdict",
    "feature_distances",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_of_features",
    "kernel_distance",
]


def _features(x, who: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{who}: expected features of shape (N, d) with N >= 2, got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{who}: the features contain NaN or infinite values.")
    return x


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased, ``N - 1``) of ``(N, d)`` features."""
    x = _features(features, "feature_statistics")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``;
    ``>= 0``, 0 for identical Gaussians. The matrix square root is taken with SciPy; a tiny
    imaginary part from round-off is dropped (a large one raises)."""
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError("frechet_distance: means (d,) and covariances (d, d) must match, got "
                         f"{mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}.")
    import warnings

    with warnings.catch_warnings():  # a singular product (fewer samples than features) is
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # regularized just below
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):  # as Heusel et al.'s code: add eps to the diagonal
            offset = np.eye(s1.shape[0]) * 1e-6
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if np.max(np.abs(covmean.imag)) > 1e-3 * max(1.0, np.max(np.abs(covmean.real))):
            raise ValueError("frechet_distance: the covariance product has a large imaginary "
                             "square root; are the covariances symmetric positive semi-definite?")
        covmean = covmean.real
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def frechet_distance_of_features(features_1, features_2) -> float:
    """:func:`frechet_distance` of the Gaussians fitted to two ``(N, d)`` feature sets."""
    return frechet_distance(*feature_statistics(features_1), *feature_statistics(features_2))


def kernel_distance(features_1, features_2) -> float:
    """Unbiased squared MMD with the kernel ``(x.y / d + 1)^3`` (KID without the Inception net).

    Its expectation is 0 when both sets come from one distribution (so a single estimate can be
    slightly negative); it grows as the distributions part."""
    x = _features(features_1, "kernel_distance")
    y = _features(features_2, "kernel_distance")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"kernel_distance: feature sizes differ ({x.shape[1]} vs {y.shape[1]}).")
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2.0 * kxy.mean())


def classifier_features(classifier, images, batch_size: int = 256) -> np.ndarray:
    """``(N, d)`` features of ``images`` (NHWC in [-1, 1], converted to the classifier's channels)
    at the input of the classifier's last layer (for the course's digit classifiers: the global
    average pool, ``d = 4 * width``), in inference mode."""
    import keras

    from .metrics import predict_in_batches, to_channels

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"classifier_features: expected NHWC images, got shape {images.shape}.")
    extractor = keras.Model(classifier.input, classifier.layers[-1].input)
    images = np.asarray(to_channels(images, classifier.input_shape[-1]))
    return predict_in_batches(lambda x: extractor(x, training=False), images, batch_size)


def feature_distances(classifier, images, reference, batch_size: int = 256) -> dict:
    """``{"fd": ..., "kd": ...}``: :func:`frechet_distance_of_features` and
    :func:`kernel_distance` between ``images`` and ``reference`` (both NHWC in [-1, 1]) on
    :func:`classifier_features` of ``classifier``."""
    f_img = classifier_features(classifier, images, batch_size)
    f_ref = classifier_features(classifier, reference, batch_size)
    return {"fd": frechet_distance_of_features(f_img, f_ref),
            "kd": kernel_distance(f_img, f_ref)}


def domain_verdict(classifier, images, domain_index: int, batch_size: int = 256) -> float:
    """Share of ``images`` (NHWC in [-1, 1]) that a domain classifier (logits ``(N, K)``, one per
    domain) assigns to domain ``domain_index``."""
    from .metrics import predict_in_batches, to_channels

    images = np.asarray(to_channels(np.asarray(images, np.float32),
                                    classifier.input_shape[-1]))
    logits = predict_in_batches(lambda x: classifier(x, training=False), images, batch_size)
    if not 0 <= domain_index < logits.shape[-1]:
        raise ValueError(f"domain_verdict: domain_index must be in 0..{logits.shape[-1] - 1}, "
                         f"got {domain_index}.")
    return float(np.mean(np.argmax(logits, axis=-1) == domain_index))
