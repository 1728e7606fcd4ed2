"""The variational autoencoder (chapter 5): a convolutional VAE for binary 28x28 digits.

Kingma and Welling (2014). The encoder maps an image ``x`` to the parameters ``(mu, log_var)``
of a diagonal Gaussian ``q_phi(z|x) = N(mu, diag(exp(log_var)))``; a sample
``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` (the reparameterization trick) goes through the
decoder, which returns the *logits* of a Bernoulli distribution ``p_theta(x|z)`` per pixel. The
prior is ``p(z) = N(0, I)``. Training minimizes, per image,

    loss = -log p_theta(x|z)  +  beta * KL(q_phi(z|x) || N(0, I)),

the negative ELBO for ``beta = 1``, with the reconstruction term **summed** over the 784 pixels.

Data convention (the one exception to the package's [-1, 1]): the likelihood is Bernoulli, so
the VAE's images are pixel values in [0, 1] (NHWC, float32). :func:`to_unit_interval` maps the
package's [-1, 1] images there; the model binarizes them *dynamically* while training (a fresh
``x ~ Bernoulli(intensity)`` each time an image is seen) and :func:`binarize` makes a fixed,
seeded binary test set, on which ELBO and the importance-weighted bound are exact log
probabilities of binary images (nats), comparable with published binarized-MNIST numbers.

Losses and bounds are written with ``keras.ops`` (backend-neutral); only the gradient step of
:meth:`VAE.train_step` uses ``tf.GradientTape``, as :mod:`cyclegan_lesson.models.cyclegan` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

__all__ = [
    "to_unit_interval", "binarize", "build_encoder", "build_decoder", "VAE", "build_vae",
    "kl_normal", "kl_monte_carlo", "log_normal", "reparameterize", "bernoulli_log_likelihood",
    "reconstruction_loss", "encode", "elbo", "iwae_bound", "active_units", "linear_probe",
    "train_vae", "forward_flops", "plot_vae_diagram", "plot_latent_scatter", "plot_manifold", "layer_table",
]

LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# data: [-1, 1] images -> Bernoulli targets
# ---------------------------------------------------------------------------------------------

def _check_images(x, name: str, *, binary: bool = False) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 4:
        raise ValueError(f"{name}: expected NHWC images (N, H, W, C), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: images contain NaN or inf values.")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(
            f"{name}: the VAE's images are pixel values in [0, 1], got [{arr.min():.3g}, "
            f"{arr.max():.3g}]; map the package's [-1, 1] images with to_unit_interval() first.")
    if binary and arr.size and not np.all((arr == 0.0) | (arr == 1.0)):
        raise ValueError(f"{name}: expected binary images (0 or 1); use binarize() first.")
    return arr


def to_unit_interval(images) -> np.ndarray:
    """Map images in [-1, 1] (the package's convention, any shape) to [0, 1]: ``(x + 1) / 2``."""
    arr = np.asarray(images, dtype=np.float32)
    if arr.size and (arr.min() < -1.0 - 1e-6 or arr.max() > 1.0 + 1e-6):
        raise ValueError(f"to_unit_interval: expected values in [-1, 1], got "
                         f"[{arr.min():.3g}, {arr.max():.3g}].")
    return np.clip((arr + 1.0) / 2.0, 0.0, 1.0)


def binarize(images01, seed: int = 0) -> np.ndarray:
    """One stochastic binarization: each pixel is 1 with probability its intensity in [0, 1].

    ``images01``: NHWC float in [0, 1]. Returns float32 of the same shape with values 0 or 1,
    the same for the same ``seed`` (a fixed binary test set).
    """
    arr = _check_images(images01, "binarize")
    rng = np.random.default_rng(seed)
    return (rng.random(arr.shape, dtype=np.float32) < arr).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------------------------

def _check_dims(latent_dim: int, filters: Sequence[int], hidden: int, name: str) -> None:
    if isinstance(latent_dim, bool) or int(latent_dim) != latent_dim or latent_dim < 1:
        raise ValueError(f"{name}: latent_dim must be a positive int, got {latent_dim!r}.")
    if len(filters) != 2 or any(int(f) < 1 for f in filters):
        raise ValueError(f"{name}: filters must be two positive ints (the two stride-2 "
                         f"convolutions), got {filters!r}.")
    if int(hidden) < 1:
        raise ValueError(f"{name}: hidden must be a positive int, got {hidden!r}.")


def build_encoder(latent_dim: int = 2, *, image_shape=(28, 28, 1), filters=(32, 64),
                  hidden: int = 128, name: str = "encoder") -> keras.Model:
    """``q_phi(z|x)``: images ``(N, 28, 28, 1)`` in [0, 1] -> ``[mu, log_var]``, each
    ``(N, latent_dim)``.

    Two 3x3 stride-2 ReLU convolutions (28 -> 14 -> 7), a dense ReLU layer of ``hidden`` units,
    and two linear heads: the mean ``mu`` and the log-variance ``log sigma^2`` (a log so that
    the network's unconstrained output always gives a positive variance).
    """
    _check_dims(latent_dim, filters, hidden, "build_encoder")
    x_in = keras.Input(image_shape, name="x")
    h = layers.Conv2D(filters[0], 3, strides=2, padding="same", activation="relu",
                      name="conv1")(x_in)
    h = layers.Conv2D(filters[1], 3, strides=2, padding="same", activation="relu",
                      name="conv2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dense(hidden, activation="relu", name="dense")(h)
    mu = layers.Dense(latent_dim, name="mu")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(x_in, [mu, log_var], name=name)


def build_decoder(latent_dim: int = 2, *, image_shape=(28, 28, 1), filters=(32, 64),
                  hidden: int = 128, name: str = "decoder") -> keras.Model:
    """``p_theta(x|z)``: latents ``(N, latent_dim)`` -> Bernoulli logits ``(N, 28, 28, 1)``.

    The encoder mirrored: dense ReLU layers to a 7x7 map, two 3x3 stride-2 transposed ReLU
    convolutions (7 -> 14 -> 28) and a linear 3x3 convolution to one logit per pixel
    (``sigmoid(logit)`` is the probability that the pixel is 1).
    """
    _check_dims(latent_dim, filters, hidden, "build_decoder")
    h0, w0 = image_shape[0] // 4, image_shape[1] // 4
    if h0 * 4 != image_shape[0] or w0 * 4 != image_shape[1]:
        raise ValueError(f"build_decoder: image height and width must be multiples of 4 "
                         f"(two stride-2 layers), got {image_shape}.")
    z_in = keras.Input((latent_dim,), name="z")
    h = layers.Dense(hidden, activation="relu", name="dense")(z_in)
    h = layers.Dense(h0 * w0 * filters[1], activation="relu", name="dense_map")(h)
    h = layers.Reshape((h0, w0, filters[1]), name="reshape")(h)
    h = layers.Conv2DTranspose(filters[1], 3, strides=2, padding="same", activation="relu",
                               name="deconv1")(h)
    h = layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same", activation="relu",
                               name="deconv2")(h)
    logits = layers.Conv2D(image_shape[2], 3, padding="same", name="logits")(h)
    return keras.Model(z_in, logits, name=name)


# ---------------------------------------------------------------------------------------------
# the formulas (keras.ops; inputs are tensors or arrays, outputs tensors)
# ---------------------------------------------------------------------------------------------

def kl_normal(mu, log_var):
    """Closed-form ``KL(N(mu, diag(sigma^2)) || N(0, I))`` per example, shape ``(N,)``.

    ``mu``, ``log_var``: ``(N, d)``. Per dimension the KL is
    ``(mu^2 + sigma^2 - 1 - log sigma^2) / 2``, summed over the ``d`` latent dimensions (nats).
    """
    return 0.5 * ops.sum(ops.square(mu) + ops.exp(log_var) - 1.0 - log_var, axis=-1)


def reparameterize(mu, log_var, seed=None):
    """A sample ``z = mu + sigma * eps``, ``eps ~ N(0, I)``, ``sigma = exp(log_var / 2)``.

    ``mu``, ``log_var``: ``(N, d)``; returns ``(N, d)``. The randomness is in ``eps`` alone, so
    ``z`` is a differentiable function of ``mu`` and ``log_var`` (dz/dmu = 1,
    dz/dlog_var = sigma * eps / 2): gradients of anything computed from ``z`` reach the encoder.
    ``seed``: an int, a ``keras.random.SeedGenerator`` or ``None``.
    """
    dtype = keras.backend.standardize_dtype(mu.dtype)
    eps = keras.random.normal(ops.shape(mu), seed=seed, dtype=dtype)
    return mu + ops.exp(0.5 * log_var) * eps


def log_normal(z, mu=None, log_var=None):
    """``log N(z; mu, diag(exp(log_var)))`` summed over the last axis; ``N(0, I)`` when
    ``mu`` and ``log_var`` are ``None``. ``z``: ``(..., d)``; returns ``(...)`` (nats)."""
    if mu is None:
        return -0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)
    return -0.5 * ops.sum(ops.square(z - mu) * ops.exp(-log_var) + log_var + LOG_2PI, axis=-1)


