"""Frechet and kernel distances against closed forms and their known behaviour; the domain
verdict and course-classifier features."""

from __future__ import annotations

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson import sample_quality as sq


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
