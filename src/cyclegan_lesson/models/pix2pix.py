"""pix2pix (chapter 9): paired image-to-image translation with a conditional GAN + lambda L1.

Isola et al. (2017). With pairs ``(x, y)`` a generator can be *told* the answer: an L1 loss
``E ||y - G(x)||_1`` pulls ``G(x)`` towards the truth. Alone it gives blurry, grayish images (for
an uncertain pixel the L1 optimum is the median of the possible colours); pix2pix adds a
*conditional* GAN whose discriminator judges pairs ``D(x, y)`` -- the input and an output -- so a
fake that does not fit its input, or that looks dull, is rejected:

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),     lambda = 100,
    L_cGAN = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))].

The course's task is CIFAR-10 gray -> colour (the pairs exist: the truth is the colour image):

* :func:`build_generator` -- the 32x32 U-Net (:func:`cyclegan_lesson.nn.networks.unet_generator`,
  batch norm as in pix2pix) predicting only the chroma ``Cb, Cr``, wrapped by
  :func:`cyclegan_lesson.nn.networks.keep_luma` so the output keeps the input's luma exactly: the
  Lab-style choice of Isola et al. and Zhang et al. (predict the colour channels only);
* :func:`build_discriminator` -- the conditional discriminator: the gray input and an RGB image
  are stacked into 4 channels and judged by a PatchGAN (``patch`` = ``"pixel"`` for 1x1 patches,
  ``1`` / ``2`` / ``3`` stride-2 layers for 16x16, 34x34 and 70x70 receptive fields);
* :func:`pix2pix_loss` -- the generator's objective, and :class:`Pix2Pix` with its ``train_step``;
* :func:`train` -- resumable training (checkpoint every ``checkpoint_every`` steps, progress
  lines), :func:`evaluate` / :func:`record_evaluation` -- the colour metrics of chapter 12
  (:func:`cyclegan_lesson.evaluation.case_studies.gray2color_report`) on the test split.

The shipped colourizer ``models/pix2pix_gray2color/G.keras`` (input ``(32, 32, 1)`` ITU-R 601
luma in [-1, 1], output ``(32, 32, 3)`` RGB in [-1, 1]; ``G.json`` holds its recipe, wall time and
measurements) is loaded by :func:`load_shipped_generator` and re-trained by

    python -m cyclegan_lesson.models.pix2pix --out models/pix2pix_gray2color --steps 10000 --evaluate

(:func:`main`; it continues from ``<out>/checkpoint`` when it is there).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
from keras import ops

from ..files import atomic
from ..nn import losses, networks
from . import resumable

__all__ = [
    "DEFAULT_RECIPE",
    "PATCHES",
    "SHIPPED_GENERATOR",
    "Pix2Pix",
    "build_discriminator",
    "build_generator",
    "evaluate",
    "load_generator",
    "load_shipped_generator",
    "main",
    "make_pix2pix",
    "pix2pix_loss",
    "record_evaluation",
    "train",
]

#: Path of the shipped colourizer under ``models/`` (see :mod:`cyclegan_lesson.pretrained`).
SHIPPED_GENERATOR = "pix2pix_gray2color/G.keras"
#: Discriminator sizes: ``"pixel"`` (1x1 PatchGAN) or the number of stride-2 layers of
#: :func:`cyclegan_lesson.nn.networks.patch_discriminator` (1: 16x16 patches, 2: 34x34, 3: 70x70,
#: which at 32x32 is the whole image for every output).
PATCHES = ("pixel", 1, 2, 3)

#: The recipe of the shipped colourizer (pix2pix's defaults where they fit a 32x32 CPU run:
#: batch norm, Adam 2e-4 / beta_1 0.5, lambda 100, the vanilla GAN loss; constant rate for the
#: first half, then linearly to 0).
DEFAULT_RECIPE = dict(ngf=16, ndf=32, patch=1, lambda_l1=100.0, lambda_gan=1.0, mode="bce",
                      batch_size=16, learning_rate=2e-4, beta_1=0.5, flip=True, steps=10000,
                      seed=0)


# ---------------------------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------------------------

def build_generator(ngf: int = 16, norm: str = "batch", image_size: int = 32,
                    name: str = "G") -> keras.Model:
    """The pix2pix colourizer: gray ``(N, S, S, 1)`` in [-1, 1] -> RGB ``(N, S, S, 3)`` in
    [-1, 1]. A U-Net (``in_channels=1, out_channels=2``: it predicts Cb, Cr) inside
    :func:`cyclegan_lesson.nn.networks.keep_luma`, so the output's luma is the input."""
    chroma = networks.unet_generator(image_size=image_size, ngf=ngf, in_channels=1,
                                     out_channels=2, norm=norm, name=f"{name}_chroma_unet")
    return networks.keep_luma(chroma, name=name)


