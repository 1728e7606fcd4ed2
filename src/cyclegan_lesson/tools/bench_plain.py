"""A deliberately plain CycleGAN, the baseline the engine's speed is measured against.

This is what a reader could write in an afternoon from the keras.io CycleGAN example
(``examples/generative/cyclegan.py``): one ``train_step`` with a persistent ``GradientTape``
and four ``tape.gradient`` calls (one per network, four Adam optimizers), instance norm as
``keras.layers.GroupNormalization(groups=-1)``, reflection padding with ``ops.pad``, the
generators' strided convolutions with ``padding="same"``, no image pool (the discriminators see
this step's fakes), a constant learning rate and the losses returned as they are (no metric
trackers). It is **not** used for training anything in the course; it exists so that

    python -m cyclegan_lesson bench --compare-plain

can time it beside :class:`cyclegan_lesson.models.cyclegan.CycleGAN` in one process, interleaved,
and print the ratio. The networks have the same layer shapes and parameter counts as the
engine's :func:`~cyclegan_lesson.nn.networks.resnet_generator` and
:func:`~cyclegan_lesson.nn.networks.patch_discriminator` (checked by a test), so the two do the
same convolutions; only the engine's machinery differs.
"""

from __future__ import annotations

import statistics

import keras
import numpy as np
from keras import ops

__all__ = ["plain_resnet_generator", "plain_discriminator", "PlainCycleGAN", "compare_plain",
           "plain_as_cyclegan"]


