"""Chapter 2: residual connections, measured.

* :func:`lecture_example` is the lecture's small block: a main branch
  ``Conv2D(64, 3, relu, same) -> Conv2D(128, 3, relu, same) -> MaxPooling2D(2)`` and a shortcut
  ``Conv2D(128, 1, strides=2, same)`` whose output shape matches the main branch, so the two can
  be added.
* :func:`plain_cnn` and :func:`residual_cnn` build the CIFAR networks of He et al. (2016, sec. 4.2)
  with ``depth = 6 n + 2`` weighted layers: a 3x3 stem convolution, three stages of ``n`` blocks of
  two 3x3 convolutions (``width``, ``2 width``, ``4 width`` channels at 32, 16, 8 pixels), global
  average pooling and a dense classifier. The two networks are the *same* stack of layers; the
  residual one only adds ``x + F(x)`` around every block. Its shortcuts are parameter-free
  (He et al.'s "option A": identity, or a stride-2 subsample with zero-padded channels where a
  stage starts), so both networks have exactly the same parameters.
* :func:`gradient_norms_per_layer` measures ``||dL/dW||`` for the kernel ``W`` of every
  convolution, the quantity whose decay with depth is the vanishing-gradient problem.

Model code uses ``keras.layers``/``keras.ops`` only and runs on any Keras backend; the gradient
measurement is the one TensorFlow-specific piece: it differentiates with ``tf.GradientTape``
(on JAX one would use ``jax.grad`` over ``model.stateless_call``).

Images are NHWC float32 in [-1, 1]; labels are integer class ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

__all__ = [
    "lecture_example",
    "ChannelPadShortcut",
    "plain_cnn",
    "residual_cnn",
    "conv_layers",
    "gradient_norms_per_layer",
    "train_classifier",
]


def lecture_example(
    input_shape: Sequence[int] = (32, 32, 3),
    shortcut_filters: int = 128,
    shortcut_strides: int = 2,
) -> tuple[keras.Model, tuple, tuple]:
    """The lecture's residual block with a projection shortcut.

    Main branch: ``Conv2D(64, 3, relu, same) -> Conv2D(128, 3, relu, same) -> MaxPooling2D(2)``;
    shortcut: ``Conv2D(shortcut_filters, 1, strides=shortcut_strides, padding="same")`` applied
    to the block's input; output ``main + shortcut``.

    ``input_shape`` is ``(H, W, C)``. Returns ``(model, main_shape, shortcut_shape)`` where the
    shapes are the symbolic output shapes of both branches (batch dimension ``None``). With the
    defaults both are ``(None, H/2, W/2, 128)``: ``padding="same"`` keeps the 3x3 convolutions at
    ``H x W``, the pooling halves it, and the shortcut's ``strides=2`` halves it too while its 1x1
    kernel maps C to 128 channels.

    Raises ``ValueError`` naming both shapes when another ``shortcut_filters`` or
    ``shortcut_strides`` makes the branches disagree (``add`` needs equal shapes).
    """
    if len(input_shape) != 3:
        raise ValueError(f"lecture_example: input_shape must be (H, W, C), got {input_shape!r}.")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    y = keras.layers.Conv2D(64, 3, activation="relu", padding="same", name="main_conv1")(inputs)
    y = keras.layers.Conv2D(128, 3, activation="relu", padding="same", name="main_conv2")(y)
    y = keras.layers.MaxPooling2D(2, name="main_pool")(y)
    s = keras.layers.Conv2D(
        shortcut_filters, 1, strides=shortcut_strides, padding="same", name="shortcut_conv"
    )(inputs)
    main_shape, shortcut_shape = tuple(y.shape), tuple(s.shape)
    if main_shape != shortcut_shape:
        raise ValueError(
            f"lecture_example: cannot add the branches, the main branch has shape {main_shape} "
            f"but the shortcut has shape {shortcut_shape}; a residual connection needs equal "
            f"shapes (match the shortcut's filters to the main branch's channels and its strides "
            f"to the pooling)."
        )
    outputs = keras.layers.Add(name="add")([y, s])
    model = keras.Model(inputs, outputs, name="lecture_example")
    return model, main_shape, shortcut_shape


@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class ChannelPadShortcut(keras.layers.Layer):
    """Parameter-free shortcut (He et al. 2016, option A): subsample H and W by ``strides`` and
    append zero channels up to ``filters``.

    Input ``(N, H, W, C)``, output ``(N, ceil(H / s), ceil(W / s), filters)`` with ``filters >= C``.
    With ``strides=1`` and ``filters == C`` it is the identity.
    """

    def __init__(self, filters: int, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(strides) < 1:
            raise ValueError(f"ChannelPadShortcut: strides must be >= 1, got {strides}.")
        self.filters = int(filters)
        self.strides = int(strides)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"ChannelPadShortcut expects NHWC input of rank 4, got shape {tuple(input_shape)}."
            )
        if input_shape[-1] is None or input_shape[-1] > self.filters:
            raise ValueError(
                f"ChannelPadShortcut: cannot pad {input_shape[-1]} channels to {self.filters}; "
                f"filters must be >= the input channels."
            )

    def call(self, inputs):
        s = self.strides
        x = inputs[:, ::s, ::s, :] if s > 1 else inputs
        extra = self.filters - inputs.shape[-1]
        if extra:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        s = self.strides
        return (n, None if h is None else -(-h // s), None if w is None else -(-w // s),
                self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def _blocks_per_stage(depth: int) -> int:
    if not isinstance(depth, (int, np.integer)) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"depth must be 6 n + 2 with n >= 1 (8, 14, 20, 26, 32, 44, 56, ...): one stem "
            f"convolution, 3 stages of n blocks of 2 convolutions, one dense layer; got {depth!r}."
        )
    return (depth - 2) // 6


def _cifar_cnn(
    residual: bool,
    depth: int,
    width: int,
    input_shape: Sequence[int],
    num_classes: int,
    norm: str | None,
    kernel_initializer: str,
    name: str | None,
) -> keras.Model:
    n = _blocks_per_stage(depth)
    if int(width) < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}.")
    if norm not in (None, "batch"):
        raise ValueError(f"norm must be None or 'batch', got {norm!r}.")
    use_bias = norm is None  # a bias before batch norm is cancelled by its mean subtraction

    counter = iter(range(1, depth))

    def conv(x, filters: int, strides: int = 1):
        i = next(counter)
        x = keras.layers.Conv2D(
            filters, 3, strides=strides, padding="same", use_bias=use_bias,
            kernel_initializer=kernel_initializer, name=f"conv{i:02d}",
        )(x)
        if norm == "batch":
            x = keras.layers.BatchNormalization(name=f"bn{i:02d}")(x)
        return x

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = keras.layers.ReLU(name="relu01")(conv(inputs, width))
    for stage in range(3):
        filters = width * 2**stage
        for block in range(n):
            strides = 2 if (stage > 0 and block == 0) else 1
            tag = f"s{stage + 1}b{block + 1}"
            y = keras.layers.ReLU(name=f"{tag}_relu1")(conv(x, filters, strides))
            y = conv(y, filters)
            if residual:
                shortcut = x
                if strides != 1 or x.shape[-1] != filters:
                    shortcut = ChannelPadShortcut(filters, strides, name=f"{tag}_shortcut")(x)
                y = keras.layers.Add(name=f"{tag}_add")([shortcut, y])
            x = keras.layers.ReLU(name=f"{tag}_relu2")(y)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    default = f"{'residual' if residual else 'plain'}_{depth}"
    return keras.Model(inputs, outputs, name=name or default)


def plain_cnn(
    depth: int = 20,
    width: int = 16,
    *,
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    norm: str | None = None,
    kernel_initializer: str = "he_normal",
    name: str | None = None,
) -> keras.Model:
    """A plain ("VGG-like") CNN with ``depth = 6 n + 2`` weighted layers and no shortcuts.

    ``depth - 1`` 3x3 convolutions (stem + 3 stages x n blocks x 2) each followed by ReLU,
    widths ``width, 2 width, 4 width`` at full, half and quarter resolution (the first
    convolution of stages 2 and 3 has stride 2), then global average pooling and a dense layer
    giving ``num_classes`` logits. ``norm=None`` (default) uses no normalization; ``"batch"`` puts
    :class:`keras.layers.BatchNormalization` after every convolution (and drops their biases).
    Input ``(N, *input_shape)`` NHWC float32; output ``(N, num_classes)`` logits.
    """
    return _cifar_cnn(False, depth, width, input_shape, num_classes, norm, kernel_initializer,
                      name)


def residual_cnn(
    depth: int = 20,
    width: int = 16,
    *,
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    norm: str | None = None,
    kernel_initializer: str = "he_normal",
    name: str | None = None,
) -> keras.Model:
    """:func:`plain_cnn` with a shortcut around every pair of convolutions: ``relu(x + F(x))``.

    The shortcut is the identity, or :class:`ChannelPadShortcut` (stride-2 subsample + zero
    channels) where a stage halves the resolution and doubles the width, so the network has
    exactly the parameters of ``plain_cnn`` with the same arguments (He et al. 2016, ResNet-20/32/
    44/56 for CIFAR with option-A shortcuts).
    """
    return _cifar_cnn(True, depth, width, input_shape, num_classes, norm, kernel_initializer,
                      name)


def conv_layers(model: keras.Model) -> list[keras.layers.Conv2D]:
    """The ``Conv2D`` layers of ``model`` in the order they appear in it (input to output)."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def gradient_norms_per_layer(model: keras.Model, x, y) -> dict[str, float]:
    """L2 norm of the gradient of the mean cross-entropy loss w.r.t. each convolution's kernel.

    ``model`` maps NHWC images to class logits; ``x`` is a batch of images ``(N, H, W, C)``
    float32 in [-1, 1], ``y`` the ``(N,)`` integer labels. The model is called in training mode
    (batch norm uses the batch's statistics, as during the first training step) and its weights
    are not changed. Returns ``{layer name: ||dL/dW||_2}`` for every ``Conv2D`` in input-to-output
    order. Called on a freshly built model, this is the gradient "at initialization".

    The loss is ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``. The gradient is
    taken with ``tf.GradientTape``, so this function needs the TensorFlow backend (the course's
    default); other backends raise ``NotImplementedError``.
    """
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"gradient_norms_per_layer: model {model.name!r} has no Conv2D layer.")
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"gradient_norms_per_layer: expected images (N, H, W, C) and labels (N,), got "
            f"{x.shape} and {y.shape}."
        )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    kernels = [layer.kernel for layer in convs]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        saved = [v.numpy() for v in model.non_trainable_variables]  # e.g. batch-norm statistics
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, [k.value for k in kernels])
        grads = [g.numpy() for g in grads]
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)
    else:
        raise NotImplementedError(
            f"gradient_norms_per_layer uses tf.GradientTape and needs the TensorFlow backend, "
            f"the course's default; the Keras backend here is {backend!r}."
        )
    return {layer.name: float(np.linalg.norm(g)) for layer, g in zip(convs, grads)}


