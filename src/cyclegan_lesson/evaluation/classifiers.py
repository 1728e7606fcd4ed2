"""Small digit classifiers for 32x32 MNIST and SVHN: the judges of label preservation.

CycleGAN has no notion of "the digit". To measure whether a translation kept it, chapter 13
classifies translated images with a classifier trained on the *target* domain and checks it
against the source label (:func:`cyclegan_lesson.evaluation.metrics.label_preservation`). The same
classifiers, frozen, drive the optional semantic-consistency loss
(:mod:`cyclegan_lesson.models.semantic`).

* :func:`digit_classifier` builds a compact CNN (VGG-like, batch norm, global average pooling):
  input ``(N, 32, 32, C)`` float32 in [-1, 1], ``C`` in {1, 3}; output ``(N, 10)`` **logits**.
* :func:`train_digit_classifier` trains one on ``"mnist"`` (28x28 padded with its black
  background to 32x32, as the data layer does) or ``"svhn"`` (only 8,003 training crops here, so
  with augmentation: random shifts, small rotations and zooms, brightness/contrast jitter,
  colour-channel shuffles, random grayscale and random colour inversion) and reports its
  accuracy on the full test split.
* :func:`load_classifier` loads a ``.keras`` file; :func:`shipped_classifier_path` names the
  trained classifiers committed under ``models/classifiers/``.
* :func:`train_domain_classifier` trains the *realism judge*: MNIST (class 0) vs SVHN (class 1)
  on the luma of real images, to read translations (does ``G_XY(x)`` pass for an SVHN crop?).
* :func:`train_cifar_classifier` trains the two CIFAR-10 object classifiers of the gray <-> colour
  chapters on real colour images: ``"cifar10"`` reads RGB ``(N, 32, 32, 3)``, ``"cifar10_chroma"``
  reads only the chroma ``(N, 32, 32, 2)`` (Cb, Cr of ITU-R 601:
  :func:`cyclegan_lesson.evaluation.colour_metrics.chroma`), so a gray image (Cb = Cr = 0) tells it
  nothing:
  it is at chance on gray and rewards only colours that fit the object (Zhang et al. 2016's
  semantic-interpretability test). :func:`cifar_classifier_input` converts RGB images for
  either; :func:`load_cifar_classifier` loads the shipped ones.
* ``python -m cyclegan_lesson.evaluation.classifiers --out DIR [--data-dir DIR]``
  (:func:`main`) reproduces the shipped files and their JSON record.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers

from ..files import keras_compat

__all__ = [
    "CLASSIFIER_DOMAINS",
    "DOMAIN_CLASSES",
    "DOMAIN_RECIPE",
    "train_domain_classifier",
    "load_domain_classifier",
    "ClassifierResult",
    "digit_classifier",
    "augment_batch",
    "load_digit_arrays",
    "train_digit_classifier",
    "train_array_classifier",
    "evaluate_classifier",
    "predict_labels",
    "load_classifier",
    "shipped_classifier_path",
    "load_shipped_classifier",
    "CIFAR_KINDS",
    "CIFAR_RECIPES",
    "cifar_classifier_input",
    "train_cifar_classifier",
    "load_cifar_classifier",
    "main",
]

#: Domains a digit classifier can be trained on, with their channel counts.
CLASSIFIER_DOMAINS = {"mnist": 1, "svhn": 3}

#: Training recipes of the shipped *judges* ``models/classifiers/{mnist,svhn}.keras``: the
#: classifiers that measure label preservation (CPU-sized; see models/classifiers/*.json).
DEFAULT_RECIPES = {
    "mnist": dict(width=24, epochs=3, batch_size=128, learning_rate=2e-3, augment=True),
    "svhn": dict(width=32, epochs=30, batch_size=64, learning_rate=2e-3, augment=True),
}

#: Recipes of the second, independent pair ``models/classifiers/{mnist,svhn}_semantic.keras``
#: that the semantic-consistency loss uses during training: the judges' recipes with another seed
#: (other initial weights, data order and augmentation draws). A generator trained against one
#: classifier could learn patterns that fool exactly that one; measuring with classifiers the
#: loss never used keeps the evaluation honest. The SVHN recipe must be as strong as the judge's:
#: its argmax is the label the semantic loss asks ``G_BA`` to keep, so every crop it misreads is
#: a digit ``G_BA`` is taught to flip.
SEMANTIC_RECIPES = {
    "mnist": dict(width=24, epochs=3, batch_size=128, learning_rate=2e-3, augment=True, seed=1),
    "svhn": dict(width=32, epochs=30, batch_size=64, learning_rate=2e-3, augment=True, seed=1),
}


#: The two classes of the realism judge (:func:`train_domain_classifier`), by index.
DOMAIN_CLASSES = ("mnist", "svhn")

#: Recipe of the shipped realism judge ``models/classifiers/domain_mnist_svhn.keras``: the digit
#: classifier layout with 2 outputs, on ITU-R 601 luma (so colour alone cannot decide: G_YX
#: outputs one channel by construction), balanced classes (all 8,003 SVHN training crops and as
#: many MNIST digits drawn anew each epoch), and additive Gaussian noise of a random strength
#: in [0, ``noise``] so that exact pixel values (MNIST's flat -1 background) do not decide alone.
DOMAIN_RECIPE = dict(width=16, epochs=4, batch_size=128, learning_rate=2e-3, noise=0.1, seed=2)


def digit_classifier(
    channels: int,
    *,
    image_size: int = 32,
    width: int = 16,
    dropout: float = 0.3,
    num_classes: int = 10,
    name: str | None = None,
) -> keras.Model:
    """A compact CNN digit classifier.

    Layout: ``[conv3x3(w) BN ReLU] x2, maxpool, [conv3x3(2w) BN ReLU] x2, maxpool,
    conv3x3(4w) BN ReLU, maxpool, global average pool, dropout, dense(num_classes)``.

    Args:
        channels: input channels, 1 (MNIST) or 3 (SVHN).
        image_size: input height = width (default 32; must be a multiple of 8).
        width: filters of the first block (16 gives ~0.08 M parameters, 24 ~0.18 M).
        dropout: dropout rate before the last layer.
        num_classes: number of output logits.

    Returns:
        A ``keras.Model`` mapping ``(N, image_size, image_size, channels)`` float32 in [-1, 1]
        to ``(N, num_classes)`` logits (apply softmax for probabilities).
    """
    if channels not in (1, 2, 3):
        raise ValueError(f"digit_classifier: channels must be 1, 2 (chroma) or 3, got {channels}.")
    if image_size < 8 or image_size % 8:
        raise ValueError(f"digit_classifier: image_size must be a multiple of 8, got {image_size}.")
    if width < 1:
        raise ValueError(f"digit_classifier: width must be positive, got {width}.")
    inputs = keras.Input((image_size, image_size, channels), name="image")
    x = inputs
    for block, (filters, convs) in enumerate(((width, 2), (2 * width, 2), (4 * width, 1))):
        for i in range(convs):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                              name=f"b{block}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"b{block}_bn{i}")(x)
            x = layers.ReLU(name=f"b{block}_relu{i}")(x)
        x = layers.MaxPooling2D(name=f"b{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name or f"digit_classifier_{channels}ch")


# --------------------------------------------------------------------------------------------
# data


def load_digit_arrays(domain: str, split: str = "train", data_dir=None, *, limit=None):
    """``(images, labels)`` of a digit domain at 32x32: images float32 ``(N, 32, 32, C)`` in
    [-1, 1] (MNIST padded with its black background), labels int64 ``(N,)`` in 0..9.

    Goes through :func:`cyclegan_lesson.data.load_arrays` (``data_dir=None`` = tfds)."""
    if domain not in CLASSIFIER_DOMAINS:
        raise ValueError(
            f"unknown digit domain {domain!r}; expected one of {sorted(CLASSIFIER_DOMAINS)}."
        )
    from .. import data

    images, labels = data.load_arrays(domain, split, data_dir, limit=limit, image_size=32)
    return np.asarray(images, np.float32), np.asarray(labels, np.int64)


def augment_batch(images, *, strength: str = "svhn", rng=None, seed=None):
    """Random augmentation of a batch ``(N, 32, 32, C)`` in [-1, 1] (TensorFlow ops, for
    ``tf.data``); returns the same shape and range.

    ``strength="mnist"``: shifts up to 3 px, rotations up to ~11 degrees, zoom +-10 %.
    ``strength="svhn"``: the same geometry plus brightness/contrast jitter, random channel
    permutation, random grayscale (p 0.2) and random colour inversion (p 0.5) - SVHN shows light
    digits on dark and dark digits on light backgrounds, and the classifier should not care.
    Randomness: ``seed``, a shape-``(2,)`` int tensor, makes the draws a pure function of it
    (stateless ops: the same seed gives the same augmentation, as ``tf.data`` pipelines that must
    replay exactly need); otherwise ``rng``, a ``tf.random.Generator`` (default: the global one).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, tf.float32)
    n = tf.shape(x)[0]
    channels = x.shape[-1]
    if seed is not None:
        base = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        draw = itertools.count()  # a distinct sub-seed for every draw below

        def uniform(shape, minval=0.0, maxval=1.0):
            sub = tf.random.experimental.stateless_fold_in(base, next(draw))
            return tf.random.stateless_uniform(shape, sub, minval, maxval)
    else:
        uniform = (rng if rng is not None else tf.random.get_global_generator()).uniform
    # geometry: shift + rotation + zoom as one projective transform per image
    angle = uniform([n], -0.2, 0.2)
    scale = uniform([n], 0.9, 1.1)
    shift = uniform([n, 2], -3.0, 3.0)
    c = 15.5  # image centre for a 32x32 image
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # output->input mapping: x_in = a0*x + a1*y + a2, y_in = b0*x + b1*y + b2
    a2 = c - cos * c + sin * c + shift[:, 0]
    b2 = c - sin * c - cos * c + shift[:, 1]
    zeros = tf.zeros_like(cos)
    transforms = tf.stack([cos, -sin, a2, sin, cos, b2, zeros, zeros], axis=1)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=tf.shape(x)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST")
    if strength == "svhn":
        u = (x + 1.0) / 2.0
        mean = tf.reduce_mean(u, axis=[1, 2, 3], keepdims=True)
        contrast = uniform([n, 1, 1, 1], 0.6, 1.4)
        brightness = uniform([n, 1, 1, 1], -0.15, 0.15)
        u = (u - mean) * contrast + mean + brightness
        if channels == 3:
            perm = tf.argsort(uniform([n, 3]), axis=1)
            u = tf.gather(u, perm, axis=3, batch_dims=1)
            gray = tf.reduce_mean(u, axis=3, keepdims=True) * tf.ones_like(u)
            u = tf.where(uniform([n, 1, 1, 1]) < 0.2, gray, u)
        u = tf.where(uniform([n, 1, 1, 1]) < 0.5, 1.0 - u, u)
        x = tf.clip_by_value(u, 0.0, 1.0) * 2.0 - 1.0
    elif strength != "mnist":
        raise ValueError(f"augment_batch: strength must be 'mnist' or 'svhn', got {strength!r}.")
    return x


