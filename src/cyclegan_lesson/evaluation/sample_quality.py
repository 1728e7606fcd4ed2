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
* :func:`class_histogram`, :func:`mode_coverage` - which classes a classifier reads in generated
  samples (KL to uniform, number of classes above 1 %); :func:`inception_score_like` - the
  Inception Score's formula ``exp E_x KL(p(y|x) || p(y))`` on a course classifier.
* :func:`precision_recall_knn` - k-NN precision (fakes inside the real manifold) and recall (reals
  inside the fake manifold), Kynkaanniemi et al. 2019.
* :func:`inception_features` - Inception-v3 ImageNet features (real FID/KID) where the weights
  can be downloaded (Colab); a clear error otherwise.
* :func:`disturb` - noise, blur and occlusion of real images (Heusel et al. 2017's disturbance
  test: a sound distance grows monotonically with the disturbance).
* :func:`domain_verdict` - the share of images a two-domain classifier reads as a given domain
  (the realism test of a translation: does ``G_XY(x)`` pass for a real ``y``?).
* Class-conditional generators (chapter 8): :func:`conditioning_accuracy` (the share of samples
  generated for label ``y`` that a classifier reads as ``y``), :func:`classification_accuracy_score`
  (CAS, Ravuri and Vinyals 2019: a classifier trained only on generated labelled images, tested on
  real ones), :func:`per_class_frechet_distance` and :func:`intra_class_diversity` (collapse
  *inside* a class, which accuracy does not see).

Features are float arrays ``(N, d)``; images NHWC float32 in [-1, 1].
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "class_histogram",
    "classification_accuracy_score",
    "classifier_features",
    "classifier_probabilities",
    "disturb",
    "conditioning_accuracy",
    "domain_verdict",
    "feature_distances",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_of_features",
    "inception_distances",
    "inception_features",
    "inception_network",
    "inception_score_like",
    "intra_class_diversity",
    "kernel_distance",
    "mode_coverage",
    "per_class_frechet_distance",
    "precision_recall_knn",
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
    with warnings.catch_warnings():  # a near-singular product is handled (and checked) below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):  # singular product: regularize as Heusel et al.'s code
        offset = np.eye(s1.shape[0]) * 1e-6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
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


def _inference(model, images, batch_size: int, who: str) -> np.ndarray:
    """``model``'s outputs in inference mode on NHWC ``images`` converted to its input channels
    (ITU-R 601 luma or gray replicated to RGB), in batches; a clear error for other shapes."""
    from .metrics import predict_in_batches, to_channels

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"{who}: expected NHWC images, got shape {images.shape}.")
    images = np.asarray(to_channels(images, model.input_shape[-1]))
    return predict_in_batches(lambda x: model(x, training=False), images, batch_size)


def classifier_features(classifier, images, batch_size: int = 256) -> np.ndarray:
    """``(N, d)`` features of ``images`` (NHWC in [-1, 1], converted to the classifier's channels)
    at the input of the classifier's last layer (for the course's digit classifiers: the global
    average pool, ``d = 4 * width``), in inference mode."""
    import keras

    extractor = keras.Model(classifier.input, classifier.layers[-1].input)
    return _inference(extractor, images, batch_size, "classifier_features")


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
    logits = _inference(classifier, images, batch_size, "domain_verdict")
    if not 0 <= domain_index < logits.shape[-1]:
        raise ValueError(f"domain_verdict: domain_index must be in 0..{logits.shape[-1] - 1}, "
                         f"got {domain_index}.")
    return float(np.mean(np.argmax(logits, axis=-1) == domain_index))


# ---------------------------------------------------------------------------------------------
# classifier-based measures: class histogram, Inception-Score analogue, k-NN precision/recall
# ---------------------------------------------------------------------------------------------