def build_discriminator(patch: int | str = 1, ndf: int = 32, norm: str = "batch",
                        image_size: int = 32, name: str = "D") -> keras.Model:
    """The conditional discriminator ``D(x, y)``: inputs ``[gray (N, S, S, 1), rgb (N, S, S, 3)]``
    in [-1, 1], stacked into 4 channels and judged by a PatchGAN; output ``(N, H', W', 1)``
    logits (one per patch). ``patch``: one of :data:`PATCHES`. The inner PatchGAN is the layer
    named ``"patchgan"`` (its receptive field: ``networks.receptive_field(D.get_layer(
    "patchgan"))``)."""
    if patch not in PATCHES:
        raise ValueError(f"build_discriminator: patch must be one of {PATCHES} ('pixel' = 1x1, "
                         f"n = stride-2 layers of the PatchGAN), got {patch!r}.")
    if patch == "pixel":
        inner = networks.pixel_discriminator(ndf=ndf, in_channels=4, norm=norm, name="patchgan")
    else:
        inner = networks.patch_discriminator(n_layers=patch, ndf=ndf, in_channels=4,
                                             image_size=image_size, norm=norm, name="patchgan")
    gray = keras.Input((image_size, image_size, 1), name="gray")
    rgb = keras.Input((image_size, image_size, 3), name="rgb")
    pair = keras.layers.Concatenate(name="condition")([gray, rgb])
    return keras.Model([gray, rgb], inner(pair), name=name)


# ---------------------------------------------------------------------------------------------
# the objective and the model
# ---------------------------------------------------------------------------------------------

def pix2pix_loss(fake_logits, fake, real, lambda_l1: float = 100.0, lambda_gan: float = 1.0,
                 mode: str = "bce") -> dict:
    """The pix2pix generator objective ``lambda_gan * L_cGAN + lambda_l1 * L_L1``.

    Args:
        fake_logits: ``D(x, G(x))``, logits of any shape (one per patch).
        fake, real: ``G(x)`` and the true ``y``, NHWC in [-1, 1], the same shape.
        lambda_l1: weight of the L1 term (the paper: 100; 0 = "cGAN alone").
        lambda_gan: weight of the GAN term (0 = "L1 alone").
        mode: the adversarial loss of :mod:`cyclegan_lesson.nn.losses` (``"bce"``: the paper's).

    Returns:
        ``{"total", "gan", "l1"}``: scalars; ``gan`` and ``l1`` unweighted.
    """
    gan = losses.generator_adversarial_loss(fake_logits, mode)
    l1 = ops.mean(ops.abs(ops.convert_to_tensor(real) - ops.convert_to_tensor(fake)))
    return {"total": lambda_gan * gan + lambda_l1 * l1, "gan": gan, "l1": l1}


