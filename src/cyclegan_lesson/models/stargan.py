"""StarGAN (chapter 10): one generator ``G(x, c)`` for k domains (Choi et al. 2018).

CycleGAN (chapter 11) learns one pair of translators per pair of domains: for k domains that is
k(k-1) generators. StarGAN learns **one** generator that takes the image ``x`` *and* the target
domain's label ``c`` (a one-hot vector, tiled into constant planes stacked onto the image, as
chapter 8 feeds a label to its discriminator), and **one** discriminator with two heads,
``D: x -> {D_src(x), D_cls(x)}``: a realism score (a WGAN-GP critic, chapter 7) and logits over
the k domains. The losses (``c'`` = the source domain of ``x``):

* adversarial, WGAN-GP: ``L_adv = E[D_src(x)] - E[D_src(G(x, c))] - lambda_gp E[(||grad D_src(x_hat)|| - 1)^2]``;
* domain classification: on **real** images for D, ``L_cls^r = E[-log D_cls(c'|x)]``; on
  **translations** for G, ``L_cls^f = E[-log D_cls(c|G(x, c))]``;
* reconstruction (the cycle loss): ``L_rec = E[||x - G(G(x, c), c')||_1]``;
* ``L_D = -L_adv + lambda_cls L_cls^r``, ``L_G = L_adv + lambda_cls L_cls^f + lambda_rec L_rec``
  (paper: lambda_cls = 1, lambda_rec = 10, lambda_gp = 10, five critic steps per G step).

For several data sets with different labels (CelebA's attributes, RaFD's expressions) the label
becomes the **mask vector** layout ``[c_1, ..., c_n, m]`` (:func:`label_vector`): every data
set's label block, zeros where the image has no label, and a one-hot ``m`` naming the data set
whose block is meaningful; D's classification loss then counts only that data set's logits
(:func:`active_logits`, :func:`domain_classification_loss`).

The domains here are :mod:`cyclegan_lesson.digit_domains` (MNIST digits in 7 styles whose
ground truth is known). :func:`train` trains (resumably) the shipped generator
``models/stargan_digits/generator.keras``:

    python -m cyclegan_lesson.models.stargan --out models/stargan_digits
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from .. import digit_domains
from ..nn import networks
from ..nn.losses import cycle_loss, gradient_penalty, wgan_critic_loss, wgan_generator_loss
from . import gan

__all__ = [
    "DEFAULT_RECIPE",
    "SHIPPED_GENERATOR",
    "StarGAN",
    "active_logits",
    "build_stargan_discriminator",
    "build_stargan_generator",
    "domain_classification_loss",
    "evaluate_translations",
    "label_vector",
    "load_generator",
    "load_shipped_generator",
    "main",
    "make_stargan",
    "train",
    "train_stargan",
    "translate",
    "translate_to_all",
    "translator_count",
]

#: Path of the shipped generator under ``models/`` (see :mod:`cyclegan_lesson.pretrained`).
SHIPPED_GENERATOR = "stargan_digits/generator.keras"

#: The recipe of the shipped generator: a small version of the paper's networks (ResNet
#: generator with ``ngf`` filters and ``n_blocks`` residual blocks at 32x32; a critic of
#: ``ndf``, 2 ``ndf``, 4 ``ndf`` channels), the paper's loss weights and Adam settings.
DEFAULT_RECIPE = dict(ngf=8, n_blocks=2, ndf=16, lambda_cls=1.0, lambda_rec=10.0,
                      lambda_gp=10.0, n_critic=1, batch_size=16, learning_rate=2e-4,
                      beta_1=0.5, beta_2=0.999, steps=8000, train_limit=21000, seed=0)


def _check_positive(**values):
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}.")


# ---------------------------------------------------------------------------------------------
# labels: one-hot domains and the mask vector
# ---------------------------------------------------------------------------------------------

def _int_labels(labels, n_classes: int, who: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"{who}: labels must be a 1-D array of class indices (N,), got shape "
                         f"{y.shape}.")
    if y.size and (not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{who}: labels must be integers in 0..{n_classes - 1}, got "
                         f"{y.min() if y.size else ''}..{y.max() if y.size else ''}.")
    return y.astype(np.int64)


def label_vector(labels, dataset=None, sizes: Sequence[int] = (digit_domains.NUM_DOMAINS,)
                 ) -> np.ndarray:
    """The label ``c`` given to ``G`` and tiled for it: float32 ``(N, L)``.

    One data set (``sizes = (k,)``): the one-hot domain, ``L = k``. Several data sets
    (``sizes = (k_1, ..., k_n)``): the **mask vector** layout ``[c_1, ..., c_n, m]`` with
    ``L = k_1 + ... + k_n + n``: sample ``i`` from data set ``dataset[i]`` has the one-hot of
    ``labels[i]`` in that data set's block, zeros in the other blocks (its labels there are
    unknown) and the one-hot ``m`` of ``dataset[i]`` at the end."""
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"label_vector: sizes must be positive label counts, got {sizes}.")
    y = np.asarray(labels)
    if len(sizes) == 1:
        y = _int_labels(y, sizes[0], "label_vector")
        return np.eye(sizes[0], dtype=np.float32)[y]
    if dataset is None:
        raise ValueError("label_vector: with several data sets pass dataset (N,), the index of "
                         "the data set each label belongs to.")
    ds = _int_labels(dataset, len(sizes), "label_vector")
    if y.shape != ds.shape:
        raise ValueError(f"label_vector: labels {y.shape} and dataset {ds.shape} must have one "
                         "entry per sample.")
    offsets = np.cumsum([0] + sizes)
    out = np.zeros((len(y), offsets[-1] + len(sizes)), np.float32)
    for j, k in enumerate(sizes):
        idx = np.flatnonzero(ds == j)
        yj = _int_labels(y[idx], k, f"label_vector (data set {j})")
        out[idx, offsets[j] + yj] = 1.0
        out[idx, offsets[-1] + j] = 1.0
    return out


def active_logits(dataset, sizes: Sequence[int]) -> np.ndarray:
    """``(N, k_1 + ... + k_n)`` float32 0/1: which of D's classification logits belong to each
    sample's data set (the logits its classification loss may count)."""
    sizes = [int(s) for s in sizes]
    ds = _int_labels(dataset, len(sizes), "active_logits")
    offsets = np.cumsum([0] + sizes)
    out = np.zeros((len(ds), offsets[-1]), np.float32)
    for j in range(len(sizes)):
        out[ds == j, offsets[j]:offsets[j + 1]] = 1.0
    return out


