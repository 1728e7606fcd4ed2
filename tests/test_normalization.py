"""The NumPy reference normalizations (layers.py) agree with Keras, and InstanceNormalization
equals GroupNormalization(groups=-1).

Tolerance: 1e-5 absolute on outputs of unit scale (Keras computes in float32, the references in
float64).
"""

from __future__ import annotations

import cyclegan_lesson  # noqa: F401  (quiet TensorFlow import, registers layers)
import keras
import numpy as np
import pytest

from cyclegan_lesson.nn.layers import (
    InstanceNormalization,
    batch_norm_reference,
    group_norm_reference,
    instance_norm_reference,
    layer_norm_reference,
)

EPS = 1e-5
TOL = 1e-5


def _x(shape, seed):
    rng = np.random.default_rng(seed)
    # an offset and a scale per channel, so a wrong axis choice gives a visibly wrong answer
    c = shape[-1]
    return (rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=c) + rng.normal(size=c) * 2)


def _keras(layer, x, **call_kwargs):
    return keras.ops.convert_to_numpy(layer(x.astype("float32"), **call_kwargs))


def keras_batch(x):
    layer = keras.layers.BatchNormalization(epsilon=EPS, center=False, scale=False)
    return _keras(layer, x, training=True)


def keras_instance(x):
    return _keras(keras.layers.GroupNormalization(groups=-1, epsilon=EPS, center=False,
                                                  scale=False), x)


def keras_layer(x):
    return _keras(keras.layers.LayerNormalization(axis=[1, 2, 3], epsilon=EPS, center=False,
                                                  scale=False), x)


def keras_group(x, groups):
    return _keras(keras.layers.GroupNormalization(groups=groups, epsilon=EPS, center=False,
                                                  scale=False), x)


def _maxdiff(a, b):
    assert a.shape == b.shape
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# (N, H, W, C, groups): random-looking shapes plus the edge cases batch 1, one group, C groups
SHAPES = [
    (4, 8, 8, 6, 3),
    (3, 5, 7, 8, 4),
    (2, 16, 16, 12, 6),
    (1, 6, 6, 4, 2),     # batch 1
    (5, 4, 4, 8, 1),     # one group
    (2, 9, 3, 5, 5),     # groups == channels
    (1, 1, 1, 3, 1),     # one pixel of one image: every variance is 0, every output 0
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_references_match_keras(shape):
    n, h, w, c, groups = shape
    x = _x((n, h, w, c), seed=sum(shape))
    assert _maxdiff(batch_norm_reference(x, EPS), keras_batch(x)) < TOL
    assert _maxdiff(instance_norm_reference(x, EPS), keras_instance(x)) < TOL
    assert _maxdiff(layer_norm_reference(x, EPS), keras_layer(x)) < TOL
    assert _maxdiff(group_norm_reference(x, groups, EPS), keras_group(x, groups)) < TOL


@pytest.mark.parametrize("seed", range(5))
def test_random_shapes_and_groups(seed):
    rng = np.random.default_rng(100 + seed)
    groups = int(rng.integers(1, 5))
    c = groups * int(rng.integers(1, 4))
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 10)), int(rng.integers(2, 10)), c)
    x = _x(shape, seed)
    assert _maxdiff(group_norm_reference(x, groups, EPS), keras_group(x, groups)) < TOL


def test_statistics_of_each_variant():
    """Each variant leaves mean 0 and variance ~1 over exactly its own axes."""
    x = _x((4, 6, 6, 8), seed=7)
    for ref, axes in [(batch_norm_reference, (0, 1, 2)), (instance_norm_reference, (1, 2)),
                      (layer_norm_reference, (1, 2, 3))]:
        y = ref(x, EPS)
        np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-10)
        np.testing.assert_allclose(y.var(axis=axes), 1, atol=1e-3)
    # a variant that averages over fewer axes does NOT leave other groupings normalized
    y = batch_norm_reference(x, EPS)
    assert np.max(np.abs(y.mean(axis=(1, 2)))) > 0.05


def test_batch_one_is_instance_norm():
    x = _x((1, 8, 8, 6), seed=3)
    assert _maxdiff(batch_norm_reference(x, EPS), instance_norm_reference(x, EPS)) < 1e-12
    assert _maxdiff(keras_batch(x), keras_instance(x)) < TOL


def test_batch_norm_differs_from_instance_norm_for_larger_batches():
    x = _x((4, 8, 8, 6), seed=3)
    assert _maxdiff(batch_norm_reference(x, EPS), instance_norm_reference(x, EPS)) > 0.1


def test_group_norm_limits():
    x = _x((3, 5, 5, 6), seed=4)
    assert _maxdiff(group_norm_reference(x, 1, EPS), layer_norm_reference(x, EPS)) < 1e-12
    assert _maxdiff(group_norm_reference(x, 6, EPS), instance_norm_reference(x, EPS)) < 1e-12
    assert _maxdiff(group_norm_reference(x, 3, EPS), instance_norm_reference(x, EPS)) > 0.1


