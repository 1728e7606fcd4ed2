"""cyclegan_lesson.training.profiling: operation counts checked by hand and against TensorFlow's own
graph count, the matrix-product ceiling, the profiler's tables and ``bench --peak --profile``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
import keras
import tensorflow as tf

from cyclegan_lesson.nn import losses, networks
from cyclegan_lesson.tools import cli
from cyclegan_lesson.training import profiling
from cyclegan_lesson.models.cyclegan import build_cyclegan


def tiny(lambda_identity=0.5, size=32, **kw):
    keras.utils.set_random_seed(0)
    return build_cyclegan(size, 3, 3, n_blocks=1, ngf=4, ndf=4, n_layers=2, pool_size=4,
                          seed=0, weights=losses.CycleGANLossWeights(
                              lambda_identity=lambda_identity), **kw)


def test_network_flops_counts_convolutions_transposed_convolutions_and_dense_by_hand():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3)(inputs)  # 6x6x4 outputs, 3x3x2 taps each
    x = keras.layers.Conv2DTranspose(3, 3, strides=2)(x)  # 6x6x4 inputs, 3x3x3 taps each
    x = keras.layers.ReLU()(x)
    outputs = keras.layers.Dense(5)(x)  # on 13x13 positions of 3 features
    model = keras.Model(inputs, outputs)
    assert profiling.network_flops(model) == (2 * 36 * 9 * 2 * 4 + 2 * 36 * 9 * 4 * 3
                                              + 2 * 169 * 3 * 5)


def test_resnet_generator_flops_match_the_paper_layers_and_tensorflows_count():
    g = networks.resnet_generator(6, 64, 32)
    by_hand = 2 * (32 * 32 * 49 * 3 * 64          # c7s1-64
                   + 16 * 16 * 9 * 64 * 128       # d128
                   + 8 * 8 * 9 * 128 * 256        # d256
                   + 12 * 8 * 8 * 9 * 256 * 256   # 6 residual blocks, two convolutions each
                   + 8 * 8 * 9 * 256 * 128        # u128 (transposed: per input pixel)
                   + 16 * 16 * 9 * 128 * 64       # u64
                   + 32 * 32 * 49 * 64 * 3)       # c7s1-3
    assert profiling.network_flops(g) == by_hand == 1_095_499_776
    # TensorFlow's graph profiler counts the same convolutions plus the elementwise ops
    # (bias, normalization, activations), which add about 1 %.
    fn = tf.function(lambda x: g(x, training=True)).get_concrete_function(
        tf.TensorSpec((1, 32, 32, 3)))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    tf_count = tf.compat.v1.profiler.profile(fn.graph, options=options).total_float_ops
    assert by_hand < tf_count < 1.02 * by_hand


def test_network_flops_needs_a_fixed_image_size():
    g = networks.resnet_generator(1, 4, image_size=None)
    with pytest.raises(ValueError, match="fixed image_size"):
        profiling.network_flops(g)


def test_step_flops_counts_every_pass_of_the_training_step():
    model = tiny(lambda_identity=0.5)
    fg, fd = profiling.network_flops(model.G_AB), profiling.network_flops(model.D_A)
    first_g = 2 * 32 * 32 * 49 * 3 * 4  # c7s1-4 on 3 channels
    first_d = 2 * 16 * 16 * 16 * 3 * 4  # the PatchGAN's first 4x4 stride-2 convolution
    with_identity = profiling.step_flops(model)
    # 3 passes per generator forward; backward = weight + input gradients of each pass, less
    # the first layer's input gradient for the 2 passes per generator that start from data.
    assert with_identity["generators_forward"] == 6 * fg
    assert with_identity["generators_backward"] == 6 * 2 * fg - 4 * first_g
    # per discriminator: judging the fake for G (forward + input gradient), then the update
    # on real and pooled fakes (forward, weight gradients, input gradients but the first).
    assert with_identity["discriminators"] == 2 * (2 * fd + 2 * fd + 2 * (2 * fd - first_d))
    assert with_identity["total"] == sum(v for k, v in with_identity.items() if k != "total")
    without = profiling.step_flops(tiny(lambda_identity=0.0))
    assert without["generators_forward"] == 4 * fg
    assert without["generators_backward"] == 4 * 2 * fg - 2 * first_g
    reused = profiling.step_flops(model, discriminators_reuse_fakes=True)
    assert with_identity["discriminators"] - reused["discriminators"] == 2 * fd


def test_step_flops_refuses_what_is_not_a_cyclegan():
    with pytest.raises(TypeError, match="G_AB"):
        profiling.step_flops(networks.resnet_generator(1, 4, 32))


def test_matmul_peak_is_a_positive_rate_and_checks_its_arguments():
    assert profiling.matmul_peak("float32", n=128, repeats=2) > 0
    with pytest.raises(ValueError, match="dtype"):
        profiling.matmul_peak("int8")
    with pytest.raises(ValueError, match="positive"):
        profiling.matmul_peak(n=0)


def test_profile_step_sums_op_time_by_part_and_by_type():
    model = tiny(size=16)
    model.compile(learning_rate=2e-4)
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32) for _ in range(2))
    result = profiling.profile_step(model, batch, steps=1, warmup=1)
    assert list(result["by_part"]) == list(profiling.PROFILE_PARTS)
    parts = sum(row["ms"] for row in result["by_part"].values())
    types = sum(row["ms"] for row in result["by_type"].values())
    assert parts == pytest.approx(result["op_ms"], rel=0.01)
    assert types == pytest.approx(result["op_ms"], rel=0.01)
    assert sum(row["share"] for row in result["by_part"].values()) == pytest.approx(1, abs=0.01)
    # every part of the step is seen, and the convolutions' gradients are among the op types
    for part in ("generators, forward", "generators, backward", "discriminators, forward",
                 "discriminators, backward", "optimizers and schedule", "image pools"):
        assert result["by_part"][part]["ms"] > 0, part
    assert any("Conv2DBackpropFilter" in t for t in result["by_type"])
    # function calls and loops are not counted on top of the ops they run
    assert not {"StatefulPartitionedCall", "While"} & set(result["by_type"])


def test_bench_reports_flops_peak_and_profile(capsys):
    code = cli.main(["bench", "--size", "16", "--batch-size", "2", "--n-blocks", "1", "--ngf",
                     "4", "--ndf", "4", "--n-layers", "2", "--steps", "2", "--warmup", "1",
                     "--peak", "--profile"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    gflop = 2 * profiling.step_flops(tiny(size=16))["total"] / 1e9  # batch 2
    assert result["gflop_per_step"] == pytest.approx(gflop, abs=0.006)
    assert result["gflops"] == pytest.approx(gflop / (result["step_ms"] / 1000), abs=0.06)
    assert result["peak_gflops"]["float32"] > 0
    assert 0 < result["fraction_of_peak"]["engine"] < 1
    assert result["profile"]["by_part"]["generators, backward"]["ms"] > 0