# --------------------------------------------------------------------------------------------
# training and evaluation


@dataclass
class ClassifierResult:
    """What :func:`train_digit_classifier` returns: the model and its measured record."""

    model: keras.Model
    domain: str
    test_accuracy: float
    train_accuracy: float
    parameters: int
    wall_time_s: float
    config: dict = field(default_factory=dict)
    per_class_accuracy: list = field(default_factory=list)

    def record(self) -> dict:
        return {
            "domain": self.domain,
            "test_accuracy": round(self.test_accuracy, 5),
            "train_accuracy_last_epoch": round(self.train_accuracy, 5),
            "per_class_test_accuracy": [round(a, 4) for a in self.per_class_accuracy],
            "parameters": self.parameters,
            "wall_time_s": round(self.wall_time_s, 1),
            "config": self.config,
        }


def predict_labels(classifier: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """Argmax labels ``(N,)`` int64 of ``classifier`` on ``images`` ``(N, H, W, C)`` in [-1, 1]."""
    images = np.asarray(images, np.float32)
    out = []
    for start in range(0, len(images), batch_size):
        logits = classifier(images[start:start + batch_size], training=False)
        out.append(np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))
    return np.concatenate(out).astype(np.int64) if out else np.zeros((0,), np.int64)


def evaluate_classifier(classifier: keras.Model, images, labels, batch_size: int = 256) -> dict:
    """Accuracy and per-class accuracy of ``classifier`` on ``(images, labels)``."""
    labels = np.asarray(labels, np.int64)
    pred = predict_labels(classifier, images, batch_size)
    per_class = [float(np.mean(pred[labels == k] == k)) if np.any(labels == k) else float("nan")
                 for k in range(10)]
    return {"accuracy": float(np.mean(pred == labels)), "per_class_accuracy": per_class,
            "predictions": pred}


