"""The conditional GAN (chapter 8): chapter 6's DCGAN told which digit to draw.

Mirza and Osindero (2014). A label ``y`` (the *condition*) is given to both players: the
generator draws ``G(z|y)`` and the discriminator judges pairs, ``D(x|y)``, in the game

    min_G max_D V(D, G) = E_{x ~ p_data}[log D(x|y)] + E_{z ~ p_z}[log(1 - D(G(z|y)|y))].

Here ``y`` is a digit 0-9 fed as an integer and turned into a one-hot vector inside the models:

* :func:`build_conditional_generator` concatenates ``z`` and ``one_hot(y)`` and hands them to
  chapter 6's :func:`cyclegan_lesson.models.gan.build_dcgan_generator` (unchanged, one input wider);
* :func:`build_conditional_discriminator` tiles ``one_hot(y)`` into 10 constant 32x32 planes,
  stacks them onto the image's channel and hands ``(32, 32, 1 + 10)`` to chapter 6's
  :func:`cyclegan_lesson.models.gan.build_dcgan_discriminator`. So ``D`` sees the label at every
  pixel
  and can reject a real digit shown with the wrong label: it checks realism *and* the match;
* :class:`ConditionalGAN` is chapter 6's :class:`cyclegan_lesson.models.gan.GAN` whose
  ``train_step``
  takes ``(images, labels)``; fakes are drawn for the labels of the real batch, so both players
  see every class as often as the data has it.

Sampling and figures: :func:`sample` (``G(z|y)`` for given labels), :func:`class_grid` (rows =
classes, columns = noise vectors), :func:`style_grid` (rows = noise vectors, columns = labels:
the noise fixed, the label varied). The shipped generator ``models/cgan_mnist/generator.keras``
(two inputs: ``z`` float32 ``(latent_dim,)`` and an integer label ``()``; output
``(N, 32, 32, 1)`` in [-1, 1]) is loaded by :func:`load_shipped_generator` and re-trained by

    python -m cyclegan_lesson.models.conditional_gan --out models/cgan_mnist --steps 5500 --evaluate

(:func:`main`; resumable: it continues from ``<out>/checkpoint`` when it is there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from ..files import atomic
from . import gan, resumable

__all__ = [
    "DEFAULT_RECIPE",
    "IMAGE_SIZE",
    "NUM_CLASSES",
    "SHIPPED_GENERATOR",
    "ConditionalGAN",
    "build_conditional_discriminator",
    "build_conditional_generator",
    "check_labels",
    "class_grid",
    "discriminator_probability",
    "evaluate_generator",
    "evenly_labelled",
    "load_generator",
    "load_shipped_generator",
    "main",
    "make_conditional_gan",
    "record_evaluation",
    "sample",
    "save_generator",
    "style_grid",
]

#: Digit classes (the condition ``y`` takes values ``0 .. NUM_CLASSES - 1``).
NUM_CLASSES = 10
#: Image side: MNIST's 28x28 padded with its black background to 32x32 (the data layer's and the
#: course MNIST classifier's convention), which chapter 6's DCGAN builders make and take.
IMAGE_SIZE = 32
#: Path of the shipped generator under ``models/`` (see :mod:`cyclegan_lesson.pretrained`).
SHIPPED_GENERATOR = "cgan_mnist/generator.keras"

#: The recipe of the shipped generator (chapter 6's DCGAN settings; resize upsampling, which
#: gave the lower FD-MNIST there).
DEFAULT_RECIPE = dict(latent_dim=100, filters=32, upsample="resize", batch_size=64,
                      learning_rate=2e-4, beta_1=0.5, steps=5500, seed=0)


def _check_positive(**values):
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}.")


def _one_hot(label, num_classes: int, name: str):
    """``(N,)`` integer labels -> ``(N, num_classes)`` float32 one-hot vectors (a Keras layer,
    so it is part of the saved model)."""
    return layers.CategoryEncoding(num_classes, output_mode="one_hot", name=name)(label)


def build_conditional_generator(latent_dim: int = 100, *, num_classes: int = NUM_CLASSES,
                                filters: int = 64, upsample: str = "resize",
                                name: str = "cgan_generator") -> keras.Model:
    """``G(z|y)``: inputs ``z`` float32 ``(N, latent_dim)`` and ``label`` integer ``(N,)`` in
    ``0 .. num_classes - 1``; output ``(N, 32, 32, 1)`` in [-1, 1].

    The condition is the one-hot vector concatenated to the noise (the lecture's
    ``[z, 1, 0, ..., 0]``); the rest is chapter 6's DCGAN generator with ``latent_dim +
    num_classes`` inputs (``filters``, ``upsample`` as there)."""
    _check_positive(latent_dim=latent_dim, num_classes=num_classes, filters=filters)
    z = keras.Input((int(latent_dim),), name="z")
    label = keras.Input((), dtype="int32", name="label")
    y = _one_hot(label, int(num_classes), "one_hot")
    zy = layers.Concatenate(name="z_and_y")([z, y])
    body = gan.build_dcgan_generator(int(latent_dim) + int(num_classes), filters=filters,
                                     upsample=upsample, name="dcgan_generator")
    return keras.Model([z, label], body(zy), name=name)


def build_conditional_discriminator(*, num_classes: int = NUM_CLASSES, filters: int = 64,
                                    image_shape=(IMAGE_SIZE, IMAGE_SIZE, 1),
                                    name: str = "cgan_discriminator") -> keras.Model:
    """``D(x|y)``: inputs ``image`` float32 ``(N, 32, 32, C)`` in [-1, 1] and ``label`` integer
    ``(N,)``; output one logit ``(N, 1)`` (``D = sigmoid(logit)``).

    The one-hot label is tiled into ``num_classes`` constant planes of the image's size and
    stacked onto its channels; chapter 6's DCGAN discriminator reads the ``C + num_classes``
    channels, so its very first convolution sees stroke and label together."""
    _check_positive(num_classes=num_classes, filters=filters)
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (H, W, C), got {image_shape}.")
    h, w, c = (int(v) for v in image_shape)
    image = keras.Input((h, w, c), name="image")
    label = keras.Input((), dtype="int32", name="label")
    y = _one_hot(label, int(num_classes), "one_hot")
    planes = layers.Reshape((1, 1, int(num_classes)), name="y_as_pixel")(y)
    planes = layers.UpSampling2D((h, w), name="tile_y")(planes)        # (N, H, W, num_classes)
    xy = layers.Concatenate(axis=-1, name="image_and_y")([image, planes])
    body = gan.build_dcgan_discriminator(filters=filters, image_shape=(h, w, c + int(num_classes)),
                                         name="dcgan_discriminator")
    return keras.Model([image, label], body(xy), name=name)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

class ConditionalGAN(gan.GAN):
    """Chapter 6's :class:`cyclegan_lesson.models.gan.GAN` with the condition: ``train_step`` takes
    ``(images, labels)`` and every fake is drawn for, and judged with, a label of the batch.

    ``fit`` reports ``d_loss`` (``-V``), ``g_loss``, ``d_real`` = mean D(x|y) and ``d_fake`` =
    mean D(G(z|y)|y); compile with ``compile(d_optimizer=..., g_optimizer=...)``."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, **kwargs):
        if len(generator.inputs) != 2 or len(discriminator.inputs) != 2:
            raise ValueError("ConditionalGAN: the generator must take [z, label] and the "
                             "discriminator [image, label] (build_conditional_generator / "
                             "build_conditional_discriminator).")
        keras.Model.__init__(self)  # gan.GAN's own checks assume one input; redone here
        kind = kwargs.pop("generator_loss", "non_saturating")
        if kind not in gan.GENERATOR_LOSSES:
            raise ValueError(f"ConditionalGAN: generator_loss must be one of "
                             f"{gan.GENERATOR_LOSSES}, got {kind!r}.")
        if tuple(generator.output_shape[1:]) != tuple(discriminator.inputs[0].shape[1:]):
            raise ValueError(f"ConditionalGAN: the generator makes {generator.output_shape[1:]} "
                             f"but the discriminator takes {discriminator.inputs[0].shape[1:]}.")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.generator_loss_kind = kind
        self.g_steps = int(kwargs.pop("g_steps", 1))
        self.seed_generator = keras.random.SeedGenerator(int(kwargs.pop("seed", 0)))
        self._init_trackers()
        self.built = True

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        real, label = data
        real = ops.cast(real, "float32")
        label = ops.cast(label, "int32")
        n = ops.shape(real)[0]
        tf = gan._tf()
        # D: real digits with their labels vs fakes drawn for the same labels
        fake = self.generator([self._noise(n), label], training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([real, label], training=True)
            fake_logits = self.discriminator([fake, label], training=True)
            d_loss = gan.discriminator_loss(real_logits, fake_logits)
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
        # G: make D(G(z|y)|y) large
        g_vars = self.generator.trainable_variables
        for _ in range(self.g_steps):
            with tf.GradientTape() as tape:
                g_logits = self.discriminator(
                    [self.generator([self._noise(n), label], training=True), label],
                    training=True)
                g_loss = gan.generator_loss(g_logits, self.generator_loss_kind)
            self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        for key, value in (("d_loss", d_loss), ("g_loss", g_loss),
                           ("d_real", ops.mean(ops.sigmoid(real_logits))),
                           ("d_fake", ops.mean(ops.sigmoid(fake_logits)))):
            self.trackers[key].update_state(value)
        return {k: t.result() for k, t in self.trackers.items()}


def make_conditional_gan(*, latent_dim: int = 100, filters: int = 64, upsample: str = "resize",
                         learning_rate: float = 2e-4, beta_1: float = 0.5,
                         seed: int = 0) -> ConditionalGAN:
    """A compiled :class:`ConditionalGAN` of the two builders (Adam for both players, as in
    DCGAN), weights initialized from ``seed``."""
    keras.utils.set_random_seed(int(seed))
    model = ConditionalGAN(build_conditional_generator(latent_dim, filters=filters,
                                                       upsample=upsample),
                           build_conditional_discriminator(filters=filters), seed=seed)
    model.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
                  g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1))
    return model


