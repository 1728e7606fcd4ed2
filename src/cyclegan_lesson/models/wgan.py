"""WGAN and WGAN-GP (chapter 7): the Wasserstein-1 distance, a Lipschitz critic, weight clipping
and the gradient penalty.

Arjovsky et al. (2017) replace the GAN's Jensen-Shannon divergence by the Earth-Mover
(Wasserstein-1) distance

    W(P_r, P_g) = inf_{gamma in Pi(P_r, P_g)} E_{(x, y) ~ gamma} ||x - y||
                = sup_{||f||_L <= 1} E_{x ~ P_r} f(x) - E_{x ~ P_g} f(x)

(the second line: Kantorovich-Rubinstein duality). A *critic* ``C`` (no sigmoid) plays ``f``;
it must stay K-Lipschitz, either by **weight clipping** (every weight clipped to ``[-c, c]``
after each critic step; the paper: ``c = 0.01``, RMSprop ``5e-5``, ``n_critic = 5``) or by the
**gradient penalty** of Gulrajani et al. (2017): ``lambda E (||grad C(x_hat)|| - 1)^2`` at
uniform interpolates ``x_hat`` (``lambda = 10``, Adam ``(1e-4, 0.5, 0.9)``, no batch norm in
the critic). The losses are :func:`cyclegan_lesson.nn.losses.wgan_critic_loss`,
:func:`~cyclegan_lesson.nn.losses.wgan_generator_loss` and
:func:`~cyclegan_lesson.nn.losses.gradient_penalty`.

* Example 1 of Arjovsky et al.: :func:`parallel_lines` samples, :func:`parallel_lines_distances`
  (JSD, KL and W1 in closed form) and the sample estimates :func:`earth_movers_distance`,
  :func:`histogram_jensen_shannon`.
* :func:`fit_critic` trains a critic (gradient penalty) against two *fixed* sample sets and
  returns its estimate of ``W`` (the dual side of the distance).
* :class:`WGAN` is a ``keras.Model`` whose ``train_step`` makes ``n_critic`` critic steps (each
  on its own slice of the real batch) and one generator step; :func:`train_wgan` fits it with
  :func:`cyclegan_lesson.models.gan.train_gan` (no console output).
* :func:`weight_pile_up`: the share of critic weights at the clipping bounds.

Networks come from :mod:`cyclegan_lesson.models.gan` (the MLPs of the toys; the DCGAN critic is
``gan.build_dcgan_discriminator(normalization=None or "layer")``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from ..nn.losses import gradient_penalty, wgan_critic_loss, wgan_generator_loss
from . import gan

__all__ = [
    "WGAN",
    "clipping_optimizer",
    "critic_weights",
    "earth_movers_distance",
    "fit_critic",
    "gp_optimizer",
    "histogram_jensen_shannon",
    "parallel_lines",
    "parallel_lines_distances",
    "train_wgan",
    "weight_pile_up",
]


# ---------------------------------------------------------------------------------------------
# Example 1: parallel lines
# ---------------------------------------------------------------------------------------------

def parallel_lines(n: int, theta: float = 0.0, *, seed: int = 0) -> np.ndarray:
    """``n`` samples ``(n, 2)`` float32 of ``P_theta``: the point ``(theta, z)``, ``z ~ U[0, 1]``
    (a vertical segment at ``x = theta``; ``P_0`` is the real distribution)."""
    if int(n) < 1:
        raise ValueError(f"parallel_lines: n must be >= 1, got {n}.")
    z = np.random.default_rng(seed).uniform(0.0, 1.0, int(n))
    return np.stack([np.full(int(n), float(theta)), z], axis=1).astype(np.float32)


def parallel_lines_distances(theta: float) -> dict:
    """The closed forms of Arjovsky et al.'s Example 1 between ``P_0`` and ``P_theta``:
    ``{"w1": |theta|, "jsd": log 2 if theta != 0 else 0, "kl": inf if theta != 0 else 0}``."""
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"parallel_lines_distances: theta must be finite, got {theta}.")
    apart = theta != 0.0
    return {"w1": abs(theta), "jsd": math.log(2.0) if apart else 0.0,
            "kl": math.inf if apart else 0.0}


def earth_movers_distance(a, b) -> float:
    """The exact Earth-Mover (Wasserstein-1) distance between two empirical distributions of
    equal size, ``a`` and ``b`` of shape ``(n, d)`` (or ``(n,)``) with mass ``1/n`` per point:
    the mean Euclidean distance of the optimal one-to-one matching (an optimal coupling of two
    uniform empirical measures of one size is a permutation; SciPy's assignment solver finds it).
    """
    from scipy.optimize import linear_sum_assignment

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = (a[:, None] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)
    if a.ndim != 2 or a.shape != b.shape or len(a) < 1:
        raise ValueError(f"earth_movers_distance: expected two point sets (n, d) of one shape, "
                         f"got {a.shape} and {b.shape}; subsample the larger one.")
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def histogram_jensen_shannon(a, b, *, bins: int = 100, value_range=None) -> float:
    """Jensen-Shannon divergence (nats, in ``[0, log 2]``) between the histograms of two sample
    sets ``(n, d)`` on one grid of ``bins`` cells per axis over ``value_range`` (``((lo, hi), ...)``
    per axis; default: the range of both sets together)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"histogram_jensen_shannon: expected (n, d) and (m, d), got {a.shape} "
                         f"and {b.shape}.")
    if value_range is None:
        both = np.concatenate([a, b])
        value_range = [(lo, hi if hi > lo else lo + 1.0)
                       for lo, hi in zip(both.min(axis=0), both.max(axis=0))]
    ha, _ = np.histogramdd(a, bins=int(bins), range=value_range)
    hb, _ = np.histogramdd(b, bins=int(bins), range=value_range)
    return gan.jensen_shannon(ha.ravel() / ha.sum(), hb.ravel() / hb.sum())


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