def _compile(model: keras.Model, learning_rate: float, total_steps: int) -> None:
    """The course's classifier training setup: Adam with a cosine-decayed learning rate over
    ``total_steps``, sparse categorical cross-entropy on logits, accuracy."""
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=max(1, total_steps), alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


def train_digit_classifier(
    domain: str,
    data_dir=None,
    *,
    width: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    augment: bool | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    seed: int = 0,
    verbose: int = 2,
) -> ClassifierResult:
    """Train a :func:`digit_classifier` on ``domain`` ("mnist" or "svhn") and measure it.

    Defaults come from :data:`DEFAULT_RECIPES` (the recipes of the shipped files). Adam with a
    cosine-decayed learning rate, sparse categorical cross-entropy on logits. The test accuracy
    is measured on the test split (all of it unless ``test_limit``).
    """
    import tensorflow as tf

    if domain not in CLASSIFIER_DOMAINS:
        raise ValueError(
            f"unknown digit domain {domain!r}; expected one of {sorted(CLASSIFIER_DOMAINS)}."
        )
    recipe = dict(DEFAULT_RECIPES[domain])
    for key, value in dict(width=width, epochs=epochs, batch_size=batch_size,
                           learning_rate=learning_rate, augment=augment).items():
        if value is not None:
            recipe[key] = value
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    x_train, y_train = load_digit_arrays(domain, "train", data_dir, limit=train_limit)
    x_test, y_test = load_digit_arrays(domain, "test", data_dir, limit=test_limit)

    model = digit_classifier(CLASSIFIER_DOMAINS[domain], width=recipe["width"],
                             name=f"{domain}_classifier")
    steps_per_epoch = math.ceil(len(x_train) / recipe["batch_size"])
    _compile(model, recipe["learning_rate"], steps_per_epoch * recipe["epochs"])

    ds = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    ds = ds.shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(recipe["batch_size"])
    if recipe["augment"]:
        rng = tf.random.Generator.from_seed(seed)

        def _aug(x, y):
            return augment_batch(x, strength=domain, rng=rng), y

        ds = ds.map(_aug, num_parallel_calls=1)
    ds = ds.prefetch(2)
    history = model.fit(ds, epochs=recipe["epochs"], verbose=verbose, shuffle=False)
    train_acc = float(history.history["accuracy"][-1])
    ev = evaluate_classifier(model, x_test, y_test)
    wall = time.perf_counter() - start
    config = dict(recipe, seed=seed, train_images=int(len(x_train)), test_images=int(len(x_test)),
                  optimizer="Adam + cosine decay", input_shape=[32, 32, CLASSIFIER_DOMAINS[domain]],
                  output="logits (N, 10)")
    return ClassifierResult(model=model, domain=domain, test_accuracy=ev["accuracy"],
                            train_accuracy=train_acc, parameters=int(model.count_params()),
                            wall_time_s=wall, config=config,
                            per_class_accuracy=ev["per_class_accuracy"])


