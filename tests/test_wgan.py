"""The WGAN chapter's package (chapter 7): the Wasserstein losses, the Earth-Mover distance and
Example 1 of Arjovsky et al. against hand values, the gradient penalty (uniform interpolates,
per-sample norm over all non-batch axes, finite at zero distance and at a zero gradient, its
gradient), weight clipping after every critic step, the samplers' shapes and ranges."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.models import gan, wgan
from cyclegan_lesson.nn import losses as L


def _f(x):
    return float(np.asarray(x))


# ---------------------------------------------------------------------------------------------
# the value function, the distances and the optimal critic, by hand
# ---------------------------------------------------------------------------------------------

def test_wasserstein_losses_by_hand():
    # critic scores: real (3, 1), fake (0, -2): E C(fake) - E C(real) = -1 - 2 = -3
    assert _f(L.wgan_critic_loss([[3.0], [1.0]], [[0.0], [-2.0]])) == pytest.approx(-3.0)
    assert _f(L.wgan_generator_loss([[0.0], [-2.0]])) == pytest.approx(1.0)


def test_optimal_critic_of_two_point_masses_gives_w1():
    # P_0 = delta_0, P_theta = delta_theta on the line: f(x) = -sign(theta) x is 1-Lipschitz and
    # E_{P_0} f - E_{P_theta} f = |theta| = W1, so the critic loss there is -|theta|
    for theta in (0.5, -2.0):
        sign = math.copysign(1.0, theta)
        loss = L.wgan_critic_loss(real_scores=[-sign * 0.0], fake_scores=[-sign * theta])
        assert _f(loss) == pytest.approx(-abs(theta))
        assert wgan.parallel_lines_distances(theta)["w1"] == pytest.approx(abs(theta))


def test_earth_movers_distance_of_the_lecture_blocks():
    # the lecture: half the mass moves 2 -> 3, half 8 -> 7: W = 0.5 * 1 + 0.5 * 1 = 1
    assert wgan.earth_movers_distance([2.0, 8.0], [3.0, 7.0]) == pytest.approx(1.0)
    # the optimal matching, not the given order: (0, 10) vs (10, 0) costs 0
    assert wgan.earth_movers_distance([0.0, 10.0], [10.0, 0.0]) == pytest.approx(0.0)
    # 2-D: (0,0),(1,0) to (0,1),(1,1): every point moves 1
    assert wgan.earth_movers_distance([[0, 0], [1, 0]], [[0, 1], [1, 1]]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one shape"):
        wgan.earth_movers_distance(np.zeros((3, 2)), np.zeros((4, 2)))


def test_parallel_lines_example_1():
    d = wgan.parallel_lines_distances(0.3)
    assert d["w1"] == pytest.approx(0.3)
    assert d["jsd"] == pytest.approx(math.log(2))
    assert d["kl"] == math.inf
    assert wgan.parallel_lines_distances(0.0) == {"w1": 0.0, "jsd": 0.0, "kl": 0.0}
    # sample estimates: disjoint lines -> JSD log 2 whatever theta; EMD close to |theta|
    p0 = wgan.parallel_lines(400, 0.0, seed=0)
    for theta in (0.2, 0.8):
        pt = wgan.parallel_lines(400, theta, seed=1)
        rng = ((-1.0, 1.0), (0.0, 1.0))
        assert wgan.histogram_jensen_shannon(p0, pt, bins=50, value_range=rng) == pytest.approx(
            math.log(2))
        assert abs(wgan.earth_movers_distance(p0, pt) - theta) < 0.03
    same = wgan.histogram_jensen_shannon(p0, wgan.parallel_lines(400, 0.0, seed=2), bins=10)
    assert same < 0.05


def test_parallel_lines_sampler_shape_and_range():
    x = wgan.parallel_lines(1000, -0.7, seed=3)
    assert x.shape == (1000, 2) and x.dtype == np.float32
    assert np.all(x[:, 0] == np.float32(-0.7))
    assert 0.0 <= x[:, 1].min() and x[:, 1].max() <= 1.0 and x[:, 1].std() > 0.25
    np.testing.assert_array_equal(x, wgan.parallel_lines(1000, -0.7, seed=3))
    with pytest.raises(ValueError, match="n must be"):
        wgan.parallel_lines(0)


def test_generator_samples_shape_and_range():
    g = gan.build_dcgan_generator(8, filters=4)
    x = gan.sample(g, 5, seed=0)
    assert x.shape == (5, 32, 32, 1) and -1.0 <= x.min() and x.max() <= 1.0


# ---------------------------------------------------------------------------------------------
# the gradient penalty
# ---------------------------------------------------------------------------------------------

def test_gradient_penalty_on_toy_points_of_a_linear_critic():
    # C(x) = w . x on 2-D points: gradient w everywhere, ||w|| = 5, GP = (5 - 1)^2 = 16
    w = np.array([3.0, 4.0], "float32")

    def critic(x, training=False):
        return keras.ops.sum(x * w, axis=1, keepdims=True)

    real = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    fake = np.random.default_rng(1).normal(size=(6, 2)).astype("float32")
    assert _f(L.gradient_penalty(critic, real, fake, seed=0)) == pytest.approx(16.0, rel=1e-5)
    norms = np.asarray(L.critic_gradient_norms(critic, real, fake, seed=0))
    assert norms.shape == (6,) and norms == pytest.approx(np.full(6, 5.0), rel=1e-5)


def test_gradient_penalty_norm_is_per_sample_over_all_non_batch_axes():
    # C(x) = 0.5 ||x||^2 per sample: the gradient at x_hat is x_hat, its norm ||x_hat||
    def critic(x, training=False):
        return 0.5 * keras.ops.sum(keras.ops.square(x), axis=[1, 2, 3])

    real = np.zeros((2, 2, 2, 3), "float32")
    real[0] = 1.0                                        # ||real_0|| = sqrt(12)
    real[1, 0, 0, 0] = 3.0                               # ||real_1|| = 3
    fake = np.zeros_like(real)
    alpha = np.array([0.5, 1.0], "float32")
    norms = np.asarray(L.critic_gradient_norms(critic, real, fake, alpha=alpha))
    assert norms == pytest.approx([0.5 * math.sqrt(12.0), 3.0], rel=1e-5)
    gp = L.gradient_penalty(critic, real, fake, alpha=alpha)
    assert _f(gp) == pytest.approx(np.mean((norms - 1.0) ** 2), rel=1e-5)


def test_gradient_penalty_interpolates_are_uniform_one_alpha_per_sample():
    # C(x) = 0.5 ||x||^2, fake = 0, ||real|| = 1: the norm at x_hat is alpha itself
    n = 4000
    real = np.zeros((n, 4), "float32")
    real[:, 0] = 1.0

    def critic(x, training=False):
        return 0.5 * keras.ops.sum(keras.ops.square(x), axis=1)

    _, alphas = L.gradient_penalty(critic, real, np.zeros_like(real), seed=7, return_norms=True)
    alphas = np.asarray(alphas)
    assert alphas.shape == (n,) and alphas.min() >= 0.0 and alphas.max() <= 1.0 + 1e-6
    from scipy import stats

    assert stats.kstest(alphas, "uniform").pvalue > 0.01           # U(0, 1)
    assert len(np.unique(np.round(alphas, 6))) > 0.99 * n           # one alpha per sample
    with pytest.raises(ValueError, match="one number per sample"):
        L.gradient_penalty(critic, real[:2], real[:2], alpha=np.zeros((2, 1), "float32"))
    with pytest.raises(ValueError, match="differ in shape"):
        L.gradient_penalty(critic, real[:2], real[:3])


def test_gradient_penalty_is_finite_at_zero_distance_and_zero_gradient():
    critic = gan.build_mlp_discriminator(2, hidden=8, depth=2)
    x = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    with tf.GradientTape() as tape:                      # real == fake: zero distance
        gp = L.gradient_penalty(critic, x, x, seed=0)
    grads = [g for g in tape.gradient(gp, critic.trainable_variables) if g is not None]
    assert np.isfinite(_f(gp)) and len(grads) >= 3   # the output bias alone has no gradient
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)

    w = tf.Variable([0.0, 0.0])                          # C(x) = w . x with w = 0: zero gradient

    def flat(xx, training=False):
        return tf.reduce_sum(xx * w, axis=1)

    with tf.GradientTape() as tape:
        gp = L.gradient_penalty(flat, x, x + 1.0, seed=0)
    g = np.asarray(tape.gradient(gp, w))
    assert _f(gp) == pytest.approx(1.0, abs=1e-5)        # (0 - 1)^2
    assert np.all(np.isfinite(g))


def test_gradient_of_the_penalty_by_hand():
    # C(x) = w . x: GP = (||w|| - 1)^2, dGP/dw = 2 (||w|| - 1) w / ||w||
    w = tf.Variable([3.0, 4.0])

    def critic(x, training=False):
        return tf.reduce_sum(x * w, axis=1)

    x = np.ones((3, 2), "float32")
    with tf.GradientTape() as tape:
        gp = L.gradient_penalty(critic, x, -x, seed=0)
    expected = 2.0 * (5.0 - 1.0) * np.array([3.0, 4.0]) / 5.0
    np.testing.assert_allclose(np.asarray(tape.gradient(gp, w)), expected, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# the model: clipping, penalty, n_critic
# ---------------------------------------------------------------------------------------------

def _toy_wgan(cls=wgan.WGAN, **kwargs):
    keras.utils.set_random_seed(0)
    model = cls(gan.build_mlp_generator(2, hidden=8, depth=2),
                gan.build_mlp_discriminator(2, hidden=8, depth=2), **kwargs)
    model.compile(c_optimizer=keras.optimizers.SGD(1.0), g_optimizer=keras.optimizers.SGD(0.1),
                  run_eagerly=True)
    return model


def test_weight_clipping_after_a_train_step_keeps_every_critic_weight_in_bounds():
    model = _toy_wgan(clip_value=0.01, n_critic=2)
    # a huge critic learning rate: without clipping the weights would leave [-c, c] at once
    assert np.abs(wgan.critic_weights(model.critic)).max() > 0.01
    x = gan.ring_of_gaussians(64, seed=0)
    logs = model.train_on_batch(x, return_dict=True)
    w = wgan.critic_weights(model.critic)
    assert np.abs(w).max() <= 0.01 + 1e-7
    assert len(w) == sum(int(np.prod(v.shape)) for v in model.critic.trainable_variables)
    assert wgan.weight_pile_up(model.critic, 0.01) > 0.3   # SGD(1.0) pushes them to the bounds
    assert logs["gp"] == 0.0 and np.isfinite(logs["w_estimate"])


def test_clipping_is_applied_after_each_critic_step_on_its_own_real_slice():
    seen = []

    class Recording(wgan.WGAN):
        def critic_step(self, real):
            out = super().critic_step(real)
            seen.append((np.asarray(real).copy(),
                         np.abs(wgan.critic_weights(self.critic)).max()))
            return out

        def clip_critic_weights(self):
            seen.append("clip")
            super().clip_critic_weights()

    model = _toy_wgan(Recording, clip_value=0.05, n_critic=3)
    x = gan.ring_of_gaussians(3 * 16, seed=1)
    model.train_on_batch(x)
    clips = [s for s in seen if isinstance(s, str)]
    steps = [s for s in seen if not isinstance(s, str)]
    assert len(clips) == 3 and len(steps) == 3
    assert seen[0] == "clip" and seen[2] == "clip"           # each clip right inside its step
    for k, (real, max_w) in enumerate(steps):
        np.testing.assert_array_equal(real, x[16 * k:16 * (k + 1)])
        assert max_w <= 0.05 + 1e-7


def test_gradient_penalty_training_step():
    model = _toy_wgan(gp_weight=10.0, n_critic=2)
    before = wgan.critic_weights(model.critic)
    logs = model.train_on_batch(gan.ring_of_gaussians(32, seed=2), return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["gp"] > 0 and logs["grad_norm"] > 0
    assert logs["w_estimate"] == pytest.approx(-logs["critic_loss"])
    assert not np.allclose(before, wgan.critic_weights(model.critic))   # the critic moved


def test_wgan_arguments_are_checked():
    g, c = gan.build_mlp_generator(2, hidden=4), gan.build_mlp_discriminator(2, hidden=4)
    with pytest.raises(ValueError, match="exactly one"):
        wgan.WGAN(g, c)
    with pytest.raises(ValueError, match="exactly one"):
        wgan.WGAN(g, c, clip_value=0.01, gp_weight=10.0)
    with pytest.raises(ValueError, match="clip_value must be > 0"):
        wgan.WGAN(g, c, clip_value=0.0)
    with pytest.raises(ValueError, match="n_critic"):
        wgan.WGAN(g, c, gp_weight=10.0, n_critic=0)
    with pytest.raises(ValueError, match="batch norm"):
        wgan.WGAN(gan.build_dcgan_generator(8, filters=4), gan.build_dcgan_discriminator(
            filters=4), gp_weight=10.0)
    with pytest.raises(ValueError, match="expected a WGAN"):
        wgan.train_wgan(gan.GAN(g, c), np.zeros((8, 2)), steps=1, chunk=1)


def test_dcgan_critic_without_batch_norm():
    for norm, kind in (("layer", keras.layers.LayerNormalization), (None, None)):
        critic = gan.build_dcgan_discriminator(filters=4, normalization=norm)
        types = {type(layer) for layer in critic.layers}
        assert keras.layers.BatchNormalization not in types
        assert kind is None or kind in types
        assert critic(np.zeros((2, 32, 32, 1), "float32")).shape == (2, 1)
    assert any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in gan.build_dcgan_discriminator(filters=4).layers)
    with pytest.raises(ValueError, match="normalization"):
        gan.build_dcgan_discriminator(filters=4, normalization="instance")
    # WGAN-GP accepts the layer-norm critic and trains one step on images
    model = wgan.WGAN(gan.build_dcgan_generator(8, filters=4),
                      gan.build_dcgan_discriminator(filters=4, normalization="layer"),
                      gp_weight=10.0, n_critic=2)
    model.compile(c_optimizer=wgan.gp_optimizer(), g_optimizer=wgan.gp_optimizer())
    images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    logs = model.train_on_batch(images, return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())


def test_train_wgan_history_and_optimizers():
    model = wgan.WGAN(gan.build_mlp_generator(2, hidden=8), gan.build_mlp_discriminator(2, hidden=8),
                      gp_weight=10.0, n_critic=2)
    model.compile(c_optimizer=wgan.gp_optimizer(), g_optimizer=wgan.gp_optimizer())
    h = wgan.train_wgan(model, gan.ring_of_gaussians(500, seed=0), steps=6, batch_size=16,
                        chunk=3)
    assert h["step"] == [3, 6]
    for key in ("critic_loss", "w_estimate", "gp", "grad_norm", "g_loss"):
        assert len(h[key]) == 2 and all(np.isfinite(h[key]))
    adam = wgan.gp_optimizer()
    assert float(adam.beta_1) == 0.5 and float(adam.beta_2) == 0.9
    assert float(adam.learning_rate) == pytest.approx(1e-4)
    assert float(wgan.clipping_optimizer().learning_rate) == pytest.approx(5e-5)