def classifier_probabilities(classifier, images, batch_size: int = 256) -> np.ndarray:
    """Softmax ``p(y|x)`` ``(N, K)`` of a classifier returning logits, on NHWC images in [-1, 1]."""
    logits = _inference(classifier, images, batch_size, "classifier_probabilities")
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _probabilities(p, who: str) -> np.ndarray:
    p = np.asarray(p, np.float64)
    if p.ndim != 2 or len(p) < 1 or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0,
                                                                      atol=1e-4):
        raise ValueError(f"{who}: expected probabilities (N, K), rows >= 0 summing to 1.")
    return p


def class_histogram(labels, num_classes: int = 10) -> np.ndarray:
    """Share of samples per class ``(num_classes,)`` (sums to 1) from predicted labels ``(N,)``
    in ``0..num_classes - 1``."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"class_histogram: expected integer labels (N,), got {labels.shape} "
                         f"{labels.dtype}.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"class_histogram: labels must be in 0..{num_classes - 1}.")
    return np.bincount(labels, minlength=num_classes) / len(labels)


def mode_coverage(labels, num_classes: int = 10, threshold: float = 0.01) -> dict:
    """Mode coverage of generated samples read by a classifier: ``{"histogram": shares,
    "kl_to_uniform": KL(hist || uniform) in nats (0 = all classes equally often, log K = one
    class only), "classes_above": number of classes with a share above threshold}``."""
    hist = class_histogram(labels, num_classes)
    nz = hist > 0
    kl = float(np.sum(hist[nz] * np.log(hist[nz] * num_classes)))
    return {"histogram": hist.tolist(), "kl_to_uniform": kl,
            "classes_above": int(np.sum(hist > threshold))}


def inception_score_like(probabilities) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y)`` the mean prediction (Salimans et al. 2016's
    Inception Score, here on a course classifier's ``p(y|x)`` ``(N, K)``): 1 when every sample
    gets the same prediction, K for confident predictions spread evenly over K classes."""
    p = _probabilities(probabilities, "inception_score_like")
    marginal = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


def _pairwise_distances(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> np.ndarray:
    out = np.empty((len(a), len(b)))
    b2 = np.sum(b * b, axis=1)
    for i in range(0, len(a), chunk):
        x = a[i:i + chunk]
        d2 = np.sum(x * x, axis=1)[:, None] + b2[None, :] - 2.0 * x @ b.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2, 0.0))
    return out