def train_array_classifier(images, labels, num_classes: int = 10, *, width: int = 16,
                           epochs: int = 3, batch_size: int = 64, learning_rate: float = 2e-3,
                           seed: int = 0) -> keras.Model:
    """A fresh :func:`digit_classifier` with ``num_classes`` outputs trained on arrays: images
    NHWC float32 ``(N, S, S, C)`` in [-1, 1] (``S`` a multiple of 8, ``C`` in 1..3), integer
    ``labels`` ``(N,)`` in ``0 .. num_classes - 1``; the course's optimizer setup
    (:func:`_compile`), no augmentation, no console output. Returns the model (logits)."""
    import tensorflow as tf

    x = np.asarray(images, np.float32)
    y = np.asarray(labels)
    if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[1] % 8:
        raise ValueError(f"train_array_classifier: images must be square NHWC with a side that "
                         f"is a multiple of 8 (e.g. (N, 32, 32, 3)), got {x.shape}.")
    if y.shape != (len(x),):
        raise ValueError(f"train_array_classifier: labels must have shape ({len(x)},), one per "
                         f"image, got {y.shape}.")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"train_array_classifier: labels must be in 0..{num_classes - 1}, got "
                         f"{y.min()}..{y.max()}.")
    if len(x) < batch_size:
        raise ValueError(f"train_array_classifier: {len(x)} images < batch_size {batch_size}.")
    keras.utils.set_random_seed(int(seed))
    model = digit_classifier(x.shape[-1], image_size=x.shape[1], width=int(width),
                             num_classes=int(num_classes))
    _compile(model, learning_rate, math.ceil(len(x) / batch_size) * int(epochs))
    ds = (tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)))
          .shuffle(len(x), seed=int(seed), reshuffle_each_iteration=True)
          .batch(int(batch_size)).prefetch(2))
    model.fit(ds, epochs=int(epochs), verbose=0, shuffle=False)
    return model