class Pix2Pix(keras.Model):
    """The pix2pix game on pairs ``(gray, colour)``: ``train_step`` updates D on real and fake
    pairs, then G on :func:`pix2pix_loss`. With ``lambda_gan = 0`` D is not trained (L1 alone).

    ``fit`` reports ``d_loss``, ``g_gan`` (unweighted), ``g_l1`` (unweighted), ``d_real`` = mean
    sigmoid D(x, y) and ``d_fake`` = mean sigmoid D(x, G(x)). Compile with
    ``compile(g_optimizer=..., d_optimizer=...)``."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 lambda_l1: float = 100.0, lambda_gan: float = 1.0, mode: str = "bce",
                 **kwargs):
        super().__init__(**kwargs)
        if lambda_l1 < 0 or lambda_gan < 0 or lambda_l1 + lambda_gan == 0:
            raise ValueError(f"Pix2Pix: lambda_l1 ({lambda_l1}) and lambda_gan ({lambda_gan}) "
                             "must be >= 0 and not both 0.")
        self.generator, self.discriminator = generator, discriminator
        self.lambda_l1, self.lambda_gan, self.mode = float(lambda_l1), float(lambda_gan), mode
        self.trackers = {n: keras.metrics.Mean(name=n)
                         for n in ("d_loss", "g_gan", "g_l1", "d_real", "d_fake")}

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # built now, so a checkpoint always holds both optimizers' state (also for L1 alone)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, gray, training=False):
        return self.generator(gray, training=training)

    def train_step(self, data):
        import tensorflow as tf

        gray, real = data[0], data[1]  # (x, y) pairs; fit may add a sample weight
        with tf.GradientTape() as g_tape:
            fake = self.generator(gray, training=True)
            with g_tape.stop_recording():  # D: real pairs (x, y) vs fake pairs (x, G(x))
                with tf.GradientTape() as d_tape:
                    real_logits = self.discriminator([gray, real], training=True)
                    fake_logits = self.discriminator([gray, ops.stop_gradient(fake)],
                                                     training=True)
                    d_loss = losses.discriminator_loss(real_logits, fake_logits, self.mode)
                if self.lambda_gan > 0:
                    d_vars = self.discriminator.trainable_variables
                    self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
            # G: fool the (updated) D on its pair and stay close to the truth in L1
            g_logits = (self.discriminator([gray, fake], training=True) if self.lambda_gan > 0
                        else fake_logits)
            g = pix2pix_loss(g_logits, fake, real, self.lambda_l1, self.lambda_gan, self.mode)
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply(g_tape.gradient(g["total"], g_vars), g_vars)
        for key, value in (("d_loss", d_loss), ("g_gan", g["gan"]), ("g_l1", g["l1"]),
                           ("d_real", ops.mean(ops.sigmoid(real_logits))),
                           ("d_fake", ops.mean(ops.sigmoid(fake_logits)))):
            self.trackers[key].update_state(value)
        return {k: t.result() for k, t in self.trackers.items()}


def make_pix2pix(*, ngf: int = 16, ndf: int = 32, patch: int | str = 1,
                 lambda_l1: float = 100.0, lambda_gan: float = 1.0, mode: str = "bce",
                 learning_rate: float = 2e-4, beta_1: float = 0.5, steps: int = 6000,
                 seed: int = 0, **_ignored) -> Pix2Pix:
    """A compiled :class:`Pix2Pix` (Adam for both players; the rate is constant for the first
    half of ``steps``, then falls linearly to 0), weights initialized from ``seed``."""
    from .cyclegan import LinearDecay

    keras.utils.set_random_seed(int(seed))
    model = Pix2Pix(build_generator(ngf), build_discriminator(patch, ndf),
                    lambda_l1=lambda_l1, lambda_gan=lambda_gan, mode=mode)

    def adam():
        rate = LinearDecay(learning_rate, n_epochs=steps - steps // 2,
                           n_epochs_decay=steps // 2, steps_per_epoch=1)
        return keras.optimizers.Adam(rate, beta_1=beta_1, beta_2=0.999)

    model.compile(g_optimizer=adam(), d_optimizer=adam())
    return model


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------

def save_generator(generator: keras.Model, folder, record: dict | None = None) -> Path:
    """Write ``<folder>/G.keras`` (no optimizer state) and ``<folder>/G.json`` (shapes, value
    range, and ``record``: recipe, wall time, measurements)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(folder / "G.keras") as tmp:
        generator.save(tmp)
    info = {"format": "cyclegan_lesson pix2pix generator v1", "from": "cifar10_gray",
            "to": "cifar10_color", "input": "float32 NHWC (32, 32, 1): ITU-R 601 luma in [-1, 1]",
            "output": "float32 NHWC (32, 32, 3): RGB in [-1, 1], luma equal to the input",
            "value_range": [-1.0, 1.0], "parameter_count": int(generator.count_params()),
            **(record or {})}
    atomic.write_text(folder / "G.json", json.dumps(info, indent=1, default=float) + "\n")
    return folder / "G.keras"


def load_generator(path) -> keras.Model:
    """Load a pix2pix colourizer ``.keras`` file (clear ``FileNotFoundError`` if missing)."""
    from ..pretrained import load_keras_file

    return load_keras_file(path, "pix2pix generator",
                           "train one with python -m cyclegan_lesson.models.pix2pix --out DIR")


def load_shipped_generator() -> tuple[keras.Model, dict]:
    """The shipped colourizer and its ``G.json`` record, found through
    :mod:`cyclegan_lesson.pretrained`."""
    from ..pretrained import shipped_model_and_record

    return shipped_model_and_record("pix2pix_gray2color", "G.keras", "G.json", "pix2pix generator")


# ---------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------