def domain_classification_loss(logits, labels, active=None):
    """``E[-log D_cls(c|x)]``: softmax cross-entropy of D's domain logits ``(N, K)`` against
    integer ``labels`` ``(N,)`` (indices into the K logits), averaged over the batch.

    ``active`` ``(N, K)`` 0/1 (:func:`active_logits`): the softmax runs over each sample's
    active logits only (the other data sets' labels are not its business), so with the mask
    vector a CelebA image is never pushed away from a RaFD expression."""
    logits = ops.cast(ops.convert_to_tensor(logits), "float32")
    labels = ops.cast(ops.convert_to_tensor(labels), "int32")
    if len(logits.shape) != 2 or len(labels.shape) != 1:
        raise ValueError(f"domain_classification_loss: expected logits (N, K) and labels (N,), "
                         f"got {tuple(logits.shape)} and {tuple(labels.shape)}.")
    if active is not None:
        active = ops.cast(ops.convert_to_tensor(active), "float32")
        logits = logits + (1.0 - active) * -1e9
    log_p = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    picked = ops.take_along_axis(log_p, ops.expand_dims(labels, -1), axis=-1)
    return -ops.mean(picked)


# ---------------------------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------------------------

def build_stargan_generator(label_dim: int = digit_domains.NUM_DOMAINS, *, ngf: int = 8,
                            n_blocks: int = 2, image_size: int = 32, channels: int = 3,
                            name: str = "stargan_generator") -> keras.Model:
    """``G(x, c)``: inputs ``image`` float32 ``(N, S, S, channels)`` in [-1, 1] and ``c`` float32
    ``(N, label_dim)`` (:func:`label_vector`); output ``(N, S, S, channels)`` in [-1, 1].

    ``c`` is tiled into ``label_dim`` constant planes and stacked onto the image. A 1x1
    convolution with ReLU mixes each pixel with the label (``relu(W x + V c + b)``), then the
    CycleGAN ResNet generator (:func:`cyclegan_lesson.nn.networks.resnet_generator`, ``n_blocks``
    residual blocks) reads its ``ngf`` channels. The stem matters: fed straight into the
    ResNet generator, the constant planes only add a per-channel constant after its first
    (linear) convolution, and instance normalization subtracts exactly that, so ``G`` would
    ignore ``c``; the ReLU makes the label's effect depend on the pixel."""
    _check_positive(label_dim=label_dim, ngf=ngf, n_blocks=n_blocks, channels=channels)
    s, k = int(image_size), int(label_dim)
    image = keras.Input((s, s, int(channels)), name="image")
    c = keras.Input((k,), name="c")
    planes = layers.UpSampling2D((s, s), name="tile_c")(layers.Reshape((1, 1, k),
                                                                       name="c_as_pixel")(c))
    xc = layers.Concatenate(axis=-1, name="image_and_c")([image, planes])
    h = layers.Conv2D(int(ngf), 1, name="label_stem")(xc)
    h = layers.ReLU(name="label_stem_relu")(h)
    body = networks.resnet_generator(int(n_blocks), int(ngf), image_size=s, in_channels=int(ngf),
                                     out_channels=int(channels), upsample="resize",
                                     name="resnet_generator")
    return keras.Model([image, c], body(h), name=name)