def train_domain_classifier(data_dir=None, *, train_limit: int | None = None,
                            test_limit: int | None = None, verbose: int = 0,
                            **overrides) -> ClassifierResult:
    """Train the realism judge MNIST (0) vs SVHN (1) with :data:`DOMAIN_RECIPE` (``overrides``
    replace its entries) and measure it on both test splits.

    Input: ``(N, 32, 32, 1)`` luma in [-1, 1] (RGB images are converted by ITU-R 601; use
    :func:`cyclegan_lesson.evaluation.sample_quality.domain_verdict`); output ``(N, 2)`` logits.
    ``test_accuracy`` is the balanced accuracy (mean of the two domains' accuracies, which are in
    ``per_class_accuracy``).
    """
    import tensorflow as tf

    from .metrics import to_channels

    unknown = set(overrides) - set(DOMAIN_RECIPE)
    if unknown:
        raise ValueError(f"train_domain_classifier: unknown recipe keys {sorted(unknown)}; "
                         f"expected some of {sorted(DOMAIN_RECIPE)}.")
    recipe = dict(DOMAIN_RECIPE, **overrides)
    seed = int(recipe["seed"])
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    xa, _ = load_digit_arrays("mnist", "train", data_dir, limit=train_limit)
    xb, _ = load_digit_arrays("svhn", "train", data_dir, limit=train_limit)
    xb = np.asarray(to_channels(xb, 1))
    n = min(len(xa), len(xb))
    rng = np.random.default_rng(seed)
    model = digit_classifier(1, width=recipe["width"], num_classes=2,
                             name="domain_classifier_mnist_svhn")
    steps_per_epoch = math.ceil(2 * n / recipe["batch_size"])
    _compile(model, recipe["learning_rate"], steps_per_epoch * recipe["epochs"])
    noise = tf.random.Generator.from_seed(seed)

    def _noisy(x, y):
        sigma = noise.uniform([tf.shape(x)[0], 1, 1, 1], 0.0, recipe["noise"])
        return tf.clip_by_value(x + sigma * noise.normal(tf.shape(x)), -1.0, 1.0), y

    train_acc = float("nan")
    for _ in range(recipe["epochs"]):
        x = np.concatenate([xa[rng.choice(len(xa), n, replace=False)], xb[rng.choice(len(xb), n,
                                                                                      replace=False)]])
        y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
        order = rng.permutation(len(x))
        ds = (tf.data.Dataset.from_tensor_slices((x[order], y[order]))
              .batch(recipe["batch_size"]).map(_noisy).prefetch(2))
        train_acc = float(model.fit(ds, epochs=1, verbose=verbose).history["accuracy"][-1])
    ta, _ = load_digit_arrays("mnist", "test", data_dir, limit=test_limit)
    tb, _ = load_digit_arrays("svhn", "test", data_dir, limit=test_limit)
    acc_a = float(np.mean(predict_labels(model, ta) == 0))
    acc_b = float(np.mean(predict_labels(model, np.asarray(to_channels(tb, 1))) == 1))
    config = dict(recipe, train_images_per_domain_per_epoch=int(n),
                  test_images={"mnist": int(len(ta)), "svhn": int(len(tb))},
                  optimizer="Adam + cosine decay", input_shape=[32, 32, 1],
                  output="logits (N, 2): 0 mnist, 1 svhn")
    return ClassifierResult(model=model, domain="mnist_vs_svhn",
                            test_accuracy=(acc_a + acc_b) / 2, train_accuracy=train_acc,
                            parameters=int(model.count_params()),
                            wall_time_s=time.perf_counter() - start, config=config,
                            per_class_accuracy=[acc_a, acc_b])


