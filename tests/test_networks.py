"""The CycleGAN networks: shapes, value range, official parameter counts, receptive fields,
PyTorch pixel alignment, weight init and bad-input errors."""

from __future__ import annotations

import cyclegan_lesson  # noqa: F401  (quiet TensorFlow import, custom layers registered)
import keras
import numpy as np
import pytest

from cyclegan_lesson.nn import networks
from cyclegan_lesson.nn.networks import (
    strided_resnet_generator,
    patch_discriminator,
    receptive_field,
    receptive_field_table,
    resnet_generator,
    unet_generator,
)


def _images(n, size, channels, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, size, size, channels)).astype("float32")


# ------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("size", [32, 128, 256])
@pytest.mark.parametrize("channels", [(1, 3), (3, 1), (3, 3)])
def test_resnet_generator_shapes(size, channels):
    cin, cout = channels
    g = resnet_generator(n_blocks=2, ngf=4, image_size=size, in_channels=cin, out_channels=cout)
    assert g.input_shape == (None, size, size, cin)
    assert g.output_shape == (None, size, size, cout)
    y = np.asarray(g(_images(1, size, cin), training=False))
    assert y.shape == (1, size, size, cout)
    assert np.all(np.abs(y) <= 1.0)


@pytest.mark.parametrize("size", [32, 128, 256])
@pytest.mark.parametrize("channels", [(1, 3), (3, 1)])
def test_unet_generator_shapes(size, channels):
    cin, cout = channels
    g = unet_generator(image_size=size, ngf=4, in_channels=cin, out_channels=cout)
    assert g.output_shape == (None, size, size, cout)
    y = np.asarray(g(_images(2, size, cin), training=False))
    assert y.shape == (2, size, size, cout)
    assert np.all(np.abs(y) <= 1.0)
    # num_downs = log2(size): the innermost feature map is 1x1
    innermost = g.get_layer(f"down{int(np.log2(size))}")
    assert innermost.output.shape[1:3] == (1, 1)


@pytest.mark.parametrize("size,expected", [(32, 2), (128, 14), (256, 30)])
def test_patch_discriminator_shapes(size, expected):
    d = patch_discriminator(n_layers=3, ndf=4, in_channels=3, image_size=size)
    assert d.output_shape == (None, expected, expected, 1)
    y = np.asarray(d(_images(2, size, 3)))
    assert y.shape == (2, expected, expected, 1)


def test_patch_discriminator_256_is_30x30_with_70x70_receptive_field():
    d = patch_discriminator(n_layers=3, ndf=64, image_size=256)
    assert d.output_shape == (None, 30, 30, 1)
    assert receptive_field(d) == 70


@pytest.mark.parametrize("n_layers,rf", [(1, 16), (2, 34), (3, 70), (4, 142), (5, 286)])
def test_receptive_field_of_patchgans(n_layers, rf):
    assert receptive_field(patch_discriminator(n_layers=n_layers, ndf=4)) == rf


def test_receptive_field_table_grows_layer_by_layer():
    rows = receptive_field_table(patch_discriminator(n_layers=3, ndf=4))
    assert [r["rf"] for r in rows] == [4, 10, 22, 46, 70]
    assert [r["jump"] for r in rows] == [2, 4, 8, 8, 8]
    assert [r["layer"] for r in rows] == ["C4", "C8", "C16", "C32_s1", "logits"]
    # each layer pads 1: the first output unit starts 1 + 2 + 4 + 8 + 8 = 23 pixels before the image
    assert [r["offset"] for r in rows] == [-1, -3, -7, -15, -23]


def test_receptive_field_matches_the_gradient_support_of_one_output():
    import tensorflow as tf

    # norm="none": instance norm's per-image mean and variance would make every output depend a
    # little on every pixel; the convolutional path alone sees exactly the receptive field.
    d = patch_discriminator(n_layers=3, ndf=4, image_size=128, norm="none")
    assert d.output_shape[1:3] == (14, 14)
    last = receptive_field_table(d)[-1]
    x = tf.convert_to_tensor(_images(1, 128, 3))
    u = 7
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = d(x)[0, u, u, 0]
    g = np.abs(np.asarray(tape.gradient(y, x)))[0].sum(axis=-1)
    rows, cols = np.nonzero(g.sum(axis=1))[0], np.nonzero(g.sum(axis=0))[0]
    start = last["offset"] + u * last["jump"]
    assert (rows.min(), rows.max() + 1) == (start, start + 70)
    assert (cols.min(), cols.max() + 1) == (start, start + 70)