def precision_recall_knn(real_features, fake_features, k: int = 3) -> dict:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of ``(N, d)`` feature sets.

    Each sample's k-NN radius is the distance to its ``k``-th nearest neighbour in its own set;
    the manifold of a set is the union of those balls. ``precision`` = share of fakes inside the
    real manifold (quality), ``recall`` = share of reals inside the fake manifold (coverage);
    both in [0, 1]."""
    r = _features(real_features, "precision_recall_knn")
    f = _features(fake_features, "precision_recall_knn")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"precision_recall_knn: feature sizes differ ({r.shape[1]} vs "
                         f"{f.shape[1]}).")
    if not 1 <= int(k) < min(len(r), len(f)):
        raise ValueError(f"precision_recall_knn: need 1 <= k < set sizes, got k={k}.")

    def radii(x):
        d = _pairwise_distances(x, x)
        return np.sort(d, axis=1)[:, int(k)]   # column 0 is the sample itself

    r_radii, f_radii = radii(r), radii(f)
    d_fr = _pairwise_distances(f, r)
    precision = float(np.mean(np.any(d_fr <= r_radii[None, :], axis=1)))
    recall = float(np.mean(np.any(d_fr.T <= f_radii[None, :], axis=1)))
    return {"precision": precision, "recall": recall}


def inception_network(weights: str | None = "imagenet"):
    """Inception-v3 without its top, global-average pooled: ``(N, 299, 299, 3)`` in [-1, 1] ->
    ``(N, 2048)``, the network FID and KID use. ``weights="imagenet"`` downloads the ImageNet
    weights on first use (Colab) and raises ``RuntimeError`` where they cannot be had;
    ``weights=None`` gives random weights (only to exercise the pipeline offline: distances on
    random features are not FID)."""
    import keras

    try:
        return keras.applications.InceptionV3(weights=weights, include_top=False, pooling="avg",
                                              input_shape=(299, 299, 3))
    except Exception as exc:
        raise RuntimeError(
            "inception_network: the Inception-v3 ImageNet weights could not be loaded "
            f"({type(exc).__name__}: {exc}). They are downloaded on first use where the internet "
            "is reachable (Colab); offline, use classifier_features (FD-MNIST etc.), which is "
            "not comparable with published FIDs.") from exc


def inception_features(images, batch_size: int = 32, network=None) -> np.ndarray:
    """``(N, 2048)`` Inception-v3 ImageNet pool features (the FID/KID features) of NHWC images in
    [-1, 1] (gray repeated to RGB, resized to 299x299 bilinearly; Inception's own input range is
    [-1, 1]). ``network`` defaults to :func:`inception_network` with the ImageNet weights
    (downloaded by Keras on first use, e.g. on Colab; ``RuntimeError`` offline: there use the
    course features, :func:`classifier_features`, which are not comparable with FID)."""
    import keras

    from .metrics import to_channels

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"inception_features: expected NHWC images with 1 or 3 channels, got "
                         f"{images.shape}.")
    net = inception_network() if network is None else network
    out = []
    for i in range(0, len(images), batch_size):
        x = np.asarray(to_channels(images[i:i + batch_size], 3))
        x = keras.ops.image.resize(x, (299, 299), interpolation="bilinear")
        out.append(np.asarray(net(x, training=False)))
    return np.concatenate(out)


def inception_distances(images, reference, batch_size: int = 32, network=None) -> dict:
    """``{"fid": ..., "kid": ...}``: FID (Heusel et al. 2017) and unbiased KID (Binkowski et al.
    2018) between ``images`` and ``reference`` (NHWC in [-1, 1]) on :func:`inception_features`.
    Published FIDs use 50,000 samples; FID is biased upwards at small n, KID is not."""
    net = inception_network() if network is None else network
    f_img = inception_features(images, batch_size, net)
    f_ref = inception_features(reference, batch_size, net)
    return {"fid": frechet_distance_of_features(f_img, f_ref), "kid": kernel_distance(f_img, f_ref)}


# ---------------------------------------------------------------------------------------------
# the disturbance test: a sound distance grows as real images are disturbed more
# ---------------------------------------------------------------------------------------------

#: Disturbances of Heusel et al. 2017's test and what their ``level`` means.
DISTURBANCES = {
    "noise": "standard deviation of added Gaussian noise (images in [-1, 1]; clipped)",
    "blur": "standard deviation in pixels of a Gaussian blur over height and width",
    "occlusion": "side of a black square (value -1) at a random place, as a fraction of the side",
}


def disturb(images, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Disturbed copies of NHWC float images in [-1, 1] (Heusel et al. 2017's disturbance test):
    ``kind`` one of :data:`DISTURBANCES` with the ``level`` described there (0 = unchanged).
    Returns float32 ``(N, H, W, C)`` in [-1, 1]; ``seed`` fixes the noise and the squares."""
    from scipy import ndimage

    x = np.asarray(images, np.float32)
    if x.ndim != 4:
        raise ValueError(f"disturb: expected NHWC images, got shape {x.shape}.")
    if kind not in DISTURBANCES:
        raise ValueError(f"disturb: kind must be one of {sorted(DISTURBANCES)}, got {kind!r}.")
    if not np.isfinite(level) or level < 0 or (kind == "occlusion" and level > 1):
        raise ValueError(f"disturb: level must be >= 0 (and <= 1 for occlusion), got {level}.")
    rng = np.random.default_rng(seed)
    if level == 0:
        return x.copy()
    if kind == "noise":
        out = x + rng.normal(scale=level, size=x.shape)
    elif kind == "blur":
        out = ndimage.gaussian_filter(x, sigma=(0, level, level, 0), mode="nearest")
    else:
        n, h, w, _ = x.shape
        side = max(1, round(level * min(h, w)))
        top = rng.integers(0, h - side + 1, size=n)
        left = rng.integers(0, w - side + 1, size=n)
        out = x.copy()
        for i in range(n):
            out[i, top[i]:top[i] + side, left[i]:left[i] + side] = -1.0
    return np.clip(out, -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# class-conditional generators: conditioning accuracy, CAS, per-class FD, intra-class diversity
# ---------------------------------------------------------------------------------------------


def _class_labels(labels, n: int, num_classes: int, who: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{who}: expected integer labels of shape ({n},), one per image or "
                         f"feature row, got {y.shape} {y.dtype}.")
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{who}: labels must be in 0..{num_classes - 1}.")
    return y


def conditioning_accuracy(classifier, images, labels, *, num_classes: int = 10,
                          batch_size: int = 256) -> dict:
    """How well a conditional generator obeys its condition: the share of ``images`` (NHWC in
    [-1, 1], generated for ``labels`` ``(N,)``) that ``classifier`` (logits) reads as their
    label. Returns ``{"accuracy", "interval" (Wilson 95 %), "n", "per_class" (K,),
    "confusion" (K, K) counts, rows = asked-for label, columns = read label}``; chance is
    ``1 / num_classes``."""
    from .metrics import binomial_interval, confusion_matrix

    logits = _inference(classifier, images, batch_size, "conditioning_accuracy")
    y = _class_labels(labels, len(logits), num_classes, "conditioning_accuracy")
    pred = np.argmax(logits, axis=-1)
    acc = float(np.mean(pred == y))
    per_class = [float(np.mean(pred[y == k] == k)) if np.any(y == k) else float("nan")
                 for k in range(num_classes)]
    return {"accuracy": acc, "interval": binomial_interval(acc, len(y)), "n": len(y),
            "per_class": per_class, "confusion": confusion_matrix(y, pred, num_classes)}


def classification_accuracy_score(train_images, train_labels, test_images, test_labels, *,
                                  width: int = 16, epochs: int = 3, batch_size: int = 64,
                                  learning_rate: float = 2e-3, seed: int = 0) -> dict:
    """The Classification Accuracy Score (Ravuri and Vinyals 2019): train a fresh course digit
    classifier (:func:`cyclegan_lesson.evaluation.classifiers.digit_classifier`, the course's
    optimizer
    setup, no augmentation) on ``(train_images, train_labels)`` only, then measure its accuracy
    on the real ``(test_images, test_labels)``.

    With generated training images this is CAS: a generator whose samples cover every class
    with its real variety gives a classifier as good as real data does; one whose classes are
    narrow, wrong or mixed up gives a worse one. Train the same recipe on as many *real* images
    for the baseline. Images NHWC float32 in [-1, 1]; labels integer ``(N,)`` in 0..9. Give it
    a few hundred steps at least (``epochs * N / batch_size``): the batch-norm statistics used at
    test time are running averages that need them.
    Returns ``{"accuracy", "interval" (Wilson 95 %), "n_train", "n_test", "per_class",
    "wall_s"}``."""
    import time

    import keras
    import tensorflow as tf

    from .classifiers import _compile, digit_classifier, evaluate_classifier
    from .metrics import binomial_interval

    x_tr = np.asarray(train_images, np.float32)
    x_te = np.asarray(test_images, np.float32)
    for name, x in (("train_images", x_tr), ("test_images", x_te)):
        if x.ndim != 4 or x.shape[1] % 8 or x.shape[1] != x.shape[2]:
            raise ValueError(f"classification_accuracy_score: {name} must be square NHWC images "
                             f"with a side that is a multiple of 8 (32x32 digits), got {x.shape}.")
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise ValueError(f"classification_accuracy_score: train and test images differ in shape "
                         f"({x_tr.shape[1:]} vs {x_te.shape[1:]}).")
    y_tr = _class_labels(train_labels, len(x_tr), 10, "classification_accuracy_score")
    y_te = _class_labels(test_labels, len(x_te), 10, "classification_accuracy_score")
    if len(x_tr) < batch_size:
        raise ValueError(f"classification_accuracy_score: {len(x_tr)} training images < "
                         f"batch_size {batch_size}.")
    start = time.perf_counter()
    keras.utils.set_random_seed(int(seed))
    model = digit_classifier(x_tr.shape[-1], image_size=x_tr.shape[1], width=int(width))
    steps_per_epoch = int(np.ceil(len(x_tr) / batch_size))
    _compile(model, learning_rate, steps_per_epoch * int(epochs))
    ds = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr.astype(np.int64)))
          .shuffle(len(x_tr), seed=int(seed), reshuffle_each_iteration=True)
          .batch(int(batch_size)).prefetch(2))
    model.fit(ds, epochs=int(epochs), verbose=0, shuffle=False)
    ev = evaluate_classifier(model, x_te, y_te)
    return {"accuracy": ev["accuracy"], "interval": binomial_interval(ev["accuracy"], len(y_te)),
            "n_train": len(x_tr), "n_test": len(y_te),
            "per_class": ev["per_class_accuracy"], "wall_s": time.perf_counter() - start}