# --------------------------------------------------------------------------------------------
# CIFAR-10 object classifiers (the gray <-> colour chapters)

#: The CIFAR-10 classifiers and their input channels: ``"cifar10"`` RGB, ``"cifar10_chroma"`` the
#: two chroma channels Cb, Cr (no luma at all).
CIFAR_KINDS = {"cifar10": 3, "cifar10_chroma": 2}

#: Recipes of the shipped ``models/classifiers/{cifar10,cifar10_chroma}.keras`` (CPU-sized):
#: the digit-classifier layout, random flips and shifts of up to 3 pixels.
CIFAR_RECIPES = {
    "cifar10": dict(width=24, epochs=6, batch_size=128, learning_rate=2e-3, seed=0),
    "cifar10_chroma": dict(width=24, epochs=6, batch_size=128, learning_rate=2e-3, seed=0),
}


def cifar_classifier_input(images, kind: str) -> np.ndarray:
    """What the ``kind`` classifier reads from RGB (or gray) images ``(N, 32, 32, 3 | 1)`` in
    [-1, 1]: the RGB image itself for ``"cifar10"`` (gray is repeated in R, G, B) or its chroma
    ``(N, 32, 32, 2)`` (Cb, Cr in [-1, 1]; zero for gray) for ``"cifar10_chroma"``."""
    from .colour_metrics import chroma
    from .metrics import to_channels

    if kind not in CIFAR_KINDS:
        raise ValueError(f"unknown CIFAR-10 classifier {kind!r}; expected one of "
                         f"{sorted(CIFAR_KINDS)}.")
    rgb = np.asarray(to_channels(np.asarray(images, np.float32), 3), np.float32)
    return rgb if kind == "cifar10" else chroma(rgb)


