"""Building blocks shared by the generator and the foundation chapters.

* :class:`ReflectionPadding2D` and :class:`InstanceNormalization` are Keras layers written with
  ``keras.ops`` only, so they run on the TensorFlow and the JAX backends alike.
* :func:`residual_block` is the block of the CycleGAN ResNet generator.
* :class:`LumaChromaToRGB` joins a gray image and predicted Cb, Cr into RGB with the same luma
  (the output layer of :func:`cyclegan_lesson.nn.networks.keep_luma` colourizers).
* ``*_norm_reference`` are NumPy implementations of batch, instance, layer and group
  normalization written straight from the formulas of chapter 3; they are the ground truth the
  Keras layers are checked against.

Tensors are NHWC (batch, height, width, channels) throughout.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = [
    "ReflectionPadding2D",
    "InstanceNormalization",
    "residual_block",
    "LumaChromaToRGB",
    "batch_norm_reference",
    "instance_norm_reference",
    "layer_norm_reference",
    "group_norm_reference",
]


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the image at its border (no edge pixel repeated).

    Input ``(N, H, W, C)``, output ``(N, H + 2p, W + 2p, C)`` with ``p = padding``.
    Reflection padding avoids the dark frame that zero padding paints around generated images.
    ``padding`` must be smaller than both spatial sizes (a reflection cannot be wider than the
    image it mirrors).
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) < 0:
            raise ValueError(f"ReflectionPadding2D: padding must be >= 0, got {padding}.")
        self.padding = int(padding)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"ReflectionPadding2D expects NHWC input of rank 4, got shape {tuple(input_shape)}."
            )
        for axis, size in (("height", input_shape[1]), ("width", input_shape[2])):
            if size is not None and self.padding >= size:
                raise ValueError(
                    f"ReflectionPadding2D: padding {self.padding} must be smaller than the {axis} "
                    f"({size}); the input is too small for this network."
                )

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        p = 2 * self.padding
        return (n, None if h is None else h + p, None if w is None else w + p, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class InstanceNormalization(keras.layers.Layer):
    """Instance normalization: normalize each image's each channel over its own H x W pixels.

    ``y[n,h,w,c] = gamma[c] * (x[n,h,w,c] - mu[n,c]) / sqrt(var[n,c] + eps) + beta[c]`` with
    ``mu[n,c]`` and ``var[n,c]`` the mean and (biased) variance over ``h, w``. No statistics are
    shared across the batch, so it behaves the same in training and inference and at any batch
    size. With ``affine=True`` (default) ``gamma``/``beta`` are learned per channel (init 1 / 0);
    the official PyTorch CycleGAN uses ``affine=False``. Equal to
    ``keras.layers.GroupNormalization(groups=-1, epsilon=eps)``.

    Under a mixed-precision policy (``mixed_bfloat16``/``mixed_float16``) the statistics, the
    normalization and ``gamma``/``beta`` stay float32 (a bfloat16 mean over 1,024 pixels keeps
    only 3 significant digits); only the output is cast back to the compute dtype.

    ``call`` multiplies ``gamma`` into the per-image, per-channel ``1 / sqrt(var + eps)``
    before it touches the full-size tensor (three full-size operations instead of four, forward
    and gradient), and still subtracts the mean first, as the formula above reads.
    """

    def __init__(self, epsilon: float = 1e-5, affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.affine = bool(affine)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"InstanceNormalization expects NHWC input of rank 4, got shape {tuple(input_shape)}."
            )
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("InstanceNormalization needs a known channel count (last axis).")
        if self.affine:
            # autocast=False: read as float32 even inside a mixed-precision call.
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma",
                                         autocast=False)
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta",
                                        autocast=False)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")  # a no-op in float32
        mean, variance = ops.moments(x, axes=[1, 2], keepdims=True)
        scale = ops.rsqrt(variance + self.epsilon)  # one scale per image and channel
        if self.affine:  # gamma joins the scale: one full-size product instead of two
            gamma, beta = ops.cast(self.gamma, "float32"), ops.cast(self.beta, "float32")
            return ops.cast((x - mean) * (scale * gamma) + beta, inputs.dtype)
        return ops.cast((x - mean) * scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


def residual_block(
    x,
    filters: int | None = None,
    *,
    kernel_initializer="glorot_uniform",
    use_bias: bool = True,
    affine: bool = True,
    name: str | None = None,
):
    """The CycleGAN residual block: ``x + F(x)`` with F keeping the shape of ``x``.

    F = reflect-pad 1, 3x3 conv, instance norm, ReLU, reflect-pad 1, 3x3 conv, instance norm.
    ``x`` is a symbolic NHWC tensor with ``filters`` channels (default: its own channel count);
    the output has the same shape, which is what makes the identity shortcut possible.
    """
    channels = x.shape[-1]
    filters = channels if filters is None else filters
    if filters != channels:
        raise ValueError(
            f"residual_block: an identity shortcut needs filters == input channels, "
            f"got filters={filters} for {channels} input channels."
        )
    prefix = (name + "_") if name else ""
    y = ReflectionPadding2D(1, name=f"{prefix}pad1" if name else None)(x)
    y = keras.layers.Conv2D(
        filters, 3, padding="valid", use_bias=use_bias, kernel_initializer=kernel_initializer,
        name=f"{prefix}conv1" if name else None,
    )(y)
    y = InstanceNormalization(affine=affine, name=f"{prefix}norm1" if name else None)(y)
    y = keras.layers.ReLU(name=f"{prefix}relu" if name else None)(y)
    y = ReflectionPadding2D(1, name=f"{prefix}pad2" if name else None)(y)
    y = keras.layers.Conv2D(
        filters, 3, padding="valid", use_bias=use_bias, kernel_initializer=kernel_initializer,
        name=f"{prefix}conv2" if name else None,
    )(y)
    y = InstanceNormalization(affine=affine, name=f"{prefix}norm2" if name else None)(y)
    return keras.layers.Add(name=f"{prefix}add" if name else None)([x, y])


# ---------------------------------------------------------------------------------------------
# NumPy reference normalizations (chapter 3). x[i, j, k, l]: i batch, j height, k width, l channel.
# Each returns (x - mean) / sqrt(var + eps) with mean/var over the axes named in its docstring;
# the learnable scale and offset are left out (gamma = 1, beta = 0), as at initialization.
# ---------------------------------------------------------------------------------------------


def _check_nhwc(x, who: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"{who} expects an NHWC array of rank 4, got shape {x.shape}.")
    return x


def _normalize(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased variance, as every framework uses
    return (x - mean) / np.sqrt(var + eps)


def batch_norm_reference(x, eps: float = 1e-5) -> np.ndarray:
    """Batch norm (training mode): one mean/variance per channel l over i, j, k (batch, H, W)."""
    return _normalize(_check_nhwc(x, "batch_norm_reference"), (0, 1, 2), eps)


def instance_norm_reference(x, eps: float = 1e-5) -> np.ndarray:
    """Instance norm: one mean/variance per (image i, channel l) over j, k (H, W)."""
    return _normalize(_check_nhwc(x, "instance_norm_reference"), (1, 2), eps)


def layer_norm_reference(x, eps: float = 1e-5) -> np.ndarray:
    """Layer norm: one mean/variance per image i over j, k, l (H, W, C)."""
    return _normalize(_check_nhwc(x, "layer_norm_reference"), (1, 2, 3), eps)


def group_norm_reference(x, groups: int, eps: float = 1e-5) -> np.ndarray:
    """Group norm: channels split into ``groups`` groups of C/groups consecutive channels; one
    mean/variance per (image, group) over H, W and the group's channels.

    ``groups == 1`` is layer norm, ``groups == C`` is instance norm. ``C`` must be divisible by
    ``groups``.
    """
    x = _check_nhwc(x, "group_norm_reference")
    n, h, w, c = x.shape
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"group_norm_reference: groups must be a positive integer, got {groups!r}.")
    if c % groups:
        raise ValueError(
            f"group_norm_reference: {c} channels cannot be split into {groups} equal groups "
            f"(channels must be divisible by groups)."
        )
    grouped = x.reshape(n, h, w, groups, c // groups)
    return _normalize(grouped, (1, 2, 4), eps).reshape(n, h, w, c)


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class LumaChromaToRGB(keras.layers.Layer):
    """Join a gray image and predicted chroma into an RGB image that keeps the gray image's luma.

    Inputs ``[luma, chroma]``: ``(N, H, W, 1)`` ITU-R 601 luma ``Y`` in [-1, 1] and ``(N, H, W, 2)``
    chroma ``Cb, Cr`` in [-1, 1] (full range, as
    :func:`cyclegan_lesson.evaluation.colour_metrics.rgb_to_ycbcr`). Output ``(N, H, W, 3)`` RGB by
    the
    inverse 601 transform ``R = Y + 1.402 Cr``, ``B = Y + 1.772 Cb``,
    ``G = (Y - 0.299 R - 0.114 B) / 0.587``, clipped to [-1, 1]. Where no channel clips, the luma
    of the output is ``Y`` exactly: a colourizer built this way cannot invert or change the
    brightness, only add colour.
    """

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError("LumaChromaToRGB takes two inputs [luma (N, H, W, 1), chroma "
                             f"(N, H, W, 2)], got {input_shape}.")
        luma_shape, chroma_shape = (tuple(s) for s in input_shape)
        if luma_shape[-1] != 1 or chroma_shape[-1] != 2:
            raise ValueError("LumaChromaToRGB: expected luma with 1 channel and chroma with 2 "
                             f"(Cb, Cr), got shapes {luma_shape} and {chroma_shape}.")

    def call(self, inputs):
        y, c = inputs
        y = ops.cast(y, c.dtype)
        cb, cr = c[..., 0:1], c[..., 1:2]
        r = y + 1.402 * cr
        b = y + 1.772 * cb
        g = (y - 0.299 * r - 0.114 * b) / 0.587
        return ops.clip(ops.concatenate([r, g, b], axis=-1), -1.0, 1.0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], 3)