def build_stargan_discriminator(num_domains: int = digit_domains.NUM_DOMAINS, *, ndf: int = 16,
                                n_layers: int = 3, image_size: int = 32, channels: int = 3,
                                name: str = "stargan_discriminator") -> keras.Model:
    """``D: x -> {D_src(x), D_cls(x)}``: input ``(N, S, S, channels)`` in [-1, 1]; outputs
    ``src`` ``(N, S/2^n, S/2^n, 1)`` (critic scores per patch, no sigmoid) and ``cls``
    ``(N, num_domains)`` (domain logits).

    The paper's layout, scaled down: ``n_layers`` 4x4 stride-2 convolutions (``ndf``, 2 ``ndf``,
    ...) with LeakyReLU(0.01) and **no normalization** (the gradient penalty is per sample, a
    batch statistic would couple the samples), then two heads on the shared features: a 3x3
    convolution to one channel and a convolution as large as the feature map to the logits."""
    _check_positive(num_domains=num_domains, ndf=ndf, n_layers=n_layers, channels=channels)
    s = int(image_size)
    if s % (2 ** int(n_layers)):
        raise ValueError(f"build_stargan_discriminator: image_size {s} must be divisible by "
                         f"2^n_layers = {2 ** int(n_layers)}.")
    image = keras.Input((s, s, int(channels)), name="image")
    h = image
    for i in range(int(n_layers)):
        h = layers.Conv2D(int(ndf) * 2 ** i, 4, strides=2, padding="same", name=f"conv{i}")(h)
        h = layers.LeakyReLU(0.01, name=f"lrelu{i}")(h)
    src = layers.Conv2D(1, 3, padding="same", use_bias=False, name="src")(h)
    side = s // 2 ** int(n_layers)
    cls = layers.Conv2D(int(num_domains), side, padding="valid", use_bias=False,
                        name="cls_conv")(h)
    cls = layers.Reshape((int(num_domains),), name="cls")(cls)
    return keras.Model(image, {"src": src, "cls": cls}, name=name)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

