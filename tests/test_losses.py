"""CycleGAN losses against values worked out by hand on small tensors."""

from __future__ import annotations

import math

import cyclegan_lesson  # noqa: F401
import keras
import numpy as np
import pytest

from cyclegan_lesson.nn import losses as L
from cyclegan_lesson.nn.losses import CycleGANLossWeights

LOGITS = np.array([[[[2.0], [0.0]], [[-1.0], [0.5]]]], dtype="float32")  # (1, 2, 2, 1)


def _f(x):
    return float(np.asarray(x))


def test_lsgan_loss_by_hand():
    # real target 1: ((2-1)^2 + (0-1)^2 + (-1-1)^2 + (0.5-1)^2) / 4 = (1 + 1 + 4 + 0.25) / 4
    assert _f(L.lsgan_loss(LOGITS, True)) == pytest.approx(6.25 / 4)
    # fake target 0: (4 + 0 + 1 + 0.25) / 4
    assert _f(L.lsgan_loss(LOGITS, False)) == pytest.approx(5.25 / 4)
    # numeric target (label smoothing 0.9)
    expected = np.mean((LOGITS - 0.9) ** 2)
    assert _f(L.lsgan_loss(LOGITS, 0.9)) == pytest.approx(expected)


def _softplus(x):
    return math.log1p(math.exp(x))


def test_bce_loss_by_hand():
    # real: -log sigmoid(x) = softplus(-x); fake: -log(1 - sigmoid(x)) = softplus(x)
    xs = [2.0, 0.0, -1.0, 0.5]
    assert _f(L.bce_loss(LOGITS, True)) == pytest.approx(np.mean([_softplus(-x) for x in xs]))
    assert _f(L.bce_loss(LOGITS, False)) == pytest.approx(np.mean([_softplus(x) for x in xs]))
    assert _f(L.bce_loss(np.zeros((3, 1)), True)) == pytest.approx(math.log(2.0))


def test_bce_loss_is_stable_for_huge_logits():
    big = np.array([1000.0, -1000.0], dtype="float32")
    assert _f(L.bce_loss(big, True)) == pytest.approx(500.0)   # (0 + 1000) / 2
    assert _f(L.bce_loss(big, False)) == pytest.approx(500.0)
    assert np.isfinite(_f(L.bce_loss(big, True)))


@pytest.mark.parametrize("target", [True, False])
def test_bce_loss_gradient_is_sigmoid_minus_target_everywhere(target):
    # d/dx [-t log s(x) - (1-t) log(1-s(x))] = s(x) - t, also at x = 0 (where max(x, 0) and |x|
    # have no derivative and autodiff of the max/abs form returns -t instead of 0.5 - t)
    import tensorflow as tf

    t = 1.0 if target else 0.0
    for x0 in (-3.0, 0.0, 3.0):
        x = tf.Variable([x0])
        with tf.GradientTape() as tape:
            loss = L.bce_loss(x, target)
        grad = float(tape.gradient(loss, x).numpy()[0])
        assert grad == pytest.approx(1.0 / (1.0 + math.exp(-x0)) - t, abs=1e-6), x0


def test_bce_matches_keras_binary_crossentropy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 3, 1)).astype("float32") * 3
    keras_value = keras.losses.BinaryCrossentropy(from_logits=True)(np.ones_like(x), x)
    assert _f(L.bce_loss(x, True)) == pytest.approx(_f(keras_value), rel=1e-5)


def test_generator_adversarial_loss_labels_fakes_real():
    assert _f(L.generator_adversarial_loss(LOGITS, "lsgan")) == pytest.approx(6.25 / 4)
    assert _f(L.generator_adversarial_loss(LOGITS, "bce")) == pytest.approx(
        _f(L.bce_loss(LOGITS, True)))
    assert _f(L.generator_adversarial_loss(LOGITS, "wgan")) == pytest.approx(-0.375)


