"""The VAE's formulas and mechanisms (chapter 5): closed-form KL vs Monte Carlo, the
reparameterized sample's gradient, the importance-weighted bound above the ELBO, the summed vs
averaged reconstruction term, shapes, and clear errors for bad input."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from cyclegan_lesson.models import vae


def _tiny(latent_dim=2, **kwargs):
    return vae.build_vae(latent_dim, filters=(4, 8), hidden=16, **kwargs)


def _binary_digits(n=256, seed=0):
    """Binary 28x28 'digits': a bright vertical or horizontal bar, so a tiny model learns fast."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28, 1), np.float32)
    for i in range(n):
        c = rng.integers(6, 22)
        if i % 2:
            x[i, 4:24, c - 2:c + 2] = 0.9
        else:
            x[i, c - 2:c + 2, 4:24] = 0.9
    return vae.binarize(x, seed=seed)


def test_kl_closed_form_matches_a_hand_computed_value():
    mu = np.array([[0.0, 0.0], [1.0, -2.0]], np.float32)
    log_var = np.array([[0.0, 0.0], [math.log(4.0), 0.0]], np.float32)
    kl = keras.ops.convert_to_numpy(vae.kl_normal(mu, log_var))
    # dim 1 of row 2: (1 + 4 - 1 - ln 4) / 2; dim 2: (4 + 1 - 1 - 0) / 2
    expected = [0.0, (1 + 4 - 1 - math.log(4.0)) / 2 + 2.0]
    np.testing.assert_allclose(kl, expected, rtol=1e-6, atol=1e-6)


def test_kl_closed_form_equals_monte_carlo_to_sampling_error():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(8, 4)).astype(np.float32)
    log_var = rng.normal(scale=0.7, size=(8, 4)).astype(np.float32)
    exact = keras.ops.convert_to_numpy(vae.kl_normal(mu, log_var))
    mean, stderr = vae.kl_monte_carlo(mu, log_var, n_samples=20000, seed=1)
    mean, stderr = keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(stderr)
    assert np.all(np.abs(mean - exact) < 5 * stderr + 1e-4), (mean, exact, stderr)
    assert np.all(stderr < 0.05 * np.maximum(exact, 1.0))


def test_reparameterized_sample_passes_gradients_to_mu_and_log_var():
    mu = tf.Variable([[0.5, -1.0, 2.0]])
    log_var = tf.Variable([[0.1, -0.3, 0.4]])
    with tf.GradientTape() as tape:
        z = vae.reparameterize(mu, log_var, seed=3)
        loss = tf.reduce_sum(z)
    g_mu, g_lv = tape.gradient(loss, [mu, log_var])
    assert g_mu is not None and g_lv is not None
    np.testing.assert_allclose(g_mu.numpy(), np.ones((1, 3)), atol=1e-6)  # dz/dmu = 1
    eps = (z.numpy() - mu.numpy()) / np.exp(0.5 * log_var.numpy())
    np.testing.assert_allclose(g_lv.numpy(), 0.5 * np.exp(0.5 * log_var.numpy()) * eps,
                               rtol=1e-5, atol=1e-6)  # dz/dlog_var = sigma * eps / 2
    assert np.all(np.abs(g_lv.numpy()) > 0)


def test_reparameterize_is_seeded_and_has_the_right_moments():
    mu = np.full((20000, 2), [1.0, -3.0], np.float32)
    log_var = np.full((20000, 2), [0.0, math.log(0.25)], np.float32)
    z = keras.ops.convert_to_numpy(vae.reparameterize(mu, log_var, seed=7))
    z2 = keras.ops.convert_to_numpy(vae.reparameterize(mu, log_var, seed=7))
    np.testing.assert_array_equal(z, z2)
    np.testing.assert_allclose(z.mean(0), [1.0, -3.0], atol=0.03)
    np.testing.assert_allclose(z.std(0), [1.0, 0.5], atol=0.02)


def test_log_normal_and_bernoulli_likelihood_match_numpy():
    z = np.array([[0.3, -1.2]], np.float32)
    assert float(vae.log_normal(z)[0]) == pytest.approx(
        -0.5 * (0.09 + 1.44) - math.log(2 * math.pi), rel=1e-6)
    x = np.zeros((1, 28, 28, 1), np.float32)
    x[0, :14] = 1.0
    logits = np.full((1, 28, 28, 1), 0.7, np.float32)
    p = 1 / (1 + math.exp(-0.7))
    expected = 392 * math.log(p) + 392 * math.log(1 - p)
    assert float(vae.bernoulli_log_likelihood(x, logits)[0]) == pytest.approx(expected, rel=1e-5)


