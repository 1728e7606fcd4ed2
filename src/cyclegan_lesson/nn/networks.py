"""The CycleGAN networks, named and shaped after the paper and its official implementation.

* :func:`resnet_generator` -- the paper's generator ("c7s1-64, d128, d256, R256 x n, u128, u64,
  c7s1-3"; ``resnet_9blocks`` / ``resnet_6blocks`` in the official ``models/networks.py``).
* :func:`unet_generator` -- the official ``UnetGenerator`` (``unet_256`` / ``unet_128``; plus a
  32x32 variant), an encoder-decoder with skip connections (pix2pix's generator).
* :func:`keep_luma` -- wraps a gray -> chroma network into a gray -> RGB colourizer that keeps the
  input's luma (it can only add colour).
* :func:`patch_discriminator` -- the 70x70 PatchGAN (``basic`` = ``n_layers`` 3): a fully
  convolutional classifier whose every output judges one 70x70 patch of the input.
* :func:`pixel_discriminator` -- the official ``PixelDiscriminator`` (1x1 PatchGAN, "PixelGAN"):
  every output judges one pixel's colour alone.
* :func:`receptive_field` / :func:`receptive_field_table` -- computed from a model's layer stack.

Every builder returns a functional ``keras.Model`` mapping NHWC float32 images in [-1, 1] to
images in [-1, 1] (generators, ``tanh`` output) or to unbounded logits (discriminator, no
sigmoid: the losses in :mod:`cyclegan_lesson.nn.losses` take logits). Convolution kernels are drawn
from N(0, 0.02) and biases start at 0, as the official ``init_weights(init_type="normal")``.

Paddings are written out (``ReflectionPadding2D`` / ``ZeroPadding2D`` followed by a ``valid``
convolution, transposed convolutions cropped like PyTorch's ``padding``/``output_padding``) so
every layer's output shape and pixel alignment equal the official PyTorch code's.
"""

from __future__ import annotations

import math
import re

import keras

from .layers import InstanceNormalization, LumaChromaToRGB, ReflectionPadding2D, residual_block

__all__ = [
    "resnet_generator",
    "strided_resnet_generator",
    "unet_generator",
    "patch_discriminator",
    "pixel_discriminator",
    "pixel_generator",
    "keep_luma",
    "receptive_field",
    "receptive_field_table",
    "block_summary",
    "LeakyReLU",
    "Cropping2D",
    "NORMS",
]

#: Normalizations the builders accept (``"none"`` is for WGAN-GP critics, which avoid batch norm).
NORMS = ("instance", "batch", "none")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class LeakyReLU(keras.layers.LeakyReLU):
    """``keras.layers.LeakyReLU`` computed as ``max(x, slope * x)`` (the same function for
    ``0 <= slope <= 1``).

    Why: TensorFlow's graph optimizer tries to fuse ``Conv2D + BiasAdd + LeakyRelu`` (the
    PatchGAN's first layer, the U-Net's encoder) and, when a gradient tape needs the
    pre-activation, fails and prints "remapper failed: ... LeakyReluGrad ..." to stderr at every
    compiled training step's first trace. The ``maximum`` form computes the same values and is
    left alone.
    """

    def __init__(self, negative_slope=0.2, **kwargs):
        super().__init__(negative_slope=negative_slope, **kwargs)
        if self.negative_slope > 1:
            raise ValueError(f"LeakyReLU: negative_slope must be in [0, 1], got {negative_slope}.")

    def call(self, inputs):
        return keras.ops.maximum(inputs, inputs * self.negative_slope)


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class Cropping2D(keras.layers.Cropping2D):
    """``keras.layers.Cropping2D`` (same arguments, same output) computed with one
    ``keras.ops.slice``.

    Why: Keras' layer crops with a strided slice, whose gradient (TensorFlow's
    ``StridedSliceGrad``) took 1.7-2.1 % of a CycleGAN training step on a CPU; a plain slice's
    gradient is one ``Pad`` and about 10 times cheaper (measured on the transposed
    convolutions' outputs the generator crops).
    """

    def call(self, inputs):
        if self.data_format != "channels_last":
            return super().call(inputs)
        (top, bottom), (left, right) = self.cropping
        n, h, w, c = keras.ops.shape(inputs)
        return keras.ops.slice(inputs, (0, top, left, 0),
                               (n, h - top - bottom, w - left - right, c))