def kl_monte_carlo(mu, log_var, n_samples: int = 1000, seed=None):
    """Monte-Carlo estimate of the KL above: the mean over ``n_samples`` draws
    ``z ~ q(z|x)`` of ``log q(z|x) - log N(z; 0, I)``. Returns ``(mean, standard error)``,
    each ``(N,)``, so that ``|closed form - mean|`` can be compared with the sampling error."""
    if int(n_samples) < 2:
        raise ValueError(f"kl_monte_carlo: n_samples must be >= 2, got {n_samples!r}.")
    mu = ops.convert_to_tensor(mu, "float32")
    log_var = ops.convert_to_tensor(log_var, "float32")
    mu_k = ops.repeat(ops.expand_dims(mu, 0), n_samples, axis=0)  # (S, N, d)
    lv_k = ops.repeat(ops.expand_dims(log_var, 0), n_samples, axis=0)
    z = reparameterize(mu_k, lv_k, seed=seed)
    terms = log_normal(z, mu_k, lv_k) - log_normal(z)  # (S, N)
    mean = ops.mean(terms, axis=0)
    stderr = ops.std(terms, axis=0) / math.sqrt(n_samples)
    return mean, stderr


def bernoulli_log_likelihood(x, logits):
    """``log p(x|z)`` of binary pixels under Bernoulli(sigmoid(logits)), summed over H, W, C.

    ``x``: ``(N, H, W, C)`` in {0, 1} (or [0, 1]: then it is minus the binary cross-entropy);
    ``logits``: same shape. Returns ``(N,)`` nats, ``<= 0`` for binary ``x``. Computed stably as
    ``x * l - softplus(l)``.
    """
    return ops.sum(x * logits - ops.softplus(logits), axis=(1, 2, 3))