class StarGAN(gan.TwoPlayerModel):
    """One ``G(x, c)`` and one two-headed ``D`` trained on images of k domains.

    ``train_step`` takes ``(images, domains)`` (``(n_critic * m, S, S, C)`` in [-1, 1] and their
    source domains ``(n_critic * m,)``): ``n_critic`` critic steps, each on its own slice of
    ``m`` images, then one generator step on the last slice. Targets are drawn uniformly from
    the k domains. ``fit`` reports ``d_loss``, ``d_adv`` (``-L_adv`` estimate of W), ``d_cls``
    (``L_cls^r``), ``gp``, ``g_loss``, ``g_adv``, ``g_cls`` (``L_cls^f``), ``g_rec``, and
    ``cls_acc_real`` (D's domain accuracy on the real slice)."""

    METRICS = ("d_loss", "d_adv", "d_cls", "gp", "g_loss", "g_adv", "g_cls", "g_rec",
               "cls_acc_real")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 num_domains: int = digit_domains.NUM_DOMAINS, lambda_cls: float = 1.0,
                 lambda_rec: float = 10.0, lambda_gp: float = 10.0, n_critic: int = 1,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if len(generator.inputs) != 2:
            raise ValueError("StarGAN: the generator must take [image, c] "
                             "(build_stargan_generator).")
        if int(generator.inputs[1].shape[-1]) != int(num_domains):
            raise ValueError(f"StarGAN: the generator's label has {generator.inputs[1].shape[-1]} "
                             f"entries, expected num_domains = {num_domains} (one-hot).")
        for name, value in (("lambda_cls", lambda_cls), ("lambda_rec", lambda_rec),
                            ("lambda_gp", lambda_gp)):
            if float(value) < 0:
                raise ValueError(f"StarGAN: {name} must be >= 0, got {value}.")
        _check_positive(n_critic=n_critic)
        self.generator, self.discriminator = generator, discriminator
        self.num_domains = int(num_domains)
        self.lambda_cls, self.lambda_rec = float(lambda_cls), float(lambda_rec)
        self.lambda_gp, self.n_critic = float(lambda_gp), int(n_critic)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self._init_trackers()

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _src(self, x, training=True):
        return self.discriminator(x, training=training)["src"]

    def _random_targets(self, n):
        return keras.random.randint((n,), 0, self.num_domains, dtype="int32",
                                    seed=self.seed_generator)

    def _one_hot(self, labels):
        return ops.one_hot(labels, self.num_domains)

    def discriminator_step(self, real, c_org):
        """One D step: ``L_D = -L_adv + lambda_cls L_cls^r`` with the gradient penalty."""
        tf = gan._tf()
        c_trg = self._random_targets(ops.shape(real)[0])
        fake = self.generator([real, self._one_hot(c_trg)], training=True)
        with tf.GradientTape() as tape:
            out_real = self.discriminator(real, training=True)
            src_fake = self._src(fake)
            d_adv = wgan_critic_loss(out_real["src"], src_fake)   # E D(fake) - E D(real)
            d_cls = domain_classification_loss(out_real["cls"], c_org)
            gp = gradient_penalty(self._src, real, fake, seed=self.seed_generator)
            d_loss = d_adv + self.lambda_cls * d_cls + self.lambda_gp * gp
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
        acc = ops.mean(ops.cast(ops.argmax(out_real["cls"], axis=-1) == c_org, "float32"))
        return d_loss, -d_adv, d_cls, gp, acc

    def generator_step(self, real, c_org):
        """One G step: ``L_G = L_adv + lambda_cls L_cls^f + lambda_rec L_rec``."""
        tf = gan._tf()
        c_trg = self._random_targets(ops.shape(real)[0])
        with tf.GradientTape() as tape:
            fake = self.generator([real, self._one_hot(c_trg)], training=True)
            out_fake = self.discriminator(fake, training=True)
            g_adv = wgan_generator_loss(out_fake["src"])
            g_cls = domain_classification_loss(out_fake["cls"], c_trg)
            rec = self.generator([fake, self._one_hot(c_org)], training=True)
            g_rec = cycle_loss(real, rec)                         # mean |x - G(G(x, c), c')|
            g_loss = g_adv + self.lambda_cls * g_cls + self.lambda_rec * g_rec
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        return g_loss, g_adv, g_cls, g_rec

    def train_step(self, data):
        real, c_org = data
        real = ops.cast(real, "float32")
        c_org = ops.cast(c_org, "int32")
        m = ops.shape(real)[0] // self.n_critic
        d_out = []
        for k in range(self.n_critic):
            d_out.append(self.discriminator_step(real[k * m:(k + 1) * m], c_org[k * m:(k + 1) * m]))
        g_out = self.generator_step(real[-m:], c_org[-m:])
        d_mean = [ops.mean(ops.stack([o[i] for o in d_out])) for i in range(5)]
        values = dict(zip(("d_loss", "d_adv", "d_cls", "gp", "cls_acc_real"), d_mean))
        values.update(zip(("g_loss", "g_adv", "g_cls", "g_rec"), g_out))
        return self.report(values)