@pytest.mark.parametrize("groups", [4, 5, 7])
def test_channels_not_divisible_by_groups(groups):
    x = np.zeros((2, 4, 4, 6))
    with pytest.raises(ValueError, match="divisible"):
        group_norm_reference(x, groups)


@pytest.mark.parametrize("groups", [0, -1, 2.0, "2"])
def test_groups_must_be_a_positive_integer(groups):
    with pytest.raises(ValueError, match="positive integer"):
        group_norm_reference(np.zeros((2, 4, 4, 6)), groups)


@pytest.mark.parametrize("ref", [batch_norm_reference, instance_norm_reference,
                                 layer_norm_reference, lambda x: group_norm_reference(x, 1)])
@pytest.mark.parametrize("shape", [(4, 4, 3), (2, 4, 4, 3, 1), (6,)])
def test_non_4d_input_is_rejected(ref, shape):
    with pytest.raises(ValueError, match="rank 4"):
        ref(np.zeros(shape))


def test_instance_normalization_layer_rejects_non_4d():
    with pytest.raises(ValueError, match="rank 4"):
        InstanceNormalization()(np.zeros((2, 4, 3), "float32"))


def _instance_norm_and_group_norm(affine: bool, shape):
    """The package's InstanceNormalization and Keras' GroupNormalization(groups=-1), built for
    ``shape``; with ``affine`` both get the same non-trivial scale and offset."""
    ours = InstanceNormalization(epsilon=1e-5, affine=affine)
    theirs = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=affine,
                                             scale=affine)
    rng = np.random.default_rng(0)
    gamma, beta = rng.uniform(0.5, 2, shape[-1]), rng.normal(size=shape[-1])
    for layer in (ours, theirs):
        layer.build(shape)
        if affine:
            layer.gamma.assign(gamma)
            layer.beta.assign(beta)
    return ours, theirs


@pytest.mark.parametrize("affine", [True, False])
def test_instance_normalization_equals_group_norm_minus_one(affine):
    x = _x((3, 7, 5, 4), seed=11).astype("float32")
    ours, theirs = _instance_norm_and_group_norm(affine, x.shape)
    if affine:
        assert len(ours.trainable_weights) == 2
    else:
        assert not ours.weights
    a, b = _keras(ours, x), _keras(theirs, x)
    assert _maxdiff(a, b) < TOL
    if not affine:
        assert _maxdiff(a, instance_norm_reference(x, 1e-5)) < TOL


@pytest.mark.parametrize("affine", [True, False])
def test_instance_normalization_gradients_equal_group_norm_minus_one(affine):
    """``call``'s order of operations (gamma multiplied into the per-image scale first) has
    the textbook layer's gradients too (for the input, gamma and beta), checked against Keras'
    independent GroupNormalization(groups=-1)."""
    import tensorflow as tf

    x = tf.constant(_x((3, 7, 5, 4), seed=12).astype("float32"))
    upstream = tf.constant(np.random.default_rng(1).normal(size=(3, 7, 5, 4)).astype("float32"))
    grads = []
    for layer in _instance_norm_and_group_norm(affine, tuple(x.shape)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * upstream)
        grads.append(tape.gradient(loss, [x] + list(layer.trainable_weights)))
    assert len(grads[0]) == (3 if affine else 1)
    for a, b in zip(*grads):
        assert _maxdiff(a.numpy(), b.numpy()) < 1e-4 * max(1.0, float(np.max(np.abs(b))))


@pytest.mark.parametrize("dtype", ["float64", "mixed_bfloat16"])
def test_instance_normalization_computes_in_float32_under_other_dtypes(dtype):
    x = _x((2, 6, 5, 3), seed=4)
    layer = InstanceNormalization(epsilon=1e-5, affine=True, dtype=dtype)
    layer.build(x.shape)
    layer.gamma.assign([0.5, 1.0, 2.0])
    layer.beta.assign([-1.0, 0.0, 1.0])
    y = layer(x.astype(layer.compute_dtype))
    assert keras.backend.standardize_dtype(y.dtype) == layer.compute_dtype
    expected = instance_norm_reference(x, 1e-5) * [0.5, 1.0, 2.0] + [-1.0, 0.0, 1.0]
    tol = 1e-5 if dtype == "float64" else 0.05  # bfloat16 input and output: 3 digits
    assert _maxdiff(np.asarray(keras.ops.cast(y, "float64")), expected) < tol


def test_instance_normalization_serialization_round_trip(tmp_path):
    x = _x((2, 6, 6, 3), seed=5).astype("float32")
    inputs = keras.Input((6, 6, 3))
    norm = InstanceNormalization(epsilon=1e-3, affine=True, name="inorm")
    model = keras.Model(inputs, norm(inputs))
    norm.gamma.assign([0.5, 1.5, 2.0])
    norm.beta.assign([0.1, -0.2, 0.3])
    path = tmp_path / "inorm.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("inorm")
    assert isinstance(layer, InstanceNormalization)
    assert layer.epsilon == pytest.approx(1e-3) and layer.affine is True
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    clone = InstanceNormalization.from_config(norm.get_config())
    assert clone.epsilon == norm.epsilon and clone.affine == norm.affine
