"""Translating images of any size: fully convolutional rebuild, padding, tiling, scale."""

from __future__ import annotations

import cyclegan_lesson  # noqa: F401
import keras
import numpy as np
import pytest
from cyclegan_lesson.nn import networks
from cyclegan_lesson.tools import any_size


def _gen(norm_free: bool = False):
    keras.utils.set_random_seed(0)
    if norm_free:  # per-pixel model: tiling must be exact
        inp = keras.Input((32, 32, 3))
        out = keras.layers.Conv2D(3, 1, activation="tanh")(inp)
        return keras.Model(inp, out)
    return networks.resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=3,
                                     out_channels=3, upsample="resize")


def _image(h, w, c=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (h, w, c)).astype(np.float32)


def test_fully_convolutional_equals_the_fixed_size_generator_at_its_size():
    g = _gen()
    free = any_size.fully_convolutional(g)
    assert tuple(free.inputs[0].shape) == (None, None, None, 3)
    x = _image(32, 32)[None]
    np.testing.assert_allclose(np.asarray(free(x)), np.asarray(g(x)), atol=1e-5)
    assert any_size.total_stride(g) == 4


@pytest.mark.parametrize("h,w", [(45, 70), (33, 101), (64, 48)])
def test_non_square_image_keeps_its_size_and_range(h, w):
    y = any_size.translate_any_size(_gen(), _image(h, w), tile=None)
    assert y.shape == (h, w, 3)
    assert y.min() >= -1 and y.max() <= 1


def test_tiles_blend_exactly_for_a_per_pixel_model():
    g = _gen(norm_free=True)
    x = _image(100, 150)
    whole = any_size.translate_any_size(g, x, tile=None)
    tiled = any_size.translate_any_size(g, x, tile=48, overlap=16)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_tiles_of_a_resnet_are_close_to_one_pass():
    g = _gen()
    x = _image(96, 160)
    whole = any_size.translate_any_size(g, x, tile=None)
    tiled = any_size.translate_any_size(g, x, tile=64, overlap=24)
    assert tiled.shape == whole.shape
    # Instance norm sees each tile alone, so not equal, but close on noise images.
    assert np.abs(tiled - whole).mean() < 0.1


def test_tile_origins_cover_the_length_with_overlap():
    starts = any_size.tile_origins(150, 48, 16)
    assert starts[0] == 0 and starts[-1] == 150 - 48
    assert all(b - a <= 48 - 16 for a, b in zip(starts, starts[1:]))
    assert any_size.tile_origins(40, 48, 16) == [0]


def test_fit_scale_keeps_aspect_ratio_on_multiples():
    assert any_size.fit_scale(3000, 4000, 256) == (256, 340)
    assert any_size.fit_scale(100, 50, 143) == (288, 144)


def test_bad_input_raises_clear_errors():
    g = _gen()
    with pytest.raises(ValueError, match="one HWC image"):
        any_size.translate_any_size(g, _image(8, 8)[None])
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        any_size.translate_any_size(g, _image(8, 8) * 100)
    with pytest.raises(ValueError, match="channel"):
        any_size.translate_any_size(g, _image(8, 8, 1))
    with pytest.raises(ValueError, match="multiple of the generator's stride"):
        any_size.translate_any_size(g, _image(80, 80), tile=50)
    dense = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(48), keras.layers.Reshape((4, 4, 3))])
    with pytest.raises(ValueError, match="fixed image size"):
        any_size.fully_convolutional(dense)