def train_classifier(
    model: keras.Model,
    x,
    y,
    *,
    validation: tuple | None = None,
    epochs: int = 2,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    evals_per_epoch: int = 4,
    seed: int = 0,
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train a logits classifier with Adam and cross-entropy; return its training curves.

    ``x`` are NHWC float32 images in [-1, 1], ``y`` the ``(N,)`` integer labels; ``validation``
    an optional ``(x_val, y_val)`` pair. Each of the ``epochs`` passes over the shuffled data
    (seeded by ``seed``) is cut into ``evals_per_epoch`` equal chunks of steps, and after each
    chunk Keras records the chunk's mean training loss and accuracy (and the validation ones),
    so short runs still give curves with several points. Returns the Keras history as
    ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...],
    "epoch": [...]}`` where ``epoch`` is the (fractional) number of passes done at each point.
    """
    import tensorflow as tf

    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"train_classifier: expected images (N, H, W, C) and labels (N,) with N > 0, got "
            f"{x.shape} and {y.shape}."
        )
    steps = max(1, len(x) // batch_size)  # whole batches only: every step has batch_size images
    evals = max(1, min(int(evals_per_epoch), steps))
    chunk = steps // evals
    data = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .repeat()
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        data,
        epochs=int(epochs) * evals,
        steps_per_epoch=chunk,
        shuffle=False,  # the dataset above is already shuffled (seeded)
        validation_data=validation,
        validation_batch_size=256,
        verbose=verbose,
    )
    curves = {key: [float(v) for v in values] for key, values in history.history.items()}
    curves["epoch"] = [(i + 1) * chunk / steps for i in range(int(epochs) * evals)]
    return curves