def test_receptive_field_counts_pooling_dilation_and_rectangles():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3)(inputs)                    # rf 3, jump 1
    x = keras.layers.MaxPooling2D(2)(x)                     # rf 4, jump 2
    x = keras.layers.Conv2D(2, 3, dilation_rate=2)(x)       # k_eff 5: rf 4 + 4*2 = 12
    x = keras.layers.Conv2D(1, (3, 1))(x)                   # h: 12 + 2*2 = 16, w: 12
    assert receptive_field(keras.Model(inputs, x)) == (16, 12)


def test_receptive_field_rejects_skip_connections_and_upsampling():
    with pytest.raises(ValueError, match="inputs"):
        receptive_field(resnet_generator(n_blocks=1, ngf=4, image_size=32))
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2DTranspose(1, 3, strides=2)(inputs)
    with pytest.raises(ValueError, match="upsamples"):
        receptive_field(keras.Model(inputs, x))


def test_generators_accept_any_size_when_image_size_is_none():
    g = resnet_generator(n_blocks=1, ngf=4, image_size=None, in_channels=1, out_channels=3)
    assert g(_images(1, 40, 1)).shape == (1, 40, 40, 3)
    d = patch_discriminator(n_layers=3, ndf=4, image_size=None)
    assert d(_images(1, 64, 3)).shape == (1, 6, 6, 1)


def test_resize_upsampling_has_same_shape_and_parameter_count():
    kw = dict(n_blocks=2, ngf=8, image_size=32, in_channels=3, out_channels=3)
    t = resnet_generator(upsample="transpose", **kw)
    r = resnet_generator(upsample="resize", **kw)
    assert r.output_shape == t.output_shape
    assert r.count_params() == t.count_params()
    assert any(isinstance(layer, keras.layers.UpSampling2D) for layer in r.layers)
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in r.layers)


def test_output_saturates_inside_minus_one_one():
    g = resnet_generator(n_blocks=1, ngf=4, image_size=32)
    last = g.get_layer("c7s1_3_out")
    kernel, bias = last.get_weights()
    last.set_weights([kernel * 1000.0, bias])  # huge pre-activations
    y = np.asarray(g(_images(2, 32, 3)))
    assert np.all(np.abs(y) <= 1.0)
    assert np.abs(y).max() > 0.99  # tanh really is the last op (not a clip of small values)


def test_unet_dropout_in_inner_decoder_layers_as_official():
    def n_dropout(size):
        g = unet_generator(image_size=size, ngf=2, dropout=True)
        return sum(isinstance(layer, keras.layers.Dropout) for layer in g.layers)

    assert (n_dropout(256), n_dropout(128), n_dropout(32)) == (3, 2, 0)
    g = unet_generator(image_size=32, ngf=2, dropout=False)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in g.layers)


# ------------------------------------------------------------------------------- parameter counts


def test_resnet_9blocks_parameter_count_matches_official():
    # Official pytorch-CycleGAN-and-pix2pix prints "Total number of parameters : 11.378 M".
    assert resnet_generator(9, 64, 256, affine=False).count_params() == 11_378_179
    # Learnable instance-norm scale and offset: 2 x (64 + 128 + 256 + 9*2*256 + 128 + 64).
    assert resnet_generator(9, 64, 256, affine=True).count_params() == 11_378_179 + 10_496


def test_basic_patchgan_parameter_count_matches_official():
    # Official: "Total number of parameters : 2.765 M".
    assert patch_discriminator(3, 64, affine=False).count_params() == 2_764_737
    assert patch_discriminator(3, 64, affine=True).count_params() == 2_764_737 + 2 * (128 + 256 + 512)