def _init():
    """A fresh N(0, 0.02) initializer per layer (one shared seeded instance would repeat weights)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _check_positive_int(value, what: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{who}: {what} must be a positive integer, got {value!r}.")
    return value


def _check_norm(norm: str, who: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"{who}: norm must be one of {NORMS}, got {norm!r}.")
    return norm


def _norm_layer(norm: str, *, affine: bool, name: str):
    """The normalization layer after a convolution, or ``None`` for ``norm="none"``.

    Batch norm follows the official init (scale ~ N(1, 0.02), offset 0) and PyTorch's momentum
    0.1 (Keras counts momentum the other way round: 0.9) and epsilon 1e-5.
    """
    if norm == "instance":
        return InstanceNormalization(affine=affine, name=name)
    if norm == "batch":
        return keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5,
            gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02),
            name=name,
        )
    return None


def _apply(layer, x):
    return x if layer is None else layer(x)


def _conv(filters: int, kernel: int, stride: int, *, use_bias: bool, name: str):
    return keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="valid", use_bias=use_bias,
        kernel_initializer=_init(), bias_initializer="zeros", name=name,
    )


def _torch_conv_transpose(x, filters: int, kernel: int, *, padding: int, output_padding: int,
                          use_bias: bool, name: str):
    """PyTorch's ``ConvTranspose2d(kernel, stride=2, padding, output_padding)`` in Keras.

    A ``valid`` transposed convolution produces the full ``(H - 1) * 2 + kernel`` rows;
    PyTorch then drops ``padding`` rows at the top/left and ``padding - output_padding`` at the
    bottom/right. Doing the same crop keeps the official pixel alignment (Keras' own
    ``padding="same"`` crops on the other side, which shifts the image by one pixel).
    """
    x = keras.layers.Conv2DTranspose(
        filters, kernel, strides=2, padding="valid", use_bias=use_bias,
        kernel_initializer=_init(), bias_initializer="zeros", name=name,
    )(x)
    end = padding - output_padding
    if padding or end:
        x = Cropping2D(((padding, end), (padding, end)), name=f"{name}_crop")(x)
    return x


# ---------------------------------------------------------------------------------------------
# ResNet generator (the paper's generator)
# ---------------------------------------------------------------------------------------------


def resnet_generator(
    n_blocks: int = 9,
    ngf: int = 64,
    image_size: int | None = 256,
    in_channels: int = 3,
    out_channels: int = 3,
    upsample: str = "transpose",
    affine: bool = True,
    name: str | None = None,
) -> keras.Model:
    """The CycleGAN ResNet generator (paper, appendix 7.2; official ``ResnetGenerator``).

    Layers, with ``ngf = 64`` as in the paper (``cKsS-F``: KxK conv, stride S, F filters):

    ========== ====================================================================
    c7s1-64    reflect-pad 3, 7x7 conv, instance norm, ReLU            (H x W)
    d128       zero-pad 1, 3x3 conv stride 2, instance norm, ReLU      (H/2)
    d256       zero-pad 1, 3x3 conv stride 2, instance norm, ReLU      (H/4)
    R256 x n   residual blocks (:func:`cyclegan_lesson.nn.layers.residual_block`)
    u128       3x3 transposed conv stride 2 (padding 1, output_padding 1), IN, ReLU (H/2)
    u64        same, 64 filters                                        (H)
    c7s1-C     reflect-pad 3, 7x7 conv to ``out_channels``, tanh
    ========== ====================================================================

    Args:
        n_blocks: residual blocks; the paper uses 9 at 256x256 and 6 at 128x128.
        ngf: filters of the first layer (the others are 2x and 4x this).
        image_size: height = width of the input, or ``None`` for any size divisible by 4
            (the network is fully convolutional). Must be divisible by 4 and at least 8.
        in_channels, out_channels: image channels, e.g. 1 -> 3 for MNIST -> SVHN.
        upsample: ``"transpose"`` (official) or ``"resize"``: bilinear 2x upsampling, reflect-pad 1,
            3x3 conv -- the official FAQ's fix for checkerboard artifacts (Odena et al. 2016).
            Both have the same parameter count.
        affine: learnable instance-norm scale and offset. The official code uses
            ``affine=False`` (11,378,179 parameters for ``resnet_9blocks``); ``True`` adds
            ``2 x`` (normalized channels) = 10,496 parameters at ``ngf = 64``.
        name: model name (default ``resnet_{n_blocks}blocks``).

    Convolutions keep their bias (the official code uses bias with instance norm).

    Returns:
        ``keras.Model``: ``(N, H, W, in_channels)`` in [-1, 1] -> ``(N, H, W, out_channels)`` in
        [-1, 1].
    """
    who = "resnet_generator"
    n_blocks = _check_non_negative_int(n_blocks, "n_blocks", who)
    ngf = _check_positive_int(ngf, "ngf", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    out_channels = _check_positive_int(out_channels, "out_channels", who)
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"{who}: upsample must be 'transpose' or 'resize', got {upsample!r}.")
    if image_size is not None:
        image_size = _check_positive_int(image_size, "image_size", who)
        if image_size % 4 or image_size < 8:
            raise ValueError(
                f"{who}: image_size must be a multiple of 4 and at least 8 (two stride-2 "
                f"downsamplings, then a reflection pad of 1 at H/4), got {image_size}."
            )

    inputs = keras.Input((image_size, image_size, in_channels), name="image")
    # c7s1-ngf
    x = ReflectionPadding2D(3, name=f"c7s1_{ngf}_pad")(inputs)
    x = _conv(ngf, 7, 1, use_bias=True, name=f"c7s1_{ngf}")(x)
    x = InstanceNormalization(affine=affine, name=f"c7s1_{ngf}_norm")(x)
    x = keras.layers.ReLU(name=f"c7s1_{ngf}_relu")(x)
    # d2ngf, d4ngf
    filters = ngf
    for _ in range(2):
        filters *= 2
        x = keras.layers.ZeroPadding2D(1, name=f"d{filters}_pad")(x)
        x = _conv(filters, 3, 2, use_bias=True, name=f"d{filters}")(x)
        x = InstanceNormalization(affine=affine, name=f"d{filters}_norm")(x)
        x = keras.layers.ReLU(name=f"d{filters}_relu")(x)
    # R4ngf x n_blocks
    for i in range(n_blocks):
        x = residual_block(x, filters, kernel_initializer=_init(), use_bias=True, affine=affine,
                           name=f"R{filters}_{i + 1}")
    # u2ngf, ungf
    for _ in range(2):
        filters //= 2
        if upsample == "transpose":
            x = _torch_conv_transpose(x, filters, 3, padding=1, output_padding=1, use_bias=True,
                                      name=f"u{filters}")
        else:
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"u{filters}_resize")(x)
            x = ReflectionPadding2D(1, name=f"u{filters}_pad")(x)
            x = _conv(filters, 3, 1, use_bias=True, name=f"u{filters}")(x)
        x = InstanceNormalization(affine=affine, name=f"u{filters}_norm")(x)
        x = keras.layers.ReLU(name=f"u{filters}_relu")(x)
    # c7s1-out_channels + tanh
    x = ReflectionPadding2D(3, name=f"c7s1_{out_channels}_out_pad")(x)
    x = _conv(out_channels, 7, 1, use_bias=True, name=f"c7s1_{out_channels}_out")(x)
    outputs = keras.layers.Activation("tanh", name=f"c7s1_{out_channels}_out_tanh",
                                      dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name or f"resnet_{n_blocks}blocks")




def strided_resnet_generator(
    n_blocks: int = 9,
    ngf: int = 64,
    image_size: int | None = 256,
    in_channels: int = 3,
    out_channels: int = 3,
    upsample: str = "transpose",
    affine: bool = True,
    name: str | None = None,
    n_downsampling: int = 2,
) -> keras.Model:
    """The CycleGAN ResNet generator with ``n_downsampling`` stride-2 layers (:func:`resnet_generator`
    is the paper's 2; chapter 11 shows that one).

    Layers, with ``ngf = 64`` as in the paper (``cKsS-F``: KxK conv, stride S, F filters):

    ========== ====================================================================
    c7s1-64    reflect-pad 3, 7x7 conv, instance norm, ReLU            (H x W)
    d128       zero-pad 1, 3x3 conv stride 2, instance norm, ReLU      (H/2)
    d256       zero-pad 1, 3x3 conv stride 2, instance norm, ReLU      (H/4)
    R256 x n   residual blocks (:func:`cyclegan_lesson.nn.layers.residual_block`)
    u128       3x3 transposed conv stride 2 (padding 1, output_padding 1), IN, ReLU (H/2)
    u64        same, 64 filters                                        (H)
    c7s1-C     reflect-pad 3, 7x7 conv to ``out_channels``, tanh
    ========== ====================================================================

    Args:
        n_blocks: residual blocks; the paper uses 9 at 256x256 and 6 at 128x128.
        ngf: filters of the first layer (the others are 2x and 4x this).
        image_size: height = width of the input, or ``None`` for any size divisible by 4
            (the network is fully convolutional). Must be divisible by 4 and at least 8.
        in_channels, out_channels: image channels, e.g. 1 -> 3 for MNIST -> SVHN.
        upsample: ``"transpose"`` (official) or ``"resize"``: bilinear 2x upsampling, reflect-pad 1,
            3x3 conv -- the official FAQ's fix for checkerboard artifacts (Odena et al. 2016).
            Both have the same parameter count.
        affine: learnable instance-norm scale and offset. The official code uses
            ``affine=False`` (11,378,179 parameters for ``resnet_9blocks``); ``True`` adds
            ``2 x`` (normalized channels) = 10,496 parameters at ``ngf = 64``.
        name: model name (default ``resnet_{n_blocks}blocks``).
        n_downsampling: stride-2 convolutions before the residual blocks (and as many
            upsamplings after them); the paper's 2. Fewer shrink the receptive field and remove
            the bottleneck (0: every layer at full resolution, residual blocks with ``ngf``
            filters), so the generator can only change an image locally (colour, texture,
            polarity) and cannot move strokes. ``image_size`` must then be divisible by
            ``2 ** n_downsampling``.

    Convolutions keep their bias (the official code uses bias with instance norm).

    Returns:
        ``keras.Model``: ``(N, H, W, in_channels)`` in [-1, 1] -> ``(N, H, W, out_channels)`` in
        [-1, 1].
    """
    who = "resnet_generator"
    n_blocks = _check_non_negative_int(n_blocks, "n_blocks", who)
    ngf = _check_positive_int(ngf, "ngf", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    out_channels = _check_positive_int(out_channels, "out_channels", who)
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"{who}: upsample must be 'transpose' or 'resize', got {upsample!r}.")
    n_downsampling = _check_non_negative_int(n_downsampling, "n_downsampling", who)
    if image_size is not None:
        image_size = _check_positive_int(image_size, "image_size", who)
        factor = 2 ** n_downsampling
        if image_size % factor or image_size < 2 * factor:
            raise ValueError(
                f"{who}: image_size must be a multiple of {factor} and at least {2 * factor} "
                f"({n_downsampling} stride-2 downsamplings, then a reflection pad of 1 at "
                f"H/{factor}), got {image_size}."
            )

    inputs = keras.Input((image_size, image_size, in_channels), name="image")
    # c7s1-ngf
    x = ReflectionPadding2D(3, name=f"c7s1_{ngf}_pad")(inputs)
    x = _conv(ngf, 7, 1, use_bias=True, name=f"c7s1_{ngf}")(x)
    x = InstanceNormalization(affine=affine, name=f"c7s1_{ngf}_norm")(x)
    x = keras.layers.ReLU(name=f"c7s1_{ngf}_relu")(x)
    # d2ngf, d4ngf
    filters = ngf
    for _ in range(n_downsampling):
        filters *= 2
        x = keras.layers.ZeroPadding2D(1, name=f"d{filters}_pad")(x)
        x = _conv(filters, 3, 2, use_bias=True, name=f"d{filters}")(x)
        x = InstanceNormalization(affine=affine, name=f"d{filters}_norm")(x)
        x = keras.layers.ReLU(name=f"d{filters}_relu")(x)
    # R4ngf x n_blocks
    for i in range(n_blocks):
        x = residual_block(x, filters, kernel_initializer=_init(), use_bias=True, affine=affine,
                           name=f"R{filters}_{i + 1}")
    # u2ngf, ungf
    for _ in range(n_downsampling):
        filters //= 2
        if upsample == "transpose":
            x = _torch_conv_transpose(x, filters, 3, padding=1, output_padding=1, use_bias=True,
                                      name=f"u{filters}")
        else:
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"u{filters}_resize")(x)
            x = ReflectionPadding2D(1, name=f"u{filters}_pad")(x)
            x = _conv(filters, 3, 1, use_bias=True, name=f"u{filters}")(x)
        x = InstanceNormalization(affine=affine, name=f"u{filters}_norm")(x)
        x = keras.layers.ReLU(name=f"u{filters}_relu")(x)
    # c7s1-out_channels + tanh
    x = ReflectionPadding2D(3, name=f"c7s1_{out_channels}_out_pad")(x)
    x = _conv(out_channels, 7, 1, use_bias=True, name=f"c7s1_{out_channels}_out")(x)
    outputs = keras.layers.Activation("tanh", name=f"c7s1_{out_channels}_out_tanh",
                                      dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name or f"resnet_{n_blocks}blocks")


def _check_non_negative_int(value, what: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{who}: {what} must be a non-negative integer, got {value!r}.")
    return value


# ---------------------------------------------------------------------------------------------
# U-Net generator (pix2pix's generator; an option in the official CycleGAN code)
# ---------------------------------------------------------------------------------------------


def unet_generator(
    image_size: int = 256,
    ngf: int = 64,
    in_channels: int = 3,
    out_channels: int = 3,
    norm: str = "batch",
    dropout: bool = False,
    affine: bool = False,
    name: str | None = None,
) -> keras.Model:
    """The official ``UnetGenerator``: ``num_downs = log2(image_size)`` halvings down to 1x1.

    Encoder ``C64-C128-C256-C512-C512-...`` (4x4 convs, stride 2, LeakyReLU 0.2; no norm on the
    first and on the innermost), decoder of 4x4 transposed convs (stride 2, padding 1, ReLU),
    each decoder output concatenated with the mirror encoder feature (the skip connection) and
    a final ``tanh``. ``image_size`` 256 -> 8 downsamplings (``unet_256``), 128 -> 7
    (``unet_128``), 32 -> 5 (the smallest this structure allows).

    Args:
        image_size: a power of two, at least 32 (the input is fixed at that size).
        ngf: filters of the outermost layer; deeper layers use 2, 4 and then 8 x ngf.
        in_channels, out_channels: image channels.
        norm: ``"batch"`` (official default for U-Net), ``"instance"`` or ``"none"``. As in the
            official code, convolutions have a bias unless batch norm follows them.
        dropout: the official ``use_dropout`` (pix2pix: on; CycleGAN: ``--no_dropout``, off):
            Dropout(0.5) after the decoder layers of the ``num_downs - 5`` innermost 8 x ngf
            blocks (none at 32x32).
        affine: learnable instance-norm scale/offset (official: ``False``); ignored otherwise.
        name: model name (default ``unet_{image_size}``).

    Returns:
        ``keras.Model``: ``(N, S, S, in_channels)`` in [-1, 1] -> ``(N, S, S, out_channels)`` in
        [-1, 1].
    """
    who = "unet_generator"
    image_size = _check_positive_int(image_size, "image_size", who)
    if image_size < 32 or image_size & (image_size - 1):
        raise ValueError(
            f"{who}: image_size must be a power of two and at least 32 (the U-Net halves it "
            f"down to 1x1, at least 5 times), got {image_size}."
        )
    ngf = _check_positive_int(ngf, "ngf", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    out_channels = _check_positive_int(out_channels, "out_channels", who)
    norm = _check_norm(norm, who)
    num_downs = int(round(math.log2(image_size)))
    use_bias = norm != "batch"

    # Encoder filters, outermost first: ngf, 2ngf, 4ngf, 8ngf, 8ngf, ... (num_downs entries).
    enc_filters = [ngf * min(2**i, 8) for i in range(num_downs)]
    inputs = keras.Input((image_size, image_size, in_channels), name="image")

    skips = []
    x = inputs
    for i, filters in enumerate(enc_filters):
        outermost, innermost = i == 0, i == num_downs - 1
        tag = f"down{i + 1}"
        if not outermost:
            x = LeakyReLU(0.2, name=f"{tag}_lrelu")(x)
        x = keras.layers.ZeroPadding2D(1, name=f"{tag}_pad")(x)
        # The outermost and innermost down-convs have no norm after them; the official code
        # still gives them bias=use_bias (no bias with batch norm).
        x = _conv(filters, 4, 2, use_bias=use_bias, name=tag)(x)
        if not (outermost or innermost):
            x = _apply(_norm_layer(norm, affine=affine, name=f"{tag}_norm"), x)
        skips.append(x)

    # Decoder, innermost first. Block i (0 = outermost) maps inner features back to the channel
    # count of block i's input: in_channels(i) = enc_filters[i - 1], out_channels at i = 0.
    x = skips[-1]
    for i in reversed(range(num_downs)):
        outermost, innermost = i == 0, i == num_downs - 1
        tag = f"up{i + 1}"
        if not innermost:  # concatenate the skip of this depth with what came up from below
            x = keras.layers.Concatenate(name=f"{tag}_skip")([skips[i], x])
        x = keras.layers.ReLU(name=f"{tag}_relu")(x)
        filters = out_channels if outermost else enc_filters[i - 1]
        x = _torch_conv_transpose(x, filters, 4, padding=1, output_padding=0,
                                  use_bias=use_bias or outermost, name=tag)
        if outermost:
            x = keras.layers.Activation("tanh", name=f"{tag}_tanh", dtype="float32")(x)
        else:
            x = _apply(_norm_layer(norm, affine=affine, name=f"{tag}_norm"), x)
            # Official: the num_downs - 5 blocks between the innermost and the 4ngf block.
            if dropout and not innermost and i >= 4:
                x = keras.layers.Dropout(0.5, name=f"{tag}_dropout")(x)
    return keras.Model(inputs, x, name=name or f"unet_{image_size}")


def keep_luma(chroma_net: keras.Model, name: str | None = None) -> keras.Model:
    """A colourizer that keeps its input's brightness: ``RGB = 601^-1(Y = input, Cb, Cr = net)``.

    ``chroma_net`` maps a gray image ``(N, S, S, 1)`` in [-1, 1] to chroma ``(N, S, S, 2)`` (Cb,
    Cr in [-1, 1], e.g. a :func:`unet_generator` or :func:`resnet_generator` with
    ``in_channels=1, out_channels=2``: their ``tanh`` output is the chroma range). The wrapper
    joins the input luma and the predicted chroma with :class:`LumaChromaToRGB`, so the luma of
    the output equals the input wherever no RGB channel clips at +-1: the network cannot invert
    the brightness (chapter 11's failure) and spends all its capacity on colour, the part of the
    image that gray input lacks (Zhang et al. 2016 and Isola et al. 2017 colourize in Lab the
    same way: predict only the colour channels).

    Args:
        chroma_net: a ``keras.Model`` with one input of 1 channel and an output of 2 channels.
        name: model name (default ``chroma_net.name``).

    Returns:
        ``keras.Model``: ``(N, S, S, 1)`` gray in [-1, 1] -> ``(N, S, S, 3)`` RGB in [-1, 1].
    """
    in_shape, out_shape = tuple(chroma_net.input_shape), tuple(chroma_net.output_shape)
    if in_shape[-1] != 1 or out_shape[-1] != 2:
        raise ValueError(
            f"keep_luma: chroma_net must map 1-channel gray to 2 chroma channels (Cb, Cr), got "
            f"{in_shape} -> {out_shape}; build it with in_channels=1, out_channels=2."
        )
    gray = keras.Input(in_shape[1:], name="gray")
    rgb = LumaChromaToRGB(name="luma_chroma_to_rgb", dtype="float32")(
        [gray, chroma_net(gray)])
    return keras.Model(gray, rgb, name=name or chroma_net.name)


# ---------------------------------------------------------------------------------------------
# PatchGAN discriminator
# ---------------------------------------------------------------------------------------------


def patch_discriminator(
    n_layers: int = 3,
    ndf: int = 64,
    in_channels: int = 3,
    image_size: int | None = None,
    norm: str = "instance",
    affine: bool = True,
    name: str | None = None,
) -> keras.Model:
    """The PatchGAN discriminator (official ``NLayerDiscriminator``; ``n_layers=3`` = 70x70).

    ``C64 - C128 - C256 - C512 - conv 1`` for ``n_layers = 3``: 4x4 convolutions with padding 1,
    the first ``n_layers`` with stride 2, then one ``min(2^n_layers, 8) x ndf`` conv and the
    1-channel output conv with stride 1; LeakyReLU(0.2) after each but the last; no norm on the
    first layer; no sigmoid (the output are logits, one per patch). A 256x256 input gives a
    30x30 output whose every value sees a 70x70 patch (see :func:`receptive_field`).

    Args:
        n_layers: stride-2 layers (3: 70x70 patches; 2: 34x34; 4: 142x142).
        ndf: filters of the first layer (then 2x, 4x, 8x, capped at 8x).
        in_channels: image channels (6 for a conditional pix2pix discriminator on image pairs).
        image_size: input height = width, or ``None`` for any size; it must leave at least a
            1x1 output (a fixed size gives a clear error instead of a crash deep in a conv).
        norm: ``"instance"`` (CycleGAN), ``"batch"`` (pix2pix) or ``"none"`` (WGAN-GP critics).
        affine: learnable instance-norm scale/offset. The official code uses ``affine=False``
            (2,764,737 parameters at ``ndf = 64``); ``True`` adds 1,792.
        name: model name (default ``patchgan_{n_layers}layers``).

    Returns:
        ``keras.Model``: ``(N, H, W, in_channels)`` in [-1, 1] -> ``(N, H', W', 1)`` logits, with
        ``H' = floor(...floor(H / 2) / 2 ...) - 2`` (``n_layers`` halvings).
    """
    who = "patch_discriminator"
    n_layers = _check_positive_int(n_layers, "n_layers", who)
    ndf = _check_positive_int(ndf, "ndf", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    norm = _check_norm(norm, who)
    if image_size is not None:
        image_size = _check_positive_int(image_size, "image_size", who)
        out = image_size
        for _ in range(n_layers):
            out = (out + 2 - 4) // 2 + 1
        out -= 2
        if out < 1:
            raise ValueError(
                f"{who}: image_size {image_size} is too small for n_layers={n_layers} "
                f"(it would leave a {out}x{out} output); use a larger image or fewer layers."
            )
    use_bias = norm != "batch"

    inputs = keras.Input((image_size, image_size, in_channels), name="image")
    x = inputs
    seen: set[str] = set()
    for i in range(n_layers + 1):
        mult = min(2**i, 8)
        stride = 2 if i < n_layers else 1
        tag = f"C{ndf * mult}" + ("" if stride == 2 else "_s1")
        if tag in seen:  # filters capped at 8 x ndf repeat for n_layers > 3: C512, C512_5, ...
            tag = f"{tag}_{i + 1}"
        seen.add(tag)
        x = keras.layers.ZeroPadding2D(1, name=f"{tag}_pad")(x)
        x = _conv(ndf * mult, 4, stride, use_bias=True if i == 0 else use_bias, name=tag)(x)
        if i > 0:
            x = _apply(_norm_layer(norm, affine=affine, name=f"{tag}_norm"), x)
        x = LeakyReLU(0.2, name=f"{tag}_lrelu")(x)
    x = keras.layers.ZeroPadding2D(1, name="logits_pad")(x)
    outputs = _conv(1, 4, 1, use_bias=True, name="logits")(x)
    outputs = keras.layers.Activation("linear", name="logits_linear", dtype="float32")(outputs)
    return keras.Model(inputs, outputs, name=name or f"patchgan_{n_layers}layers")


def pixel_discriminator(
    ndf: int = 64,
    in_channels: int = 3,
    norm: str = "batch",
    name: str | None = None,
) -> keras.Model:
    """The 1x1 PatchGAN (official ``PixelDiscriminator``, pix2pix's "PixelGAN").

    ``1x1 conv ndf - LeakyReLU(0.2) - 1x1 conv 2 ndf - norm - LeakyReLU(0.2) - 1x1 conv 1``: every
    output logit judges one input pixel alone (receptive field 1), so it can only ask whether a
    pixel's colour is plausible, not whether it fits its neighbours.

    Args:
        ndf: filters of the first layer (the second has ``2 ndf``).
        in_channels: image channels (4 for a conditional gray + colour pair).
        norm: ``"batch"`` (official), ``"instance"`` or ``"none"``.
        name: model name (default ``pixelgan``).

    Returns:
        ``keras.Model``: ``(N, H, W, in_channels)`` in [-1, 1] -> ``(N, H, W, 1)`` logits.
    """
    who = "pixel_discriminator"
    ndf = _check_positive_int(ndf, "ndf", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    norm = _check_norm(norm, who)
    inputs = keras.Input((None, None, in_channels), name="image")
    x = _conv(ndf, 1, 1, use_bias=True, name=f"C{ndf}_1x1")(inputs)
    x = LeakyReLU(0.2, name=f"C{ndf}_1x1_lrelu")(x)
    x = _conv(2 * ndf, 1, 1, use_bias=norm != "batch", name=f"C{2 * ndf}_1x1")(x)
    x = _apply(_norm_layer(norm, affine=True, name=f"C{2 * ndf}_1x1_norm"), x)
    x = LeakyReLU(0.2, name=f"C{2 * ndf}_1x1_lrelu")(x)
    x = _conv(1, 1, 1, use_bias=True, name="logits")(x)
    outputs = keras.layers.Activation("linear", name="logits_linear", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name or "pixelgan")


def pixel_generator(
    image_size: int = 32,
    in_channels: int = 3,
    out_channels: int = 1,
    hidden: int = 32,
    name: str | None = None,
) -> keras.Model:
    """A learnt per-pixel generator (receptive field 1): ``tanh(linear(x) + mlp(x))``, with
    ``linear`` a 1x1 convolution to ``out_channels`` and ``mlp`` a 1x1 convolution to ``hidden``
    channels, LeakyReLU(0.2) and a 1x1 convolution to ``out_channels``.

    Each output pixel is a learnt function of the same input pixel only, so the network cannot
    read or write spatial patterns. For colour -> gray (``G_YX`` of gray2color) that is the
    shape of every usual gray map (luma, lightness, the channel mean): which one, it must learn
    from the losses. It also cannot decode a colourizer's high-frequency colour patterns, the
    place where a plain CycleGAN hides its input to close the forward cycle (steganography,
    Chu et al. 2017).

    Args:
        image_size: input height = width.
        in_channels, out_channels: image channels in and out (3 and 1 for colour -> gray).
        hidden: channels of the hidden 1x1 layer.
        name: model name (default ``pixel_generator``).

    Returns:
        ``keras.Model``: ``(N, S, S, in_channels)`` in [-1, 1] -> ``(N, S, S, out_channels)``
        in [-1, 1].
    """
    who = "pixel_generator"
    image_size = _check_positive_int(image_size, "image_size", who)
    in_channels = _check_positive_int(in_channels, "in_channels", who)
    out_channels = _check_positive_int(out_channels, "out_channels", who)
    hidden = _check_positive_int(hidden, "hidden", who)
    inputs = keras.Input((image_size, image_size, in_channels), name="image")
    linear = _conv(out_channels, 1, 1, use_bias=True, name="linear_1x1")(inputs)
    x = _conv(hidden, 1, 1, use_bias=True, name=f"C{hidden}_1x1")(inputs)
    x = LeakyReLU(0.2, name=f"C{hidden}_1x1_lrelu")(x)
    x = _conv(out_channels, 1, 1, use_bias=True, name="mlp_1x1")(x)
    x = keras.layers.Add(name="linear_plus_mlp")([linear, x])
    outputs = keras.layers.Activation("tanh", name="tanh", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name or who)


# ---------------------------------------------------------------------------------------------
# Receptive field
# ---------------------------------------------------------------------------------------------

_POOLS = (
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)
_UPSAMPLERS = (keras.layers.Conv2DTranspose, keras.layers.UpSampling2D)


def _pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    return (value[0], value[0]) if len(value) == 1 else (int(value[0]), int(value[1]))


def receptive_field_table(model: keras.Model) -> list[dict]:
    """Walk a chain model's layers and grow the receptive field layer by layer.

    For each convolution or pooling layer with kernel ``k``, stride ``s`` and dilation ``d``
    (effective kernel ``d (k - 1) + 1``): ``rf <- rf + (k_eff - 1) * jump``, ``jump <- jump * s``,
    starting from ``rf = 1`` (one input pixel) and ``jump = 1``. ``jump`` is the distance in input
    pixels between neighbouring units of the layer. Padding, normalization and activations
    change neither.

    Explicit padding layers (``ZeroPadding2D``, ``ReflectionPadding2D``) move the field's
    start: ``offset <- offset - pad * jump``. So unit ``u`` of a layer sees input pixels
    ``offset + u * jump`` to ``offset + u * jump + rf - 1`` (negative = padding); the offset is
    ``None`` once a ``padding="same"`` convolution or pooling makes it size-dependent.

    Returns one dict per convolution / pooling layer: ``layer``, ``kernel``, ``stride``, ``rf``
    (height, the receptive field after that layer), ``jump``, ``offset``, plus ``rf_w`` /
    ``jump_w`` (width).

    Raises:
        ValueError: if the model is not a chain (a layer with several inputs: skip connections,
            concatenations) or contains an upsampling layer, where this formula does not apply.
    """
    rows: list[dict] = []
    rf = [1, 1]
    jump = [1, 1]
    offset = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer.input, (list, tuple)) and len(layer.input) > 1:
            raise ValueError(
                f"receptive_field: layer {layer.name!r} has {len(layer.input)} inputs; "
                "only chains of layers (no skip connections) are supported."
            )
        if isinstance(layer, _UPSAMPLERS):
            raise ValueError(
                f"receptive_field: layer {layer.name!r} upsamples; the receptive-field "
                "recursion here is for downsampling chains such as the PatchGAN."
            )
        if isinstance(layer, keras.Model):
            raise ValueError(f"receptive_field: nested model {layer.name!r} is not supported.")
        if isinstance(layer, keras.layers.ZeroPadding2D) and offset is not None:
            offset -= int(layer.padding[0][0]) * jump[0]
            continue
        if isinstance(layer, ReflectionPadding2D) and offset is not None:
            offset -= int(layer.padding) * jump[0]
            continue
        if isinstance(layer, keras.layers.Conv2D):
            kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
            dilation = _pair(layer.dilation_rate)
        elif isinstance(layer, _POOLS):
            kernel, stride, dilation = _pair(layer.pool_size), _pair(layer.strides), (1, 1)
        else:
            continue
        if layer.padding != "valid":
            offset = None
        for axis in range(2):
            k_eff = dilation[axis] * (kernel[axis] - 1) + 1
            rf[axis] += (k_eff - 1) * jump[axis]
            jump[axis] *= stride[axis]
        rows.append({
            "layer": layer.name, "kernel": kernel[0], "stride": stride[0],
            "rf": rf[0], "jump": jump[0], "offset": offset, "rf_w": rf[1], "jump_w": jump[1],
        })
    if not rows:
        raise ValueError(f"receptive_field: model {model.name!r} has no convolution or pooling "
                         "layer.")
    return rows


def receptive_field(model: keras.Model) -> int | tuple[int, int]:
    """Receptive field (in input pixels) of one output unit of a chain model.

    Computed by :func:`receptive_field_table` from the layers' kernels and strides: 70 for the
    ``n_layers=3`` PatchGAN, 34 for ``n_layers=2``, 142 for ``n_layers=4``. Returns an ``int``
    for square receptive fields, else ``(height, width)``.
    """
    last = receptive_field_table(model)[-1]
    return last["rf"] if last["rf"] == last["rf_w"] else (last["rf"], last["rf_w"])


# ---------------------------------------------------------------------------------------------
# A compact summary by block (the paper's notation) instead of one row per Keras layer
# ---------------------------------------------------------------------------------------------

_PART_SUFFIX = re.compile(
    r"_(pad\d?|conv\d|norm\d?|relu|lrelu|crop|resize|dropout|add|skip|tanh|linear)$"
)


def _block_name(layer_name: str) -> str:
    while True:
        shorter = _PART_SUFFIX.sub("", layer_name)
        if shorter == layer_name:
            return layer_name
        layer_name = shorter


def block_summary(model: keras.Model) -> list[dict]:
    """Group a builder's layers into the paper's blocks (``c7s1_64``, ``d128``, ``R256_1``, ...,
    ``C64``, ``logits``; ``down3`` / ``up3`` for the U-Net) and count each block's parameters.

    The builders name every layer ``<block>_<part>`` (``d128_pad``, ``d128``, ``d128_norm``,
    ``d128_relu``), so the block is the name without its part suffix. Returns one dict per block,
    in order: ``block``, ``layers`` (how many Keras layers), ``output_shape`` (of its last layer,
    without the batch axis) and ``params``; the ``params`` add up to ``model.count_params()``.
    """
    rows: list[dict] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        block = _block_name(layer.name)
        if not rows or rows[-1]["block"] != block:
            rows.append({"block": block, "layers": 0, "output_shape": None, "params": 0})
        row = rows[-1]
        row["layers"] += 1
        row["params"] += layer.count_params()
        row["output_shape"] = tuple(layer.output.shape[1:])
    return rows