# ---------------------------------------------------------------------------------------------
# sampling and the figures' inputs
# ---------------------------------------------------------------------------------------------

def check_labels(labels, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``labels`` as an int32 array ``(N,)``; a ``ValueError`` naming the problem otherwise."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"labels must be a 1-D array of digits (N,), got shape {y.shape}.")
    if not np.issubdtype(y.dtype, np.integer) and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("labels must be integers 0..9 (class indices, not one-hot or "
                             "probabilities).")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"labels must be in 0..{num_classes - 1}, got values from {y.min()} to "
                         f"{y.max()}.")
    return y.astype(np.int32)


def evenly_labelled(n_per_class: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``(n_per_class * num_classes,)`` int32 labels ``0, 0, ..., 1, 1, ...``: every class
    equally often (the labels to ask a conditional generator for)."""
    _check_positive(n_per_class=n_per_class)
    return np.repeat(np.arange(num_classes, dtype=np.int32), int(n_per_class))


def _latent_dim(generator: keras.Model) -> int:
    if len(generator.inputs) != 2:
        raise ValueError("expected a conditional generator with inputs [z, label], got "
                         f"{len(generator.inputs)} input(s).")
    return int(generator.inputs[0].shape[-1])


def sample(generator: keras.Model, labels, *, z=None, seed: int = 0,
           batch_size: int = 500) -> np.ndarray:
    """``G(z|y)`` for ``labels`` ``(N,)`` (digits 0-9), in inference mode: images
    ``(N, 32, 32, 1)`` float32 in [-1, 1]. ``z`` ``(N, latent_dim)`` when given, else drawn from
    ``N(0, I)`` with ``seed``."""
    y = check_labels(labels)
    d = _latent_dim(generator)
    if z is None:
        z = np.random.default_rng(seed).standard_normal((len(y), d))
    z = np.asarray(z, np.float32)
    if z.shape != (len(y), d):
        raise ValueError(f"z must have shape ({len(y)}, {d}) (one noise vector per label), got "
                         f"{z.shape}.")
    return np.concatenate([np.asarray(generator([z[i:i + batch_size], y[i:i + batch_size]],
                                                training=False))
                           for i in range(0, len(y), int(batch_size))])


def discriminator_probability(discriminator: keras.Model, images, labels, *,
                              batch_size: int = 500) -> np.ndarray:
    """``D(x|y)`` ``(N,)`` in [0, 1]: the conditional discriminator's probability that each pair
    (image NHWC in [-1, 1], label 0-9) is a real digit with its own label (inference mode)."""
    y = check_labels(labels)
    x = np.asarray(images, np.float32)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"images must be NHWC with one label each, got {x.shape} for "
                         f"{len(y)} labels.")
    logits = np.concatenate([np.asarray(discriminator([x[i:i + batch_size], y[i:i + batch_size]],
                                                      training=False))
                             for i in range(0, len(y), int(batch_size))])[:, 0]
    return 1.0 / (1.0 + np.exp(-logits))


def class_grid(generator: keras.Model, n_noise: int = 10, *, seed: int = 0,
               num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Images ``(num_classes, n_noise, 32, 32, 1)``: row ``k`` is ``G(z_j|k)`` for ``n_noise``
    noise vectors ``z_j`` drawn independently for every cell (seeded): how varied each class is."""
    _check_positive(n_noise=n_noise)
    labels = evenly_labelled(n_noise, num_classes)
    return sample(generator, labels, seed=seed).reshape(num_classes, int(n_noise),
                                                        *generator.output_shape[1:])


def style_grid(generator: keras.Model, n_noise: int = 6, *, seed: int = 0,
               num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Images ``(n_noise, num_classes, 32, 32, 1)``: row ``j`` is ``G(z_j|k)`` for ``k = 0 ..
    num_classes - 1`` with one noise vector ``z_j`` per row: the noise fixed, the label varied."""
    _check_positive(n_noise=n_noise)
    z = np.random.default_rng(seed).standard_normal((int(n_noise), _latent_dim(generator)))
    z = np.repeat(z, num_classes, axis=0)
    labels = np.tile(np.arange(num_classes, dtype=np.int32), int(n_noise))
    return sample(generator, labels, z=z).reshape(int(n_noise), num_classes,
                                                  *generator.output_shape[1:])


# ---------------------------------------------------------------------------------------------
# evaluation: the chapter's measures of a conditional generator
# ---------------------------------------------------------------------------------------------

def evaluate_generator(generator: keras.Model, judge: keras.Model, real_images, real_labels, *,
                       n_per_class: int = 1000, seed: int = 0) -> dict:
    """The chapter's measures of a conditional generator against real digits (NHWC in [-1, 1],
    integer labels), read by the classifier ``judge`` (logits; its penultimate features for the
    distances):

    * ``conditioning``: :func:`cyclegan_lesson.evaluation.sample_quality.conditioning_accuracy` of
      ``n_per_class`` samples per class (noise drawn with ``seed``);
    * ``fd``: FD on the judge's features, all classes together, and ``fd_per_class``;
    * ``diversity`` / ``diversity_real``:
      :func:`~cyclegan_lesson.evaluation.sample_quality.intra_class_diversity`
      per class, and ``diversity_ratio`` = their quotient (1 = as varied as real digits).

    Returns those (arrays as lists) with ``samples``, ``labels`` (the generated images and their
    labels, for more measures)."""
    from ..evaluation import sample_quality as sq

    labels = evenly_labelled(n_per_class)
    fakes = sample(generator, labels, seed=seed)
    real_labels = check_labels(real_labels)
    cond = sq.conditioning_accuracy(judge, fakes, labels)
    f_fake = sq.classifier_features(judge, fakes)
    f_real = sq.classifier_features(judge, real_images)
    div = sq.intra_class_diversity(f_fake, labels, seed=seed)
    div_real = sq.intra_class_diversity(f_real, real_labels, seed=seed)
    return {"conditioning": cond,
            "fd": sq.frechet_distance_of_features(f_fake, f_real),
            "fd_per_class": sq.per_class_frechet_distance(f_fake, labels, f_real,
                                                          real_labels).tolist(),
            "diversity": div.tolist(), "diversity_real": div_real.tolist(),
            "diversity_ratio": (div / div_real).tolist(),
            "samples": fakes, "labels": labels}


# ---------------------------------------------------------------------------------------------
# files: the shipped generator
# ---------------------------------------------------------------------------------------------

def save_generator(generator: keras.Model, folder, record: dict | None = None) -> Path:
    """Write ``<folder>/generator.keras`` and ``<folder>/generator.json`` (latent size, image
    shape, value range, classes, and ``record``: recipe, measurements, wall time)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(folder / "generator.keras") as tmp:
        generator.save(tmp)
    info = {"latent_dim": _latent_dim(generator), "image_size": IMAGE_SIZE,
            "image_shape": list(generator.output_shape[1:]), "num_classes": NUM_CLASSES,
            "value_range": [-1.0, 1.0],
            "inputs": {"z": "float32 (latent_dim,), N(0, I)", "label": "int32 (), 0-9"},
            "output": "float32 NHWC (32, 32, 1) in [-1, 1]; MNIST 28x28 padded to 32x32",
            **(record or {})}
    atomic.write_text(folder / "generator.json", json.dumps(info, indent=1, default=float) + "\n")
    return folder / "generator.keras"


def load_generator(path) -> keras.Model:
    """Load a conditional generator ``.keras`` file (clear ``FileNotFoundError`` if missing)."""
    from ..pretrained import load_keras_file

    return load_keras_file(path, "conditional generator")


def load_shipped_generator() -> tuple[keras.Model, dict]:
    """The shipped MNIST generator and its ``generator.json`` record, found through
    :mod:`cyclegan_lesson.pretrained` (the checkout's ``models/cgan_mnist``, else a verified
    download)."""
    from ..pretrained import shipped_model_and_record

    return shipped_model_and_record("cgan_mnist", "generator.keras", "generator.json", "conditional generator")


# ---------------------------------------------------------------------------------------------
# the command line: train the shipped generator (resumable)
# ---------------------------------------------------------------------------------------------

def train(out, *, data_dir=None, steps: int | None = None, checkpoint_every: int = 1000,
          chunk: int = 100, on_progress: Callable[[str], None] = print,
          train_limit: int | None = None, **recipe) -> dict:
    """Train a :class:`ConditionalGAN` on MNIST (``recipe`` overrides :data:`DEFAULT_RECIPE`),
    saving a checkpoint to ``<out>/checkpoint`` every ``checkpoint_every`` steps and continuing
    from it when it exists; at the end write the generator with :func:`save_generator`.
    Returns the record written to ``generator.json``."""
    from ..evaluation.classifiers import load_digit_arrays
    from ..runinfo import device_summary

    cfg = dict(DEFAULT_RECIPE, **{k: v for k, v in recipe.items() if v is not None})
    if steps is not None:
        cfg["steps"] = int(steps)
    _check_positive(steps=cfg["steps"], checkpoint_every=checkpoint_every, chunk=chunk)
    if checkpoint_every % chunk:
        raise ValueError(f"checkpoint_every ({checkpoint_every}) must be a multiple of chunk "
                         f"({chunk}).")
    out = Path(out)
    ckpt = out / "checkpoint"
    x, y = load_digit_arrays("mnist", "train", data_dir, limit=train_limit)
    model = make_conditional_gan(latent_dim=cfg["latent_dim"], filters=cfg["filters"],
                                 upsample=cfg["upsample"], learning_rate=cfg["learning_rate"],
                                 beta_1=cfg["beta_1"], seed=cfg["seed"])
    def segment(done: int, seg: int):
        seg = max(seg - seg % chunk, chunk)  # whole chunks
        return gan.train_gan(model, x, labels=y, steps=seg, batch_size=cfg["batch_size"],
                             chunk=chunk, seed=cfg["seed"] + done), seg

    done, history = resumable.train_in_segments(
        model, ckpt, cfg["steps"], checkpoint_every, segment,
        lambda h: (f"d_loss {h['d_loss'][-1]:.3f} g_loss {h['g_loss'][-1]:.3f} D(x|y) "
                   f"{h['d_real'][-1]:.2f} D(G(z|y)|y) {h['d_fake'][-1]:.2f}"), on_progress)
    record = {"recipe": cfg, "train_images": len(x), "steps_done": done,
              "train_wall_s": round(history["wall_s"], 1), "device": device_summary(),
              "keras": keras.__version__}
    save_generator(model.generator, out, record)
    atomic.write_text(out / "history.json", json.dumps(history))
    return record


def record_evaluation(out, *, data_dir=None, n_per_class: int = 1000, cas_per_class: int = 2000,
                      cas_epochs: int = 3, cas_width: int = 16, seed: int = 0,
                      on_progress: Callable[[str], None] = print) -> dict:
    """Measure ``<out>/generator.keras`` on the full MNIST test set with the course's shipped
    MNIST classifier (:func:`evaluate_generator`, ``n_per_class`` samples per class) and CAS
    (:func:`cyclegan_lesson.evaluation.sample_quality.classification_accuracy_score` on
    ``cas_per_class``
    generated digits per class, against the same recipe on as many real training digits), and
    add the numbers and the figures' seeds to ``<out>/generator.json``."""
    from ..evaluation import sample_quality as sq
    from ..evaluation.classifiers import load_digit_arrays, load_shipped_classifier, predict_labels

    out = Path(out)
    generator = load_generator(out / "generator.keras")
    info = json.loads((out / "generator.json").read_text())
    judge = load_shipped_classifier("mnist")
    x_test, y_test = load_digit_arrays("mnist", "test", data_dir)
    t0 = time.perf_counter()
    ev = evaluate_generator(generator, judge, x_test, y_test, n_per_class=n_per_class, seed=seed)
    cond = ev["conditioning"]
    on_progress(f"conditioning accuracy {cond['accuracy']:.4f} {cond['interval']}, FD "
                f"{ev['fd']:.2f}, diversity ratio min {min(ev['diversity_ratio']):.3f}")
    cas_labels = evenly_labelled(cas_per_class)
    cas_fake = sq.classification_accuracy_score(
        sample(generator, cas_labels, seed=seed + 1), cas_labels, x_test, y_test,
        width=cas_width, epochs=cas_epochs, seed=seed)
    on_progress(f"CAS {cas_fake['accuracy']:.4f} {cas_fake['interval']}")
    x_train, y_train = load_digit_arrays("mnist", "train", data_dir,
                                         limit=10 * cas_per_class)
    cas_real = sq.classification_accuracy_score(x_train, y_train, x_test, y_test,
                                                width=cas_width, epochs=cas_epochs, seed=seed)
    on_progress(f"real-data baseline {cas_real['accuracy']:.4f} {cas_real['interval']}")
    grid = class_grid(generator, 10, seed=seed)
    read = predict_labels(judge, grid.reshape(-1, *grid.shape[2:])).reshape(10, 10)
    info["evaluation"] = {
        "judge": "classifiers/mnist.keras", "test_images": len(x_test),
        "n_per_class": int(n_per_class), "seed": int(seed),
        "conditioning_accuracy": cond["accuracy"], "conditioning_interval": cond["interval"],
        "conditioning_per_class": cond["per_class"], "fd_mnist": ev["fd"],
        "fd_mnist_per_class": ev["fd_per_class"], "diversity_ratio": ev["diversity_ratio"],
        "cas": {"accuracy": cas_fake["accuracy"], "interval": cas_fake["interval"],
                "train_images": cas_fake["n_train"]},
        "cas_real_baseline": {"accuracy": cas_real["accuracy"], "interval": cas_real["interval"],
                              "train_images": cas_real["n_train"]},
        "cas_recipe": {"width": cas_width, "epochs": cas_epochs, "augment": False},
        "wall_s": round(time.perf_counter() - t0, 1)}
    info["figures"] = {"class_grid_seed": int(seed), "style_grid_seed": int(seed),
                       "class_grid_read_correctly": float(np.mean(read == np.arange(10)[:, None]))}
    (out / "generator.json").write_text(json.dumps(info, indent=1, default=float) + "\n")
    return info


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cyclegan_lesson.models.conditional_gan --out DIR [--steps N] ...``: train (or
    resume) the conditional generator of chapter 8 and write ``DIR/generator.keras`` +
    ``DIR/generator.json``."""
    from ..runinfo import shipped_model_parser

    parser = shipped_model_parser("models.conditional_gan", "cgan_mnist", main.__doc__,
                                  DEFAULT_RECIPE["steps"], "training steps")
    for key in ("latent_dim", "filters", "batch_size", "seed"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--upsample", choices=["resize", "transpose"], default=None)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--evaluate", action="store_true",
                        help="afterwards measure the generator (conditioning accuracy, FD-MNIST "
                             "per class, diversity, CAS) into generator.json")
    args = parser.parse_args(argv)
    record = train(args.out, data_dir=args.data_dir, steps=args.steps,
                   checkpoint_every=args.checkpoint_every,
                   on_progress=lambda s: print(s, flush=True),
                   latent_dim=args.latent_dim, filters=args.filters,
                   batch_size=args.batch_size, seed=args.seed,
                   learning_rate=args.learning_rate, upsample=args.upsample)
    print(json.dumps({k: record[k] for k in ("steps_done", "train_wall_s")}), flush=True)
    if args.evaluate:
        record_evaluation(args.out, data_dir=args.data_dir,
                          on_progress=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    from ..runinfo import run_command

    raise SystemExit(run_command(main, "python -m cyclegan_lesson.models.conditional_gan"))