def _conv_params(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


@pytest.mark.parametrize("ngf,n_blocks,cin,cout", [(8, 3, 1, 3), (16, 6, 3, 1)])
def test_resnet_parameter_count_by_hand(ngf, n_blocks, cin, cout):
    expected = (
        _conv_params(cin, ngf, 7) + _conv_params(ngf, 2 * ngf, 3) + _conv_params(2 * ngf, 4 * ngf, 3)
        + n_blocks * 2 * _conv_params(4 * ngf, 4 * ngf, 3)
        + _conv_params(4 * ngf, 2 * ngf, 3) + _conv_params(2 * ngf, ngf, 3)
        + _conv_params(ngf, cout, 7)
    )
    g = resnet_generator(n_blocks, ngf, 32, in_channels=cin, out_channels=cout, affine=False)
    assert g.count_params() == expected


@pytest.mark.parametrize("n_down", [0, 1, 2])
def test_resnet_n_downsampling_parameter_count_by_hand(n_down):
    ngf, n_blocks, cin, cout = 8, 2, 1, 3
    widths = [ngf * 2**i for i in range(n_down + 1)]          # ngf, 2 ngf, ... at each scale
    expected = (_conv_params(cin, ngf, 7)
                + sum(_conv_params(a, b, 3) for a, b in zip(widths, widths[1:]))
                + n_blocks * 2 * _conv_params(widths[-1], widths[-1], 3)
                + sum(_conv_params(b, a, 3) for a, b in zip(widths, widths[1:]))
                + _conv_params(ngf, cout, 7))
    g = strided_resnet_generator(n_blocks, ngf, 32, in_channels=cin, out_channels=cout, affine=False,
                         n_downsampling=n_down)
    assert g.count_params() == expected
    assert g.output_shape == (None, 32, 32, cout)


def test_resnet_without_downsampling_is_local():
    # n_downsampling=0, one block: receptive field 7 + 2 * 2 + 6 = 17 pixels. A change at one
    # pixel may move the output only within 8 pixels of it (instance norm aside, whose image
    # statistics spread a tiny global change: compare with a tolerance far above it).
    g = strided_resnet_generator(1, 8, 32, in_channels=1, out_channels=1, n_downsampling=0)
    x = _images(1, 32, 1)
    x2 = x.copy()
    x2[0, 4, 4, 0] = -x2[0, 4, 4, 0]
    diff = np.abs(np.asarray(g(x2, training=False)) - np.asarray(g(x, training=False)))[0, ..., 0]
    far = diff.copy()
    far[:13, :13] = 0.0                                       # within 8 pixels of (4, 4)
    assert diff[:13, :13].max() > 10 * far.max()


def test_resnet_n_downsampling_bad_values():
    with pytest.raises(ValueError, match="n_downsampling"):
        strided_resnet_generator(1, 4, 32, n_downsampling=-1)
    with pytest.raises(ValueError, match="multiple of 8"):
        strided_resnet_generator(1, 4, 36, n_downsampling=3)


def test_unet_parameter_counts_match_official():
    # Official unet_256 / unet_128 with batch norm: 54.414 M / 41.829 M trainable parameters
    # (PyTorch's running mean/variance are buffers, Keras counts them as non-trainable weights).
    for size, expected in [(256, 54_413_955), (128, 41_828_995)]:
        g = unet_generator(image_size=size, ngf=64)
        trainable = sum(int(np.prod(w.shape)) for w in g.trainable_weights)
        assert trainable == expected


# ------------------------------------------------------------------------------- faithfulness


def _torch_conv_transpose_reference(x, w, stride, padding, output_padding):
    """PyTorch ConvTranspose2d semantics (one channel): out[s*i + k - p] += x[i] * w[k]."""
    h, wd = x.shape
    k = w.shape[0]
    full = np.zeros(((h - 1) * stride + k, (wd - 1) * stride + k))
    for i in range(h):
        for j in range(wd):
            full[stride * i : stride * i + k, stride * j : stride * j + k] += x[i, j] * w
    end = full.shape[0] - padding + output_padding
    return full[padding:end, padding:end]


@pytest.mark.parametrize("kernel,padding,output_padding", [(3, 1, 1), (4, 1, 0)])
def test_transposed_conv_matches_pytorch_alignment(kernel, padding, output_padding):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 5)).astype("float32")
    w = rng.normal(size=(kernel, kernel)).astype("float32")
    inputs = keras.Input((5, 5, 1))
    out = networks._torch_conv_transpose(inputs, 1, kernel, padding=padding,
                                         output_padding=output_padding, use_bias=False, name="u")
    model = keras.Model(inputs, out)
    model.get_layer("u").set_weights([w[:, :, None, None]])
    got = np.asarray(model(x[None, :, :, None]))[0, :, :, 0]
    assert got.shape == (10, 10)
    np.testing.assert_allclose(got, _torch_conv_transpose_reference(x, w, 2, padding,
                                                                    output_padding), atol=1e-5)