def reconstruction_loss(x, logits, reduction: str = "sum"):
    """``-log p(x|z)`` per example, ``(N,)``: ``reduction="sum"`` sums the 784 pixels' binary
    cross-entropies (the likelihood, the right weight against the KL); ``"mean"`` averages them
    (the common pitfall: the reconstruction counts 784 times less, and the KL wins)."""
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reconstruction_loss: reduction must be 'sum' or 'mean', "
                         f"got {reduction!r}.")
    nll = -bernoulli_log_likelihood(x, logits)
    if reduction == "mean":
        nll = nll / float(np.prod(x.shape[1:]))
    return nll


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

def _tf():
    import tensorflow as tf

    return tf


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class VAE(keras.Model):
    """Encoder + reparameterization + decoder, trained on ``recon + beta * KL`` (per image,
    averaged over the batch).

    Args:
        encoder: images ``(N, H, W, 1)`` in [0, 1] -> ``[mu, log_var]`` (``build_encoder``).
        decoder: ``z`` -> Bernoulli logits of the image's shape (``build_decoder``).
        beta: weight of the KL term (1 = the ELBO; Higgins et al.'s beta-VAE otherwise).
        reconstruction: ``"sum"`` (the likelihood) or ``"mean"`` (per-pixel average: the
            pitfall shown in chapter 5).
        dynamic_binarization: draw binary images ``x ~ Bernoulli(intensity)`` in every training
            step (the inputs are intensities in [0, 1]); binary inputs are left unchanged.
        seed: seeds the binarization and the ``eps`` of the reparameterization.

    ``fit`` / ``evaluate`` report ``loss`` (the objective), ``reconstruction`` (``-log p(x|z)``
    with the summed form whichever ``reconstruction`` trains) and ``kl``, in nats per image.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, beta: float = 1.0,
                 reconstruction: str = "sum", dynamic_binarization: bool = True,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if not float(beta) >= 0.0:
            raise ValueError(f"VAE: beta must be >= 0, got {beta!r}.")
        if reconstruction not in ("sum", "mean"):
            raise ValueError(f"VAE: reconstruction must be 'sum' or 'mean', got "
                             f"{reconstruction!r}.")
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = int(encoder.output_shape[0][-1])
        if decoder.input_shape[-1] != self.latent_dim:
            raise ValueError(f"VAE: the encoder gives {self.latent_dim} latent dimensions but "
                             f"the decoder takes {decoder.input_shape[-1]}.")
        self.beta = float(beta)
        self.reconstruction = reconstruction
        self.dynamic_binarization = bool(dynamic_binarization)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "kl")}
        self.built = True  # the encoder and decoder are built models

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, x, training=False):
        """Reconstruction logits of ``x`` through one sample ``z ~ q(z|x)``."""
        mu, log_var = self.encoder(x, training=training)
        return self.decoder(reparameterize(mu, log_var, seed=self.seed_generator),
                            training=training)

    def compute_terms(self, x, training=False):
        """The per-image terms ``(objective, -log p(x|z), KL)``, each ``(N,)``, one ``z``."""
        mu, log_var = self.encoder(x, training=training)
        z = reparameterize(mu, log_var, seed=self.seed_generator)
        logits = self.decoder(z, training=training)
        kl = kl_normal(mu, log_var)
        nll = reconstruction_loss(x, logits, "sum")
        recon = reconstruction_loss(x, logits, self.reconstruction)
        return recon + self.beta * kl, nll, kl

    def _binarize(self, x):
        if not self.dynamic_binarization:
            return x
        u = keras.random.uniform(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        return ops.cast(u < x, x.dtype)

    def _record(self, loss, nll, kl):
        for name, value in (("loss", loss), ("reconstruction", nll), ("kl", kl)):
            self.trackers[name].update_state(ops.mean(value))
        return {name: t.result() for name, t in self.trackers.items()}

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        x = self._binarize(ops.cast(x, "float32"))
        with _tf().GradientTape() as tape:
            loss, nll, kl = self.compute_terms(x, training=True)
            mean_loss = ops.mean(loss)
        grads = tape.gradient(mean_loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._record(loss, nll, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        x = self._binarize(ops.cast(x, "float32"))
        return self._record(*self.compute_terms(x, training=False))

    def get_config(self):
        return {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta, "reconstruction": self.reconstruction,
            "dynamic_binarization": self.dynamic_binarization, "seed": self.seed,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def build_vae(latent_dim: int = 2, *, filters=(32, 64), hidden: int = 128, beta: float = 1.0,
              reconstruction: str = "sum", seed: int = 0, learning_rate: float = 1e-3) -> VAE:
    """A compiled :class:`VAE` (Adam) with the encoder and decoder above, for 28x28x1 images."""
    model = VAE(build_encoder(latent_dim, filters=filters, hidden=hidden),
                build_decoder(latent_dim, filters=filters, hidden=hidden), beta=beta,
                reconstruction=reconstruction, seed=seed, name=f"vae_{latent_dim}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def train_vae(model: VAE, x_train, *, epochs: int, batch_size: int = 128, validation=None,
              log_path=None, seed: int = 0) -> dict[str, list[float]]:
    """``model.fit`` without console output; the per-epoch log goes to ``log_path`` (CSV).

    ``x_train``: ``(N, 28, 28, 1)`` intensities in [0, 1]; ``validation``: binary images.
    Returns the history (``loss``, ``reconstruction``, ``kl`` and ``val_*``), nats per image.
    """
    x_train = _check_images(x_train, "train_vae")
    if validation is not None:
        validation = _check_images(validation, "train_vae (validation)")
    keras.utils.set_random_seed(seed)
    callbacks = [keras.callbacks.CSVLogger(str(log_path))] if log_path else []
    history = model.fit(x_train, epochs=int(epochs), batch_size=int(batch_size), shuffle=True,
                        validation_data=(validation,) if validation is not None else None,
                        callbacks=callbacks, verbose=0)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


# ---------------------------------------------------------------------------------------------
# evaluation: encoder outputs, ELBO, importance-weighted bound, active units, probe
# ---------------------------------------------------------------------------------------------

def encode(model: VAE, x, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, log_var)`` of ``q(z|x)`` for images ``(N, 28, 28, 1)`` in [0, 1]; each
    ``(N, latent_dim)`` float32."""
    x = _check_images(x, "encode")
    mus, lvs = [], []
    for i in range(0, len(x), batch_size):
        mu, lv = model.encoder(x[i:i + batch_size], training=False)
        mus.append(ops.convert_to_numpy(mu))
        lvs.append(ops.convert_to_numpy(lv))
    return np.concatenate(mus), np.concatenate(lvs)