def _pairs(gray: np.ndarray, colour: np.ndarray, batch_size: int, seed: int, flip: bool):
    """Shuffled, repeated batches of pairs; a random horizontal flip applied to both images."""
    import tensorflow as tf

    ds = (tf.data.Dataset.from_tensor_slices((gray, colour))
          .shuffle(len(gray), seed=seed, reshuffle_each_iteration=True).repeat()
          .batch(batch_size, drop_remainder=True))
    if flip:
        def flip_pair(g, c):
            keep = tf.random.uniform([tf.shape(g)[0], 1, 1, 1], seed=seed) < 0.5
            return tf.where(keep, g, g[:, :, ::-1]), tf.where(keep, c, c[:, :, ::-1])
        ds = ds.map(flip_pair)
    return ds.prefetch(2)


def train(out, *, data_dir=None, steps: int | None = None, checkpoint_every: int = 1000,
          chunk: int | None = None, on_progress: Callable[[str], None] = print,
          train_limit: int | None = None, export: bool = True, **recipe) -> dict:
    """Train a :class:`Pix2Pix` colourizer on the CIFAR-10 training pairs ``(luma, colour)``.

    ``recipe`` overrides :data:`DEFAULT_RECIPE` (``None`` values are ignored). A checkpoint is
    written to ``<out>/checkpoint`` every ``checkpoint_every`` steps and training continues from
    it when it exists; the mean losses of every ``chunk`` steps (default: 100, or
    ``checkpoint_every`` if smaller) go to ``<out>/history.csv``. At
    the end (``export``) the generator is written by :func:`save_generator`.

    Returns:
        the record written to ``G.json`` (``recipe``, ``steps_done``, ``train_wall_s``, ...),
        with ``"model"``: the trained :class:`Pix2Pix` (not written).
    """
    from .. import data
    from ..runinfo import device_summary

    cfg = dict(DEFAULT_RECIPE, **{k: v for k, v in recipe.items() if v is not None})
    unknown = set(cfg) - set(DEFAULT_RECIPE)
    if unknown:
        raise ValueError(f"pix2pix.train: unknown recipe options {sorted(unknown)}; known: "
                         f"{sorted(DEFAULT_RECIPE)}")
    if steps is not None:
        cfg["steps"] = int(steps)
    if chunk is None:
        chunk = min(100, int(checkpoint_every))
    for key, value in (("steps", cfg["steps"]), ("checkpoint_every", checkpoint_every),
                       ("chunk", chunk), ("batch_size", cfg["batch_size"])):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"pix2pix.train: {key} must be a positive integer, got {value!r}.")
    if checkpoint_every % chunk:
        raise ValueError(f"pix2pix.train: checkpoint_every ({checkpoint_every}) must be a "
                         f"multiple of chunk ({chunk}).")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint"
    colour, _ = data.load_arrays("cifar10_color", "train", data_dir, limit=train_limit)
    gray, _ = data.load_arrays("cifar10_gray", "train", data_dir, limit=train_limit)  # same order
    model = make_pix2pix(**cfg)
    keys = [t for t in model.trackers]

    def segment(done: int, seg: int):
        n_chunks = max(1, -(-seg // chunk))
        per = -(-seg // n_chunks)
        h = model.fit(_pairs(gray, colour, cfg["batch_size"], cfg["seed"] + done, cfg["flip"]),
                      epochs=n_chunks, steps_per_epoch=per, verbose=0, shuffle=False)
        losses = {"step": [(i + 1) * per for i in range(n_chunks)]}
        losses.update({k: [float(v) for v in h.history[k]] for k in keys})
        return losses, n_chunks * per

    done, history = resumable.train_in_segments(
        model, ckpt, cfg["steps"], checkpoint_every, segment,
        lambda h: (f"L1 {h['g_l1'][-1]:.4f} GAN {h['g_gan'][-1]:.3f} d_loss "
                   f"{h['d_loss'][-1]:.3f} D(x,y) {h['d_real'][-1]:.2f} D(x,G(x)) "
                   f"{h['d_fake'][-1]:.2f}"), on_progress)
    with atomic.replacing(out / "history.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", *keys])
        for i, s in enumerate(history.get("step", [])):
            w.writerow([s, *(f"{history[k][i]:.6g}" for k in keys)])
    record = {"recipe": cfg, "train_images": len(gray), "steps_done": done,
              "train_wall_s": round(history["wall_s"], 1),
              "step_s": round(history["wall_s"] / max(done, 1), 4), "device": device_summary(),
              "keras": keras.__version__}
    if export:
        save_generator(model.generator, out, record)
    return {**record, "model": model}


# ---------------------------------------------------------------------------------------------
# evaluation: chapter 12's colour metrics on the test split
# ---------------------------------------------------------------------------------------------

def evaluate(generators: dict, *, data_dir=None, limit: int | None = None,
             classifiers: dict | None = None) -> dict:
    """:func:`cyclegan_lesson.evaluation.case_studies.gray2color_report` of ``generators`` (name ->
    colourizer) on the first ``limit`` CIFAR-10 test images (all when ``None``), with the
    course's two CIFAR-10 classifiers (full colour and chroma only) unless ``classifiers`` is
    given. Rows ``"gray"`` and ``"truth"`` are added by the report."""
    from .. import data
    from ..evaluation import classifiers as cls
    from ..evaluation import case_studies

    colour, labels = data.load_arrays("cifar10_color", "test", data_dir, limit=limit)
    gray, _ = data.load_arrays("cifar10_gray", "test", data_dir, limit=limit)
    if classifiers is None:
        classifiers = {k: cls.load_cifar_classifier(k) for k in cls.CIFAR_KINDS}
    return case_studies.gray2color_report(generators, gray, colour, labels, classifiers)


def record_evaluation(out, *, data_dir=None, limit: int | None = None,
                      on_progress: Callable[[str], None] = print) -> dict:
    """Measure ``<out>/G.keras`` with :func:`evaluate` and add the rows (``G``, ``gray``,
    ``truth``: PSNR, SSIM, colourfulness, saturation distance, classifier accuracies) to
    ``<out>/G.json`` under ``"evaluation"``."""
    out = Path(out)
    info = json.loads((out / "G.json").read_text())
    t0 = time.perf_counter()
    report = evaluate({"G": load_generator(out / "G.keras")}, data_dir=data_dir, limit=limit)
    rows = report["rows"]
    acc = {k: rows[k]["classifiers"]["cifar10_chroma"]["accuracy"] for k in rows}
    info["evaluation"] = {"test_images": report["n"], "limit": limit, "rows": rows,
                          "chroma_gap_fraction": (acc["G"] - acc["gray"])
                          / (acc["truth"] - acc["gray"]),
                          "wall_s": round(time.perf_counter() - t0, 1)}
    on_progress(f"PSNR {rows['G']['psnr']:.2f} dB (gray {rows['gray']['psnr']:.2f}); chroma-only "
                f"classifier {100 * acc['G']:.1f} % (gray {100 * acc['gray']:.1f} %, truth "
                f"{100 * acc['truth']:.1f} %: {info['evaluation']['chroma_gap_fraction']:.2f} of "
                "the gap)")
    (out / "G.json").write_text(json.dumps(info, indent=1, default=float) + "\n")
    return info


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cyclegan_lesson.models.pix2pix --out DIR [--steps N] ...``: train (or resume) the
    pix2pix colourizer of chapter 9 and write ``DIR/G.keras`` + ``DIR/G.json``."""
    from ..runinfo import shipped_model_parser

    parser = shipped_model_parser("models.pix2pix", "pix2pix_gray2color", main.__doc__,
                                  DEFAULT_RECIPE["steps"], "training steps")
    for key in ("ngf", "ndf", "batch_size", "seed"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=None)
    parser.add_argument("--patch", default=None,
                        help="discriminator: 'pixel' (1x1) or 1, 2, 3 stride-2 layers "
                             f"(default {DEFAULT_RECIPE['patch']})")
    parser.add_argument("--lambda-l1", type=float, default=None)
    parser.add_argument("--lambda-gan", type=float, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=None,
                        help="steps per history row (default 100, or --checkpoint-every if less)")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="use only the first N training pairs (tests)")
    parser.add_argument("--evaluate", action="store_true",
                        help="afterwards measure G on the test split into G.json")
    parser.add_argument("--eval-limit", type=int, default=None)
    args = parser.parse_args(argv)
    patch = args.patch
    if patch is not None and patch != "pixel":
        patch = int(patch)
    record = train(args.out, data_dir=args.data_dir, steps=args.steps,
                   checkpoint_every=args.checkpoint_every, chunk=args.chunk,
                   train_limit=args.train_limit,
                   on_progress=lambda s: print(s, flush=True), ngf=args.ngf, ndf=args.ndf,
                   batch_size=args.batch_size, seed=args.seed, patch=patch,
                   lambda_l1=args.lambda_l1, lambda_gan=args.lambda_gan,
                   learning_rate=args.learning_rate)
    print(json.dumps({k: record[k] for k in ("steps_done", "train_wall_s", "step_s")}),
          flush=True)
    if args.evaluate:
        record_evaluation(args.out, data_dir=args.data_dir, limit=args.eval_limit,
                          on_progress=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    from ..runinfo import run_command

    raise SystemExit(run_command(main, "python -m cyclegan_lesson.models.pix2pix"))