def test_discriminator_loss_is_halved():
    real = np.array([1.0, 0.5], dtype="float32")   # lsgan real: (0 + 0.25) / 2 = 0.125
    fake = np.array([0.0, 1.0], dtype="float32")   # lsgan fake: (0 + 1) / 2 = 0.5
    assert _f(L.discriminator_loss(real, fake, "lsgan")) == pytest.approx(0.5 * (0.125 + 0.5))
    bce = 0.5 * (np.mean([_softplus(-1.0), _softplus(-0.5)]) + np.mean([_softplus(0.0),
                                                                        _softplus(1.0)]))
    assert _f(L.discriminator_loss(real, fake, "bce")) == pytest.approx(bce)
    # a perfect LSGAN discriminator has zero loss
    assert _f(L.discriminator_loss(np.ones(4), np.zeros(4))) == 0.0


def test_wgan_losses():
    assert _f(L.wgan_critic_loss([3.0, 1.0], [0.0, -2.0])) == pytest.approx(-1.0 - 2.0)
    assert _f(L.wgan_generator_loss([0.0, -2.0])) == pytest.approx(1.0)


def test_cycle_and_identity_are_l1_means():
    a = np.array([[[[0.5, -1.0]], [[0.0, 1.0]]]], dtype="float32")   # (1, 2, 1, 2)
    b = np.array([[[[0.0, -0.5]], [[1.0, 1.0]]]], dtype="float32")
    # |0.5| + |-0.5| + |-1| + 0 = 2 over 4 values
    assert _f(L.cycle_loss(a, b)) == pytest.approx(0.5)
    assert _f(L.identity_loss(a, b)) == pytest.approx(0.5)
    assert _f(L.cycle_loss(a, a)) == 0.0


def test_l1_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        L.cycle_loss(np.zeros((1, 4, 4, 3)), np.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="differ in shape"):
        L.identity_loss(np.zeros((2, 4, 4, 3)), np.zeros((1, 4, 4, 3)))


def test_weights_defaults_are_the_papers():
    w = CycleGANLossWeights()
    assert (w.lambda_a, w.lambda_b, w.lambda_identity, w.mode) == (10.0, 10.0, 0.5, "lsgan")
    assert (w.identity_weight_ab, w.identity_weight_ba) == (5.0, 5.0)
    w2 = CycleGANLossWeights(lambda_cycle=10, lambda_cycle_b=4, lambda_identity=0.1)
    assert (w2.lambda_a, w2.lambda_b) == (10.0, 4.0)
    # official: idt_A = G_A(real_B) weighs lambda_B * lambda_idt
    assert w2.identity_weight_ab == pytest.approx(0.4)
    assert w2.identity_weight_ba == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs,match", [
    ({"mode": "hinge"}, "mode"),
    ({"lambda_cycle": -1}, "lambda_cycle"),
    ({"lambda_identity": "0.5"}, "lambda_identity"),
    ({"lambda_cycle_b": -2.0}, "lambda_cycle_b"),
])
def test_weights_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CycleGANLossWeights(**kwargs)


def test_bad_mode_and_target():
    with pytest.raises(ValueError, match="mode"):
        L.discriminator_loss(LOGITS, LOGITS, mode="vanilla")
    with pytest.raises(ValueError, match="target"):
        L.lsgan_loss(LOGITS, "real")


def _batch(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (2, 4, 4, 3)).astype("float32")