def per_class_frechet_distance(features, labels, reference, reference_labels, *,
                               num_classes: int = 10) -> np.ndarray:
    """``(num_classes,)`` Frechet distances, class by class: between the generated images'
    features of class ``k`` (``features`` ``(N, d)`` with ``labels`` ``(N,)``, the labels they
    were generated for) and the real ones of class ``k`` (``reference``, ``reference_labels``).
    The overall FD can be small while one class is poor or collapsed; this shows which. Each
    class needs at least 2 rows on both sides (more than ``d`` for a well-conditioned
    covariance)."""
    f = _features(features, "per_class_frechet_distance")
    r = _features(reference, "per_class_frechet_distance")
    if f.shape[1] != r.shape[1]:
        raise ValueError(f"per_class_frechet_distance: feature sizes differ ({f.shape[1]} vs "
                         f"{r.shape[1]}).")
    y = _class_labels(labels, len(f), num_classes, "per_class_frechet_distance")
    y_ref = _class_labels(reference_labels, len(r), num_classes, "per_class_frechet_distance")
    out = np.empty(num_classes)
    for k in range(num_classes):
        if np.sum(y == k) < 2 or np.sum(y_ref == k) < 2:
            raise ValueError(f"per_class_frechet_distance: class {k} has fewer than 2 rows "
                             f"({np.sum(y == k)} generated, {np.sum(y_ref == k)} real).")
        out[k] = frechet_distance_of_features(f[y == k], r[y_ref == k])
    return out


def intra_class_diversity(features, labels, *, num_classes: int = 10,
                          max_per_class: int = 1000, seed: int = 0) -> np.ndarray:
    """``(num_classes,)`` mean pairwise Euclidean distance between the feature vectors
    (``(N, d)``, e.g. :func:`classifier_features`) of the rows of each class (at most
    ``max_per_class`` rows, drawn with ``seed``). A generator that draws one style per class
    has a diversity near 0 in that class, however recognizable its digits are; divide by the
    same measure on real images of the class for a ratio (1 = as varied as real digits)."""
    f = _features(features, "intra_class_diversity")
    y = _class_labels(labels, len(f), num_classes, "intra_class_diversity")
    rng = np.random.default_rng(seed)
    out = np.empty(num_classes)
    for k in range(num_classes):
        idx = np.flatnonzero(y == k)
        if len(idx) < 2:
            raise ValueError(f"intra_class_diversity: class {k} has {len(idx)} rows; need >= 2.")
        if len(idx) > max_per_class:
            idx = rng.choice(idx, int(max_per_class), replace=False)
        d = _pairwise_distances(f[idx], f[idx])
        out[k] = d[np.triu_indices(len(idx), 1)].mean()
    return out
