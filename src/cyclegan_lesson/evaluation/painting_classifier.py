"""A small Monet-vs-photo classifier: a proxy judge of "does this look like a Monet?".

Chapter 4 scores stylized photos with it (the share read as Monet) and uses its convolutions as
a feature extractor trained in the course; chapter 14 scores CycleGAN's translations with it.
It is a *proxy*: it learned whatever separates these 300 paintings from these photos (palette,
texture, blur), not what a person means by "a Monet".

* :func:`painting_classifier` builds a VGG-like CNN, by default without normalization (so that
  its ReLU convolutions can be rescaled as feature extractors, chapter 4), or with batch
  normalization after each convolution (``batch_norm=True``: trains faster and further, the
  recipe of chapter 14's stronger judge): input ``(N, H, W, 3)`` float32 in [-1, 1], any
  ``H, W`` (global average pooling); output ``(N, 1)``: the **logit** of "Monet" (label 1;
  photo = 0).
* :func:`load_painting_arrays` loads the ``monet`` and ``photo`` domains of a split as one
  labelled array.
* :func:`train_painting_classifier` trains it on the train splits (class-balanced loss, random
  flips and crops; optionally a cosine-decaying rate and a validation part held out of the
  train split) and reports accuracy on the held-out test splits.
* :func:`monet_share` gives the share of images read as Monet with a Wilson 95 % interval.
* :func:`at_resolution` wraps a judge with a resize to its training resolution.
* ``python -m cyclegan_lesson.evaluation.painting_classifier --out FILE.keras`` trains one and
  writes its
  record (held-out accuracies, recipe, wall time) to ``FILE.json``: how chapter 14's two shipped
  judges were made.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

__all__ = [
    "painting_classifier",
    "load_painting_arrays",
    "PaintingClassifierResult",
    "train_painting_classifier",
    "predict_monet_probability",
    "monet_share",
    "at_resolution",
    "CONV_LAYERS",
]

#: The convolutions of :func:`painting_classifier`, from the input to the output (each followed
#: by a ReLU, or by batch normalization and a ReLU when ``batch_norm=True``).
CONV_LAYERS = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1",
               "block4_conv1")


def painting_classifier(width: int = 16, input_shape=(None, None, 3), dropout: float = 0.3,
                        name: str = "painting_classifier", batch_norm: bool = False) -> keras.Model:
    """Monet (1) vs photo (0): six 3x3 convolutions in four blocks (``width``, ``width``;
    ``2 width`` x 2; ``4 width``; ``8 width``), each followed by a ReLU (``batch_norm=True``:
    batch normalization, then the ReLU), with 2x2 max pooling between the blocks, global
    average pooling, dropout and one dense logit. ``(N, H, W, 3)`` in [-1, 1] -> ``(N, 1)``."""
    if int(width) != width or width < 1:
        raise ValueError(f"painting_classifier: width must be a positive int, got {width!r}")
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"painting_classifier: input_shape must be (H, W, 3), got {input_shape}")
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    plan = [("block1", [width, width]), ("block2", [2 * width, 2 * width]),
            ("block3", [4 * width]), ("block4", [8 * width])]
    for b, (block, filters) in enumerate(plan):
        for i, f in enumerate(filters):
            if batch_norm:
                x = layers.Conv2D(f, 3, padding="same", use_bias=False,
                                  name=f"{block}_conv{i + 1}")(x)
                x = layers.BatchNormalization(name=f"{block}_bn{i + 1}")(x)
                x = layers.ReLU(name=f"{block}_relu{i + 1}")(x)
            else:
                x = layers.Conv2D(f, 3, padding="same", activation="relu",
                                  name=f"{block}_conv{i + 1}")(x)
        if b < len(plan) - 1:
            x = layers.MaxPooling2D(2, name=f"{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, name="monet_logit")(x)
    return keras.Model(inputs, outputs, name=name)


def at_resolution(classifier: keras.Model, size: int) -> keras.Model:
    """``classifier`` preceded by an area-average resize to ``size`` x ``size``: a judge trained
    at one resolution reads images of any size the way it was trained. Same input and output
    as ``classifier`` (a chain of layers, as :func:`painting_classifier` builds); its last layer
    is still the logit, so :func:`sample_quality.classifier_features` reads the same features."""
    if int(size) != size or size < 8:
        raise ValueError(f"at_resolution: size must be an int >= 8, got {size!r}")
    inputs = keras.Input((None, None, 3), name="image")
    x = layers.Resizing(int(size), int(size), interpolation="area", name=f"resize_{size}")(inputs)
    for layer in classifier.layers[1:]:
        # a copy of each layer (same weights) called once, so that the wrapper's own graph is
        # the one its layers' ``input`` / ``output`` refer to
        copy = layer.__class__.from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    return keras.Model(inputs, x, name=f"{classifier.name}_at_{size}")


def load_painting_arrays(split: str = "train", data_dir=None, *, image_size: int = 64,
                         limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``monet`` and ``photo`` images of ``split`` resized to ``image_size``, concatenated:
    ``(images (N, s, s, 3) float32 in [-1, 1], labels (N,) int64: 1 = Monet, 0 = photo)``;
    ``limit`` caps each domain."""
    from ..data import load_arrays

    monet, _ = load_arrays("monet", split, data_dir, limit=limit, image_size=image_size)
    photo, _ = load_arrays("photo", split, data_dir, limit=limit, image_size=image_size)
    labels = np.concatenate([np.ones(len(monet), np.int64), np.zeros(len(photo), np.int64)])
    return np.concatenate([monet, photo]), labels