def make_stargan(*, num_domains: int = digit_domains.NUM_DOMAINS, ngf: int = 8,
                 n_blocks: int = 2, ndf: int = 16, lambda_cls: float = 1.0,
                 lambda_rec: float = 10.0, lambda_gp: float = 10.0, n_critic: int = 1,
                 learning_rate: float = 2e-4, beta_1: float = 0.5, beta_2: float = 0.999,
                 seed: int = 0) -> StarGAN:
    """A compiled :class:`StarGAN` of the two builders (Adam for both, the paper's settings),
    weights initialized from ``seed``."""
    keras.utils.set_random_seed(int(seed))
    model = StarGAN(build_stargan_generator(num_domains, ngf=ngf, n_blocks=n_blocks),
                    build_stargan_discriminator(num_domains, ndf=ndf),
                    num_domains=num_domains, lambda_cls=lambda_cls, lambda_rec=lambda_rec,
                    lambda_gp=lambda_gp, n_critic=n_critic, seed=seed)
    model.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2),
                  g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2))
    return model


def train_stargan(model: StarGAN, images, domains, *, steps: int, batch_size: int = 32,
                  chunk: int = 100, on_chunk=None, log_path=None, seed: int = 0) -> dict:
    """Train ``model`` for ``steps`` generator steps on ``images`` ``(N, S, S, C)`` with their
    source ``domains`` ``(N,)`` (``batch_size`` images per critic step), without console
    output; history and callbacks as :func:`cyclegan_lesson.models.gan.train_gan`."""
    if not isinstance(model, StarGAN):
        raise ValueError(  # noqa: TRY004 - the course raises ValueError for bad arguments
            f"train_stargan: expected a StarGAN, got {type(model).__name__}.")
    _int_labels(domains, model.num_domains, "train_stargan")
    logger = gan._tf().get_logger()        # successive models' training functions are traced
    level = logger.level                   # anew; TensorFlow warns about that "retracing"
    logger.setLevel("ERROR")
    try:
        return gan.train_gan(model, images, labels=np.asarray(domains, np.int32), steps=steps,
                             batch_size=int(batch_size) * model.n_critic, chunk=chunk,
                             on_chunk=on_chunk, log_path=log_path, seed=seed)
    finally:
        logger.setLevel(level)


# ---------------------------------------------------------------------------------------------
# translating and measuring
# ---------------------------------------------------------------------------------------------

def translate(generator: keras.Model, images, targets, *, batch_size: int = 500) -> np.ndarray:
    """``G(x, c)`` in inference mode for images ``(N, S, S, C)`` in [-1, 1] and target domains
    ``targets`` ``(N,)`` (or one int for all): ``(N, S, S, C)`` float32 in [-1, 1]."""
    x = np.asarray(images, np.float32)
    if x.ndim != 4:
        raise ValueError(f"translate: images must be NHWC (N, S, S, C), got shape {x.shape}.")
    k = int(generator.inputs[1].shape[-1])
    t = np.full(len(x), targets) if np.ndim(targets) == 0 else np.asarray(targets)
    if len(t) != len(x):
        raise ValueError(f"translate: {len(x)} images but {len(t)} targets.")
    c = label_vector(t, sizes=(k,))
    return np.concatenate([np.asarray(generator([x[i:i + batch_size], c[i:i + batch_size]],
                                                training=False))
                           for i in range(0, len(x), int(batch_size))]) if len(x) else x


def translate_to_all(generator: keras.Model, images, *, batch_size: int = 500) -> np.ndarray:
    """Every image translated to every domain: ``(k, N, S, S, C)``, ``[t]`` = ``G(x, t)``."""
    k = int(generator.inputs[1].shape[-1])
    return np.stack([translate(generator, images, t, batch_size=batch_size) for t in range(k)])


