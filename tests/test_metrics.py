"""Label preservation, confusion matrix, cycle error, PSNR/SSIM and the semantic loss, on small
real batches and with the shipped classifiers."""

from __future__ import annotations

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (quiet TensorFlow import first)
import keras
import tensorflow as tf

from cyclegan_lesson.evaluation import classifiers, metrics
from cyclegan_lesson.models import semantic

N = 300


@pytest.fixture(scope="module")
def mnist_test(data_dir):
    return classifiers.load_digit_arrays("mnist", "test", str(data_dir), limit=N)


@pytest.fixture(scope="module")
def svhn_test(data_dir):
    return classifiers.load_digit_arrays("svhn", "test", str(data_dir), limit=N)


@pytest.fixture(scope="module")
def mnist_clf():
    return classifiers.load_shipped_classifier("mnist")


@pytest.fixture(scope="module")
def svhn_clf():
    return classifiers.load_shipped_classifier("svhn")


def test_identity_translator_scores_the_classifier_accuracy(mnist_test, mnist_clf):
    x, y = mnist_test
    acc = metrics.classifier_accuracy(mnist_clf, x, y, batch_size=128)
    score, pred = metrics.label_preservation(lambda b: b, x, y, mnist_clf, batch_size=64)
    assert score == pytest.approx(acc, abs=1e-9)
    assert pred.shape == (N,) and pred.dtype == np.int64
    assert score > 0.95


def test_constant_translator_scores_one_class_share(svhn_test, svhn_clf):
    x, y = svhn_test
    constant = np.full((1, 32, 32, 3), -1.0, np.float32)
    score, pred = metrics.label_preservation(
        lambda b: np.repeat(constant, len(b), axis=0), x, y, svhn_clf, batch_size=100)
    assert len(set(pred.tolist())) == 1  # one label for every image
    share = float(np.mean(y == pred[0]))
    assert score == pytest.approx(share)
    assert score < 0.35  # the largest SVHN class ("1") is ~22 % of the test crops


def test_label_preservation_checks_inputs(mnist_test, mnist_clf):
    x, y = mnist_test
    with pytest.raises(ValueError, match="labels"):
        metrics.label_preservation(lambda b: b, x, y[:10], mnist_clf)
    with pytest.raises(ValueError, match="NHWC"):
        metrics.label_preservation(lambda b: b, x[..., 0], y, mnist_clf)


def test_confusion_matrix_counts():
    true = np.array([0, 1, 2, 2, 9, 9, 9])
    pred = np.array([0, 2, 2, 2, 9, 1, 9])
    cm = metrics.confusion_matrix(true, pred)
    assert cm.shape == (10, 10) and cm.sum() == len(true)
    assert cm[2, 2] == 2 and cm[1, 2] == 1 and cm[9, 1] == 1 and np.trace(cm) == 5
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(true, minlength=10))
    with pytest.raises(ValueError):
        metrics.confusion_matrix(true, pred[:3])
    with pytest.raises(ValueError):
        metrics.confusion_matrix([10], [0])


def test_cycle_error_psnr_ssim(mnist_test):
    x = mnist_test[0][:20]
    identity = lambda b: b  # noqa: E731
    assert metrics.cycle_reconstruction_error(identity, identity, x) == 0.0
    flip = lambda b: -b  # noqa: E731  G_BA(G_AB(x)) = -(-x) = x
    assert metrics.cycle_reconstruction_error(flip, flip, x) == 0.0
    black = lambda b: np.full_like(b, -1.0)  # noqa: E731
    expected = float(np.mean(np.abs(x + 1.0)))
    assert metrics.cycle_reconstruction_error(black, black, x) == pytest.approx(expected, rel=1e-5)
    assert np.all(np.isinf(metrics.psnr(x, x)))
    noisy = np.clip(x + 0.1, -1, 1)
    p = metrics.psnr(x, noisy)
    assert p.shape == (20,) and np.all((p > 20) & (p < 40))
    s = metrics.ssim(x, x)
    np.testing.assert_allclose(s, 1.0, atol=1e-5)
    assert np.all(metrics.ssim(x, -x) < 0.5)