class _ReflectionPad(keras.layers.Layer):
    """keras.io's ``ReflectionPadding2D``: ``ops.pad(..., mode="reflect")``."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, x):
        p = self.padding
        return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")


def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _norm():
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)


def plain_resnet_generator(n_blocks: int = 9, ngf: int = 64, image_size: int = 256,
                           in_channels: int = 3, out_channels: int = 3,
                           name: str | None = None) -> keras.Model:
    """The keras.io ResNet generator, with the engine's filters and biases (same parameters)."""
    inputs = keras.Input((image_size, image_size, in_channels))
    x = _ReflectionPad(3)(inputs)
    x = keras.layers.Conv2D(ngf, 7, kernel_initializer=_init())(x)
    x = keras.layers.ReLU()(_norm()(x))
    filters = ngf
    for _ in range(2):
        filters *= 2
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same",
                                kernel_initializer=_init())(x)
        x = keras.layers.ReLU()(_norm()(x))
    for _ in range(n_blocks):
        y = _ReflectionPad(1)(x)
        y = keras.layers.Conv2D(filters, 3, kernel_initializer=_init())(y)
        y = keras.layers.ReLU()(_norm()(y))
        y = _ReflectionPad(1)(y)
        y = _norm()(keras.layers.Conv2D(filters, 3, kernel_initializer=_init())(y))
        x = keras.layers.add([x, y])
    for _ in range(2):
        filters //= 2
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                         kernel_initializer=_init())(x)
        x = keras.layers.ReLU()(_norm()(x))
    x = _ReflectionPad(3)(x)
    x = keras.layers.Conv2D(out_channels, 7, kernel_initializer=_init())(x)
    outputs = keras.layers.Activation("tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def plain_discriminator(n_layers: int = 3, ndf: int = 64, in_channels: int = 3,
                        image_size: int = 256, name: str | None = None) -> keras.Model:
    """The 70x70 PatchGAN written with stock layers (``LeakyReLU``, ``GroupNormalization``)."""
    inputs = keras.Input((image_size, image_size, in_channels))
    x = inputs
    for i in range(n_layers + 1):
        x = keras.layers.ZeroPadding2D(1)(x)
        x = keras.layers.Conv2D(ndf * min(2**i, 8), 4, strides=2 if i < n_layers else 1,
                                kernel_initializer=_init())(x)
        if i > 0:
            x = _norm()(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.ZeroPadding2D(1)(x)
    outputs = keras.layers.Conv2D(1, 4, kernel_initializer=_init())(x)
    return keras.Model(inputs, outputs, name=name)


class PlainCycleGAN(keras.Model):
    """keras.io's ``CycleGan`` model: ``gen_G: X -> Y``, ``gen_F: Y -> X``, ``disc_X``,
    ``disc_Y``; LSGAN, cycle weight ``lambda_cycle``, identity weight
    ``lambda_identity * lambda_cycle`` (0 skips the identity passes)."""

    def __init__(self, gen_g, gen_f, disc_x, disc_y, *, lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.gen_G, self.gen_F, self.disc_X, self.disc_Y = gen_g, gen_f, disc_x, disc_y
        self.lambda_cycle = float(lambda_cycle)
        self.lambda_identity = float(lambda_identity)
        self.mse = keras.losses.MeanSquaredError()
        self.mae = keras.losses.MeanAbsoluteError()

    def compile(self, learning_rate: float = 2e-4, **kwargs):
        self.opts = [keras.optimizers.Adam(learning_rate, beta_1=0.5) for _ in range(4)]
        super().compile(**kwargs)

    def _adv(self, logits, target: float):
        return self.mse(ops.full_like(logits, target), logits)

    def train_step(self, data):
        import tensorflow as tf

        real_x, real_y = data
        with tf.GradientTape(persistent=True) as tape:
            fake_y = self.gen_G(real_x, training=True)
            fake_x = self.gen_F(real_y, training=True)
            cycled_x = self.gen_F(fake_y, training=True)
            cycled_y = self.gen_G(fake_x, training=True)
            disc_real_x = self.disc_X(real_x, training=True)
            disc_fake_x = self.disc_X(fake_x, training=True)
            disc_real_y = self.disc_Y(real_y, training=True)
            disc_fake_y = self.disc_Y(fake_y, training=True)
            cycle = self.lambda_cycle * (self.mae(real_y, cycled_y) + self.mae(real_x, cycled_x))
            loss_g = self._adv(disc_fake_y, 1.0) + cycle
            loss_f = self._adv(disc_fake_x, 1.0) + cycle
            if self.lambda_identity > 0:
                w = self.lambda_cycle * self.lambda_identity
                loss_g = loss_g + w * self.mae(real_y, self.gen_G(real_y, training=True))
                loss_f = loss_f + w * self.mae(real_x, self.gen_F(real_x, training=True))
            loss_dx = 0.5 * (self._adv(disc_real_x, 1.0) + self._adv(disc_fake_x, 0.0))
            loss_dy = 0.5 * (self._adv(disc_real_y, 1.0) + self._adv(disc_fake_y, 0.0))
        for opt, loss, net in zip(self.opts, (loss_g, loss_f, loss_dx, loss_dy),
                                  (self.gen_G, self.gen_F, self.disc_X, self.disc_Y),
                                  strict=True):
            opt.apply(tape.gradient(loss, net.trainable_variables), net.trainable_variables)
        del tape
        return {"G_loss": loss_g, "F_loss": loss_f, "D_X_loss": loss_dx, "D_Y_loss": loss_dy}


def plain_as_cyclegan(model: PlainCycleGAN):
    """``model``'s networks under the engine's names (``G_AB`` = ``gen_G``, ``G_BA`` = ``gen_F``,
    ``D_A`` = ``disc_X``, ``D_B`` = ``disc_Y``), for
    :func:`cyclegan_lesson.training.profiling.step_flops`."""
    import types

    return types.SimpleNamespace(G_AB=model.gen_G, G_BA=model.gen_F, D_A=model.disc_X,
                                 D_B=model.disc_Y, use_identity=model.lambda_identity > 0)


def build_plain(size: int, channels: int, n_blocks: int, ngf: int, ndf: int, n_layers: int = 3,
                lambda_identity: float = 0.5) -> PlainCycleGAN:
    """The four plain networks in a compiled :class:`PlainCycleGAN`."""
    model = PlainCycleGAN(
        plain_resnet_generator(n_blocks, ngf, size, channels, channels, name="gen_G"),
        plain_resnet_generator(n_blocks, ngf, size, channels, channels, name="gen_F"),
        plain_discriminator(n_layers, ndf, channels, size, name="disc_X"),
        plain_discriminator(n_layers, ndf, channels, size, name="disc_Y"),
        lambda_identity=lambda_identity)
    model.compile()
    return model


def compare_plain(
    size: int = 32,
    batch_size: int = 8,
    n_blocks: int = 6,
    ngf: int = 64,
    ndf: int = 64,
    n_layers: int = 3,
    rounds: int = 5,
    steps: int = 4,
    warmup: int = 2,
    precision: str = "float32",
    seed: int = 0,
    profile: bool = False,
) -> dict:
    """Time the engine's training step beside :class:`PlainCycleGAN`'s in one process.

    Both models train on the same random ``(batch_size, size, size, 3)`` batches. After
    ``warmup`` untimed steps each (tracing), ``rounds`` rounds alternate ``steps`` timed steps
    of one model and ``steps`` of the other (the order flips every round), so that machine load
    hits both alike. Returns a JSON-able dict with each model's median step time
    (``engine_step_ms``, ``plain_step_ms``), images per second (per domain) and ``ratio`` =
    engine images/s / plain images/s (> 1: the engine is faster), and each model's operations
    per step and achieved rate (``*_gflop_per_step``, ``*_gflops``;
    :func:`cyclegan_lesson.training.profiling.step_flops`: the plain model judges each fake once, so
    it
    does slightly less work). ``precision`` is the engine's
    (:data:`cyclegan_lesson.models.cyclegan.PRECISIONS`); the plain model always runs in float32.
    ``profile=True`` adds ``profile``: :func:`cyclegan_lesson.training.profiling.profile_step` of
    each.
    """
    from .. import runinfo
    from ..models import cyclegan
    from ..training import profiling
    from ..training.trainer import _positive

    for key, value in (("size", size), ("batch_size", batch_size), ("ngf", ngf), ("ndf", ndf),
                       ("n_layers", n_layers), ("rounds", rounds), ("steps", steps)):
        _positive(key, value)
    _positive("n_blocks", n_blocks, allow_zero=True)
    _positive("warmup", warmup, allow_zero=True)
    runinfo.set_seed(seed)
    with cyclegan.precision_scope(precision):
        engine = cyclegan.build_cyclegan(size, 3, 3, n_blocks=n_blocks, ngf=ngf, ndf=ndf,
                                         n_layers=n_layers, seed=seed)
        engine.compile(learning_rate=2e-4)
    plain = build_plain(size, 3, n_blocks, ngf, ndf, n_layers,
                        lambda_identity=engine.loss_weights.lambda_identity)
    rng = np.random.default_rng(seed)
    batch = tuple(rng.uniform(-1, 1, (batch_size, size, size, 3)).astype(np.float32)
                  for _ in range(2))
    models = {"engine": engine, "plain": plain}
    runners = {name: profiling.step_runner(model, batch) for name, model in models.items()}
    for name in models:
        runners[name](warmup)
    times: dict[str, list[float]] = {name: [] for name in models}
    order = list(models)
    for _ in range(rounds):
        for name in order:
            times[name] += runners[name](steps)
        order.reverse()
    med = {name: statistics.median(t) for name, t in times.items()}
    flops = {"engine": profiling.step_flops(engine)["total"] * batch_size,
             "plain": profiling.step_flops(plain_as_cyclegan(plain),
                                           discriminators_reuse_fakes=True)["total"] * batch_size}
    result = {
        "configuration": {"size": size, "batch_size": batch_size, "n_blocks": n_blocks,
                          "ngf": ngf, "ndf": ndf, "n_layers": n_layers, "rounds": rounds,
                          "steps": steps, "warmup": warmup, "precision": precision},
        "ratio": round(med["plain"] / med["engine"], 3),
        "device": runinfo.device_summary(),
    }
    for name in models:
        result[f"{name}_step_ms"] = round(1000 * med[name], 2)
        result[f"{name}_images_per_s"] = round(batch_size / med[name], 2)
        result[f"{name}_gflop_per_step"] = round(flops[name] / 1e9, 2)
        result[f"{name}_gflops"] = round(flops[name] / 1e9 / med[name], 1)
    result["parameters"] = {name: int(sum(m.count_params() for m in nets)) for name, nets in (
        ("engine", (engine.G_AB, engine.G_BA, engine.D_A, engine.D_B)),
        ("plain", (plain.gen_G, plain.gen_F, plain.disc_X, plain.disc_Y)))}
    if profile:
        result["profile"] = {
            "engine": profiling.profile_step(engine, batch),
            "plain": profiling.profile_step(
                plain, batch, networks={"generators": ("gen_G", "gen_F"),
                                        "discriminators": ("disc_X", "disc_Y")})}
    return result