def evaluate_translations(generator: keras.Model, gray, digits, domain_judge: keras.Model,
                          digit_judge: keras.Model, *, seed: int = 0) -> dict:
    """The chapter's protocol on test digits whose ground truth exists in every domain.

    Test digit ``i`` (gray ``(N, 32, 32, 1)`` in [-1, 1], label ``digits[i]``) is shown in one
    source domain (:func:`cyclegan_lesson.digit_domains.make_split` with ``seed``) and
    translated to each of the k domains. For every target ``t``:

    * **target-domain accuracy**: the share of ``G(x, t)`` that ``domain_judge`` (a classifier
      trained on real images of the k domains, independent of D) reads as ``t``;
    * **content kept**: the share that ``digit_judge`` (reads digits in every domain) reads as
      the digit's label;
    * **PSNR** (dB) of ``G(x, t)`` against the ground truth ``transform(gray, t)``.

    Pairs with ``t`` equal to the source are reported apart (``"same"``: G should change
    nothing). Returns ``{"per_target": [{"accuracy", "content", "psnr", "n"}, ...],
    "cross": {...}, "same": {...}, "n_test"}``: the pooled ``"cross"`` and ``"same"`` entries
    carry Wilson 95 % intervals (``accuracy_interval``, ``content_interval``)."""
    from ..evaluation.classifiers import predict_labels
    from ..evaluation.metrics import binomial_interval, psnr

    y = np.asarray(digits)
    x_src, src, _ = digit_domains.make_split(gray, y, seed=seed)
    k = int(generator.inputs[1].shape[-1])
    hits_dom, hits_dig, psnrs, same = [], [], [], []
    per_target = []
    for t in range(k):
        fake = translate(generator, x_src, t)
        truth = digit_domains.transform(gray, t)
        hd = predict_labels(domain_judge, fake) == t
        hc = predict_labels(digit_judge, fake) == y
        p = np.minimum(psnr(fake, truth), 100.0)
        cross = src != t
        per_target.append({"domain": digit_domains.DOMAINS[t], "accuracy": float(hd[cross].mean()),
                           "content": float(hc[cross].mean()), "psnr": float(p[cross].mean()),
                           "n": int(cross.sum())})
        hits_dom.append(hd)
        hits_dig.append(hc)
        psnrs.append(p)
        same.append(~cross)
    hd, hc, p, s = (np.stack(v) for v in (hits_dom, hits_dig, psnrs, same))

    def pooled(mask):
        acc, con, n = float(hd[mask].mean()), float(hc[mask].mean()), int(mask.sum())
        return {"accuracy": acc, "accuracy_interval": binomial_interval(acc, n),
                "content": con, "content_interval": binomial_interval(con, n),
                "psnr": float(p[mask].mean()), "n": n}

    return {"per_target": per_target, "cross": pooled(~s), "same": pooled(s),
            "n_test": int(len(y))}


def translator_count(num_domains: int) -> dict:
    """How many models k domains need: one StarGAN ``G`` (and one ``D``) vs ``k(k-1)`` one-way
    CycleGAN-style translators (``k(k-1)/2`` CycleGANs of two generators and two
    discriminators each)."""
    _check_positive(num_domains=num_domains)
    k = int(num_domains)
    return {"stargan_generators": 1, "stargan_discriminators": 1,
            "cyclegan_models": k * (k - 1) // 2, "cyclegan_generators": k * (k - 1),
            "cyclegan_discriminators": k * (k - 1)}


# ---------------------------------------------------------------------------------------------
# the shipped generator: saving, loading, the resumable training
# ---------------------------------------------------------------------------------------------

def load_generator(path) -> keras.Model:
    """Load a StarGAN generator ``.keras`` file (clear ``FileNotFoundError`` if missing)."""
    from ..pretrained import load_keras_file

    return load_keras_file(path, "StarGAN generator")


def load_shipped_generator() -> tuple[keras.Model, dict]:
    """The shipped digit-domain generator and its ``generator.json`` record, found through
    :mod:`cyclegan_lesson.pretrained` (the checkout's ``models/stargan_digits``, else a
    verified download)."""
    from ..pretrained import shipped_model_and_record

    return shipped_model_and_record("stargan_digits", "generator.keras", "generator.json", "StarGAN generator")


def _training_set(data_dir, limit: int, seed: int):
    from ..evaluation.classifiers import load_digit_arrays

    gray, y = load_digit_arrays("mnist", "train", data_dir, limit=limit)
    return digit_domains.make_split(gray, y, seed=seed)