def test_ssim_is_tensorflows_ssim():
    """metrics.ssim (separable SciPy filters) gives tf.image.ssim's numbers: gray and colour,
    square and not, noise of several sizes; too small an image is refused in one line."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for shape in [(6, 32, 32, 3), (4, 28, 40, 1), (3, 11, 11, 3)]:
        a = rng.uniform(-1, 1, shape).astype("float32")
        for noise in (0.05, 0.5):
            b = np.clip(a + rng.normal(0, noise, shape), -1, 1).astype("float32")
            expected = tf.image.ssim((a + 1) / 2, (b + 1) / 2, max_val=1.0).numpy()
            np.testing.assert_allclose(metrics.ssim(a, b), expected, atol=2e-6)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(np.zeros((1, 10, 12, 1), "float32"), np.zeros((1, 10, 12, 1), "float32"))


def test_border_ink(mnist_test):
    black = -np.ones((2, 32, 32, 1), "float32")
    np.testing.assert_array_equal(metrics.border_ink(black), [0.0, 0.0])
    framed = black.copy()
    framed[1, :4] = framed[1, -4:] = framed[1, :, :4] = framed[1, :, -4:] = 1.0
    framed[0, 4:-4, 4:-4] = 1.0  # ink only inside the frame
    np.testing.assert_allclose(metrics.border_ink(framed), [0.0, 1.0])
    rgb = np.zeros((1, 32, 32, 3), "float32")  # mid gray
    np.testing.assert_allclose(metrics.border_ink(rgb, width=2), [0.5])
    x, _ = mnist_test  # real MNIST digits padded to 32x32: a nearly black frame
    assert metrics.border_ink(x).mean() < 0.01
    with pytest.raises(ValueError, match="width"):
        metrics.border_ink(black, width=0)
    with pytest.raises(ValueError, match="no interior"):
        metrics.border_ink(black, width=16)
    with pytest.raises(ValueError, match="NHWC"):
        metrics.border_ink(black[0])


def test_to_channels_gray_is_the_data_layers_luma():
    """RGB -> gray in the metrics and the cross-channel identity term must be the conversion the
    data layer uses for cifar10_gray (ITU-R 601 luma), not a channel mean."""
    from cyclegan_lesson import data

    rng = np.random.default_rng(0)
    rgb_u8 = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    rgb_u8[0] = [255, 0, 0]  # pure red: luma 0.299, mean 1/3
    color = np.asarray(data.to_float(rgb_u8, "cifar10_color"))
    gray = np.asarray(data.to_float(rgb_u8, "cifar10_gray"))
    got = np.asarray(metrics.to_channels(color, 1))
    assert got.shape == (4, 32, 32, 1)
    np.testing.assert_allclose(got, gray, atol=1e-5)
    np.testing.assert_allclose(got[0], 2 * 0.299 - 1, atol=1e-5)
    back = np.asarray(metrics.to_channels(got, 3))
    assert back.shape == (4, 32, 32, 3) and np.array_equal(back[..., 0], back[..., 2])
    assert metrics.to_channels(color, 3) is color
    with pytest.raises(ValueError, match="2 channels"):
        metrics.to_channels(np.zeros((1, 4, 4, 2), "float32"), 1)


# -- semantic consistency ----------------------------------------------------------------------


def test_semantic_loss_zero_when_agreeing_positive_otherwise():
    confident = np.eye(10, dtype=np.float32)[[3, 7, 1]] * 30.0
    other = np.eye(10, dtype=np.float32)[[5, 7, 1]] * 30.0
    agree = float(semantic.semantic_consistency_loss(confident, confident))
    disagree = float(semantic.semantic_consistency_loss(confident, other))
    assert 0.0 <= agree < 1e-6
    assert disagree == pytest.approx(30.0 / 3, rel=1e-3)  # one of three wrong by 30 nats
    assert float(semantic.semantic_consistency_loss(confident, confident, mode="soft")) < 1e-6
    assert float(semantic.semantic_consistency_loss(confident, other, mode="soft")) > 5.0
    with pytest.raises(ValueError, match="mode"):
        semantic.semantic_consistency_loss(confident, confident, mode="x")
    with pytest.raises(ValueError, match="classes"):
        semantic.semantic_consistency_loss(confident, confident[:, :5])


def test_semantic_loss_on_real_digits_and_gradient_reaches_generator(mnist_test, svhn_test,
                                                                     mnist_clf, svhn_clf):
    a, _ = mnist_test
    b, _ = svhn_test
    a, b = a[:16], b[:16]
    sem = semantic.SemanticConsistency(mnist_clf, svhn_clf)
    # a "translator" that is the identity up to channels: classifiers of the same domain agree
    same = float(semantic.semantic_consistency_loss(mnist_clf(a, training=False),
                                                    mnist_clf(a, training=False)))
    assert same < 0.1
    keras.utils.set_random_seed(0)
    g_ab = keras.Sequential([keras.Input((32, 32, 1)),
                             keras.layers.Conv2D(3, 3, padding="same", activation="tanh")])
    g_ba = keras.Sequential([keras.Input((32, 32, 3)),
                             keras.layers.Conv2D(1, 3, padding="same", activation="tanh")])
    with tf.GradientTape() as tape:
        loss_ab, loss_ba = sem(a, g_ab(a), b, g_ba(b))
        total = loss_ab + loss_ba
    assert float(loss_ab) > 0.1 and float(loss_ba) > 0.1  # random generators lose the digit
    grads = tape.gradient(total, g_ab.trainable_variables + g_ba.trainable_variables)
    assert all(g is not None for g in grads)
    assert all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    # the classifiers stay frozen
    assert not mnist_clf.trainable_variables and not svhn_clf.trainable_variables


def test_semantic_cyclegan_reports_and_sums_its_terms(mnist_test, svhn_test):
    from cyclegan_lesson.models import cyclegan
    from cyclegan_lesson.nn import losses

    keras.utils.set_random_seed(0)
    a, b = mnist_test[0][:4], svhn_test[0][:4]
    w = losses.CycleGANLossWeights(lambda_identity=0.0)
    base = cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2, weights=w,
                                   seed=0)
    sem = semantic.SemanticConsistency(classifiers.load_shipped_classifier("mnist", "semantic"),
                                       classifiers.load_shipped_classifier("svhn", "semantic"))
    model = semantic.SemanticCycleGAN(base.G_AB, base.G_BA, base.D_A, base.D_B, weights=w,
                                      seed=0, semantic=sem, lambda_semantic=2.0,
                                      lambda_identity_x=0.5)
    terms, fake_a, fake_b = model.generator_losses(a, b, training=False)
    assert fake_a.shape == (4, 32, 32, 1) and fake_b.shape == (4, 32, 32, 3)
    parts = [k for k in terms if k != "G_total"]
    assert {"semantic_ab", "semantic_ba", "identity_ab", "identity_ba"} <= set(parts)
    assert float(terms["G_total"]) == pytest.approx(sum(float(terms[k]) for k in parts),
                                                    rel=1e-5)
    s_ab, s_ba = sem(a, fake_b, b, fake_a)
    assert float(terms["semantic_ab"]) == pytest.approx(2.0 * float(s_ab), rel=1e-5)
    model.compile(learning_rate=2e-4)
    history = model.fit(tf.data.Dataset.from_tensors((a, b)).repeat(), steps_per_epoch=2,
                        epochs=1, verbose=0, shuffle=False).history
    assert history["semantic_ab"][0] > 0 and history["semantic_ba"][0] > 0
    plain = semantic.SemanticCycleGAN(base.G_AB, base.G_BA, base.D_A, base.D_B, weights=w,
                                      seed=0)
    plain_terms, _, _ = plain.generator_losses(a, b, training=False)
    assert float(plain_terms["semantic_ab"]) == 0.0 and float(plain_terms["identity_ab"]) == 0.0
    with pytest.raises(ValueError, match="needs `semantic`"):
        semantic.SemanticCycleGAN(base.G_AB, base.G_BA, base.D_A, base.D_B, weights=w,
                                  lambda_semantic=1.0)


def test_source_only_semantic_loss_uses_the_source_classifier_on_both_sides(mnist_test,
                                                                            svhn_test, mnist_clf):
    # CyCADA: f_S reads the input and the translation in both directions (SVHN crops and
    # translations go to the MNIST classifier as ITU-R 601 luma)
    a, b = mnist_test[0][:8], svhn_test[0][:8]
    src = semantic.SemanticConsistency(mnist_clf, mnist_clf)
    fake_b = metrics.to_channels(a, 3)          # a "translator" that only replicates channels
    fake_a = metrics.to_channels(b, 1)
    loss_ab, loss_ba = src(a, fake_b, b, fake_a)
    # the same classifier on the same gray levels agrees with itself: ~0 in both directions
    assert float(loss_ab) < 1e-3 and float(loss_ba) < 1e-3
    expected_ba = semantic.semantic_consistency_loss(
        mnist_clf(metrics.to_channels(b, 1), training=False), mnist_clf(fake_a, training=False))
    assert float(loss_ba) == pytest.approx(float(expected_ba), abs=1e-6)


def test_with_semantic_terms_source_labels_load_one_classifier():
    from cyclegan_lesson.models import cyclegan
    from cyclegan_lesson.nn import losses

    w = losses.CycleGANLossWeights(lambda_identity=0.0)
    base = cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2, weights=w,
                                   seed=0)
    model = semantic.with_semantic_terms(base, domains=("mnist", "svhn"), lambda_semantic=1.0,
                                         labels="source")
    assert model.semantic.classifier_a is model.semantic.classifier_b
    assert model.semantic.classifier_a.input_shape[-1] == 1
    both = semantic.with_semantic_terms(
        cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2, weights=w,
                                seed=0),
        domains=("mnist", "svhn"), lambda_semantic=1.0)
    assert both.semantic.classifier_b.input_shape[-1] == 3
    with pytest.raises(ValueError, match="'source'"):
        semantic.with_semantic_terms(base, domains=("mnist", "svhn"), lambda_semantic=1.0,
                                     labels="target")
    # CyCADA as published for digits: the SVHN (domain B) classifier on both sides
    svhn_only = semantic.with_semantic_terms(
        cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2, weights=w,
                                seed=0),
        domains=("mnist", "svhn"), lambda_semantic=1.0, labels="source_b")
    assert svhn_only.semantic.classifier_a is svhn_only.semantic.classifier_b
    assert svhn_only.semantic.classifier_a.input_shape[-1] == 3
    a = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    b = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    loss_ab, loss_ba = svhn_only.semantic(a, svhn_only.G_AB(a), b, svhn_only.G_BA(b))
    assert np.isfinite(float(loss_ab)) and np.isfinite(float(loss_ba))


def test_binomial_interval_wilson_by_hand():
    # p = 0.9, n = 1997: half-width about 1.96 * sqrt(0.09 / 1997) = 1.3 points
    low, high = metrics.binomial_interval(0.9, 1997)
    assert low < 0.9 < high and high - low == pytest.approx(2 * 1.96 * (0.09 / 1997) ** 0.5,
                                                              rel=0.02)
    # Wilson by hand for 8 of 10: centre (0.8 + 1.96^2/20)/(1 + 1.96^2/10)
    low, high = metrics.binomial_interval(0.8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-3)
    assert metrics.binomial_interval(1.0, 50)[1] == 1.0 and metrics.binomial_interval(0.0, 50)[0] == 0.0
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        metrics.binomial_interval(94.0, 100)
    d_low, d_high = metrics.difference_interval(0.94, 1997, 0.90, 1997)
    assert 0 < d_low < 0.04 < d_high
    assert metrics.difference_interval(0.90, 1997, 0.905, 1997)[0] < 0   # within the noise


def test_semantic_classifiers_compute_in_float32_under_mixed_bfloat16():
    """train --precision mixed_bfloat16 builds the model under that policy; the frozen judges
    of the semantic loss are part of the loss and must still compute in float32."""
    from cyclegan_lesson.models import cyclegan
    from cyclegan_lesson.nn import losses

    w = losses.CycleGANLossWeights(lambda_identity=0.0)
    with cyclegan.precision_scope("mixed_bfloat16"):
        base = cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2,
                                       weights=w, seed=0)
        model = semantic.with_semantic_terms(base, domains=("mnist", "svhn"),
                                             lambda_semantic=1.0)
    assert base.G_AB.compute_dtype == "bfloat16"  # the generators do compute in bfloat16
    for clf in (model.semantic.classifier_a, model.semantic.classifier_b):
        assert {layer.compute_dtype for layer in clf.layers} == {"float32"}, clf.name
        images = np.zeros((2, 32, 32, clf.input_shape[-1]), np.float32)
        assert clf(images, training=False).dtype == "float32"


def test_identity_x_sides_train_only_the_named_generator():
    """``identity_x_sides="ba"``: only G_BA gets the cross-channel identity pass (the paper's
    identity where the shapes allow it, gray -> colour); its term equals the one computed with
    both sides, the G_AB term is exactly 0, and the total still sums the terms."""
    from cyclegan_lesson.models import cyclegan
    from cyclegan_lesson.nn import losses

    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    b = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    w = losses.CycleGANLossWeights(lambda_identity=0.0)
    base = cyclegan.build_cyclegan(32, 1, 3, n_blocks=1, ngf=8, ndf=8, n_layers=2, weights=w,
                                   seed=0)

    def model(sides):
        return semantic.SemanticCycleGAN(base.G_AB, base.G_BA, base.D_A, base.D_B, weights=w,
                                         seed=0, lambda_identity_x=0.5, identity_x_sides=sides)

    both = model("both").generator_losses(a, b, training=False)[0]
    ba_model = model("ba")
    idt_ab, idt_ba = ba_model.identity_inputs(a, b)
    assert idt_ab is None and idt_ba.shape == (2, 32, 32, 3)
    ba = ba_model.generator_losses(a, b, training=False)[0]
    assert float(ba["identity_ab"]) == 0.0 and float(both["identity_ab"]) > 0
    assert float(ba["identity_ba"]) == pytest.approx(float(both["identity_ba"]), rel=1e-5)
    assert float(ba["identity_ba"]) > 0
    parts = [k for k in ba if k != "G_total"]
    assert float(ba["G_total"]) == pytest.approx(sum(float(ba[k]) for k in parts), rel=1e-5)
    ab = model("ab").generator_losses(a, b, training=False)[0]
    assert float(ab["identity_ba"]) == 0.0
    assert float(ab["identity_ab"]) == pytest.approx(float(both["identity_ab"]), rel=1e-5)
    with pytest.raises(ValueError, match="identity_x_sides must be one of"):
        model("ab_ba")