def test_downsampling_matches_pytorch_padding_one():
    # PyTorch Conv2d(k=3, stride=2, padding=1): zero-pad one pixel on every side, then correlate.
    g = resnet_generator(n_blocks=0, ngf=1, image_size=8, in_channels=1, out_channels=1)
    sub = keras.Model(g.get_layer("d2_pad").input, g.get_layer("d2").output)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 8)).astype("float32")
    w = rng.normal(size=(3, 3)).astype("float32")
    g.get_layer("d2").set_weights([np.tile(w[:, :, None, None], (1, 1, 1, 2)), np.zeros(2)])
    got = np.asarray(sub(x[None, :, :, None]))[0, :, :, 0]
    padded = np.pad(x, 1)
    expected = np.array([[np.sum(padded[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * w)
                          for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_weights_initialized_normal_0_02_with_zero_bias():
    g = resnet_generator(n_blocks=2, ngf=32, image_size=32, affine=False)
    kernel, bias = g.get_layer("R128_1_conv1").get_weights()
    assert abs(kernel.std() - 0.02) < 0.001 and abs(kernel.mean()) < 0.001
    assert np.all(bias == 0)
    # a fresh initializer per layer: no two layers share the same random kernel
    k2 = g.get_layer("R128_2_conv1").get_weights()[0]
    assert not np.allclose(kernel, k2)


def test_same_seed_same_weights():
    keras.utils.set_random_seed(3)
    a = patch_discriminator(ndf=4).get_weights()
    keras.utils.set_random_seed(3)
    b = patch_discriminator(ndf=4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_generator_round_trips_through_keras_file(tmp_path):
    g = resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=1, out_channels=3)
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.models.load_model(path)
    x = _images(1, 32, 1)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(g(x)), atol=1e-6)


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
def test_norm_options(norm):
    d = patch_discriminator(ndf=4, norm=norm, image_size=64)
    u = unet_generator(image_size=32, ngf=4, norm=norm)
    for model in (d, u):
        kinds = {type(layer).__name__ for layer in model.layers}
        assert ("InstanceNormalization" in kinds) == (norm == "instance")
        assert ("BatchNormalization" in kinds) == (norm == "batch")
    # official: no conv bias in front of batch norm
    assert (d.get_layer("C8").bias is None) == (norm == "batch")


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "builder,kwargs,match",
    [
        (resnet_generator, {"image_size": 30}, "multiple of 4"),
        (resnet_generator, {"image_size": 4}, "at least 8"),
        (resnet_generator, {"in_channels": 0}, "in_channels"),
        (resnet_generator, {"out_channels": 2.5}, "out_channels"),
        (resnet_generator, {"n_blocks": -1}, "n_blocks"),
        (resnet_generator, {"ngf": 0}, "ngf"),
        (resnet_generator, {"upsample": "nearest"}, "upsample"),
        (unet_generator, {"image_size": 100}, "power of two"),
        (unet_generator, {"image_size": 16}, "at least 32"),
        (unet_generator, {"norm": "layer"}, "norm"),
        (unet_generator, {"out_channels": 0}, "out_channels"),
        (patch_discriminator, {"image_size": 16}, "too small"),
        (patch_discriminator, {"n_layers": 0}, "n_layers"),
        (patch_discriminator, {"in_channels": -3}, "in_channels"),
        (patch_discriminator, {"norm": "group"}, "norm"),
    ],
)
def test_bad_arguments_raise_clear_errors(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)


def test_wrong_input_channels_rejected_by_keras_before_running():
    g = resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=1)
    with pytest.raises(ValueError):
        g(_images(1, 32, 3))


def test_block_summary_groups_layers_into_the_papers_blocks():
    g = resnet_generator(n_blocks=2, ngf=8, image_size=32, in_channels=1, out_channels=3)
    rows = networks.block_summary(g)
    assert [r["block"] for r in rows] == ["c7s1_8", "d16", "d32", "R32_1", "R32_2", "u16", "u8",
                                          "c7s1_3_out"]
    assert sum(r["params"] for r in rows) == g.count_params()
    assert rows[2]["output_shape"] == (8, 8, 32) and rows[-1]["output_shape"] == (32, 32, 3)
    d = patch_discriminator(n_layers=3, ndf=64, image_size=256, affine=False)
    rows = networks.block_summary(d)
    assert [(r["block"], r["params"]) for r in rows] == [
        ("C64", 3_136), ("C128", 131_200), ("C256", 524_544), ("C512_s1", 2_097_664),
        ("logits", 8_193)]
    u = unet_generator(image_size=32, ngf=4)
    assert [r["block"] for r in networks.block_summary(u)] == [
        "down1", "down2", "down3", "down4", "down5", "up5", "up4", "up3", "up2", "up1"]


def test_leaky_relu_equals_keras_leaky_relu():
    x = np.linspace(-3, 3, 61, dtype="float32")
    ours = np.asarray(networks.LeakyReLU(0.2)(x))
    np.testing.assert_allclose(ours, np.asarray(keras.layers.LeakyReLU(0.2)(x)), atol=1e-7)
    with pytest.raises(ValueError, match="negative_slope"):
        networks.LeakyReLU(1.5)


@pytest.mark.parametrize("cropping", [((1, 0), (1, 0)), ((2, 1), (0, 3))])
def test_cropping2d_equals_keras_cropping2d_with_gradient_and_unknown_size(cropping, tmp_path):
    import tensorflow as tf

    x = tf.convert_to_tensor(np.random.default_rng(3).normal(size=(2, 9, 11, 4)), "float32")
    ours, theirs = networks.Cropping2D(cropping), keras.layers.Cropping2D(cropping)
    results = []
    for layer in (ours, theirs):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * y)
        results.append((y.numpy(), tape.gradient(loss, x).numpy()))
    assert results[0][0].shape == results[1][0].shape
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    # traced with unknown height and width (the any-size generators)
    fn = tf.function(ours, input_signature=[tf.TensorSpec((None, None, None, 4), "float32")])
    np.testing.assert_array_equal(fn(x).numpy(), results[1][0])
    inputs = keras.Input((None, None, 4))
    model = keras.Model(inputs, networks.Cropping2D(cropping)(inputs))
    model.save(tmp_path / "crop.keras")
    loaded = keras.models.load_model(tmp_path / "crop.keras")
    assert type(loaded.layers[-1]) is networks.Cropping2D
    np.testing.assert_array_equal(np.asarray(loaded(x)), results[1][0])


