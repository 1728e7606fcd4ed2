"""The GAN and DCGAN (chapter 6): toy distributions, the minimax game, the optimal discriminator.

Goodfellow et al. (2014). A generator ``G`` maps noise ``z ~ p_z = N(0, I)`` to samples
``G(z) ~ p_g``; a discriminator ``D`` returns the probability that its input is real. They play

    min_G max_D V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p_z}[log(1 - D(G(z)))].

For a fixed ``G`` the best discriminator is ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``
(:func:`optimal_discriminator`) and there ``V(D*, G) = 2 JSD(p_data || p_g) - log 4``
(:func:`value_at_optimum`, :func:`jensen_shannon`). The discriminators here return *logits*
``l`` with ``D(x) = sigmoid(l)``, so the losses are :func:`cyclegan_lesson.nn.losses.bce_loss`.

The generator either minimizes ``E log(1 - D(G(z)))`` (``"saturating"``, the value function
itself) or maximizes ``E log D(G(z))`` (``"non_saturating"``, Goodfellow et al.'s practical
choice): :func:`generator_loss`.

* Toys: a ring of 8 Gaussians in 2-D (:func:`ring_of_gaussians`, :func:`count_modes`) and a
  1-D Gaussian mixture (:func:`mixture_1d`, :func:`mixture_1d_density`), with MLP networks
  (:func:`build_mlp_generator`, :func:`build_mlp_discriminator`).
* DCGAN (Radford et al. 2016) for 32x32x1 digits in [-1, 1]
  (:func:`build_dcgan_generator` with ``upsample="transpose"`` or ``"resize"``,
  :func:`build_dcgan_discriminator`), and the checkerboard measure
  :func:`high_frequency_energy` (Odena et al. 2016).
* :class:`GAN` is a ``keras.Model`` with ``train_step``; :func:`train_gan` fits it without
  console output and calls back at checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
from keras import layers, ops

from ..nn.losses import bce_loss

__all__ = [
    "ring_centers", "ring_of_gaussians", "mixture_1d", "mixture_1d_density", "gaussian_density",
    "optimal_discriminator", "value_function", "value_at_optimum", "jensen_shannon",
    "generator_loss", "discriminator_loss", "GENERATOR_LOSSES",
    "build_mlp_generator", "build_mlp_discriminator", "build_dcgan_generator",
    "build_dcgan_discriminator", "TwoPlayerModel", "GAN", "train_gan", "fit_discriminator", "sample",
    "interpolate_latents",
    "mode_assignment", "count_modes", "power_spectrum", "high_frequency_energy",
]

#: Generator losses accepted by :func:`generator_loss` and :class:`GAN`.
GENERATOR_LOSSES = ("non_saturating", "saturating")


# ---------------------------------------------------------------------------------------------
# toy distributions
# ---------------------------------------------------------------------------------------------

def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``(modes, 2)`` centres equally spaced on a circle of ``radius`` (the first at angle 0)."""
    if int(modes) < 1 or not radius > 0:
        raise ValueError(f"ring_centers: need modes >= 1 and radius > 0, got {modes}, {radius}.")
    angles = 2.0 * np.pi * np.arange(int(modes)) / int(modes)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def ring_of_gaussians(n: int, *, modes: int = 8, radius: float = 2.0, sigma: float = 0.05,
                      seed: int = 0) -> np.ndarray:
    """``n`` samples ``(n, 2)`` float32 of an equal-weight mixture of ``modes`` isotropic
    Gaussians of standard deviation ``sigma`` on a ring (Metz et al. 2017's toy)."""
    if int(n) < 1 or not sigma > 0:
        raise ValueError(f"ring_of_gaussians: need n >= 1 and sigma > 0, got {n}, {sigma}.")
    rng = np.random.default_rng(seed)
    centers = ring_centers(modes, radius)
    which = rng.integers(0, len(centers), size=int(n))
    return (centers[which] + sigma * rng.standard_normal((int(n), 2))).astype(np.float32)