def elbo(model: VAE, x, *, n_samples: int = 1, batch_size: int = 500, seed: int = 0):
    """The ELBO ``E_q[log p(x|z)] - KL(q(z|x) || N(0, I))`` per image, in nats.

    ``x``: binary images ``(N, 28, 28, 1)``. The expectation is estimated with ``n_samples``
    draws of ``z``; the KL is exact. Returns ``(elbo, log_likelihood_term, kl)``, each ``(N,)``
    float64 (``elbo <= log p(x)`` for every image).
    """
    x = _check_images(x, "elbo", binary=True)
    gen = keras.random.SeedGenerator(seed)
    lls, kls = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        mu, lv = model.encoder(xb, training=False)
        ll = 0.0
        for _ in range(int(n_samples)):
            logits = model.decoder(reparameterize(mu, lv, seed=gen), training=False)
            ll = ll + ops.convert_to_numpy(bernoulli_log_likelihood(xb, logits))
        lls.append(np.asarray(ll, np.float64) / n_samples)
        kls.append(ops.convert_to_numpy(kl_normal(mu, lv)).astype(np.float64))
    ll, kl = np.concatenate(lls), np.concatenate(kls)
    return ll - kl, ll, kl


def iwae_bound(model: VAE, x, k: int = 100, *, batch_size: int = 50, seed: int = 0):
    """The importance-weighted bound (Burda et al. 2016) per image, in nats:

        L_k = log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),

    with ``L_1 = ELBO <= L_k <= log p(x)`` and ``L_k -> log p(x)`` as ``k`` grows: an estimate
    of the log-likelihood. ``x``: binary images ``(N, 28, 28, 1)``. Returns ``(N,)`` float64.
    ``batch_size`` images are decoded ``k`` times together.
    """
    x = _check_images(x, "iwae_bound", binary=True)
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"iwae_bound: k must be a positive int, got {k!r}.")
    k = int(k)
    gen = keras.random.SeedGenerator(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        n = len(xb)
        mu, lv = model.encoder(xb, training=False)
        mu_k = ops.repeat(mu, k, axis=0)  # (n*k, d): image j's k samples are rows j*k .. j*k+k-1
        lv_k = ops.repeat(lv, k, axis=0)
        z = reparameterize(mu_k, lv_k, seed=gen)
        logits = model.decoder(z, training=False)
        log_w = (bernoulli_log_likelihood(ops.repeat(xb, k, axis=0), logits)
                 + log_normal(z) - log_normal(z, mu_k, lv_k))
        log_w = ops.reshape(log_w, (n, k))
        out.append(ops.convert_to_numpy(ops.logsumexp(log_w, axis=1)).astype(np.float64)
                   - math.log(k))
    return np.concatenate(out)


def active_units(mu, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """Latent dimensions the model uses (Burda et al. 2016): unit ``u`` is active when
    ``Cov_x(E_q[z_u | x]) = Var_x(mu_u) > threshold``.

    ``mu``: the encoder means ``(N, d)`` over a data set. Returns ``(count, variances (d,))``.
    A collapsed unit has ``mu_u ~ 0`` for every ``x``: ``q(z_u|x) = p(z_u)`` carries nothing.
    """
    mu = np.asarray(mu, np.float64)
    if mu.ndim != 2 or len(mu) < 2:
        raise ValueError(f"active_units: expected encoder means (N >= 2, d), got {mu.shape}.")
    var = mu.var(axis=0)
    return int((var > threshold).sum()), var


def linear_probe(train_features, train_labels, test_features, test_labels, *,
                 n_classes: int = 10, steps: int = 500, learning_rate: float = 0.5,
                 l2: float = 1e-4) -> float:
    """Test accuracy of a multinomial logistic regression fitted to features (NumPy).

    ``*_features``: ``(N, d)``, standardized with the training mean and std; ``*_labels``:
    ``(N,)`` ints in ``0..n_classes-1``. Full-batch gradient descent, ``steps`` steps,
    deterministic. Returns the accuracy in [0, 1]: how much of the label a *linear* read-out
    of the features finds.
    """
    xtr, xte = np.asarray(train_features, np.float64), np.asarray(test_features, np.float64)
    ytr, yte = np.asarray(train_labels, np.int64), np.asarray(test_labels, np.int64)
    if xtr.ndim != 2 or xte.ndim != 2 or xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"linear_probe: features must be (N, d) with the same d, got "
                         f"{xtr.shape} and {xte.shape}.")
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError("linear_probe: features and labels must have the same length.")
    if ytr.min() < 0 or ytr.max() >= n_classes:
        raise ValueError(f"linear_probe: labels must be in 0..{n_classes - 1}.")
    mean, std = xtr.mean(0), xtr.std(0) + 1e-8
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    w = np.zeros((xtr.shape[1], n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[ytr]
    for _ in range(int(steps)):
        logits = xtr @ w + b
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(xtr)
        w -= learning_rate * (xtr.T @ g + l2 * w)
        b -= learning_rate * g.sum(0)
    return float(((xte @ w + b).argmax(1) == yte).mean())


def forward_flops(model: keras.Model) -> int:
    """Floating-point operations (2 x multiply-adds) of one image's forward pass through the
    ``Conv2D``, ``Conv2DTranspose`` and ``Dense`` layers of ``model`` (biases and activations
    left out). Training costs about 3 times this (forward + backward)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):  # every input pixel meets k*k*Cout weights
            _, h, w, c_in = layer.input.shape
            total += h * w * int(np.prod(layer.kernel_size)) * c_in * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            total += h * w * int(np.prod(layer.kernel_size)) * layer.input.shape[-1] * c_out
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return 2 * int(total)


def layer_table(model: keras.Model) -> str:
    """A compact markdown table (layer, output shape, parameters) instead of ``summary()``."""
    rows = ["| layer | output shape | parameters |", "|---|---|---|"]
    for layer in model.layers:
        shape = layer.output.shape if hasattr(layer, "output") else "?"
        if isinstance(layer.output, (list, tuple)):
            shape = layer.output[0].shape
        rows.append(f"| `{layer.name}` ({type(layer).__name__}) | {tuple(shape)} | "
                    f"{layer.count_params():,} |")
    rows.append(f"| **total** | | **{model.count_params():,}** |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------

def plot_vae_diagram():
    """The VAE as a block diagram: x -> encoder -> (mu, log sigma^2) -> z = mu + sigma * eps
    -> decoder -> p(x|z), with eps ~ N(0, I) entering from the side and the two loss terms.
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(11, 3.4))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 3.4)
    ax.axis("off")

    def box(x, y, w, h, text, color):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=color,
                                    ec="#333333", lw=1))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=10)

    def arrow(x0, y0, x1, y1, style="-|>", color="#333333", ls="-"):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=14,
                                     color=color, lw=1.3, linestyle=ls))

    box(0.1, 1.3, 0.9, 0.8, "$x$\nimage", "#eeeeee")
    box(1.4, 1.1, 1.6, 1.2, "encoder\n$q_\\phi(z|x)$", "#cfe2f3")
    box(3.5, 2.0, 1.1, 0.6, "$\\mu$", "#fff2cc")
    box(3.5, 0.8, 1.1, 0.6, "$\\log \\sigma^2$", "#fff2cc")
    box(5.3, 1.3, 1.8, 0.8, "$z = \\mu + \\sigma \\odot \\epsilon$", "#d9ead3")
    box(5.55, 0.05, 1.3, 0.55, "$\\epsilon \\sim N(0, I)$", "#f4cccc")
    box(7.6, 1.1, 1.6, 1.2, "decoder\n$p_\\theta(x|z)$", "#cfe2f3")
    box(9.7, 1.3, 1.2, 0.8, "$\\hat{x}$\nlogits", "#eeeeee")
    arrow(1.0, 1.7, 1.4, 1.7)
    arrow(3.0, 1.9, 3.5, 2.3)
    arrow(3.0, 1.5, 3.5, 1.1)
    arrow(4.6, 2.3, 5.3, 1.85)
    arrow(4.6, 1.1, 5.3, 1.55)
    arrow(6.2, 0.6, 6.2, 1.3, color="#cc0000")
    arrow(7.1, 1.7, 7.6, 1.7)
    arrow(9.2, 1.7, 9.7, 1.7)
    ax.text(4.05, 3.05, "KL$(q_\\phi(z|x)\\,\\|\\,N(0, I))$: closed form from $\\mu$, "
            "$\\log\\sigma^2$", ha="left", fontsize=9, color="#7f6000")
    ax.text(7.9, 2.75, "$-\\log p_\\theta(x|z)$: reconstruction,\nsummed over pixels",
            ha="left", fontsize=9, color="#1f4e79")
    ax.text(6.95, 0.3, "randomness only here: gradients flow\nthrough $\\mu$ and $\\sigma$ "
            "(green), not through $\\epsilon$", ha="left", fontsize=8, color="#cc0000")
    fig.tight_layout()
    return fig