def test_compiled_discriminator_gradient_prints_no_remapper_error(capfd):
    import tensorflow as tf

    d = patch_discriminator(n_layers=2, ndf=4, image_size=32)
    x = tf.convert_to_tensor(_images(2, 32, 3))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(d(x, training=True) - 1.0))
        return tape.gradient(loss, d.trainable_variables)

    grads = step()
    assert all(g is not None for g in grads)
    assert "remapper failed" not in capfd.readouterr().err


def test_keep_luma_colourizer_keeps_the_input_luma_and_round_trips(tmp_path):
    from cyclegan_lesson.evaluation import colour_metrics

    core = networks.unet_generator(image_size=32, ngf=4, in_channels=1, out_channels=2,
                                   norm="instance")
    model = networks.keep_luma(core, name="G_AB")
    rng = np.random.default_rng(0)
    gray = rng.uniform(-0.5, 0.5, (2, 32, 32, 1)).astype(np.float32)
    rgb = np.asarray(model(gray))
    assert rgb.shape == (2, 32, 32, 3) and rgb.min() >= -1 and rgb.max() <= 1
    # Not gray: the untrained core predicts some chroma ...
    assert np.abs(colour_metrics.chroma(rgb)).max() > 1e-4
    # ... and the luma is the input's (mid-range input, nothing clips).
    np.testing.assert_allclose(colour_metrics.luma(rgb), gray, atol=1e-5)
    path = tmp_path / "G.keras"
    model.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(gray)), rgb, atol=1e-6)


def test_luma_chroma_to_rgb_inverts_rgb_to_ycbcr_and_rejects_bad_shapes():
    from cyclegan_lesson.evaluation import colour_metrics
    from cyclegan_lesson.nn.layers import LumaChromaToRGB

    rgb = np.random.default_rng(1).uniform(-1, 1, (3, 4, 4, 3)).astype(np.float32)
    ycc = colour_metrics.rgb_to_ycbcr(rgb)
    back = np.asarray(LumaChromaToRGB()([ycc[..., :1], ycc[..., 1:]]))
    np.testing.assert_allclose(back, rgb, atol=1e-5)
    with pytest.raises(ValueError, match="1 channel and chroma with 2"):
        LumaChromaToRGB()([ycc[..., :1], ycc])
    with pytest.raises(ValueError, match="out_channels=2"):
        networks.keep_luma(networks.unet_generator(image_size=32, ngf=4, in_channels=1))