@dataclass
class PaintingClassifierResult:
    """Held-out accuracy of a trained classifier and its training history (per epoch)."""

    accuracy: float  # over all test images
    balanced_accuracy: float  # mean of the accuracy on paintings and on photos
    monet_accuracy: float
    photo_accuracy: float
    n_test: tuple  # (paintings, photos)
    history: dict
    seconds: float
    path: str | None = None
    validation: dict | None = None  # the same accuracies on the part held out of the train split

    def record(self) -> dict:
        return {k: getattr(self, k) for k in ("accuracy", "balanced_accuracy", "monet_accuracy",
                                              "photo_accuracy", "n_test", "seconds", "path",
                                              "validation")}


def predict_monet_probability(classifier: keras.Model, images, batch_size: int = 64) -> np.ndarray:
    """``(N,)`` probabilities of "Monet" for ``(N, H, W, 3)`` images in [-1, 1]."""
    x = np.asarray(images, np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3) RGB in [-1, 1], got shape {x.shape}")
    return _sigmoid(classifier.predict(x, batch_size=batch_size, verbose=0).reshape(-1))


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _augment(x: np.ndarray, rng: np.random.Generator, pad: int) -> np.ndarray:
    """Random horizontal flips and random crops of a reflection-padded copy (same size)."""
    flip = rng.random(len(x)) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    if pad:
        n, h, w, _ = x.shape
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
        dy, dx = rng.integers(0, 2 * pad + 1, (2, n))
        x = np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    return x


