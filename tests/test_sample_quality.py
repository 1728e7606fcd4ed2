"""Frechet and kernel distances against closed forms and their known behaviour; the domain
verdict and course-classifier features."""

from __future__ import annotations

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.evaluation import sample_quality as sq


def test_frechet_distance_closed_form_1d_and_diagonal():
    # 1-D: (mu1 - mu2)^2 + (sigma1 - sigma2)^2 = 1 + (1 - 2)^2 = 2
    assert sq.frechet_distance([0.0], [[1.0]], [1.0], [[4.0]]) == pytest.approx(2.0)
    # diagonal covariances: sum (mu diff)^2 + sum (sqrt(s1) - sqrt(s2))^2
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert sq.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)
    # a full covariance against itself rotated: same spectrum, so only the means count when
    # the covariances commute; here identical -> 0
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert sq.frechet_distance([0, 0], a, [0, 0], a) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="must match"):
        sq.frechet_distance([0, 0], a, [0], [[1.0]])


def test_frechet_distance_of_samples_near_zero_and_monotone_in_disturbance():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(4000, 8))
    same = rng.normal(size=(4000, 8))
    assert sq.frechet_distance_of_features(real, same) < 0.05
    # disturbance: more noise, larger distance (Heusel et al.'s test, on features)
    values = [sq.frechet_distance_of_features(real, same + rng.normal(scale=s, size=same.shape))
              for s in (0.25, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[-1] > 1.0


def test_kernel_distance_unbiased_and_grows_with_shift():
    rng = np.random.default_rng(1)
    # unbiased: the average over many small samples of one distribution is ~0 (a biased MMD
    # estimate would be clearly positive at n = 20)
    draws = [sq.kernel_distance(rng.normal(size=(20, 4)), rng.normal(size=(20, 4)))
             for _ in range(200)]
    assert abs(np.mean(draws)) < 3 * np.std(draws) / np.sqrt(len(draws))
    shifted = [sq.kernel_distance(rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) + s)
               for s in (0.0, 0.5, 1.0)]
    assert shifted[0] < shifted[1] < shifted[2] and shifted[2] > 0.5
    with pytest.raises(ValueError, match="feature sizes differ"):
        sq.kernel_distance(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        sq.kernel_distance(np.full((3, 2), np.nan), np.zeros((3, 2)))


def test_classifier_features_and_domain_verdict():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    x = keras.layers.Dense(5, name="features")(x)
    logits = keras.layers.Dense(2, name="logits")(x)
    clf = keras.Model(inputs, logits)
    images = np.random.default_rng(0).uniform(-1, 1, (10, 8, 8, 3)).astype("float32")
    feats = sq.classifier_features(clf, images)
    assert feats.shape == (10, 5)                    # the input of the last layer
    share = sq.domain_verdict(clf, images, 1)
    assert 0.0 <= share <= 1.0
    assert sq.domain_verdict(clf, images, 0) == pytest.approx(1.0 - share)
    with pytest.raises(ValueError, match="domain_index"):
        sq.domain_verdict(clf, images, 2)


# --- classifier-based measures and k-NN precision/recall (chapter 6) ------------------------


def test_precision_recall_on_two_gaussians_with_known_overlap():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(1000, 2))
    same = sq.precision_recall_knn(real, rng.normal(size=(1000, 2)), k=3)
    assert same["precision"] > 0.9 and same["recall"] > 0.9
    far = sq.precision_recall_knn(real, rng.normal(size=(1000, 2)) + 50.0, k=3)
    assert far["precision"] == 0.0 and far["recall"] == 0.0
    # half of the fakes on the real distribution, half far away: precision ~ 1/2, recall ~ 1
    half = np.concatenate([rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + 50.0])
    mixed = sq.precision_recall_knn(real, half, k=3)
    assert 0.4 < mixed["precision"] < 0.55 and mixed["recall"] > 0.85
    # a collapsed generator (one tight cluster at the mode): precise, but low recall
    collapsed = sq.precision_recall_knn(real, 0.05 * rng.normal(size=(1000, 2)), k=3)
    assert collapsed["precision"] > 0.95 and collapsed["recall"] < 0.1
    with pytest.raises(ValueError, match="k"):
        sq.precision_recall_knn(real[:3], real[:3], k=3)


def test_inception_score_like_bounds():
    constant = np.tile([[0.7, 0.2, 0.1]], (50, 1))
    assert sq.inception_score_like(constant) == pytest.approx(1.0)
    confident = np.eye(4)[np.arange(100) % 4]
    assert sq.inception_score_like(confident) == pytest.approx(4.0)
    soft = 0.5 * confident + 0.5 / 4
    assert 1.0 < sq.inception_score_like(soft) < 4.0
    with pytest.raises(ValueError, match="probabilities"):
        sq.inception_score_like(np.ones((3, 2)))


def test_class_histogram_and_kl_to_uniform():
    even = sq.mode_coverage(np.arange(100) % 10)
    assert even["kl_to_uniform"] == pytest.approx(0.0) and even["classes_above"] == 10
    one = sq.mode_coverage(np.full(100, 3))
    assert one["kl_to_uniform"] == pytest.approx(np.log(10)) and one["classes_above"] == 1
    two = sq.mode_coverage(np.array([0] * 50 + [1] * 50))  # KL = log(10 / 2)
    assert two["kl_to_uniform"] == pytest.approx(np.log(5)) and two["classes_above"] == 2
    hist = sq.class_histogram(np.array([0, 0, 2]), 3)
    assert hist == pytest.approx([2 / 3, 0, 1 / 3])
    with pytest.raises(ValueError):
        sq.class_histogram(np.array([0, 10]), 10)


def test_inception_features_checks_its_input():
    with pytest.raises(ValueError, match="NHWC"):
        sq.inception_features(np.zeros((2, 32, 32)))


def test_inception_network_offline_error_names_the_fix(monkeypatch):
    import keras

    def no_download(**kwargs):
        raise OSError("URL fetch failure")

    monkeypatch.setattr(keras.applications, "InceptionV3", no_download)
    with pytest.raises(RuntimeError, match="classifier_features"):
        sq.inception_network()


@pytest.mark.slow
def test_inception_pipeline_on_random_weights():
    """The FID/KID pipeline offline (random Inception weights, so not FID): gray and colour
    32x32 images become (N, 2048) features; one set against itself gives FID and KID ~0 next to
    the distance to a different set."""
    net = sq.inception_network(weights=None)
    rng = np.random.default_rng(0)
    gray = rng.uniform(-1, 1, (6, 32, 32, 1)).astype("float32")
    colour = rng.uniform(-1, 1, (6, 32, 32, 3)).astype("float32")
    f = sq.inception_features(gray, batch_size=4, network=net)
    assert f.shape == (6, 2048) and np.all(np.isfinite(f))
    assert np.allclose(f, sq.inception_features(np.repeat(gray, 3, axis=-1), network=net),
                       atol=1e-4)  # gray is repeated to RGB
    same = sq.inception_distances(colour, colour, network=net)
    other = sq.inception_distances(colour, np.full_like(colour, 0.9), network=net)
    # random weights give tiny features (~1e-4), so compare the two distances with each other
    assert other["fid"] > 0 and abs(same["fid"]) < 1e-3 * other["fid"]
    assert other["kid"] > 0 and abs(same["kid"]) < 1e-2 * other["kid"]


def test_disturb_levels_and_input_checks():
    x = np.linspace(-1, 1, 2 * 8 * 8 * 1, dtype="float32").reshape(2, 8, 8, 1)
    for kind in sq.DISTURBANCES:
        assert np.array_equal(sq.disturb(x, kind, 0.0), x)  # level 0: unchanged
        y = sq.disturb(x, kind, 0.5, seed=1)
        assert y.shape == x.shape and y.dtype == np.float32 and y.min() >= -1 and y.max() <= 1
        assert np.array_equal(y, sq.disturb(x, kind, 0.5, seed=1))  # the seed fixes it
        assert not np.array_equal(y, x)
    occluded = sq.disturb(x, "occlusion", 0.5, seed=3)
    changed = (occluded != x).reshape(2, -1)
    assert np.all(occluded[occluded != x] == -1.0)  # black squares, nothing else touched
    assert np.all(changed.sum(axis=1) <= 16) and np.all(changed.sum(axis=1) >= 1)  # 4x4 squares
    blurred = sq.disturb(np.pad(np.ones((1, 1, 1, 1), "float32"), ((0, 0), (3, 3), (3, 3), (0, 0)),
                                constant_values=-1), "blur", 1.0)
    assert blurred[0, 3, 3, 0] < 1 and blurred[0, 3, 4, 0] > -1  # a point spreads to neighbours
    with pytest.raises(ValueError, match="kind"):
        sq.disturb(x, "swirl", 0.1)
    with pytest.raises(ValueError, match="level"):
        sq.disturb(x, "occlusion", 1.5)
    with pytest.raises(ValueError, match="NHWC"):
        sq.disturb(x[0], "noise", 0.1)


def test_fd_mnist_zero_for_one_distribution_and_grows_with_disturbance(data_dir):
    """Heusel et al.'s disturbance test on the shipped MNIST judge's features: two halves of the
    test set are close, and more noise, blur or occlusion moves one half monotonically away."""
    from cyclegan_lesson.evaluation import classifiers

    judge = classifiers.load_shipped_classifier("mnist")
    images, _ = classifiers.load_digit_arrays("mnist", "test", str(data_dir), limit=2000)
    a, b = images[:1000], images[1000:]
    fa = sq.classifier_features(judge, a)

    def fd(x):
        return sq.frechet_distance_of_features(fa, sq.classifier_features(judge, x))

    base = fd(b)
    curves = {kind: [fd(sq.disturb(b, kind, level, seed=1)) for level in levels]
              for kind, levels in (("noise", (0.1, 0.3, 0.6)), ("blur", (0.5, 1.0, 2.0)),
                                   ("occlusion", (0.25, 0.5, 0.75)))}
    assert base < 0.2 * curves["noise"][0] or base < 0.05 * curves["noise"][-1]
    for kind, values in curves.items():
        assert [base] + values == sorted([base] + values), (kind, base, values)