def _flip_shift(x: np.ndarray, rng: np.random.Generator, pad: int = 3) -> np.ndarray:
    """Random horizontal flip and a random shift of up to ``pad`` pixels (mirrored edges) of each
    image of ``(N, H, W, C)``; the same shape."""
    n, h, w, _ = x.shape
    x = np.where(rng.random(n)[:, None, None, None] < 0.5, x[:, :, ::-1], x)
    padded = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="symmetric")
    dy, dx = rng.integers(0, 2 * pad + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def train_cifar_classifier(
    kind: str,
    data_dir=None,
    *,
    train_limit: int | None = None,
    test_limit: int | None = None,
    verbose: int = 0,
    **overrides,
) -> ClassifierResult:
    """Train a CIFAR-10 classifier on real colour training images and measure it on the test
    split.

    Args:
        kind: ``"cifar10"`` (RGB input ``(N, 32, 32, 3)``) or ``"cifar10_chroma"`` (chroma input
            ``(N, 32, 32, 2)``: :func:`cifar_classifier_input`).
        data_dir: the offline data folder (``None``: tfds).
        train_limit, test_limit: use only the first images (smoke tests).
        overrides: entries of :data:`CIFAR_RECIPES` to replace (``width``, ``epochs``, ...).

    Returns:
        a :class:`ClassifierResult` (``test_accuracy`` on the test split; the model maps its
        input in [-1, 1] to ``(N, 10)`` logits).
    """
    from .. import data

    if kind not in CIFAR_KINDS:
        raise ValueError(f"unknown CIFAR-10 classifier {kind!r}; expected one of "
                         f"{sorted(CIFAR_KINDS)}.")
    unknown = set(overrides) - set(CIFAR_RECIPES[kind])
    if unknown:
        raise ValueError(f"train_cifar_classifier: unknown recipe keys {sorted(unknown)}; "
                         f"expected some of {sorted(CIFAR_RECIPES[kind])}.")
    recipe = dict(CIFAR_RECIPES[kind], **overrides)
    seed = int(recipe["seed"])
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    x_train, y_train = data.load_arrays("cifar10_color", "train", data_dir, limit=train_limit)
    x_test, y_test = data.load_arrays("cifar10_color", "test", data_dir, limit=test_limit)
    x_train = cifar_classifier_input(x_train, kind)
    x_test = cifar_classifier_input(x_test, kind)
    model = digit_classifier(CIFAR_KINDS[kind], width=recipe["width"], name=f"{kind}_classifier")
    steps_per_epoch = math.ceil(len(x_train) / recipe["batch_size"])
    _compile(model, recipe["learning_rate"], steps_per_epoch * recipe["epochs"])
    rng = np.random.default_rng(seed)
    train_acc = float("nan")
    for _ in range(recipe["epochs"]):  # a fresh augmentation of the whole set every epoch
        perm = rng.permutation(len(x_train))
        xs = _flip_shift(x_train[perm], rng)
        h = model.fit(xs, y_train[perm], batch_size=recipe["batch_size"], epochs=1,
                      shuffle=False, verbose=verbose)
        train_acc = float(h.history["accuracy"][-1])
    ev = evaluate_classifier(model, x_test, y_test)
    config = dict(recipe, train_images=int(len(x_train)), test_images=int(len(x_test)),
                  optimizer="Adam + cosine decay", augmentation="flip, shift <= 3 px",
                  input_shape=[32, 32, CIFAR_KINDS[kind]],
                  input=("RGB in [-1, 1]" if kind == "cifar10"
                         else "Cb, Cr (ITU-R 601) in [-1, 1]: colour_metrics.chroma"),
                  output="logits (N, 10)")
    return ClassifierResult(model=model, domain=kind, test_accuracy=ev["accuracy"],
                            train_accuracy=train_acc, parameters=int(model.count_params()),
                            wall_time_s=time.perf_counter() - start, config=config,
                            per_class_accuracy=ev["per_class_accuracy"])


def load_cifar_classifier(kind: str) -> keras.Model:
    """Load the shipped ``models/classifiers/<kind>.keras`` (``"cifar10"`` or
    ``"cifar10_chroma"``) through :func:`cyclegan_lesson.pretrained.path`; feed it
    :func:`cifar_classifier_input` ``(images, kind)``."""
    from .. import pretrained

    if kind not in CIFAR_KINDS:
        raise ValueError(f"unknown CIFAR-10 classifier {kind!r}; expected one of "
                         f"{sorted(CIFAR_KINDS)}.")
    return load_classifier(pretrained.path(f"classifiers/{kind}.keras"))


# --------------------------------------------------------------------------------------------
# files


def load_classifier(path) -> keras.Model:
    """Load a classifier ``.keras`` file (clear ``FileNotFoundError`` if it is missing).

    The classifier always computes in float32, also when loaded while a mixed-precision policy
    is set (``train --precision mixed_bfloat16`` builds its networks under one): a frozen judge
    inside a loss (the semantic-consistency loss) is part of the loss, and losses stay float32.
    """
    from ..nn.numerics import precision_scope

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"classifier file not found: {path}")
    with precision_scope("float32"):
        return keras_compat.load_model(path, compile=False)


def shipped_classifier_path(domain: str, role: str = "judge") -> str:
    """Local path of the shipped classifier for ``domain``: ``models/classifiers/<domain>.keras``
    (``role="judge"``, measures label preservation) or ``<domain>_semantic.keras``
    (``role="semantic"``, used by the semantic-consistency loss), found through
    :func:`cyclegan_lesson.pretrained.path` (the checkout's file, else a verified download)."""
    from .. import pretrained

    if domain not in CLASSIFIER_DOMAINS:
        raise ValueError(
            f"unknown digit domain {domain!r}; expected one of {sorted(CLASSIFIER_DOMAINS)}."
        )
    if role not in ("judge", "semantic"):
        raise ValueError(f"role must be 'judge' or 'semantic', got {role!r}.")
    suffix = "" if role == "judge" else "_semantic"
    return pretrained.path(f"classifiers/{domain}{suffix}.keras")


