"""The GAN chapter's package (chapter 6): the value function and the optimal discriminator
against hand values, the toy samplers, the DCGAN builders, the training step, the saturating vs
non-saturating generator loss, mode counting and the checkerboard measure."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.models import gan


def test_optimal_discriminator_for_two_gaussians_by_hand():
    # p_data = N(0, 1), p_g = N(1, 1): D*(x) = 1 / (1 + exp(x - 1/2)), i.e. sigmoid(1/2 - x)
    x = np.array([0.0, 0.5, 1.0])
    d = gan.optimal_discriminator(gan.gaussian_density(x, 0, 1), gan.gaussian_density(x, 1, 1))
    assert d == pytest.approx([1 / (1 + math.exp(-0.5)), 0.5, 1 / (1 + math.exp(0.5))])
    assert gan.optimal_discriminator([0.3], [0.0]) == pytest.approx([1.0])
    with pytest.raises(ValueError, match="both densities are 0"):
        gan.optimal_discriminator([0.0], [0.0])
    with pytest.raises(ValueError, match="shapes differ"):
        gan.optimal_discriminator([0.1, 0.2], [0.1])


def test_value_at_optimum_is_2jsd_minus_log4_by_hand():
    p, q = [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]
    # D* = (1, 1/2, 0): V = 0.5 log 1 + 0.5 log 1/2 + 0.5 log 1/2 + 0.5 log 1 = -log 2
    assert gan.value_at_optimum(p, q) == pytest.approx(-math.log(2))
    # m = (1/4, 1/2, 1/4): KL(p||m) = KL(q||m) = 0.5 log 2, so JSD = 0.5 log 2
    assert gan.jensen_shannon(p, q) == pytest.approx(0.5 * math.log(2))
    assert gan.value_at_optimum(p, q) == pytest.approx(2 * gan.jensen_shannon(p, q) - math.log(4))
    assert gan.value_at_optimum([0.2, 0.8], [0.2, 0.8]) == pytest.approx(-math.log(4))
    assert gan.value_at_optimum([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
        expected = 2 * gan.jensen_shannon(a, b) - math.log(4)
        assert gan.value_at_optimum(a, b) == pytest.approx(expected)
    with pytest.raises(ValueError, match="probability vector"):
        gan.value_at_optimum([0.5, 0.6], [0.5, 0.5])


def test_value_function_and_discriminator_loss_at_one_half():
    assert gan.value_function([0.5, 0.5], [0.5]) == pytest.approx(-math.log(4))
    assert float(gan.discriminator_loss(np.zeros(4), np.zeros(4))) == pytest.approx(math.log(4))
    with pytest.raises(ValueError):
        gan.value_function([0.0], [0.5])


def test_samplers_shapes_and_ranges():
    x = gan.ring_of_gaussians(4000, sigma=0.05, seed=1)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    assert np.all(np.abs(np.linalg.norm(x, axis=1) - 2.0) < 0.4)
    result = gan.count_modes(x, gan.ring_centers(), 0.05)
    assert result["modes"] == 8 and result["high_quality"] > 0.98
    assert np.array_equal(x, gan.ring_of_gaussians(4000, sigma=0.05, seed=1))
    y = gan.mixture_1d(5000, seed=0)
    assert y.shape == (5000, 1) and abs(y.mean()) < 0.15 and 4.0 < y.var() < 4.6  # 4 + 0.25
    grid = np.linspace(-8, 8, 4001)
    assert np.sum(gan.mixture_1d_density(grid)) * (grid[1] - grid[0]) == pytest.approx(1, abs=1e-4)
    with pytest.raises(ValueError):
        gan.ring_of_gaussians(0)
    with pytest.raises(ValueError, match="weights"):
        gan.mixture_1d(10, weights=(0.3, 0.3))


def test_count_modes_sees_a_collapsed_generator():
    centers = gan.ring_centers()
    collapsed = centers[[2]] + 0.01 * np.random.default_rng(0).standard_normal((500, 2))
    result = gan.count_modes(collapsed, centers, 0.05)
    assert result["modes"] == 1 and result["counts"][2] == 500
    far = np.zeros((100, 2))  # the ring's centre: no mode
    assert gan.count_modes(far, centers, 0.05)["high_quality"] == 0.0


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_dcgan_shapes_and_range(upsample):
    g = gan.build_dcgan_generator(16, filters=8, upsample=upsample)
    d = gan.build_dcgan_discriminator(filters=8)
    z = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32) * 10
    x = np.asarray(g(z, training=False))
    assert x.shape == (3, 32, 32, 1) and x.min() >= -1 and x.max() <= 1
    assert tuple(d(x).shape) == (3, 1)
    assert not any("dense" in layer.name for layer in g.layers[2:])  # only the projection
    with pytest.raises(ValueError, match="upsample"):
        gan.build_dcgan_generator(16, upsample="bilinear")


def test_train_step_runs_and_returns_losses():
    import keras

    g = gan.build_mlp_generator(2, hidden=16, depth=2)
    d = gan.build_mlp_discriminator(2, hidden=16, depth=2)
    model = gan.GAN(g, d, generator_loss="non_saturating")
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    before = [w.copy() for w in map(np.asarray, g.get_weights())]
    seen = []
    history = gan.train_gan(model, gan.ring_of_gaussians(512), steps=20, batch_size=64, chunk=10,
                            on_chunk=lambda step, m: seen.append(step))
    assert seen == [10, 20] and history["step"] == [10, 20]
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(history[key]) == 2 and all(np.isfinite(history[key]))
    assert any(not np.allclose(a, b) for a, b in zip(before, g.get_weights()))
    with pytest.raises(ValueError, match="generator_loss"):
        gan.GAN(g, d, generator_loss="minimax")
    with pytest.raises(ValueError, match="discriminator takes"):
        gan.GAN(g, gan.build_mlp_discriminator(3), generator_loss="saturating")


def test_saturating_vs_non_saturating_gradient_at_a_confident_fake():
    import tensorflow as tf

    logit = tf.Variable([[-5.0]])  # D(G(z)) = sigmoid(-5) = 0.0067: D rejects the fake
    grads = {}
    for kind in gan.GENERATOR_LOSSES:
        with tf.GradientTape() as tape:
            loss = gan.generator_loss(logit, kind)
        grads[kind] = float(tape.gradient(loss, logit)[0, 0])
    s = 1 / (1 + math.exp(5.0))
    assert grads["saturating"] == pytest.approx(-s, rel=1e-5)          # d/dl log(1 - sigmoid(l))
    assert grads["non_saturating"] == pytest.approx(-(1 - s), rel=1e-5)  # d/dl -log sigmoid(l)
    assert grads["non_saturating"] / grads["saturating"] > 100  # both push l up; NS 148x harder
    with pytest.raises(ValueError):
        gan.generator_loss(logit, "wgan")


def test_high_frequency_energy_sees_a_checkerboard():
    rng = np.random.default_rng(0)
    smooth = np.cumsum(np.cumsum(rng.standard_normal((8, 32, 32, 1)), 1), 2)
    smooth = smooth / np.abs(smooth).max()
    board = (np.indices((32, 32)).sum(0) % 2 * 2 - 1)[None, :, :, None] * 0.2
    assert gan.high_frequency_energy(smooth) < 0.05
    assert gan.high_frequency_energy(smooth + board) > 5 * gan.high_frequency_energy(smooth)
    assert gan.high_frequency_energy(np.broadcast_to(board, (2, 32, 32, 1))) == pytest.approx(1.0)
    assert gan.power_spectrum(smooth).shape == (32, 32)
    with pytest.raises(ValueError):
        gan.high_frequency_energy(np.zeros((32, 32)))


def test_interpolate_and_sample():
    z = gan.interpolate_latents(np.zeros(4), np.ones(4), steps=5)
    assert z.shape == (5, 4) and np.allclose(z[2], 0.5)
    g = gan.build_mlp_generator(3, hidden=4, depth=1)
    assert gan.sample(g, 7, seed=0).shape == (7, 2)
    assert np.allclose(gan.sample(g, 7, seed=0), gan.sample(g, 7, seed=0))


def test_fit_discriminator_approaches_d_star_on_two_gaussians():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 1, (4000, 1)), rng.normal(1, 1, (4000, 1))
    d = gan.build_mlp_discriminator(1, hidden=16, depth=2)
    losses = gan.fit_discriminator(d, real, fake, steps=600, batch_size=256, learning_rate=3e-3)
    assert losses[-1] < losses[0]
    x = np.linspace(-1.0, 2.0, 7)[:, None].astype("float32")
    got = 1 / (1 + np.exp(-np.asarray(d(x))[:, 0]))
    want = gan.optimal_discriminator(gan.gaussian_density(x[:, 0], 0, 1),
                                     gan.gaussian_density(x[:, 0], 1, 1))
    assert np.max(np.abs(got - want)) < 0.08


def test_high_frequency_energy_per_image():
    board = (np.indices((8, 8)).sum(0) % 2 * 2 - 1)[None, :, :, None] * np.ones((3, 1, 1, 1))
    assert gan.high_frequency_energy(board, per_image=True) == pytest.approx([1.0, 1.0, 1.0])


def test_two_player_models_share_compile_metrics_and_report():
    """GAN, the conditional GAN, WGAN and StarGAN report the running means named by METRICS,
    in that order, and compile with the optimizers named by OPTIMIZERS."""
    import keras

    from cyclegan_lesson.models import conditional_gan, stargan, wgan

    assert gan.GAN.METRICS == ("d_loss", "g_loss", "d_real", "d_fake")
    assert conditional_gan.ConditionalGAN.METRICS == gan.GAN.METRICS
    assert wgan.WGAN.OPTIMIZERS == ("c_optimizer", "g_optimizer")
    for cls in (gan.GAN, conditional_gan.ConditionalGAN, wgan.WGAN, stargan.StarGAN):
        assert issubclass(cls, gan.TwoPlayerModel)
    model = gan.GAN(gan.build_mlp_generator(hidden=8, depth=1),
                    gan.build_mlp_discriminator(hidden=8, depth=1))
    with pytest.raises(TypeError, match="g_optimizer"):
        model.compile(d_optimizer=keras.optimizers.SGD(0.1))
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.2))
    assert float(model.g_optimizer.learning_rate) == pytest.approx(0.2)
    history = gan.train_gan(model, np.zeros((64, 2), np.float32), steps=2, batch_size=8, chunk=1)
    assert sorted(history) == sorted(["step", *gan.GAN.METRICS])
    assert [m.name for m in model.metrics] == list(gan.GAN.METRICS)
    first = model.report({"d_loss": 1.0, "g_loss": 2.0, "d_real": 0.5, "d_fake": 0.25})
    assert list(first) == list(gan.GAN.METRICS)