def test_generator_total_loss_is_the_weighted_sum_of_its_terms():
    real_a, real_b, rec_a, rec_b, same_a, same_b = (_batch(s) for s in range(6))
    disc_fake_b = np.full((2, 2, 2, 1), 0.5, "float32")   # lsgan: (0.5 - 1)^2 = 0.25
    disc_fake_a = np.full((2, 2, 2, 1), -1.0, "float32")  # lsgan: 4
    total, terms = L.generator_total_loss(
        real_a=real_a, real_b=real_b, rec_a=rec_a, rec_b=rec_b, same_a=same_a, same_b=same_b,
        disc_fake_b=disc_fake_b, disc_fake_a=disc_fake_a,
    )
    l1 = lambda x, y: float(np.mean(np.abs(x - y)))  # noqa: E731
    expected = {
        "adv_ab": 0.25, "adv_ba": 4.0,
        "cycle_aba": 10 * l1(real_a, rec_a), "cycle_bab": 10 * l1(real_b, rec_b),
        "identity_ab": 5 * l1(real_b, same_b), "identity_ba": 5 * l1(real_a, same_a),
    }
    assert list(terms) == list(L.GENERATOR_LOSS_TERMS)
    for key, value in expected.items():
        assert _f(terms[key]) == pytest.approx(value, rel=1e-6), key
    assert _f(total) == pytest.approx(sum(expected.values()), rel=1e-6)
    # total is exactly the sum of the returned terms (same float32 additions)
    s = terms["adv_ab"]
    for key in L.GENERATOR_LOSS_TERMS[1:]:
        s = s + terms[key]
    assert _f(total) == _f(s)


def test_generator_total_loss_without_identity_and_with_bce():
    real_a, real_b, rec_a, rec_b = (_batch(s) for s in range(4))
    w = CycleGANLossWeights(lambda_cycle=3.0, lambda_identity=0.0, mode="bce")
    total, terms = L.generator_total_loss(
        real_a=real_a, real_b=real_b, rec_a=rec_a, rec_b=rec_b,
        disc_fake_b=np.zeros((2, 1)), disc_fake_a=np.zeros((2, 1)), weights=w,
    )
    assert _f(terms["identity_ab"]) == 0.0 and _f(terms["identity_ba"]) == 0.0
    assert _f(terms["adv_ab"]) == pytest.approx(math.log(2))
    expected = 2 * math.log(2) + 3 * float(np.mean(np.abs(real_a - rec_a))) + 3 * float(
        np.mean(np.abs(real_b - rec_b)))
    assert _f(total) == pytest.approx(expected, rel=1e-6)


def test_generator_total_loss_needs_identity_images_when_weighted():
    x = _batch(0)
    with pytest.raises(ValueError, match="same_a"):
        L.generator_total_loss(real_a=x, real_b=x, rec_a=x, rec_b=x,
                               disc_fake_b=np.zeros(2), disc_fake_a=np.zeros(2))


def test_gradient_penalty_of_a_linear_critic():
    # critic(x) = sum(w * x) per sample: gradient w everywhere, so GP = (||w|| - 1)^2
    w = np.full((1, 2, 2, 1), 0.25, "float32")              # ||w|| = sqrt(4 * 0.0625) = 0.5

    def critic(x, training=False):
        return keras.ops.sum(x * w, axis=[1, 2, 3])

    real, fake = _batch(1)[..., :1], _batch(2)[..., :1]
    real, fake = real[:, :2, :2], fake[:, :2, :2]
    gp = L.gradient_penalty(critic, real, fake, alpha=np.array([0.3, 0.7], "float32"))
    assert _f(gp) == pytest.approx(0.25, rel=1e-5)
    gp_random = L.gradient_penalty(critic, real, fake, seed=1)
    assert _f(gp_random) == pytest.approx(0.25, rel=1e-5)


def test_gradient_penalty_of_a_quadratic_critic_depends_on_alpha():
    # critic(x) = 0.5 * sum(x^2): gradient x_hat, GP = (||x_hat|| - 1)^2
    def critic(x, training=False):
        return 0.5 * keras.ops.sum(keras.ops.square(x), axis=[1, 2, 3])

    real = np.ones((1, 1, 1, 4), "float32")          # ||real|| = 2
    fake = np.zeros((1, 1, 1, 4), "float32")
    gp = L.gradient_penalty(critic, real, fake, alpha=np.array([0.25], "float32"))
    assert _f(gp) == pytest.approx((0.5 - 1.0) ** 2)  # ||x_hat|| = 0.25 * 2