def test_summed_reconstruction_is_784_times_the_averaged_one():
    x = _binary_digits(4)
    logits = np.random.default_rng(0).normal(size=x.shape).astype(np.float32)
    summed = keras.ops.convert_to_numpy(vae.reconstruction_loss(x, logits, "sum"))
    mean = keras.ops.convert_to_numpy(vae.reconstruction_loss(x, logits, "mean"))
    np.testing.assert_allclose(summed, 784 * mean, rtol=1e-5)
    with pytest.raises(ValueError, match="reduction must be 'sum' or 'mean'"):
        vae.reconstruction_loss(x, logits, "average")


def test_shapes_and_parameter_counts():
    model = _tiny(latent_dim=3)
    x = _binary_digits(5)
    mu, log_var = model.encoder(x)
    assert tuple(mu.shape) == (5, 3) and tuple(log_var.shape) == (5, 3)
    assert tuple(model.decoder(mu).shape) == (5, 28, 28, 1)
    assert tuple(model(x).shape) == (5, 28, 28, 1)
    assert model.encoder.count_params() > 0 and model.decoder.count_params() > 0
    table = vae.layer_table(model.encoder)
    assert "| `mu` (Dense) | (None, 3) |" in table and "**total**" in table


def test_training_lowers_the_loss_and_iwae_is_above_the_elbo():
    keras.utils.set_random_seed(0)
    model = _tiny(latent_dim=2, seed=0, learning_rate=3e-3)
    x = _binary_digits(512)
    history = vae.train_vae(model, x, epochs=4, batch_size=64, validation=x[:128])
    assert history["loss"][-1] < history["loss"][0]
    assert {"reconstruction", "kl", "val_loss"} <= set(history)
    test = _binary_digits(64, seed=5)
    bound, ll, kl = vae.elbo(model, test, n_samples=4)
    np.testing.assert_allclose(bound, ll - kl)
    assert np.all(kl >= 0)
    iwae = vae.iwae_bound(model, test, k=200, batch_size=16, seed=1)
    assert iwae.shape == (64,)
    assert iwae.mean() > bound.mean()  # the importance-weighted bound is tighter
    assert np.all(iwae <= 0)  # log-probabilities of binary images
    assert vae.iwae_bound(model, test, k=1, seed=2).mean() == pytest.approx(
        bound.mean(), abs=3.0)  # L_1 is the ELBO (one-sample estimate)


def test_active_units_and_linear_probe():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 2000)
    mu = np.stack([labels + 0.1 * rng.normal(size=2000), 1e-3 * rng.normal(size=2000)], 1)
    count, var = vae.active_units(mu)
    assert count == 1 and var[0] > 1 and var[1] < 1e-4
    onehot = np.eye(10)[labels] + 0.05 * rng.normal(size=(2000, 10))
    assert vae.linear_probe(onehot[:1500], labels[:1500], onehot[1500:], labels[1500:]) > 0.95
    with pytest.raises(ValueError, match="same d"):
        vae.linear_probe(mu, labels, onehot, labels)
    with pytest.raises(ValueError, match="encoder means"):
        vae.active_units(mu[:, 0])


def test_bad_input_gives_clear_errors():
    model = _tiny()
    with pytest.raises(ValueError, match="to_unit_interval"):
        vae.encode(model, np.full((2, 28, 28, 1), -1.0, np.float32))
    with pytest.raises(ValueError, match="binarize"):
        vae.elbo(model, np.full((2, 28, 28, 1), 0.5, np.float32))
    with pytest.raises(ValueError, match="NHWC"):
        vae.binarize(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="k must be a positive int"):
        vae.iwae_bound(model, _binary_digits(2), k=0)
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        vae.build_encoder(0)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        vae.VAE(model.encoder, model.decoder, beta=-1)
    with pytest.raises(ValueError, match="2-D latent"):
        vae.plot_manifold(_tiny(latent_dim=3).decoder)
    with pytest.raises(ValueError, match=r"expected values in \[-1, 1\]"):
        vae.to_unit_interval(np.full((1, 2, 2, 1), 3.0))


def test_binarize_is_seeded_and_binary():
    x = np.full((2, 28, 28, 1), 0.3, np.float32)
    a, b = vae.binarize(x, seed=4), vae.binarize(x, seed=4)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert abs(a.mean() - 0.3) < 0.03


def test_vae_saves_and_loads(tmp_path):
    model = _tiny(latent_dim=2, beta=4.0)
    x = _binary_digits(4)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert isinstance(loaded, vae.VAE) and loaded.beta == 4.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.encoder(x)[0]),
                               keras.ops.convert_to_numpy(model.encoder(x)[0]), atol=1e-6)


def test_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = _tiny()
    for fig in (vae.plot_vae_diagram(), vae.plot_manifold(model.decoder, n=4),
                vae.plot_latent_scatter(np.zeros((10, 2)), np.arange(10))):
        assert fig.axes
        plt.close(fig)