def _accuracies(classifier: keras.Model, x: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy on the paintings (``y == 1``), on the photos, their mean (balanced) and overall,
    at probability 0.5."""
    pred = predict_monet_probability(classifier, x) > 0.5
    monet, photo = float(np.mean(pred[y == 1])), float(np.mean(~pred[y == 0]))
    return {"accuracy": float(np.mean(pred == (y == 1))), "balanced_accuracy": (monet + photo) / 2,
            "monet_accuracy": monet, "photo_accuracy": photo,
            "n": (int((y == 1).sum()), int((y == 0).sum()))}


def _hold_out(y: np.ndarray, fraction: float, rng: np.random.Generator):
    """Indices ``(train, validation)``: ``fraction`` of each class drawn for validation."""
    val = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:max(1, round(
        fraction * int((y == c).sum())))] for c in (0, 1)])
    train = np.setdiff1d(np.arange(len(y)), val)
    return train, np.sort(val)


def train_painting_classifier(data_dir=None, *, image_size: int = 64, width: int = 16,
                              epochs: int = 15, batch_size: int = 32,
                              learning_rate: float = 1e-3, seed: int = 0,
                              batch_norm: bool = False, schedule: str = "constant",
                              validation: float = 0.0,
                              train_limit: int | None = None, test_limit: int | None = None,
                              out_path: str | os.PathLike | None = None):
    """Train :func:`painting_classifier` on the ``monet`` and ``photo`` train splits and
    measure it on their test splits (held out).

    The training loss weights each class by the inverse of its share (270 paintings vs 1,350
    photos offline), so the classifier cannot win by calling everything a photo; batches get
    random flips and crops (4 pixels of reflection padding at 64 px).

    Args:
        data_dir: ``None`` for TensorFlow Datasets, else the offline folder.
        image_size: training resolution (the network accepts any size afterwards).
        batch_norm: batch normalization after each convolution (:func:`painting_classifier`).
        schedule: ``"constant"`` (Adam at ``learning_rate``) or ``"cosine"`` (from
            ``learning_rate`` to 0 over the run).
        validation: share of each class of the train split held out of training and scored
            after every epoch (``history["val_balanced_accuracy"]``, ``result.validation``):
            the numbers to choose a recipe by, so that the test split is read only to report.
        train_limit, test_limit: cap the images per domain (tiny runs).
        out_path: save the model there as a ``.keras`` file.

    Returns:
        ``(model, PaintingClassifierResult)``; no console output (``verbose=0``).
    """
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"train_painting_classifier: schedule must be 'constant' or 'cosine', "
                         f"got {schedule!r}")
    if not 0.0 <= validation < 0.5:
        raise ValueError(f"train_painting_classifier: validation is the share of the train split "
                         f"held out, in [0, 0.5); got {validation!r}")
    keras.utils.set_random_seed(seed)
    x, y = load_painting_arrays("train", data_dir, image_size=image_size, limit=train_limit)
    xt, yt = load_painting_arrays("test", data_dir, image_size=image_size, limit=test_limit)
    rng = np.random.default_rng(seed)
    xv = yv = None
    if validation:
        keep, held = _hold_out(y, validation, rng)
        x, y, xv, yv = x[keep], y[keep], x[held], y[held]
    model = painting_classifier(width, batch_norm=batch_norm)
    rate = learning_rate
    if schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=int(epochs) * -(-len(x) // batch_size))
    model.compile(keras.optimizers.Adam(rate),
                  keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
    counts = np.bincount(y, minlength=2)
    class_weight = {c: len(y) / (2.0 * max(counts[c], 1)) for c in (0, 1)}
    pad = max(1, image_size // 16)
    history = {"loss": [], "accuracy": [], "test_balanced_accuracy": []}
    if validation:
        history["val_balanced_accuracy"] = []
    test = val = None  # the held-out accuracies after the latest epoch
    start = time.perf_counter()
    for _ in range(int(epochs)):
        order = rng.permutation(len(x))
        xa = _augment(x[order], rng, pad)
        h = model.fit(xa, y[order].astype(np.float32), batch_size=batch_size, epochs=1,
                      class_weight=class_weight, shuffle=False, verbose=0)
        history["loss"].append(float(h.history["loss"][-1]))
        history["accuracy"].append(float(h.history["accuracy"][-1]))
        test = _accuracies(model, xt, yt)
        history["test_balanced_accuracy"].append(test["balanced_accuracy"])
        if validation:
            val = _accuracies(model, xv, yv)
            history["val_balanced_accuracy"].append(val["balanced_accuracy"])
    seconds = time.perf_counter() - start
    if test is None:  # no epoch: the untrained network
        test = _accuracies(model, xt, yt)
        val = _accuracies(model, xv, yv) if validation else None
    path = None
    if out_path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        model.save(out_path)
        path = str(out_path)
    result = PaintingClassifierResult(
        accuracy=test["accuracy"], balanced_accuracy=test["balanced_accuracy"],
        monet_accuracy=test["monet_accuracy"], photo_accuracy=test["photo_accuracy"],
        n_test=test["n"], history=history, seconds=seconds, path=path,
        validation=val)
    return model, result


def monet_share(classifier: keras.Model, images, threshold: float = 0.5, *,
                features=None) -> dict:
    """How many of ``images`` the classifier reads as Monet (probability > ``threshold``):
    ``{"k", "n", "share", "low", "high"}`` with a Wilson 95 % interval of the share
    (:func:`metrics.binomial_interval`). ``features``: the images' pooled features
    (:func:`sample_quality.classifier_features`) when they are at hand: the logit is then the
    classifier's last (dense) layer applied to them, and the images are not run again."""
    from .metrics import binomial_interval

    if features is None:
        p = predict_monet_probability(classifier, images)
    else:
        head = classifier.layers[-1]
        if not isinstance(head, layers.Dense) or head.units != 1:
            raise ValueError("monet_share: features= needs a classifier whose last layer is the "
                             f"one-unit dense logit (painting_classifier); got {head.name!r}. "
                             "Pass the images alone.")
        kernel, bias = head.get_weights()
        p = _sigmoid(np.asarray(features, np.float64) @ kernel[:, 0] + bias[0])
    k, n = int((p > threshold).sum()), int(len(p))
    low, high = binomial_interval(k / n, n)
    return {"k": k, "n": n, "share": k / n, "low": low, "high": high}


def main(argv=None) -> int:
    """``python -m cyclegan_lesson.evaluation.painting_classifier --out FILE.keras``: train the
    judge on the
    train splits, report its held-out accuracy and write ``FILE.json`` beside it (accuracies,
    recipe, wall time, device)."""
    import argparse
    import json

    from .. import runinfo

    parser = argparse.ArgumentParser(prog="python -m cyclegan_lesson.evaluation.painting_classifier",
                                     description=main.__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, metavar="FILE.keras")
    parser.add_argument("--data-dir", default=None,
                        help="offline data folder (default: tensorflow_datasets)")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-norm", action="store_true",
                        help="batch normalization after each convolution")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    parser.add_argument("--validation", type=float, default=0.0,
                        help="share of the train split held out and scored each epoch")
    args = parser.parse_args(argv)
    if not args.out.endswith(".keras"):
        parser.error(f"--out must end in .keras, got {args.out!r}")
    _, result = train_painting_classifier(args.data_dir, image_size=args.image_size,
                                          width=args.width, epochs=args.epochs, seed=args.seed,
                                          batch_norm=args.batch_norm, schedule=args.schedule,
                                          validation=args.validation, out_path=args.out)
    record = result.record()
    record.update(path=os.path.basename(args.out), seconds=round(result.seconds, 1),
                  history=result.history, device=runinfo.device_summary(),
                  recipe={"image_size": args.image_size, "width": args.width,
                          "epochs": args.epochs, "seed": args.seed, "batch_size": 32,
                          "learning_rate": 1e-3, "augment": "flips + reflection-padded crops",
                          "class_weight": "inverse class share",
                          "batch_norm": args.batch_norm, "schedule": args.schedule,
                          "validation": args.validation})
    with open(args.out[:-len(".keras")] + ".json", "w") as f:
        json.dump(record, f, indent=2)
    print(json.dumps({k: record[k] for k in ("accuracy", "balanced_accuracy", "monet_accuracy",
                                             "photo_accuracy", "n_test", "seconds",
                                             "validation")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
