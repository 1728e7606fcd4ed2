"""Chapter 4's formulas against hand-computed values, the image optimization, the extractors and
the Monet-vs-photo classifier (seconds each, CPU)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.evaluation import painting_classifier as pc
from cyclegan_lesson.models import style_transfer as st


def np_(x):
    return keras.ops.convert_to_numpy(x)


# a 1 x 2 x 2 x 2 feature map: channel 0 = [1, 2, 3, 4], channel 1 = [0, 1, 0, 1] over pixels
TINY = np.array([[[[1, 0], [2, 1]], [[3, 0], [4, 1]]]], dtype=np.float32)


def test_gram_matrix_against_hand_values():
    # X = [[1, 2, 3, 4], [0, 1, 0, 1]]; X X^T = [[1+4+9+16, 2+4], [2+4, 1+1]]
    np.testing.assert_allclose(np_(st.gram_matrix(TINY)), [[[30, 6], [6, 2]]])


def test_gram_matrix_is_batched_and_symmetric():
    x = np.random.default_rng(0).normal(size=(3, 4, 5, 6)).astype(np.float32)
    g = np_(st.gram_matrix(x))
    assert g.shape == (3, 6, 6)
    np.testing.assert_allclose(g, np.transpose(g, (0, 2, 1)), rtol=1e-6)
    flat = x[1].reshape(-1, 6).T  # (C, HW)
    np.testing.assert_allclose(g[1], flat @ flat.T, rtol=1e-5)


def test_gram_of_centred_scaled_channels_is_corrcoef():
    x = np.random.default_rng(1).normal(size=(1, 6, 7, 4)).astype(np.float64)
    flat = x[0].reshape(-1, 4)
    z = (flat - flat.mean(0)) / flat.std(0)
    g = np_(st.gram_matrix(z.reshape(1, 6, 7, 4).astype(np.float32)))[0] / (6 * 7)
    np.testing.assert_allclose(g, np.corrcoef(flat.T), atol=1e-5)


def test_content_loss_is_half_the_sum_of_squares():
    p = np.zeros_like(TINY)
    assert float(np_(st.content_loss(TINY, p))[0]) == pytest.approx(0.5 * (1 + 4 + 9 + 16 + 1 + 1))
    assert np_(st.content_loss(TINY, TINY))[0] == 0


def test_style_normalization_constant():
    assert st.style_normalization(2, 2, 2) == pytest.approx(1 / (4 * 4 * 16))
    assert st.style_normalization(64, 32, 16) == pytest.approx(1 / (4 * 64**2 * (32 * 16) ** 2))
    with pytest.raises(ValueError, match="positive int"):
        st.style_normalization(0, 2, 2)


def test_style_layer_loss_against_hand_values():
    a = np.zeros((1, 2, 2), np.float32)
    # G = [[30, 6], [6, 2]]: sum of squares 900 + 36 + 36 + 4 = 976; c = 2, h = w = 2
    expected = 976 / (4 * 2**2 * (2 * 2) ** 2)
    assert float(np_(st.style_layer_loss(TINY, a))[0]) == pytest.approx(expected)
    # the scale follows 1/(4 c^2 (hw)^2): doubling each pixel's copy (h -> 2h) quadruples G's
    # entries' squares' sum by 4 and the scale by 1/4, so E_l is unchanged
    tall = np.concatenate([TINY, TINY], axis=1)
    g_tall = np_(st.gram_matrix(tall))
    np.testing.assert_allclose(g_tall, 2 * np_(st.gram_matrix(TINY)))
    assert float(np_(st.style_layer_loss(tall, a))[0]) == pytest.approx(expected)


def test_style_loss_weights_layers():
    a = {"l1": np.zeros((1, 2, 2), np.float32), "l2": np_(st.gram_matrix(TINY))}
    feats = {"l1": TINY, "l2": TINY}
    e1 = float(np_(st.style_layer_loss(TINY, a["l1"]))[0])
    assert float(np_(st.style_loss(feats, a))[0]) == pytest.approx(e1 / 2)
    assert float(np_(st.style_loss(feats, a, {"l1": 3.0, "l2": 1.0}))[0]) == pytest.approx(3 * e1)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        st.gram_matrix(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="shapes differ"):
        st.content_loss(np.zeros((1, 2, 2, 3)), np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"\(N, 2, 2\)"):
        st.style_layer_loss(TINY, np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        st.style_targets(None, np.full((1, 8, 8, 3), 255.0), np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="RGB"):
        st.style_targets(None, np.zeros((8, 8, 3)), np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="imagenet"):
        st.vgg19_extractor("random")
    with pytest.raises(ValueError, match="calibration_images"):
        st.vgg19_extractor(None)
    with pytest.raises(ValueError, match="multiple"):
        st.shuffle_patches(np.zeros((1, 10, 10, 3)), 4)


def test_vgg_preprocess_matches_keras():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    ours = np_(st.VGGPreprocess()(x))
    theirs = keras.applications.vgg19.preprocess_input((x + 1) * 127.5)
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_shuffle_patches_keeps_the_pixels():
    x = np.arange(2 * 8 * 8 * 1, dtype=np.float32).reshape(2, 8, 8, 1)
    y = st.shuffle_patches(x, 4, seed=3)
    assert y.shape == x.shape and not np.array_equal(x, y)
    np.testing.assert_array_equal(np.sort(x.ravel()), np.sort(y.ravel()))
    tiles = {tuple(y[0, i:i + 4, j:j + 4, 0].ravel()) for i in (0, 4) for j in (0, 4)}
    assert tiles == {tuple(x[0, i:i + 4, j:j + 4, 0].ravel()) for i in (0, 4) for j in (0, 4)}


def _tiny_extractor(seed=0):
    keras.utils.set_random_seed(seed)
    net = pc.painting_classifier(width=4)
    rng = np.random.default_rng(seed)
    calib = rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    return st.model_extractor(net, "block3_conv1", ("block1_conv1", "block2_conv1"),
                              calibration_images=calib)


def test_normalization_gives_mean_activation_one():
    ex = _tiny_extractor()
    rng = np.random.default_rng(0)
    calib = rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    assert set(ex.info["mean_activation_before"]) == set(pc.CONV_LAYERS)
    feats = ex.features(calib)
    for name in ("block1_conv1", "block2_conv1", "block3_conv1"):
        assert feats[name].mean() == pytest.approx(1.0, rel=1e-3)


def test_normalization_keeps_the_features_with_nonzero_biases():
    # trained networks (the course classifier, ImageNet VGG-19) have biases: every layer must
    # still compute its original output divided by one positive factor, the returned mean
    keras.utils.set_random_seed(3)
    net = pc.painting_classifier(width=4)
    rng = np.random.default_rng(3)
    for layer in net.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.3, bias.shape).astype(np.float32)])
    convs = [layer.name for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(net.input, [net.get_layer(n).output for n in convs])
    calib = rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)
    test = rng.uniform(-1, 1, (3, 16, 16, 3)).astype(np.float32)
    original = [np_(o) for o in probe(test)]
    means = st.normalize_activations(net, calib)
    assert list(means) == convs
    assert all(m > 0 for m in means.values())
    after = [np_(o) for o in probe(test)]
    calib_after = [np_(o).mean() for o in probe(calib)]
    for name, orig, new, calib_mean in zip(convs, original, after, calib_after):
        assert calib_mean == pytest.approx(1.0, rel=1e-3), name
        # the same units fire, and each is the original divided by the layer's one factor
        np.testing.assert_array_equal(new > 0, orig > 0, err_msg=name)
        np.testing.assert_allclose(new * means[name], orig, rtol=1e-4,
                                   atol=1e-5 * orig.max(), err_msg=name)


def test_normalization_refuses_a_model_that_is_not_a_chain():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b")(inputs)  # parallel
    model = keras.Model(inputs, [a, b])
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    weights = [w.copy() for w in model.get_layer("b").get_weights()]
    with pytest.raises(ValueError, match="chain"):
        st.normalize_activations(model, x)
    np.testing.assert_array_equal(model.get_layer("b").get_weights()[0], weights[0])  # restored


def test_optimization_lowers_the_total_loss():
    ex = _tiny_extractor()
    rng = np.random.default_rng(1)
    content = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.3, 0.2, (1, 16, 16, 3)), -1, 1).astype(np.float32)
    result = st.transfer_style(ex, content, style, beta=10.0, steps=8, learning_rate=0.02,
                               init="noise")
    total = result.history["total"]
    assert len(total) == 8 and total[-1] < total[0]
    assert result.images.shape == content.shape
    assert result.images.min() >= -1 and result.images.max() <= 1
    again = st.transfer_style(ex, content, style, beta=10.0, steps=8, learning_rate=0.02,
                              init="noise")
    np.testing.assert_allclose(again.history["total"], total, rtol=1e-4)  # same seed, same run


def test_sweep_in_one_batch_matches_separate_runs():
    ex = _tiny_extractor()
    rng = np.random.default_rng(2)
    content = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    style = rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    both = st.transfer_style(ex, np.repeat(content, 2, 0), style, beta=[1.0, 100.0], steps=3)
    one = st.transfer_style(ex, content, style, beta=100.0, steps=3)
    np.testing.assert_allclose(both.images[1], one.images[0], atol=1e-5)


def test_noise_init_is_seeded_and_distances_score():
    ex = _tiny_extractor()
    content = np.zeros((1, 16, 16, 3), np.float32)
    style = np.full((1, 16, 16, 3), 0.5, np.float32)
    a = st.transfer_style(ex, content, style, steps=1, init="noise", seed=5)
    b = st.transfer_style(ex, content, style, steps=1, init="noise", seed=5)
    np.testing.assert_array_equal(a.images, b.images)
    d = st.distances(ex, np.concatenate([content, style]), content, style)
    assert d["content"][0] == 0 and d["style"][1] == pytest.approx(0, abs=1e-6)
    assert d["content"][1] > 0 and d["style"][0] > 0


def test_painting_classifier_shapes_and_any_size():
    net = pc.painting_classifier(width=4)
    for size in (32, 48):
        assert net(np.zeros((2, size, size, 3), np.float32)).shape == (2, 1)
    assert [l.name for l in net.layers if isinstance(l, keras.layers.Conv2D)] == list(pc.CONV_LAYERS)
    with pytest.raises(ValueError, match="width"):
        pc.painting_classifier(width=0)


def test_painting_classifier_batch_norm_variant():
    net = pc.painting_classifier(width=4, batch_norm=True)
    assert [l.name for l in net.layers if isinstance(l, keras.layers.Conv2D)] == list(pc.CONV_LAYERS)
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in net.layers) == 6
    assert net(np.zeros((2, 24, 24, 3), np.float32)).shape == (2, 1)


def test_monet_share_from_features_matches_the_images(data_dir):
    from cyclegan_lesson.evaluation import sample_quality

    net = pc.painting_classifier(width=4, batch_norm=True)
    x = np.random.default_rng(0).uniform(-1, 1, (12, 16, 16, 3)).astype(np.float32)
    f = sample_quality.classifier_features(net, x)
    p = pc.predict_monet_probability(net, x)
    t = float(np.median(p))  # a threshold that splits these images
    assert pc.monet_share(net, x, t, features=f) == pc.monet_share(net, x, t)
    with pytest.raises(ValueError, match="dense logit"):
        pc.monet_share(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), x,
                       features=np.zeros((12, 4)))


def test_train_painting_classifier_tiny(tmp_path, data_dir):
    model, result = pc.train_painting_classifier(
        data_dir, image_size=32, width=4, epochs=1, train_limit=16, test_limit=8,
        out_path=tmp_path / "painting.keras")
    assert result.n_test == (8, 8)
    assert 0 <= result.balanced_accuracy <= 1 and len(result.history["loss"]) == 1
    loaded = keras.models.load_model(tmp_path / "painting.keras")
    x = np.zeros((1, 32, 32, 3), np.float32)
    np.testing.assert_allclose(np_(loaded(x)), np_(model(x)), atol=1e-6)
    share = pc.monet_share(model, np.zeros((5, 32, 32, 3), np.float32))
    assert share["n"] == 5 and 0 <= share["low"] <= share["share"] <= share["high"] <= 1
    assert result.validation is None and "val_balanced_accuracy" not in result.history


def test_train_painting_classifier_validation_is_held_out_of_training(data_dir):
    _, result = pc.train_painting_classifier(
        data_dir, image_size=32, width=4, epochs=2, train_limit=20, test_limit=8,
        batch_norm=True, schedule="cosine", validation=0.25)
    assert result.validation["n"] == (5, 5)  # a quarter of each class, not trained on
    assert len(result.history["val_balanced_accuracy"]) == 2
    with pytest.raises(ValueError, match="schedule"):
        pc.train_painting_classifier(data_dir, schedule="step")
    with pytest.raises(ValueError, match="validation"):
        pc.train_painting_classifier(data_dir, validation=0.5)