def clipping_optimizer(learning_rate: float = 5e-5) -> keras.optimizers.Optimizer:
    """The WGAN paper's optimizer: RMSprop (no momentum), learning rate ``5e-5``."""
    return keras.optimizers.RMSprop(learning_rate)


def gp_optimizer(learning_rate: float = 1e-4) -> keras.optimizers.Optimizer:
    """WGAN-GP's optimizer: Adam with ``beta_1 = 0.5``, ``beta_2 = 0.9`` as in the authors' released
    code (the paper's Algorithm 1 lists ``beta_1 = 0``, ``beta_2 = 0.9`` and a rate of 1e-4)."""
    return keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)


def critic_weights(critic: keras.Model) -> np.ndarray:
    """All trainable weights of ``critic`` (kernels and biases) as one flat array."""
    return np.concatenate([np.ravel(np.asarray(v)) for v in critic.trainable_variables])


def weight_pile_up(critic: keras.Model, clip_value: float, tolerance: float = 0.01) -> float:
    """Share of ``critic``'s trainable weights within ``tolerance * clip_value`` of ``+-clip_value``
    (Gulrajani et al.'s observation: clipped weights pile up at the two bounds)."""
    if not clip_value > 0 or not 0 < tolerance < 1:
        raise ValueError(f"weight_pile_up: need clip_value > 0 and 0 < tolerance < 1, got "
                         f"{clip_value}, {tolerance}.")
    w = np.abs(critic_weights(critic))
    return float(np.mean(w >= (1.0 - tolerance) * clip_value))


