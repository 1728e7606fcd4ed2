"""Neural style transfer (Gatys, Ecker and Bethge, CVPR 2016): optimize an *image*, not a network.

A fixed, pretrained CNN (the lecture's VGG-19) describes an image twice: by its feature maps at a
layer near the output (its *content*) and by the Gram matrices of the feature maps at several
depths (its *style*). Starting from the content photo or from noise, gradient descent changes the
pixels of the generated image :math:`G` until it has the content of a photo :math:`C` and the
style of a painting :math:`S`:

.. math::

    L(G) = \\alpha L_{content}(C, G) + \\beta L_{style}(S, G).

The pieces, in the lecture's notation:

* :func:`gram_matrix`: ``(N, H, W, C) -> (N, C, C)``, :math:`G^l = X X^T` with :math:`X` the
  ``c x hw`` matrix of one image's flattened channels (no centring, no scaling);
* :func:`content_loss`: :math:`\\frac{1}{2} \\sum_{i,j} (F^l_{ij} - P^l_{ij})^2`;
* :func:`style_layer_loss`: :math:`E_l = \\frac{1}{4 c^2 (hw)^2} \\sum_{i,j} (G^l_{ij} -
  A^l_{ij})^2`, and :func:`style_loss`: :math:`\\sum_l w_l E_l`;
* :func:`vgg19_extractor`: ``keras.applications.VGG19(weights="imagenet")`` (the lecture's
  choice, downloaded on Colab) or ``weights=None`` (random weights, the offline stand-in), with
  every layer rescaled to mean activation 1 (:func:`normalize_activations`);
* :func:`model_extractor`: the same interface on any CNN, e.g. the course's Monet-vs-photo
  classifier (:mod:`cyclegan_lesson.evaluation.painting_classifier`);
* :func:`transfer_style`: the image-optimization loop (Adam on the pixels, fixed seed, a loss
  history and an optional log file instead of console output).

Images are NHWC float32 in [-1, 1] everywhere; the VGG preprocessing (RGB -> BGR in [0, 255]
minus the ImageNet mean) happens inside the extractor. The losses use ``keras.ops`` only; the
optimization loop uses TensorFlow's ``GradientTape`` (the package's backend).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

__all__ = [
    "STYLE_LAYERS",
    "CONTENT_LAYER",
    "VGGPreprocess",
    "FeatureExtractor",
    "gram_matrix",
    "style_normalization",
    "content_loss",
    "style_layer_loss",
    "style_loss",
    "vgg19_extractor",
    "model_extractor",
    "normalize_activations",
    "StyleTargets",
    "style_targets",
    "losses",
    "distances",
    "StyleTransferResult",
    "transfer_style",
    "shuffle_patches",
    "plot_pipeline",
]

#: Gatys et al.'s style layers: the first convolution of each of VGG-19's five blocks.
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: The content layer near the output (keras-io's choice; Gatys et al. use ``block4_conv2``).
CONTENT_LAYER = "block5_conv2"
#: ImageNet channel means that Keras' VGG preprocessing ("caffe" mode) subtracts, in BGR order.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------

def _check_features(x, name: str):
    x = ops.convert_to_tensor(x, dtype="float32")
    if len(x.shape) != 4:
        raise ValueError(
            f"{name} must be a batch of feature maps of shape (N, H, W, C), got shape "
            f"{tuple(x.shape)}; add a batch axis with x[None] for a single map.")
    return x


def _check_images(images, name: str) -> np.ndarray:
    x = np.asarray(keras.ops.convert_to_numpy(images), dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(
            f"{name} must be RGB images of shape (N, H, W, 3), got shape {x.shape}; "
            f"add a batch axis with image[None].")
    if x.size and (x.min() < -1.0 - 1e-3 or x.max() > 1.0 + 1e-3):
        raise ValueError(
            f"{name} must be float images in [-1, 1], got values in [{x.min():.3g}, "
            f"{x.max():.3g}]; convert uint8 images with x / 127.5 - 1.")
    return x


# ---------------------------------------------------------------------------------------------
# the losses (keras.ops only: backend-neutral)
# ---------------------------------------------------------------------------------------------

def gram_matrix(features):
    """The Gram matrix of each image's feature maps.

    Args:
        features: ``(N, H, W, C)`` float feature maps.

    Returns:
        ``(N, C, C)``: for each image, :math:`G = X X^T` with :math:`X` the ``C x HW`` matrix
        whose row :math:`i` is channel :math:`i` flattened over the pixels. Entry :math:`G_{ij}`
        is the inner product of channels :math:`i` and :math:`j`: a correlation that is neither
        centred nor normalized.
    """
    x = _check_features(features, "gram_matrix: features")
    n, h, w, c = ops.shape(x)
    flat = ops.reshape(x, (n, h * w, c))  # row p: the C channel values at pixel p
    return ops.matmul(ops.transpose(flat, (0, 2, 1)), flat)  # X X^T, (N, C, C)


def style_normalization(c: int, h: int, w: int) -> float:
    """The lecture's scale of the style loss of one layer: :math:`1 / (4 c^2 (hw)^2)`.

    ``c`` channels, ``h x w`` pixels (Gatys et al.'s :math:`1/(4 N_l^2 M_l^2)` with
    :math:`N_l = c`, :math:`M_l = hw`)."""
    for name, v in (("c", c), ("h", h), ("w", w)):
        if int(v) != v or v < 1:
            raise ValueError(f"style_normalization: {name} must be a positive int, got {v!r}")
    return 1.0 / (4.0 * c**2 * (h * w) ** 2)


def content_loss(generated, content):
    """:math:`L_{content} = \\frac{1}{2} \\sum_{i,j} (F^l_{ij} - P^l_{ij})^2` per image.

    Args:
        generated: ``(N, H, W, C)`` features :math:`F^l` of the generated image(s).
        content: features :math:`P^l` of the content image(s), same shape (or batch 1).

    Returns:
        ``(N,)``: half the sum of squared differences over channels :math:`i` and pixels
        :math:`j` (a sum, not a mean: it grows with the layer's size).
    """
    f = _check_features(generated, "content_loss: generated")
    p = _check_features(content, "content_loss: content")
    if tuple(f.shape[1:]) != tuple(p.shape[1:]):
        raise ValueError(f"content_loss: feature shapes differ, {tuple(f.shape)} vs "
                         f"{tuple(p.shape)}; use images of the same size.")
    return 0.5 * ops.sum(ops.square(f - p), axis=(1, 2, 3))


def style_layer_loss(generated, style_gram):
    """:math:`E_l = \\frac{1}{4 c^2 (hw)^2} \\sum_{i,j} (G^l_{ij} - A^l_{ij})^2` per image.

    Args:
        generated: ``(N, H, W, C)`` features of the generated image(s) at layer :math:`l`.
        style_gram: ``(N or 1, C, C)`` Gram matrix :math:`A^l` of the style image's features
            at the same layer (:func:`gram_matrix`); the style image may differ in size, the
            scale uses the generated image's ``h, w``.

    Returns:
        ``(N,)``.
    """
    f = _check_features(generated, "style_layer_loss: generated")
    a = ops.convert_to_tensor(style_gram, dtype="float32")
    _, h, w, c = f.shape
    if len(a.shape) != 3 or tuple(a.shape[1:]) != (c, c):
        raise ValueError(f"style_layer_loss: style_gram must have shape (N, {c}, {c}) for "
                         f"features with {c} channels, got {tuple(a.shape)}.")
    g = gram_matrix(f)
    return style_normalization(c, h, w) * ops.sum(ops.square(g - a), axis=(1, 2))


def style_loss(generated: Mapping[str, object], style_grams: Mapping[str, object],
               layer_weights: Mapping[str, float] | None = None):
    """:math:`L_{style} = \\sum_l w_l E_l` per image, over the layers of ``style_grams``.

    ``generated`` maps layer names to ``(N, H, W, C)`` features, ``style_grams`` the same names
    to ``(N or 1, C, C)`` Gram matrices; ``layer_weights`` defaults to :math:`w_l = 1/L`
    (Gatys et al.). Returns ``(N,)``."""
    names = list(style_grams)
    if not names:
        raise ValueError("style_loss: no style layers given")
    missing = [n for n in names if n not in generated]
    if missing:
        raise ValueError(f"style_loss: no generated features for the style layers {missing}")
    weights = layer_weights or {n: 1.0 / len(names) for n in names}
    return sum(weights[n] * style_layer_loss(generated[n], style_grams[n]) for n in names)


# ---------------------------------------------------------------------------------------------
# feature extractors
# ---------------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="cyclegan_lesson")
class VGGPreprocess(keras.layers.Layer):
    """The course's [-1, 1] RGB images -> VGG's input: BGR in [0, 255] minus the ImageNet mean
    (what ``keras.applications.vgg19.preprocess_input`` does to [0, 255] RGB)."""

    def call(self, inputs):
        x = (inputs + 1.0) * 127.5
        x = ops.flip(x, axis=-1)  # RGB -> BGR
        return x - ops.convert_to_tensor(VGG_MEAN_BGR, dtype=x.dtype)


@dataclass
class FeatureExtractor:
    """A frozen CNN that maps ``(N, H, W, 3)`` images in [-1, 1] to a dict of feature maps.

    ``model`` returns ``{layer name: (N, h, w, c)}``; ``content_layer`` is one of the names,
    ``style_layers`` are others (they may overlap); ``name`` labels figures and tables."""

    model: keras.Model
    content_layer: str
    style_layers: tuple[str, ...]
    name: str = "extractor"
    info: dict = field(default_factory=dict)

    def __call__(self, images) -> dict:
        return self.model(images, training=False)

    def features(self, images, batch_size: int = 8) -> dict[str, np.ndarray]:
        """NumPy features of ``images`` (checked: NHWC RGB in [-1, 1]), in batches."""
        x = _check_images(images, f"{self.name}: images")
        parts = [self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return {k: np.concatenate([ops.convert_to_numpy(p[k]) for p in parts]) for k in parts[0]}


def _feature_model(base: keras.Model, inputs, x, layer_names: Sequence[str]) -> keras.Model:
    names = [layer.name for layer in base.layers]
    unknown = [n for n in layer_names if n not in names]
    if unknown:
        raise ValueError(f"unknown layers {unknown}; the network has {names}")
    outputs = {n: base.get_layer(n).output for n in layer_names}
    inner = keras.Model(base.input, outputs)
    model = keras.Model(inputs, inner(x))
    model.trainable = False
    return model


def normalize_activations(model: keras.Model, calibration_images, *,
                          preprocess=None) -> dict[str, float]:
    """Rescale every ReLU convolution of ``model`` so that its mean activation over
    ``calibration_images`` (all images, positions and filters) is 1: one factor per layer.

    The mean activation :math:`m_l` of every convolution is measured once, on the untouched
    network. Then layer :math:`l`, whose input now arrives divided by :math:`m_{l-1}`, gets the
    kernel :math:`W_l m_{l-1} / m_l` and the bias :math:`b_l / m_l`, so that it computes
    :math:`\\mathrm{ReLU}(W_l h + b_l) / m_l`: its original output divided by one positive
    factor, biases included (ReLU and max pooling commute with a positive scale). This matters
    most for random weights, whose activations otherwise shrink or grow by a factor at every
    layer, so that one layer dominates the style loss. (Gatys et al. 2016 rescale each *filter*
    of the ImageNet VGG-19 to mean 1; with random weights that would multiply filters that almost
    never fire by huge factors and make the features explode under tiny pixel changes, so the
    course uses one factor per layer.)

    The convolutions must form a chain (each one's input is the previous convolution's output,
    possibly max- or average-pooled), as in VGG-19 and the course's classifier without batch
    norm; the function checks that every layer's mean is 1 afterwards and otherwise restores the
    weights and raises ``ValueError``.

    Args:
        model: a Keras model whose ``Conv2D`` layers use ``activation="relu"`` (modified in
            place).
        calibration_images: ``(N, H, W, 3)`` float32 in [-1, 1].
        preprocess: a callable applied to the images before ``model`` (e.g.
            :class:`VGGPreprocess`), or ``None``.

    Returns:
        ``{layer name: its mean activation in the untouched network}``.
    """
    x = _check_images(calibration_images, "normalize_activations: calibration_images")
    if preprocess is not None:
        x = ops.convert_to_numpy(preprocess(x))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ValueError("normalize_activations: the model has no Conv2D layers")
    not_relu = [layer.name for layer in convs if layer.activation is not keras.activations.relu]
    if not_relu:
        raise ValueError(f"normalize_activations: layers {not_relu} must use a ReLU activation "
                         f"(the rescaling relies on ReLU(s z) = s ReLU(z)).")
    probe = keras.Model(model.input, [layer.output for layer in convs])

    def mean_activations() -> list[float]:
        sums = np.zeros(len(convs))
        for i in range(0, len(x), 4):
            outs = probe(x[i:i + 4])
            sums += [float(ops.convert_to_numpy(o).mean()) * len(x[i:i + 4]) for o in outs]
        return list(sums / len(x))

    before = dict(zip([layer.name for layer in convs], mean_activations()))  # untouched network
    for name, mean in before.items():
        if not mean > 0:
            raise ValueError(f"normalize_activations: {name} never fires on these images")
    original = [layer.get_weights() for layer in convs]
    scale_in = 1.0  # the factor the layer's input has been divided by
    for layer, (kernel, bias) in zip(convs, original):  # from the input upwards
        mean = before[layer.name]
        layer.set_weights([kernel * (scale_in / mean), bias / mean])
        scale_in = mean
    after = mean_activations()
    if not np.allclose(after, 1.0, rtol=0, atol=1e-2):
        for layer, weights in zip(convs, original):
            layer.set_weights(weights)
        raise ValueError(
            "normalize_activations: the convolutions do not form a chain (mean activations "
            f"after rescaling {np.round(after, 3).tolist()}, not 1); pass a model whose "
            "ReLU convolutions follow each other, with only pooling in between, or "
            "normalize=False.")
    return before


def vgg19_extractor(weights: str | None = "imagenet", *, content_layer: str = CONTENT_LAYER,
                    style_layers: Sequence[str] = STYLE_LAYERS, normalize: bool = True,
                    calibration_images=None, seed: int = 0) -> FeatureExtractor:
    """VGG-19 features of [-1, 1] images, the lecture's extractor.

    Args:
        weights: ``"imagenet"``: ``keras.applications.VGG19(weights="imagenet",
            include_top=False)``, downloaded on first use (about 80 MB; needs internet, e.g.
            Colab). ``None``: the same architecture with random weights drawn from ``seed``,
            the offline stand-in (it transfers some style: He, Wang and Hopcroft 2016; it
            carries no ImageNet knowledge).
        content_layer, style_layers: VGG-19 layer names (``block1_conv1`` ... ``block5_conv4``).
        normalize: rescale each layer to mean activation 1 over ``calibration_images``
            (:func:`normalize_activations`); needed for random weights.
        calibration_images: ``(N, H, W, 3)`` in [-1, 1], required when ``normalize``.
        seed: seed of the random weights (``weights=None``).

    Returns:
        A :class:`FeatureExtractor` named ``"VGG-19 (ImageNet)"`` or ``"VGG-19 (random)"``.
    """
    if weights not in ("imagenet", None):
        raise ValueError(f"vgg19_extractor: weights must be 'imagenet' or None, got "
                         f"{weights!r} (for weights of a course model use model_extractor).")
    if normalize and calibration_images is None:
        raise ValueError("vgg19_extractor: normalize=True needs calibration_images, e.g. a "
                         "few content and style images; or pass normalize=False.")
    if weights is None:
        keras.utils.set_random_seed(seed)
    base = keras.applications.VGG19(include_top=False, weights=weights, input_shape=(None, None, 3))
    layers = list(dict.fromkeys([content_layer, *style_layers]))
    info = {"weights": weights or "random", "normalized": bool(normalize)}
    if normalize:
        info["mean_activation_before"] = normalize_activations(
            base, calibration_images, preprocess=VGGPreprocess())
    inputs = keras.Input((None, None, 3), name="image")
    model = _feature_model(base, inputs, VGGPreprocess(name="vgg_preprocess")(inputs), layers)
    name = "VGG-19 (ImageNet)" if weights == "imagenet" else "VGG-19 (random)"
    return FeatureExtractor(model, content_layer, tuple(style_layers), name, info)


def model_extractor(model: keras.Model, content_layer: str, style_layers: Sequence[str], *,
                    name: str = "course CNN", normalize: bool = True,
                    calibration_images=None) -> FeatureExtractor:
    """Any CNN that takes [-1, 1] images (e.g. the Monet-vs-photo classifier of
    :mod:`cyclegan_lesson.evaluation.painting_classifier`) as a feature extractor; its input must
    accept
    any image size (``(None, None, 3)``). ``normalize`` as in :func:`vgg19_extractor`; the
    model's weights are rescaled in place, so pass a copy if it must stay a classifier."""
    if normalize and calibration_images is None:
        raise ValueError("model_extractor: normalize=True needs calibration_images")
    info = {"weights": "trained in the course", "normalized": bool(normalize)}
    if normalize:
        info["mean_activation_before"] = normalize_activations(model, calibration_images)
    layers = list(dict.fromkeys([content_layer, *style_layers]))
    inputs = keras.Input((None, None, 3), name="image")
    return FeatureExtractor(_feature_model(model, inputs, inputs, layers), content_layer,
                            tuple(style_layers), name, info)


# ---------------------------------------------------------------------------------------------
# targets, losses and distances of whole images
# ---------------------------------------------------------------------------------------------

@dataclass
class StyleTargets:
    """What the optimization aims at: content features :math:`P^l` and style Grams :math:`A^l`."""

    content: object  # (N or 1, h, w, c)
    grams: dict  # layer -> (N or 1, c, c)


def style_targets(extractor: FeatureExtractor, content, style) -> StyleTargets:
    """:math:`P^l` of the content image(s) and :math:`A^l` of the style image(s), computed once.
    ``content`` and ``style``: ``(N or 1, H, W, 3)`` in [-1, 1] (sizes may differ)."""
    content = _check_images(content, "content")
    style = _check_images(style, "style")
    p = extractor(content)[extractor.content_layer]
    s = extractor(style)
    return StyleTargets(p, {n: gram_matrix(s[n]) for n in extractor.style_layers})


def losses(extractor: FeatureExtractor, images, targets: StyleTargets,
           layer_weights: Mapping[str, float] | None = None) -> tuple:
    """``(content loss, style loss)`` of ``images`` against ``targets``, each ``(N,)``."""
    feats = extractor(images)
    return (content_loss(feats[extractor.content_layer], targets.content),
            style_loss(feats, targets.grams, layer_weights))


def distances(extractor: FeatureExtractor, images, content, style,
              layer_weights: Mapping[str, float] | None = None,
              batch_size: int = 8) -> dict[str, np.ndarray]:
    """Score images: their content loss to ``content`` and style loss to ``style`` under
    ``extractor`` (use a *different* extractor from the one optimized for a fair score).

    ``images`` ``(N, H, W, 3)``; ``content`` ``(N or 1, H, W, 3)``; ``style`` ``(N or 1, ...)``;
    all in [-1, 1]. Returns ``{"content": (N,), "style": (N,)}`` NumPy arrays."""
    x = _check_images(images, "images")
    content = _check_images(content, "content")
    style = _check_images(style, "style")
    out = {"content": [], "style": []}
    for i in range(0, len(x), batch_size):
        pick = slice(i, i + batch_size)
        t = style_targets(extractor, content if len(content) == 1 else content[pick],
                          style if len(style) == 1 else style[pick])
        c, s = losses(extractor, x[pick], t, layer_weights)
        out["content"].append(ops.convert_to_numpy(c))
        out["style"].append(ops.convert_to_numpy(s))
    return {k: np.concatenate(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# the optimization of the image
# ---------------------------------------------------------------------------------------------

@dataclass
class StyleTransferResult:
    """The generated images ``(N, H, W, 3)`` in [-1, 1], the loss history (one entry per step:
    ``total``, ``content``, ``style``, each averaged over the batch), and the wall time."""

    images: np.ndarray
    history: dict
    seconds: float
    steps: int


def transfer_style(extractor: FeatureExtractor, content, style, *, alpha: float = 1.0,
                   beta: float | Sequence[float] = 1e3,
                   layer_weights: Mapping[str, float] | None = None, steps: int = 300,
                   learning_rate: float = 0.02, init: str = "content", seed: int = 0,
                   log_file: str | os.PathLike | None = None,
                   log_every: int = 50) -> StyleTransferResult:
    """Gatys et al.'s style transfer: minimize :math:`\\alpha L_{content} + \\beta L_{style}`
    over the pixels of the generated image(s), the extractor frozen.

    Args:
        extractor: a :class:`FeatureExtractor`.
        content: ``(N, H, W, 3)`` content photos in [-1, 1]; one generated image each.
        style: ``(N or 1, H', W', 3)`` style images in [-1, 1].
        alpha, beta: the weights of the two losses; ``beta`` may be a sequence of ``N`` values
            (one per image: a whole sweep optimized as one batch; images do not interact).
        layer_weights: :math:`w_l` of :func:`style_loss` (default :math:`1/L`).
        steps: Adam steps on the pixels; the image is clipped to [-1, 1] after each.
        learning_rate: Adam's step size (in units of the [-1, 1] pixel range).
        init: ``"content"`` (start from the photo) or ``"noise"`` (uniform noise in [-1, 1]
            drawn from ``seed``, the lecture's starting point).
        log_file: write one line every ``log_every`` steps there (nothing is printed).

    Returns:
        A :class:`StyleTransferResult`.
    """
    import tensorflow as tf

    content = _check_images(content, "content")
    style = _check_images(style, "style")
    if init not in ("content", "noise"):
        raise ValueError(f"init must be 'content' or 'noise', got {init!r}")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if len(style) not in (1, len(content)):
        raise ValueError(f"style must hold 1 image or one per content image ({len(content)}), "
                         f"got {len(style)}")
    betas = np.broadcast_to(np.asarray(beta, np.float32), (len(content),)).copy()
    targets = style_targets(extractor, content, style)
    if init == "content":
        start = content.copy()
    else:
        start = np.random.default_rng(seed).uniform(-1, 1, content.shape).astype(np.float32)
    image = tf.Variable(start)
    optimizer = keras.optimizers.Adam(learning_rate)
    alpha_t, beta_t = tf.constant(alpha, tf.float32), tf.constant(betas)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            lc, ls = losses(extractor, image, targets, layer_weights)
            total = alpha_t * lc + beta_t * ls  # (N,): images are independent
            objective = tf.reduce_sum(total)
        grad = tape.gradient(objective, image)
        optimizer.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, -1.0, 1.0))
        return tf.reduce_mean(total), tf.reduce_mean(lc), tf.reduce_mean(ls)

    history = {"total": [], "content": [], "style": []}
    log = open(log_file, "w") if log_file else None
    start_time = time.perf_counter()
    try:
        for i in range(int(steps)):
            values = [float(v) for v in step()]
            for key, v in zip(history, values):
                history[key].append(v)
            if log and (i % log_every == 0 or i == steps - 1):
                log.write(f"step {i + 1}/{steps}: total {values[0]:.4g}, content {values[1]:.4g}"
                          f", style {values[2]:.4g}, {time.perf_counter() - start_time:.1f} s\n")
                log.flush()
    finally:
        if log:
            log.close()
    return StyleTransferResult(image.numpy(), history, time.perf_counter() - start_time,
                               int(steps))


# ---------------------------------------------------------------------------------------------
# helpers for the chapter's experiments and figures
# ---------------------------------------------------------------------------------------------

def shuffle_patches(images, patch: int, seed: int = 0) -> np.ndarray:
    """Cut each ``(N, H, W, C)`` image into ``patch x patch`` tiles and put the tiles back in a
    random order (the same permutation for every image, drawn from ``seed``): the layout is
    destroyed, the local statistics are kept. ``H`` and ``W`` must be multiples of ``patch``."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"shuffle_patches: images must be (N, H, W, C), got {x.shape}")
    n, h, w, c = x.shape
    if h % patch or w % patch:
        raise ValueError(f"shuffle_patches: image size {h}x{w} is not a multiple of the patch "
                         f"size {patch}; pick a patch that divides it.")
    gh, gw = h // patch, w // patch
    tiles = x.reshape(n, gh, patch, gw, patch, c).transpose(0, 1, 3, 2, 4, 5)
    tiles = tiles.reshape(n, gh * gw, patch, patch, c)
    tiles = tiles[:, np.random.default_rng(seed).permutation(gh * gw)]
    return (tiles.reshape(n, gh, gw, patch, patch, c).transpose(0, 1, 3, 2, 4, 5)
            .reshape(n, h, w, c))


def plot_pipeline():
    """A diagram of style transfer: content and style images -> frozen extractor layers ->
    content features and Gram matrices -> the two losses -> the gradient on the image."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(11, 4.6))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 4.6)
    ax.axis("off")

    def box(x, y, text, color, w=1.7, h=0.62):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                    boxstyle="round,pad=0.04", fc=color, ec="#444444"))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5)

    def arrow(x0, y0, x1, y1, color="#444444", style="-|>", ls="-"):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=11,
                                     color=color, lw=1.2, linestyle=ls))

    rows = {"S": 3.9, "G": 2.3, "C": 0.7}
    box(0.9, rows["S"], "style image $S$\n(Monet)", "#f6d8b8")
    box(0.9, rows["G"], "generated image $G$\n(the variable)", "#cfe8cf")
    box(0.9, rows["C"], "content image $C$\n(photo)", "#cfe0f6")
    for key, y in rows.items():
        box(3.2, y, "frozen CNN\n(VGG-19)", "#e8e8e8", w=1.5)
        arrow(1.75, y, 2.45, y)
    box(5.6, 3.9, "style layers $l$:\nblock1..5_conv1", "#f6d8b8", w=1.9)
    box(5.6, 2.75, "$G^l = X X^T$\n(Gram, $c \\times c$)", "#fff5d6", w=1.9)
    box(5.6, 1.6, "content layer:\nblock5_conv2 $F^l$", "#cfe0f6", w=1.9)
    box(5.6, 0.45, "$P^l$ of $C$", "#cfe0f6", w=1.9, h=0.5)
    arrow(3.95, rows["S"], 4.65, 3.9)
    arrow(3.95, rows["G"], 4.65, 2.75)
    arrow(3.95, rows["G"], 4.65, 1.6)
    arrow(3.95, rows["C"], 4.65, 0.45)
    box(8.1, 3.3, "$E_l = \\frac{\\sum (G^l - A^l)^2}{4 c^2 (hw)^2}$\n"
        "$L_{style} = \\sum_l w_l E_l$", "#fff5d6", w=2.3, h=0.9)
    box(8.1, 1.05, "$L_{content} = \\frac{1}{2} \\sum (F^l - P^l)^2$", "#cfe0f6", w=2.3)
    arrow(6.55, 3.9, 6.95, 3.45)
    arrow(6.55, 2.75, 6.95, 3.15)
    arrow(6.55, 1.6, 6.95, 1.15)
    arrow(6.55, 0.45, 6.95, 0.95)
    box(10.1, 2.2, "$L = \\alpha L_{content}$\n$+ \\beta L_{style}$", "#f2d0d0", w=1.4, h=0.9)
    arrow(9.25, 3.3, 9.4, 2.5)
    arrow(9.25, 1.05, 9.4, 1.9)
    ax.annotate("", xy=(0.9, 2.62), xytext=(10.1, 2.65),
                arrowprops=dict(arrowstyle="-|>", color="#b03030", lw=1.6, ls="--",
                                connectionstyle="arc3,rad=0.0"))
    ax.text(7.0, 2.2, r"gradient $\partial L / \partial G$ updates the pixels of $G$ "
            "(the network stays fixed)", color="#b03030", fontsize=8.5, ha="center",
            va="center", bbox=dict(fc="white", ec="none", alpha=0.85))
    ax.set_title("Neural style transfer: the image is optimized, the CNN is frozen", fontsize=11)
    fig.tight_layout()
    return fig