def train(out, *, data_dir=None, steps: int | None = None, checkpoint_every: int = 500,
          chunk: int = 100, on_progress: Callable[[str], None] = print, **recipe) -> dict:
    """Train a :class:`StarGAN` on the digit domains (``recipe`` overrides
    :data:`DEFAULT_RECIPE`; each training digit in one domain only), saving a checkpoint to
    ``<out>/checkpoint`` every ``checkpoint_every`` steps and continuing from it when it
    exists; at the end write ``<out>/generator.keras`` and ``generator.json`` (recipe, wall
    time, device, the loss history per ``chunk``). Returns the record."""
    from ..files import atomic
    from ..runinfo import device_summary
    from . import resumable

    cfg = dict(DEFAULT_RECIPE, **{k: v for k, v in recipe.items() if v is not None})
    if steps is not None:
        cfg["steps"] = int(steps)
    _check_positive(steps=cfg["steps"], checkpoint_every=checkpoint_every, chunk=chunk)
    if checkpoint_every % chunk or cfg["steps"] % chunk:
        raise ValueError(f"steps ({cfg['steps']}) and checkpoint_every ({checkpoint_every}) must "
                         f"be multiples of chunk ({chunk}).")
    out = Path(out)
    ckpt = out / "checkpoint"
    x, dom, _ = _training_set(data_dir, cfg["train_limit"], cfg["seed"])
    model = make_stargan(**{k: cfg[k] for k in ("ngf", "n_blocks", "ndf", "lambda_cls",
                                                "lambda_rec", "lambda_gp", "n_critic",
                                                "learning_rate", "beta_1", "beta_2", "seed")})
    def segment(done: int, seg: int):
        return train_stargan(model, x, dom, steps=seg, batch_size=cfg["batch_size"],
                             chunk=chunk, seed=cfg["seed"] + done), seg

    done, history = resumable.train_in_segments(
        model, ckpt, cfg["steps"], checkpoint_every, segment,
        lambda h: (f"d_adv {h['d_adv'][-1]:.3f} d_cls {h['d_cls'][-1]:.3f} g_cls "
                   f"{h['g_cls'][-1]:.3f} g_rec {h['g_rec'][-1]:.4f}"), on_progress)
    record = {"domains": list(digit_domains.DOMAINS), "recipe": cfg, "train_images": len(x),
              "steps_done": done, "train_wall_s": round(history["wall_s"], 1),
              "device": device_summary(), "keras": keras.__version__,
              "inputs": {"image": "float32 (32, 32, 3) in [-1, 1]",
                         "c": f"float32 ({digit_domains.NUM_DOMAINS},) one-hot target domain"},
              "output": "float32 (32, 32, 3) in [-1, 1]",
              "history": {k: v for k, v in history.items() if k != "wall_s"}}
    out.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(out / "generator.keras") as tmp:
        model.generator.save(tmp)
    atomic.write_text(out / "generator.json", json.dumps(record, default=float) + "\n")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cyclegan_lesson.models.stargan --out DIR [--steps N] ...``: train (or resume) the
    StarGAN of chapter 10 and write ``DIR/generator.keras`` + ``DIR/generator.json``."""
    from ..runinfo import shipped_model_parser

    parser = shipped_model_parser("models.stargan", "stargan_digits", main.__doc__,
                                  DEFAULT_RECIPE["steps"], "generator steps")
    for key in ("ngf", "n_blocks", "ndf", "n_critic", "batch_size", "train_limit", "seed"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=None)
    for key in ("lambda_cls", "lambda_rec", "lambda_gp", "learning_rate"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=float, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=100)
    args = parser.parse_args(argv)
    recipe = {k: getattr(args, k) for k in ("ngf", "n_blocks", "ndf", "n_critic", "batch_size",
                                            "train_limit", "seed", "lambda_cls", "lambda_rec",
                                            "lambda_gp", "learning_rate")}
    record = train(args.out, data_dir=args.data_dir, steps=args.steps,
                   checkpoint_every=args.checkpoint_every, chunk=args.chunk,
                   on_progress=lambda s: print(s, flush=True), **recipe)
    print(json.dumps({k: record[k] for k in ("steps_done", "train_wall_s")}), flush=True)
    return 0


if __name__ == "__main__":
    from ..runinfo import run_command

    raise SystemExit(run_command(main, "python -m cyclegan_lesson.models.stargan"))