def load_shipped_classifier(domain: str, role: str = "judge") -> keras.Model:
    """Load the committed classifier for ``domain`` ("mnist" or "svhn"), ``role`` "judge" or
    "semantic" (see :func:`shipped_classifier_path`)."""
    return load_classifier(shipped_classifier_path(domain, role))


def load_domain_classifier() -> keras.Model:
    """Load the shipped realism judge ``models/classifiers/domain_mnist_svhn.keras`` (through
    :func:`cyclegan_lesson.pretrained.path`)."""
    from .. import pretrained

    return load_classifier(pretrained.path("classifiers/domain_mnist_svhn.keras"))


def main(argv=None) -> int:
    """Reproduce the shipped classifiers: train both, save ``<out>/{mnist,svhn}.keras`` and
    ``<out>/classifiers.json`` (test accuracies, parameters, wall times, recipes, device)."""
    import argparse

    from ..runinfo import default_data_dir, device_summary

    parser = argparse.ArgumentParser(prog="python -m cyclegan_lesson.evaluation.classifiers",
                                     description=main.__doc__)
    parser.add_argument("--out", required=True,
                        help="output folder (models/classifiers in a checkout replaces the "
                             "shipped ones; then run python -m cyclegan_lesson.pretrained "
                             "--write-manifest)")
    parser.add_argument("--data-dir", default=default_data_dir(),
                        help="offline data folder (default: ../shared/data if present, else tfds)")
    parser.add_argument("--domains", nargs="+", default=list(CLASSIFIER_DOMAINS),
                        choices=list(CLASSIFIER_DOMAINS), help="which classifiers to train")
    parser.add_argument("--role", choices=["judge", "semantic", "domain", "cifar10"],
                        default="judge",
                        help="judge: {domain}.keras (DEFAULT_RECIPES); semantic: "
                             "{domain}_semantic.keras (SEMANTIC_RECIPES); domain: the realism "
                             "judge domain_mnist_svhn.keras (DOMAIN_RECIPE; --domains ignored); "
                             "cifar10: cifar10.keras and cifar10_chroma.keras (CIFAR_RECIPES)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    record_path = os.path.join(args.out, "classifiers.json")
    record = {}
    if os.path.exists(record_path):
        with open(record_path) as f:
            record = json.load(f)

    def save(result: ClassifierResult, key: str, shown: tuple[str, ...]) -> None:
        path = os.path.join(args.out, f"{key}.keras")
        result.model.save(path)
        entry = result.record()
        entry.update(file=os.path.basename(path), file_bytes=os.path.getsize(path),
                     device=device_summary(), keras=keras.__version__, role=args.role)
        record[key] = entry
        print(json.dumps({key: {k: entry[k] for k in shown}}))
        with open(record_path, "w") as f:
            json.dump(record, f, indent=2)

    if args.role == "cifar10":
        for kind in CIFAR_KINDS:
            save(train_cifar_classifier(kind, args.data_dir, verbose=2, **(
                {} if args.epochs is None else {"epochs": args.epochs})), kind,
                 ("test_accuracy", "per_class_test_accuracy", "parameters", "wall_time_s"))
        return 0
    if args.role == "domain":
        save(train_domain_classifier(args.data_dir, **(
            {} if args.epochs is None else {"epochs": args.epochs})), "domain_mnist_svhn",
             ("test_accuracy", "per_class_test_accuracy", "parameters", "wall_time_s"))
        return 0
    for domain in args.domains:
        if args.role == "judge":
            recipe, suffix = dict(DEFAULT_RECIPES[domain], seed=0), ""
        else:
            recipe, suffix = dict(SEMANTIC_RECIPES[domain]), "_semantic"
        if args.epochs is not None:
            recipe["epochs"] = args.epochs
        save(train_digit_classifier(domain, args.data_dir, **recipe), domain + suffix,
             ("test_accuracy", "parameters", "wall_time_s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