def _mixture_args(means, sigmas, weights):
    means, sigmas = np.asarray(means, np.float64), np.asarray(sigmas, np.float64)
    weights = np.asarray(weights, np.float64)
    if not (means.shape == sigmas.shape == weights.shape) or means.ndim != 1:
        raise ValueError("mixture: means, sigmas and weights must be 1-D of one length, got "
                         f"{means.shape}, {sigmas.shape}, {weights.shape}.")
    if np.any(sigmas <= 0) or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
        raise ValueError("mixture: sigmas must be > 0 and weights >= 0 summing to 1.")
    return means, sigmas, weights


def gaussian_density(x, mean: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """The density of ``N(mean, sigma^2)`` at ``x`` (any shape)."""
    if not sigma > 0:
        raise ValueError(f"gaussian_density: sigma must be > 0, got {sigma}.")
    x = np.asarray(x, np.float64)
    return np.exp(-0.5 * ((x - mean) / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))


def mixture_1d_density(x, means=(-2.0, 2.0), sigmas=(0.5, 0.5), weights=(0.5, 0.5)) -> np.ndarray:
    """Density of the 1-D Gaussian mixture at ``x`` (any shape)."""
    means, sigmas, weights = _mixture_args(means, sigmas, weights)
    return sum(w * gaussian_density(x, m, s) for m, s, w in zip(means, sigmas, weights))


def mixture_1d(n: int, means=(-2.0, 2.0), sigmas=(0.5, 0.5), weights=(0.5, 0.5), *,
               seed: int = 0) -> np.ndarray:
    """``n`` samples ``(n, 1)`` float32 of the 1-D Gaussian mixture."""
    means, sigmas, weights = _mixture_args(means, sigmas, weights)
    if int(n) < 1:
        raise ValueError(f"mixture_1d: n must be >= 1, got {n}.")
    rng = np.random.default_rng(seed)
    k = rng.choice(len(means), size=int(n), p=weights)
    return (means[k] + sigmas[k] * rng.standard_normal(int(n)))[:, None].astype(np.float32)


# ---------------------------------------------------------------------------------------------
# the value function and its optimum
# ---------------------------------------------------------------------------------------------

def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` from the two densities (or probabilities)
    at the same points (arrays of one shape, ``>= 0``, not both 0 anywhere); values in [0, 1]."""
    a, b = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"optimal_discriminator: shapes differ, {a.shape} vs {b.shape}.")
    if np.any(a < 0) or np.any(b < 0):
        raise ValueError("optimal_discriminator: densities must be >= 0.")
    if np.any(a + b == 0):
        raise ValueError("optimal_discriminator: D* is undefined where both densities are 0.")
    return a / (a + b)


def _distribution(p, who: str) -> np.ndarray:
    p = np.asarray(p, np.float64)
    if p.ndim != 1 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"{who}: expected a 1-D probability vector (>= 0, sum 1), got {p}.")
    return p


def _xlogy(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    out = np.zeros_like(x * y)
    mask = x > 0
    out[mask] = x[mask] * np.log(y[mask])
    return out


def jensen_shannon(p, q) -> float:
    """``JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``, in nats, of two
    discrete distributions; between 0 and ``log 2``."""
    p, q = _distribution(p, "jensen_shannon"), _distribution(q, "jensen_shannon")
    if p.shape != q.shape:
        raise ValueError(f"jensen_shannon: shapes differ, {p.shape} vs {q.shape}.")
    m = 0.5 * (p + q)
    kl = lambda a: float(np.sum(_xlogy(a, a) - _xlogy(a, m)))  # noqa: E731
    return 0.5 * kl(p) + 0.5 * kl(q)


def value_function(d_real, d_fake) -> float:
    """The sample estimate of ``V(D, G) = E log D(x) + E log(1 - D(G(z)))`` from the
    discriminator's *probabilities* on real samples and on generated ones (each in (0, 1))."""
    d_real, d_fake = np.asarray(d_real, np.float64), np.asarray(d_fake, np.float64)
    if np.any(d_real <= 0) or np.any(d_real > 1) or np.any(d_fake < 0) or np.any(d_fake >= 1):
        raise ValueError("value_function: D(x) must be in (0, 1] on real and [0, 1) on fakes.")
    return float(np.mean(np.log(d_real)) + np.mean(np.log1p(-d_fake)))


def value_at_optimum(p_data, p_g) -> float:
    """``V(D*, G) = sum_x p_data log D*(x) + p_g log(1 - D*(x))`` for two discrete
    distributions, which equals ``2 JSD(p_data || p_g) - log 4`` (the lecture's derivation):
    ``-log 4`` when ``p_g = p_data``, 0 when their supports are disjoint."""
    a, b = _distribution(p_data, "value_at_optimum"), _distribution(p_g, "value_at_optimum")
    if a.shape != b.shape:
        raise ValueError(f"value_at_optimum: shapes differ, {a.shape} vs {b.shape}.")
    support = (a + b) > 0
    d_star = optimal_discriminator(a[support], b[support])
    return float(np.sum(_xlogy(a[support], d_star)) + np.sum(_xlogy(b[support], 1.0 - d_star)))


def generator_loss(fake_logits, kind: str = "non_saturating"):
    """What ``G`` minimizes, from ``D``'s logits on its samples (``D = sigmoid(logits)``).

    ``"saturating"``: ``mean log(1 - D(G(z)))`` (the value function's term; its gradient
    vanishes where ``D`` confidently rejects a fake). ``"non_saturating"``:
    ``-mean log D(G(z))`` (the same fixed point, strong gradients early in training)."""
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}.")
    if kind == "non_saturating":
        return bce_loss(fake_logits, True)     # -log sigmoid(l)
    return -bce_loss(fake_logits, False)       # log(1 - sigmoid(l)) = -softplus(l)


def discriminator_loss(real_logits, fake_logits):
    """``-V``: ``-mean log D(x) - mean log(1 - D(G(z)))`` (D maximizes V); ``log 4`` at
    ``D = 1/2`` everywhere."""
    return bce_loss(real_logits, True) + bce_loss(fake_logits, False)


# ---------------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------------

def _check_positive(**values):
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}.")


def build_mlp_generator(latent_dim: int = 2, *, hidden: int = 128, depth: int = 3,
                        out_dim: int = 2, name: str = "mlp_generator") -> keras.Model:
    """``z (N, latent_dim) -> x (N, out_dim)``: ``depth`` ReLU layers of ``hidden`` units and a
    linear output (toy data is unbounded)."""
    _check_positive(latent_dim=latent_dim, hidden=hidden, depth=depth, out_dim=out_dim)
    z = keras.Input((int(latent_dim),), name="z")
    h = z
    for i in range(int(depth)):
        h = layers.Dense(int(hidden), activation="relu", name=f"dense_{i}")(h)
    return keras.Model(z, layers.Dense(int(out_dim), name="out")(h), name=name)


def build_mlp_discriminator(in_dim: int = 2, *, hidden: int = 128, depth: int = 3,
                            name: str = "mlp_discriminator") -> keras.Model:
    """``x (N, in_dim) -> logit (N, 1)``: ``depth`` LeakyReLU(0.2) layers of ``hidden`` units."""
    _check_positive(in_dim=in_dim, hidden=hidden, depth=depth)
    x = keras.Input((int(in_dim),), name="x")
    h = x
    for i in range(int(depth)):
        h = layers.Dense(int(hidden), name=f"dense_{i}")(h)
        h = layers.LeakyReLU(0.2, name=f"lrelu_{i}")(h)
    return keras.Model(x, layers.Dense(1, name="logit")(h), name=name)


def build_dcgan_generator(latent_dim: int = 64, *, filters: int = 64, upsample: str = "transpose",
                          name: str | None = None) -> keras.Model:
    """DCGAN generator ``z (N, latent_dim) -> images (N, 32, 32, 1)`` in [-1, 1] (tanh).

    The DCGAN rules: ``z`` is projected once (the only dense layer) and reshaped to 4x4x(4f);
    three upsampling steps double the size (8, 16, 32) with batch norm and ReLU, the last one
    without batch norm and with tanh. ``upsample="transpose"``: fractionally strided
    convolutions (``Conv2DTranspose``, 5x5, stride 2, as in the paper); ``"resize"``: nearest
    neighbour upsampling then a 5x5 convolution (Odena et al.'s remedy for checkerboards)."""
    _check_positive(latent_dim=latent_dim, filters=filters)
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"upsample must be 'transpose' or 'resize', got {upsample!r}.")
    f = int(filters)

    def up(h, channels, i):
        if upsample == "transpose":
            return layers.Conv2DTranspose(channels, 5, strides=2, padding="same",
                                          use_bias=channels == 1, name=f"up_{i}")(h)
        h = layers.UpSampling2D(2, interpolation="nearest", name=f"resize_{i}")(h)
        return layers.Conv2D(channels, 5, padding="same", use_bias=channels == 1,
                             name=f"conv_{i}")(h)

    z = keras.Input((int(latent_dim),), name="z")
    h = layers.Dense(4 * 4 * 4 * f, use_bias=False, name="project")(z)
    h = layers.Reshape((4, 4, 4 * f), name="reshape")(h)
    h = layers.ReLU(name="relu_0")(layers.BatchNormalization(name="bn_0")(h))
    for i, channels in enumerate((2 * f, f), start=1):            # 8x8, 16x16
        h = layers.ReLU(name=f"relu_{i}")(layers.BatchNormalization(name=f"bn_{i}")(
            up(h, channels, i)))
    out = layers.Activation("tanh", name="tanh")(up(h, 1, 3))   # 32x32x1
    return keras.Model(z, out, name=name or f"dcgan_generator_{upsample}")


def build_dcgan_discriminator(*, filters: int = 64, image_shape=(32, 32, 1),
                              normalization: str | None = "batch",
                              name: str = "dcgan_discriminator") -> keras.Model:
    """DCGAN discriminator ``images (N, 32, 32, C) -> logit (N, 1)``: three strided 5x5
    convolutions (16, 8, 4 pixels; f, 2f, 4f channels) with LeakyReLU(0.2), batch norm after the
    first, no pooling and no dense hidden layer; the last feature map is flattened into one
    logit.

    ``normalization``: ``"batch"`` (DCGAN), or for a WGAN-GP critic (chapter 7) ``"layer"``
    (layer norm over each sample's feature map) or ``None``: the gradient penalty is taken per
    sample, which batch norm's coupling of the samples in a batch would break."""
    _check_positive(filters=filters)
    if normalization not in ("batch", "layer", None):
        raise ValueError(f"normalization must be 'batch', 'layer' or None, got "
                         f"{normalization!r}.")
    if len(image_shape) != 3 or image_shape[0] % 8 or image_shape[1] % 8:
        raise ValueError(f"image_shape must be (H, W, C) with H, W multiples of 8, got "
                         f"{image_shape}.")
    f = int(filters)
    x = keras.Input(tuple(image_shape), name="image")
    h = x
    for i, channels in enumerate((f, 2 * f, 4 * f)):
        h = layers.Conv2D(channels, 5, strides=2, padding="same", use_bias=normalization is None,
                          name=f"conv_{i}")(h)
        if i > 0 and normalization == "batch":
            h = layers.BatchNormalization(name=f"bn_{i}")(h)
        elif i > 0 and normalization == "layer":
            h = layers.LayerNormalization(axis=(1, 2, 3), name=f"ln_{i}")(h)
        h = layers.LeakyReLU(0.2, name=f"lrelu_{i}")(h)
    logit = layers.Dense(1, name="logit")(layers.Flatten(name="flatten")(h))
    return keras.Model(x, logit, name=name)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

def _tf():
    import tensorflow as tf

    return tf


class TwoPlayerModel(keras.Model):
    """What the two-player models of chapters 6-10 share (:class:`GAN`, its conditional form,
    :class:`~cyclegan_lesson.models.wgan.WGAN`, :class:`~cyclegan_lesson.models.stargan.StarGAN`):
    one ``keras.metrics.Mean`` per name in :attr:`METRICS` (what ``fit`` reports, in this
    order), ``compile`` with the two players' optimizers (the keywords in :attr:`OPTIMIZERS`),
    and :meth:`report`, which a ``train_step`` returns.
    """

    #: The running means ``fit`` reports, in this order.
    METRICS: tuple[str, ...] = ()
    #: The optimizers ``compile`` takes as keywords (stored as attributes of the same names).
    OPTIMIZERS: tuple[str, ...] = ("d_optimizer", "g_optimizer")

    def _init_trackers(self) -> None:
        self.trackers = {n: keras.metrics.Mean(name=n) for n in self.METRICS}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, **kwargs):
        """``compile(d_optimizer=..., g_optimizer=...)`` (the names in :attr:`OPTIMIZERS`); other
        keywords go to ``keras.Model.compile``."""
        missing = [name for name in self.OPTIMIZERS if name not in kwargs]
        if missing:
            raise TypeError(f"{type(self).__name__}.compile: pass {', '.join(missing)} "
                            f"(the optimizers {' and '.join(self.OPTIMIZERS)}).")
        optimizers = {name: kwargs.pop(name) for name in self.OPTIMIZERS}
        super().compile(**kwargs)
        for name, optimizer in optimizers.items():
            setattr(self, name, optimizer)

    def report(self, values: dict) -> dict:
        """Add one step's ``values`` (metric name -> scalar) to the running means and return
        every mean (what ``train_step`` returns to ``fit``)."""
        for key, value in values.items():
            self.trackers[key].update_state(value)
        return {k: t.result() for k, t in self.trackers.items()}


class GAN(TwoPlayerModel):
    """A generator and a discriminator trained alternately on the minimax game.

    Each ``train_step`` on a batch of real samples: one discriminator step on
    :func:`discriminator_loss` (real batch vs a fresh batch of fakes), then ``g_steps`` generator
    steps on :func:`generator_loss` of kind ``generator_loss``. Compile with
    ``compile(d_optimizer=..., g_optimizer=...)``.

    ``fit`` reports ``d_loss`` (``-V``, ``log 4 = 1.386`` at ``D = 1/2``), ``g_loss``, and the
    mean probabilities ``d_real`` = D(x) and ``d_fake`` = D(G(z)).
    """

    METRICS = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 generator_loss: str = "non_saturating", g_steps: int = 1, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"GAN: generator_loss must be one of {GENERATOR_LOSSES}, got "
                             f"{generator_loss!r}.")
        _check_positive(g_steps=g_steps)
        if tuple(generator.output_shape[1:]) != tuple(discriminator.input_shape[1:]):
            raise ValueError(f"GAN: the generator makes {generator.output_shape[1:]} but the "
                             f"discriminator takes {discriminator.input_shape[1:]}.")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.generator_loss_kind = generator_loss
        self.g_steps = int(g_steps)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self._init_trackers()
        self.built = True

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def _noise(self, n):
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        real = ops.cast(real, "float32")
        n = ops.shape(real)[0]
        tf = _tf()
        # discriminator: maximize V, i.e. minimize -V on real vs fake
        fake = self.generator(self._noise(n), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
        # generator: fool the (just updated) discriminator
        g_vars = self.generator.trainable_variables
        for _ in range(self.g_steps):
            with tf.GradientTape() as tape:
                g_logits = self.discriminator(self.generator(self._noise(n), training=True),
                                              training=True)
                g_loss = generator_loss(g_logits, self.generator_loss_kind)
            self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        return self.report({"d_loss": d_loss, "g_loss": g_loss,
                            "d_real": ops.mean(ops.sigmoid(real_logits)),
                            "d_fake": ops.mean(ops.sigmoid(fake_logits))})


def train_gan(model: GAN, x_train, *, steps: int, batch_size: int = 64, chunk: int = 100,
              on_chunk: Callable[[int, GAN], None] | None = None, log_path=None,
              seed: int = 0, labels=None) -> dict[str, list[float]]:
    """Train ``model`` for ``steps`` batches of real samples drawn with replacement-free
    shuffling, without console output. With ``labels`` ``(N,)`` the batches are
    ``(samples, labels)`` pairs (the conditional GAN of chapter 8).

    The history has one entry per ``chunk`` steps (the metrics averaged over the chunk) plus
    ``step`` (the step count at its end); ``on_chunk(step, model)`` is called after each chunk
    (checkpoints: samples, FD). ``log_path``: CSV log of the same history."""
    import tensorflow as tf

    _check_positive(steps=steps, batch_size=batch_size, chunk=chunk)
    x_train = np.asarray(x_train, np.float32)
    if len(x_train) < batch_size:
        raise ValueError(f"train_gan: {len(x_train)} samples < batch_size {batch_size}.")
    if int(steps) % int(chunk):
        raise ValueError(f"train_gan: steps ({steps}) must be a multiple of chunk ({chunk}).")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(x_train),):
            raise ValueError(f"train_gan: labels must have shape ({len(x_train)},), one per "
                             f"sample, got {labels.shape}.")
    keras.utils.set_random_seed(seed)
    source = x_train if labels is None else (x_train, labels.astype(np.int32))
    ds = (tf.data.Dataset.from_tensor_slices(source).shuffle(min(len(x_train), 20000), seed=seed)
          .repeat().batch(int(batch_size), drop_remainder=True).prefetch(2))
    history: dict[str, list[float]] = {"step": []}

    class _Chunk(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            step = (epoch + 1) * int(chunk)
            history["step"].append(step)
            for k, v in (logs or {}).items():
                history.setdefault(k, []).append(float(v))
            if on_chunk is not None:
                on_chunk(step, model)

    callbacks = [_Chunk()]
    if log_path:
        callbacks.append(keras.callbacks.CSVLogger(str(log_path)))
    model.fit(ds, epochs=int(steps) // int(chunk), steps_per_epoch=int(chunk), verbose=0,
              shuffle=False, callbacks=callbacks)
    return history


def fit_discriminator(discriminator: keras.Model, real, fake, *, steps: int,
                      batch_size: int = 256, learning_rate: float = 1e-3,
                      seed: int = 0) -> list[float]:
    """Train ``discriminator`` (logits) to maximize ``V`` against a *fixed* generator
    distribution: real samples labelled 1, ``fake`` samples (drawn from ``p_g``) labelled 0, in
    equal numbers, binary cross-entropy (= ``-V / 2``). Returns the loss per 100 steps."""
    import tensorflow as tf

    _check_positive(steps=steps, batch_size=batch_size)
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    if real.shape[1:] != fake.shape[1:] or len(real) != len(fake):
        raise ValueError(f"fit_discriminator: real and fake must have one shape, got "
                         f"{real.shape} and {fake.shape}.")
    keras.utils.set_random_seed(seed)
    x = np.concatenate([real, fake])
    y = np.concatenate([np.ones(len(real)), np.zeros(len(fake))]).astype(np.float32)[:, None]
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
          .batch(int(batch_size)))
    discriminator.compile(optimizer=keras.optimizers.Adam(learning_rate),
                          loss=keras.losses.BinaryCrossentropy(from_logits=True))
    chunk = min(100, int(steps))
    history = discriminator.fit(ds, epochs=max(1, int(steps) // chunk), steps_per_epoch=chunk,
                                verbose=0, shuffle=False)
    return [float(v) for v in history.history["loss"]]


def sample(generator: keras.Model, n: int, *, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """``n`` samples ``G(z)``, ``z ~ N(0, I)`` seeded, in inference mode, as a NumPy array."""
    _check_positive(n=n)
    z = np.random.default_rng(seed).standard_normal((int(n), generator.input_shape[-1]))
    z = z.astype(np.float32)
    return np.concatenate([np.asarray(generator(z[i:i + batch_size], training=False))
                           for i in range(0, int(n), batch_size)])


def interpolate_latents(z0, z1, steps: int = 8) -> np.ndarray:
    """``(steps, d)`` points on the straight line from ``z0`` to ``z1`` (both ends included): the
    lecture's walk in the latent space."""
    z0, z1 = np.asarray(z0, np.float32).ravel(), np.asarray(z1, np.float32).ravel()
    if z0.shape != z1.shape or int(steps) < 2:
        raise ValueError("interpolate_latents: z0 and z1 must have one shape and steps >= 2.")
    t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
    return (1.0 - t) * z0 + t * z1


# ---------------------------------------------------------------------------------------------
# measures: modes of the ring, checkerboard energy
# ---------------------------------------------------------------------------------------------

def mode_assignment(samples, centers, sigma: float) -> np.ndarray:
    """Index ``(N,)`` of the nearest centre for each 2-D sample, ``-1`` when it is farther than
    ``3 sigma`` from every centre (a low-quality sample)."""
    x, c = np.asarray(samples, np.float64), np.asarray(centers, np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"mode_assignment: samples (N, d) and centers (K, d), got {x.shape}, "
                         f"{c.shape}.")
    if not sigma > 0:
        raise ValueError(f"mode_assignment: sigma must be > 0, got {sigma}.")
    dist = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=-1)
    nearest = np.argmin(dist, axis=1)
    return np.where(dist[np.arange(len(x)), nearest] <= 3.0 * sigma, nearest, -1)


def count_modes(samples, centers, sigma: float, *, min_share: float = 0.01) -> dict:
    """Mode coverage of generated 2-D samples on a mixture with the given centres.

    Returns ``{"modes": number of centres holding at least min_share of the samples (within 3
    sigma), "high_quality": share of samples within 3 sigma of some centre, "counts": per
    centre}``."""
    if not 0 <= min_share < 1:
        raise ValueError(f"count_modes: min_share must be in [0, 1), got {min_share}.")
    which = mode_assignment(samples, centers, sigma)
    counts = np.bincount(which[which >= 0], minlength=len(centers))
    return {"modes": int(np.sum(counts >= max(1, min_share * len(which)))),
            "high_quality": float(np.mean(which >= 0)), "counts": counts.tolist()}


def _gray(images, who: str) -> np.ndarray:
    x = np.asarray(images, np.float64)
    if x.ndim != 4 or x.shape[1] < 4 or x.shape[2] < 4:
        raise ValueError(f"{who}: expected NHWC images of at least 4x4, got {x.shape}.")
    return x.mean(axis=-1)


def power_spectrum(images) -> np.ndarray:
    """Mean power spectrum ``(H, W)`` of NHWC images (channels averaged, each image's mean
    removed), shifted so that frequency 0 is in the centre."""
    x = _gray(images, "power_spectrum")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    return np.fft.fftshift(np.mean(np.abs(np.fft.fft2(x)) ** 2, axis=0))


def high_frequency_energy(images, cutoff: float = 0.75, *, per_image: bool = False):
    """Share of the spectral energy (mean removed) at frequencies with
    ``max(|f_x|, |f_y|) >= cutoff * Nyquist``: a checkerboard (period 2 pixels) lives at the
    Nyquist frequency itself, so transposed-convolution artifacts raise this share.

    Returns the share of the summed spectrum (a float), or with ``per_image=True`` each image's
    own share ``(N,)`` (for an interval over images)."""
    if not 0 < cutoff <= 1:
        raise ValueError(f"high_frequency_energy: cutoff must be in (0, 1], got {cutoff}.")
    x = _gray(images, "high_frequency_energy")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x)) ** 2
    fy = np.abs(np.fft.fftfreq(x.shape[1]))[:, None] / 0.5   # in units of Nyquist
    fx = np.abs(np.fft.fftfreq(x.shape[2]))[None, :] / 0.5
    high = np.maximum(fx, fy) >= cutoff - 1e-9
    if per_image:
        total = power.sum(axis=(1, 2))
        return np.where(total > 0, power[:, high].sum(axis=1) / np.maximum(total, 1e-300), 0.0)
    power = power.mean(axis=0)
    total = power.sum()
    return float(power[high].sum() / total) if total > 0 else 0.0

