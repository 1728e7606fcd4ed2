"""CycleGAN's losses, written with ``keras.ops`` (backend-neutral), with the paper's weights.

Notation (as in chapter 11): ``G_AB`` translates domain A to B, ``G_BA`` B to A; ``D_B`` judges
images of domain B (real ``b`` vs translated ``G_AB(a)``), ``D_A`` those of domain A. The
discriminators output *logits* (the PatchGAN has no sigmoid), one per patch.

* Adversarial: least squares (``"lsgan"``, the paper's choice: MSE of the logits to 1 for real
  and 0 for fake) or binary cross-entropy on logits (``"bce"``, the original GAN's log loss);
  ``"wgan"`` (critic scores, see :func:`wgan_critic_loss`) for the WGAN-GP chapter.
* :func:`discriminator_loss` is halved, ``0.5 * (real + fake)``, "which slows down the rate at
  which D learns relative to G" (paper, section 4).
* Cycle consistency and identity are mean absolute errors (L1).
* :func:`generator_total_loss` adds everything with :class:`CycleGANLossWeights` (lambda 10 for
  both cycles, identity weight 0.5 x lambda) and returns each weighted term.

All image arguments are NHWC float32 tensors in [-1, 1]; all losses are scalar means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from keras import ops

__all__ = [
    "MODES",
    "lsgan_loss",
    "bce_loss",
    "adversarial_loss",
    "generator_adversarial_loss",
    "discriminator_loss",
    "cycle_loss",
    "identity_loss",
    "CycleGANLossWeights",
    "generator_total_loss",
    "luma_consistency_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
    "gradient_penalty",
    "critic_gradient_norms",
]

#: Adversarial loss modes accepted by :func:`adversarial_loss` and friends.
MODES = ("lsgan", "bce", "wgan")


def _tensor(x):
    """Any array-like (NumPy, list, backend tensor, float16 under mixed precision) as a float32
    tensor: losses are always computed and returned in float32."""
    return ops.cast(ops.convert_to_tensor(x), "float32")


def _target_value(target) -> float:
    if isinstance(target, bool):
        return 1.0 if target else 0.0
    try:
        return float(target)
    except (TypeError, ValueError):
        raise ValueError(f"target must be True (real), False (fake) or a number, got {target!r}.")


def lsgan_loss(logits, target=True):
    """Least-squares GAN loss: ``mean((D(x) - t)^2)`` with ``t = 1`` (real) or ``0`` (fake).

    Mao et al. 2017. ``logits``: discriminator outputs of any shape (e.g. ``(N, 30, 30, 1)``).
    ``target``: ``True``/``False`` or a number (e.g. 0.9 for label smoothing).
    """
    t = _target_value(target)
    return ops.mean(ops.square(_tensor(logits) - t))


def bce_loss(logits, target=True):
    """Binary cross-entropy on logits: ``mean(-t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)))``.

    Computed as ``softplus(x) - x t`` (``softplus(x) = log(1 + exp(x))``, evaluated stably by
    the backend, so large logits do not overflow). Its gradient is ``sigmoid(x) - t`` at every
    ``x``, including 0: the equivalent form ``max(x, 0) - x t + log(1 + exp(-|x|))`` has the
    same value, but autodiff differentiates ``max`` and ``|x|`` at 0 as 0 and returns ``-t``
    there. ``target`` as in :func:`lsgan_loss`.
    """
    t = _target_value(target)
    x = _tensor(logits)
    return ops.mean(ops.softplus(x) - x * t)


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"adversarial loss mode must be one of {MODES}, got {mode!r}.")
    return mode


def adversarial_loss(logits, target_is_real: bool, mode: str = "lsgan"):
    """The official ``GANLoss(mode)(prediction, target_is_real)``.

    ``"lsgan"`` -> :func:`lsgan_loss`, ``"bce"`` -> :func:`bce_loss` (the official ``vanilla``),
    ``"wgan"`` -> ``-mean(score)`` for real targets and ``+mean(score)`` for fake ones.
    """
    _check_mode(mode)
    if mode == "lsgan":
        return lsgan_loss(logits, bool(target_is_real))
    if mode == "bce":
        return bce_loss(logits, bool(target_is_real))
    mean = ops.mean(_tensor(logits))
    return -mean if target_is_real else mean


def generator_adversarial_loss(fake_logits, mode: str = "lsgan"):
    """What a generator minimizes: the discriminator's loss on its fakes *labelled real*.

    ``lsgan``: ``mean((D(G(x)) - 1)^2)``; ``bce``: ``-mean(log sigmoid(D(G(x))))`` -- the
    non-saturating form of ``log(1 - D(G(x)))`` recommended by Goodfellow et al.
    """
    return adversarial_loss(fake_logits, True, mode)


def discriminator_loss(real_logits, fake_logits, mode: str = "lsgan"):
    """``0.5 * (loss(D(real), real) + loss(D(fake), fake))`` -- halved as in the paper.

    ``real_logits`` = D(real images of its domain), ``fake_logits`` = D(translated images,
    usually drawn from the image pool).
    """
    return 0.5 * (adversarial_loss(real_logits, True, mode)
                  + adversarial_loss(fake_logits, False, mode))


def _l1(a, b, who: str):
    a, b = _tensor(a), _tensor(b)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{who}: the two image batches differ in shape: {tuple(a.shape)} vs "
                         f"{tuple(b.shape)}.")
    return ops.mean(ops.abs(a - b))


def cycle_loss(real, reconstructed):
    """Cycle consistency ``mean |x - F(G(x))|`` (L1) between images and their round trips."""
    return _l1(real, reconstructed, "cycle_loss")


def identity_loss(real, same):
    """Identity ``mean |y - G(y)|`` (L1): a generator fed an image of its *target* domain should
    leave it unchanged (keeps colour composition, e.g. for painting <-> photo)."""
    return _l1(real, same, "identity_loss")


@dataclass(frozen=True)
class CycleGANLossWeights:
    """The weights of the CycleGAN objective; the defaults are the paper's.

    Attributes:
        lambda_cycle: weight of the A -> B -> A cycle term (official ``lambda_A``), 10.
        lambda_cycle_b: weight of the B -> A -> B cycle term (official ``lambda_B``);
            ``None`` = same as ``lambda_cycle``.
        lambda_identity: identity weight *relative* to the cycle weight (official
            ``lambda_identity``), 0.5: the identity term of ``G_AB`` (fed ``b``) weighs
            ``0.5 * lambda_B``, that of ``G_BA`` (fed ``a``) ``0.5 * lambda_A``. 0 disables it.
        mode: adversarial loss, ``"lsgan"`` (paper) or ``"bce"`` (or ``"wgan"``).
        lambda_adv: weight of the two adversarial terms, 1 (the paper); 0 gives the ablation
            "cycle alone" (Zhu et al. 2017, Table 4).
        lambda_luma: weight of the luma-consistency terms (0 = off; for a gray <-> colour pair:
            :func:`luma_consistency_loss`, ``CycleGAN`` adds them as ``luma_ab``, ``luma_ba``).
    """

    lambda_cycle: float = 10.0
    lambda_cycle_b: float | None = None
    lambda_identity: float = 0.5
    mode: str = "lsgan"
    lambda_adv: float = 1.0
    lambda_luma: float = 0.0

    def __post_init__(self):
        _check_mode(self.mode)
        for field in ("lambda_cycle", "lambda_identity", "lambda_adv", "lambda_luma"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"CycleGANLossWeights: {field} must be a number >= 0, "
                                 f"got {value!r}.")
        if self.lambda_cycle_b is not None and (
            not isinstance(self.lambda_cycle_b, (int, float)) or self.lambda_cycle_b < 0
        ):
            raise ValueError(f"CycleGANLossWeights: lambda_cycle_b must be a number >= 0 or None, "
                             f"got {self.lambda_cycle_b!r}.")

    @property
    def lambda_a(self) -> float:
        """Weight of the A -> B -> A cycle."""
        return float(self.lambda_cycle)

    @property
    def lambda_b(self) -> float:
        """Weight of the B -> A -> B cycle."""
        return float(self.lambda_cycle if self.lambda_cycle_b is None else self.lambda_cycle_b)

    @property
    def identity_weight_ab(self) -> float:
        """Absolute weight of ``|b - G_AB(b)|``: ``lambda_identity * lambda_b``."""
        return float(self.lambda_identity) * self.lambda_b

    @property
    def identity_weight_ba(self) -> float:
        """Absolute weight of ``|a - G_BA(a)|``: ``lambda_identity * lambda_a``."""
        return float(self.lambda_identity) * self.lambda_a

    def to_dict(self) -> dict:
        return asdict(self)


#: Keys of the dict returned by :func:`generator_total_loss`, in order.
GENERATOR_LOSS_TERMS = ("adv_ab", "adv_ba", "cycle_aba", "cycle_bab", "identity_ab",
                        "identity_ba")


def generator_total_loss(
    *,
    real_a,
    real_b,
    rec_a,
    rec_b,
    disc_fake_b,
    disc_fake_a,
    same_a=None,
    same_b=None,
    weights: CycleGANLossWeights | None = None,
):
    """The full generator objective of CycleGAN (both generators are trained on its sum).

    ``L = L_adv(G_AB, D_B) + L_adv(G_BA, D_A) + lambda_A |a - G_BA(G_AB(a))|_1
    + lambda_B |b - G_AB(G_BA(b))|_1 + lambda_idt lambda_B |b - G_AB(b)|_1
    + lambda_idt lambda_A |a - G_BA(a)|_1``

    Args:
        real_a, real_b: batches of the two domains, NHWC in [-1, 1].
        rec_a: ``G_BA(G_AB(real_a))``; ``rec_b``: ``G_AB(G_BA(real_b))``.
        disc_fake_b: ``D_B(G_AB(real_a))`` logits; ``disc_fake_a``: ``D_A(G_BA(real_b))``.
        same_a: ``G_BA(real_a)``; ``same_b``: ``G_AB(real_b)`` -- needed only when the identity
            weight is > 0 (they need equal channel counts in both domains).
        weights: :class:`CycleGANLossWeights` (default: the paper's).

    Returns:
        ``(total, terms)``: ``terms`` maps ``adv_ab, adv_ba, cycle_aba, cycle_bab,
        identity_ab, identity_ba`` to the *weighted* scalar terms (identity terms are 0 when
        disabled) and ``total`` is their sum, exactly.
    """
    w = weights or CycleGANLossWeights()
    adv = float(w.lambda_adv)
    terms = {
        "adv_ab": adv * generator_adversarial_loss(disc_fake_b, w.mode),
        "adv_ba": adv * generator_adversarial_loss(disc_fake_a, w.mode),
        "cycle_aba": w.lambda_a * cycle_loss(real_a, rec_a),
        "cycle_bab": w.lambda_b * cycle_loss(real_b, rec_b),
    }
    if w.lambda_identity > 0:
        if same_a is None or same_b is None:
            raise ValueError(
                "generator_total_loss: lambda_identity > 0 needs same_a = G_BA(real_a) and "
                "same_b = G_AB(real_b); pass them or set lambda_identity=0."
            )
        terms["identity_ab"] = w.identity_weight_ab * identity_loss(real_b, same_b)
        terms["identity_ba"] = w.identity_weight_ba * identity_loss(real_a, same_a)
    else:
        zero = ops.zeros((), dtype="float32")
        terms["identity_ab"] = zero
        terms["identity_ba"] = zero
    total = terms["adv_ab"]
    for key in GENERATOR_LOSS_TERMS[1:]:
        total = total + terms[key]
    return total, terms


def luma_consistency_loss(gray, colour):
    """Mean absolute difference between a gray image and the ITU-R 601 luma of a colour one.

    ``|gray - (0.299 R + 0.587 G + 0.114 B)|``, averaged over pixels and the batch: the
    cross-channel analogue of the identity loss for a gray <-> colour pair of domains. With
    ``gray = a`` and ``colour = G_AB(a)`` it asks the colourization to keep the input's
    brightness (only chroma is free); with ``gray = G_BA(b)`` and ``colour = b`` it asks the
    decolourization to be the luma. The weights sum to 1, so [-1, 1] maps to [-1, 1].

    Args:
        gray: ``(N, H, W, 1)`` in [-1, 1].
        colour: ``(N, H, W, 3)`` RGB in [-1, 1].

    Returns:
        A scalar tensor (float32).
    """
    gray, colour = _tensor(gray), _tensor(colour)
    if gray.shape[-1] != 1 or colour.shape[-1] != 3:
        raise ValueError(f"luma_consistency_loss: expected gray (N, H, W, 1) and colour "
                         f"(N, H, W, 3) images, got {tuple(gray.shape)} and "
                         f"{tuple(colour.shape)}; pass the gray image first.")
    weights = ops.convert_to_tensor((0.299, 0.587, 0.114), dtype="float32")
    luma = ops.sum(colour * weights, axis=-1, keepdims=True)
    return ops.mean(ops.abs(gray - luma))


# ---------------------------------------------------------------------------------------------
# WGAN-GP (chapter 7)
# ---------------------------------------------------------------------------------------------


def wgan_critic_loss(real_scores, fake_scores):
    """Wasserstein critic loss ``mean(C(fake)) - mean(C(real))`` (Arjovsky et al. 2017).

    The critic ``C`` returns unbounded scores (no sigmoid) of any shape, e.g. ``(N, 1)``; it
    *minimizes* this loss, so ``-wgan_critic_loss`` = ``mean C(real) - mean C(fake)`` is its
    estimate of the Wasserstein-1 distance (up to the Lipschitz constant ``K``) when ``C`` is
    K-Lipschitz (Kantorovich-Rubinstein duality)."""
    return ops.mean(_tensor(fake_scores)) - ops.mean(_tensor(real_scores))


def wgan_generator_loss(fake_scores):
    """Wasserstein generator loss ``-mean(C(G(z)))``: the only term of ``W`` that depends on
    ``G``'s parameters."""
    return -ops.mean(_tensor(fake_scores))


def _interpolates(real, fake, alpha, seed):
    real, fake = _tensor(real), _tensor(fake)
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(f"gradient_penalty: real and fake differ in shape: "
                         f"{tuple(real.shape)} vs {tuple(fake.shape)}; pass two batches of one "
                         "shape (N, ...).")
    if len(real.shape) < 2:
        raise ValueError(f"gradient_penalty: expected batches (N, ...) with at least one "
                         f"feature axis, got shape {tuple(real.shape)}.")
    import keras

    n = ops.shape(real)[0]
    if alpha is None:
        alpha = keras.random.uniform((n,), dtype=real.dtype, seed=seed)
    alpha = ops.cast(ops.convert_to_tensor(alpha), real.dtype)
    if len(alpha.shape) != 1:
        raise ValueError(f"gradient_penalty: alpha must be one number per sample, shape (N,), "
                         f"got {tuple(alpha.shape)}.")
    alpha = ops.reshape(alpha, (-1,) + (1,) * (len(real.shape) - 1))  # broadcast per sample
    return alpha * real + (1.0 - alpha) * fake


def critic_gradient_norms(critic, real, fake, *, alpha=None, seed=None, eps: float = 1e-12):
    """Per-sample norms ``||grad_x C(x_hat)||_2`` ``(N,)`` at the interpolates
    ``x_hat = alpha * real + (1 - alpha) * fake``, one ``alpha ~ U(0, 1)`` per sample (or the
    given ``alpha`` of shape ``(N,)``).

    ``real``, ``fake``: batches of one shape ``(N, ...)`` (NHWC images in [-1, 1], or toy points
    ``(N, d)``); the norm is over all non-batch axes. ``critic``: a callable (Keras model) from
    such a batch to scores. The norm is ``sqrt(sum g^2 + eps)``: with ``eps`` inside the root a
    zero gradient gives a finite norm and a finite derivative (``sqrt`` has an infinite slope at
    0). Differentiable with respect to the critic's weights (TensorFlow ``GradientTape`` inside
    an outer tape, or JAX)."""
    x_hat = _interpolates(real, fake, alpha, seed)
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            scores = critic(x_hat, training=True)
        grads = tape.gradient(scores, x_hat)      # d sum(scores) / d x_hat: per sample
    elif backend == "jax":
        import jax

        grads = jax.grad(lambda x: ops.sum(critic(x, training=True)))(x_hat)
    else:
        raise NotImplementedError(f"gradient_penalty: backend {backend!r} is not supported.")
    axes = list(range(1, len(grads.shape)))
    return ops.sqrt(ops.sum(ops.square(grads), axis=axes) + eps)


def gradient_penalty(critic, real, fake, *, alpha=None, seed=None, return_norms: bool = False):
    """WGAN-GP penalty ``mean((||grad_x C(x_hat)||_2 - 1)^2)`` (Gulrajani et al. 2017).

    ``x_hat = alpha * real + (1 - alpha) * fake`` with one ``alpha ~ U(0, 1)`` per sample (or the
    given ``alpha`` of shape ``(N,)``); the per-sample norms are :func:`critic_gradient_norms`
    (over all non-batch axes, finite at a zero gradient). ``real``, ``fake``: ``(N, ...)`` of one
    shape. Multiply by lambda (10 in the paper) yourself. ``return_norms=True`` returns
    ``(penalty, norms)`` with the ``(N,)`` norms.
    """
    norms = critic_gradient_norms(critic, real, fake, alpha=alpha, seed=seed)
    penalty = ops.mean(ops.square(norms - 1.0))
    return (penalty, norms) if return_norms else penalty