def fit_critic(critic: keras.Model, real, fake, *, steps: int, batch_size: int = 256,
               gp_weight: float = 10.0, learning_rate: float = 1e-3, seed: int = 0) -> float:
    """Train ``critic`` on ``max E C(real) - E C(fake) - gp_weight * GP`` between two *fixed*
    sample sets ``(n, ...)`` for ``steps`` Adam steps (``beta = (0.5, 0.9)``) and return its
    estimate of ``W(real, fake)``: ``mean C(real) - mean C(fake)`` over all samples (Kantorovich-
    Rubinstein: a 1-Lipschitz critic's gap is at most ``W``, and the best one reaches it)."""
    import tensorflow as tf

    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    if real.shape[1:] != fake.shape[1:] or min(len(real), len(fake)) < 2:
        raise ValueError(f"fit_critic: real and fake must be (n, ...) sets of one sample shape, "
                         f"got {real.shape} and {fake.shape}.")
    if int(steps) < 1 or not gp_weight > 0:
        raise ValueError(f"fit_critic: need steps >= 1 and gp_weight > 0, got {steps}, "
                         f"{gp_weight}.")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    optimizer = gp_optimizer(learning_rate)
    seed_generator = keras.random.SeedGenerator(int(seed))

    @tf.function
    def step(r, f):
        with tf.GradientTape() as tape:
            loss = (wgan_critic_loss(critic(r, training=True), critic(f, training=True))
                    + gp_weight * gradient_penalty(critic, r, f, seed=seed_generator))
        variables = critic.trainable_variables
        optimizer.apply(tape.gradient(loss, variables), variables)

    m = min(int(batch_size), len(real), len(fake))
    for _ in range(int(steps)):
        step(real[rng.integers(0, len(real), m)], fake[rng.integers(0, len(fake), m)])
    return float(np.mean(np.asarray(critic(real, training=False)))
                 - np.mean(np.asarray(critic(fake, training=False))))