def plot_latent_scatter(mu, labels, *, title: str | None = None, max_points: int = 10000):
    """2-D encoder means ``mu`` ``(N, 2)`` coloured by digit label ``(N,)``; returns the figure."""
    import matplotlib.pyplot as plt

    mu = np.asarray(mu)
    if mu.ndim != 2 or mu.shape[1] != 2:
        raise ValueError(f"plot_latent_scatter: expected 2-D latents (N, 2), got {mu.shape}.")
    mu, labels = mu[:max_points], np.asarray(labels)[:max_points]
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", s=2, alpha=0.6,
                        vmin=-0.5, vmax=9.5)
    cbar = fig.colorbar(points, ax=ax, ticks=range(10))
    cbar.set_label("digit")
    ax.set_xlabel(r"$\mu_1$")
    ax.set_ylabel(r"$\mu_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_manifold(decoder: keras.Model, n: int = 15, *, title: str | None = None):
    """Decode an ``n x n`` grid of 2-D latents at the prior's quantiles ``Phi^-1(p)``,
    ``p`` evenly spaced in (0, 1) (Kingma and Welling's figure); shows ``sigmoid(logits)``."""
    import matplotlib.pyplot as plt

    if decoder.input_shape[-1] != 2:
        raise ValueError("plot_manifold: needs a decoder with a 2-D latent space.")
    p = (np.arange(n) + 0.5) / n
    q = np.sqrt(2.0) * ops.convert_to_numpy(ops.erfinv(ops.convert_to_tensor(2 * p - 1)))
    zz = np.array([[a, b] for b in q[::-1] for a in q], np.float32)
    img = ops.convert_to_numpy(ops.sigmoid(decoder(zz, training=False)))[..., 0]
    h, w = img.shape[1:]
    canvas = img.reshape(n, n, h, w).transpose(0, 2, 1, 3).reshape(n * h, n * w)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(canvas, cmap="gray", extent=(0, n, 0, n))
    ticks = np.arange(n) + 0.5
    ax.set_xticks(ticks[::2], [f"{v:.1f}" for v in q[::2]])
    ax.set_yticks(ticks[::2], [f"{v:.1f}" for v in q[::2]])
    ax.set_xlabel(r"$z_1$")
    ax.set_ylabel(r"$z_2$")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
