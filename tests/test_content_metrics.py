"""Content kept and colour shift between an image and its translation."""

from __future__ import annotations

import cyclegan_lesson  # noqa: F401
import numpy as np
import pytest
from cyclegan_lesson.evaluation import content_metrics as cm


def _scene(n=4, size=128, seed=0):
    """Smooth random scenes with edges: blurred blocks of colour."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-0.8, 0.8, (n, 8, 8, 3)).astype(np.float32)
    return np.repeat(np.repeat(coarse, size // 8, axis=1), size // 8, axis=2)


def test_identical_images_score_perfectly():
    x = _scene()
    np.testing.assert_allclose(cm.luma_ssim(x, x), 1.0, atol=1e-4)
    np.testing.assert_allclose(cm.edge_similarity(x, x), 1.0, atol=1e-6)
    np.testing.assert_allclose(cm.hue_shift(x, x), 0.0, atol=1e-3)
    np.testing.assert_allclose(cm.colour_histogram_distance(x, x), 0.0, atol=1e-6)


def test_texture_noise_is_forgiven_at_64_but_a_different_picture_is_not():
    x = _scene()
    rng = np.random.default_rng(1)
    textured = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1).astype(np.float32)
    other = np.roll(_scene(seed=5), (5, 11), axis=(1, 2))  # its edges elsewhere
    kept, lost = cm.luma_ssim(x, textured), cm.luma_ssim(x, other)
    assert kept.min() > 0.6 and lost.max() < 0.5
    assert cm.edge_similarity(x, textured).min() > 0.8
    assert cm.edge_similarity(x, other).max() < 0.5
    # Downsampling is what forgives texture: at full size the same noise costs far more.
    assert cm.luma_ssim(x, textured, size=128).mean() < kept.mean() - 0.1


def test_hue_shift_measures_a_hue_rotation_and_ignores_brightness():
    import tensorflow as tf

    x = _scene()
    hsv = tf.image.rgb_to_hsv((x + 1) / 2).numpy()
    hsv[..., 0] = (hsv[..., 0] + 60 / 360) % 1.0
    rotated = tf.image.hsv_to_rgb(hsv).numpy() * 2 - 1
    shift = cm.hue_shift(x, rotated)
    np.testing.assert_allclose(shift, 60.0, atol=1.0)
    darker = x * 0.5 - 0.25  # same hues, less light
    assert cm.hue_shift(x, darker).max() < 2.0
    assert cm.colour_histogram_distance(x, rotated).min() > 0.3
    gray = np.repeat(x.mean(axis=-1, keepdims=True), 3, axis=-1)
    assert np.isnan(cm.hue_shift(gray, gray)).all()


def test_bad_input_raises_clear_errors():
    x = _scene(n=2, size=32)
    with pytest.raises(ValueError, match="own translation"):
        cm.luma_ssim(x, x[:1])
    with pytest.raises(ValueError, match="RGB"):
        cm.hue_shift(x[..., :1], x[..., :1])
    with pytest.raises(ValueError, match="at least 11"):
        cm.luma_ssim(x, x, size=8)
    with pytest.raises(ValueError, match="NHWC"):
        cm.edge_similarity(x[0], x[0])


def test_checkerboard_energy_finds_a_period_2_pattern_and_not_a_smooth_image():
    rng = np.random.default_rng(0)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(2, 64, 64, 3)), 1), 2)
    smooth = (0.9 * smooth / np.abs(smooth).max()).astype(np.float32)
    board = smooth.copy()
    board[:, ::2, ::2] += 0.1
    board = np.clip(board, -1, 1)
    clean, dirty = cm.checkerboard_energy(smooth), cm.checkerboard_energy(board)
    assert np.all(clean < 0.01) and np.all(dirty > 0.1)
    # a pure checkerboard of period 2 puts all its non-DC power there
    pure = np.indices((8, 8)).sum(0) % 2 * 2.0 - 1.0
    assert cm.checkerboard_energy(pure[None, ..., None].astype(np.float32), period=2)[0] == \
        pytest.approx(1.0)
    with pytest.raises(ValueError, match="multiple"):
        cm.checkerboard_energy(np.zeros((1, 10, 10, 3), np.float32))


def test_speckle_grows_with_pixel_noise_and_ignores_smooth_images_and_edges():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    smooth = np.stack([np.stack([0.8 * np.sin(xx / 9 + yy / 13 + p + c) for c in range(3)], -1)
                       for p in (0.0, 1.0)]).astype(np.float32)  # (2, 64, 64, 3) gradients
    step = np.where(np.arange(64) < 32, -0.8, 0.8).astype(np.float32)
    edge = np.broadcast_to(step[None, None, :, None], (1, 64, 64, 3)).copy()  # one sharp edge
    assert np.all(cm.speckle(smooth) < 0.005) and cm.speckle(edge)[0] == 0.0
    # salt and pepper on 10 % and on 30 % of the pixels, each channel on its own
    levels = []
    for share in (0.1, 0.3):
        noisy = smooth.copy()
        hit = rng.uniform(size=noisy.shape) < share
        noisy[hit] = rng.choice([-1.0, 1.0], size=hit.sum())
        levels.append(cm.speckle(noisy))
    assert np.all(levels[0] > 0.02) and np.all(levels[1] > levels[0])
    # by hand: one bright pixel in a black image -> |1 - 0| over the interior's pixels
    one = -np.ones((1, 5, 5, 1), np.float32)
    one[0, 2, 2, 0] = 1.0
    assert cm.speckle(one)[0] == pytest.approx(1 / 9)
    with pytest.raises(ValueError, match="at least 3x3"):
        cm.speckle(np.zeros((1, 2, 8, 3), np.float32))