class WGAN(gan.TwoPlayerModel):
    """A generator and a critic trained on the Wasserstein game.

    Each ``train_step`` takes a real batch of ``n_critic * m`` samples and makes ``n_critic``
    critic steps, the ``k``-th on the ``k``-th slice of ``m`` real samples against ``m`` fresh
    fakes, then one generator step on ``m`` fresh fakes (Algorithm 1 of both papers). The critic
    minimizes :func:`wgan_critic_loss` (``E C(fake) - E C(real)``) plus, with ``gp_weight``,
    ``gp_weight *`` :func:`gradient_penalty`; with ``clip_value`` every trainable critic weight
    is clipped to ``[-c, c]`` after each critic step. The generator minimizes
    :func:`wgan_generator_loss` (``-E C(G(z))``). Exactly one of ``clip_value``, ``gp_weight``.

    ``fit`` reports ``critic_loss`` (without the penalty, averaged over the critic steps),
    ``w_estimate`` = ``-critic_loss`` (the critic's estimate of ``W``), ``gp`` (the penalty
    before weighting; 0 with clipping), ``grad_norm`` (mean ``||grad_x C||`` at the
    interpolates of the last critic step; only with ``gp_weight``, else 0) and ``g_loss``.
    Compile with ``compile(c_optimizer=..., g_optimizer=...)``.
    """

    METRICS = ("critic_loss", "w_estimate", "gp", "grad_norm", "g_loss")
    OPTIMIZERS = ("c_optimizer", "g_optimizer")

    def __init__(self, generator: keras.Model, critic: keras.Model, *, n_critic: int = 5,
                 clip_value: float | None = None, gp_weight: float | None = None, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        if (clip_value is None) == (gp_weight is None):
            raise ValueError("WGAN: pass exactly one of clip_value (weight clipping, e.g. 0.01) "
                             "and gp_weight (gradient penalty, e.g. 10).")
        if clip_value is not None and not clip_value > 0:
            raise ValueError(f"WGAN: clip_value must be > 0, got {clip_value}.")
        if gp_weight is not None and not gp_weight > 0:
            raise ValueError(f"WGAN: gp_weight must be > 0, got {gp_weight}.")
        if int(n_critic) < 1:
            raise ValueError(f"WGAN: n_critic must be >= 1, got {n_critic}.")
        if tuple(generator.output_shape[1:]) != tuple(critic.input_shape[1:]):
            raise ValueError(f"WGAN: the generator makes {generator.output_shape[1:]} but the "
                             f"critic takes {critic.input_shape[1:]}.")
        if gp_weight is not None and any(isinstance(layer, keras.layers.BatchNormalization)
                                         for layer in critic.layers):
            raise ValueError("WGAN: the gradient penalty is per sample; a critic with batch "
                             "norm couples the samples of a batch. Build it without batch norm "
                             "(e.g. gan.build_dcgan_discriminator(normalization='layer')).")
        self.generator, self.critic = generator, critic
        self.latent_dim = int(generator.input_shape[-1])
        self.n_critic = int(n_critic)
        self.clip_value = None if clip_value is None else float(clip_value)
        self.gp_weight = None if gp_weight is None else float(gp_weight)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self._init_trackers()
        self.built = True

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def _noise(self, n):
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def clip_critic_weights(self):
        """Clip every trainable critic weight (kernels and biases) to ``[-c, c]``."""
        for v in self.critic.trainable_variables:
            v.assign(ops.clip(v, -self.clip_value, self.clip_value))

    def critic_step(self, real):
        """One critic update on ``real`` against as many fresh fakes; returns
        ``(critic_loss, gp, grad_norm)``."""
        import tensorflow as tf

        n = ops.shape(real)[0]
        fake = self.generator(self._noise(n), training=True)
        gp = grad_norm = ops.zeros((), "float32")
        with tf.GradientTape() as tape:
            c_loss = wgan_critic_loss(self.critic(real, training=True),
                                      self.critic(fake, training=True))
            loss = c_loss
            if self.gp_weight is not None:
                gp, norms = gradient_penalty(self.critic, real, fake, seed=self.seed_generator,
                                             return_norms=True)
                grad_norm = ops.mean(norms)
                loss = c_loss + self.gp_weight * gp
        c_vars = self.critic.trainable_variables
        self.c_optimizer.apply(tape.gradient(loss, c_vars), c_vars)
        if self.clip_value is not None:
            self.clip_critic_weights()
        return c_loss, gp, grad_norm

    def train_step(self, data):
        import tensorflow as tf

        real = data[0] if isinstance(data, (tuple, list)) else data
        real = ops.cast(real, "float32")
        m = ops.shape(real)[0] // self.n_critic
        c_losses = []
        for k in range(self.n_critic):           # n_critic critic steps, each on its own slice
            c_loss, gp, grad_norm = self.critic_step(real[k * m:(k + 1) * m])
            c_losses.append(c_loss)
        with tf.GradientTape() as tape:          # one generator step
            g_loss = wgan_generator_loss(self.critic(self.generator(self._noise(m),
                                                                    training=True),
                                                     training=True))
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        c_loss = ops.mean(ops.stack(c_losses))
        return self.report({"critic_loss": c_loss, "w_estimate": -c_loss, "gp": gp,
                            "grad_norm": grad_norm, "g_loss": g_loss})


def train_wgan(model: WGAN, x_train, *, steps: int, batch_size: int = 64, chunk: int = 100,
               on_chunk: Callable[[int, WGAN], None] | None = None, log_path=None,
               seed: int = 0) -> dict[str, list[float]]:
    """Train ``model`` for ``steps`` *generator* steps (``steps * n_critic`` critic steps of
    ``batch_size`` real samples each), without console output; the history and the callbacks
    are those of :func:`cyclegan_lesson.models.gan.train_gan` (one entry per ``chunk`` generator
    steps)."""
    if not isinstance(model, WGAN):
        raise ValueError(  # noqa: TRY004 - the course raises ValueError for bad arguments
            f"train_wgan: expected a WGAN, got {type(model).__name__}.")
    return gan.train_gan(model, x_train, steps=steps, batch_size=int(batch_size) * model.n_critic,
                         chunk=chunk, on_chunk=on_chunk, log_path=log_path, seed=seed)
